//! What a browser-facing service needs, seen from a browser: a dashboard
//! page on one origin that calls an API on another, with cookies.
//!
//! ```text
//! cargo run --example browser                 # page on :7878, API on :7879
//! cargo run --example browser -- 8000 8001    # other ports (or PAGE_PORT=8000 API_PORT=8001)
//! # open http://127.0.0.1:7878/ in a browser; reload: the count goes up
//! curl -i -X POST http://127.0.0.1:7879/count -H 'Origin: http://127.0.0.1:7878'
//! #   200 "1", Set-Cookie: session=…; HttpOnly; SameSite=Lax,
//! #   Access-Control-Allow-Origin: http://127.0.0.1:7878, …-Allow-Credentials: true,
//! #   X-Content-Type-Options, X-Frame-Options, Referrer-Policy, X-Request-Id
//! curl -i -X OPTIONS http://127.0.0.1:7879/count -H 'Origin: http://127.0.0.1:7878' \
//!      -H 'Access-Control-Request-Method: DELETE'
//! #   204, Access-Control-Allow-Methods: GET, POST: the browser will not send the DELETE
//! curl -i -X DELETE http://127.0.0.1:7879/count                 # 200 "0": curl is no browser
//! ```
//!
//! The API (`examples/browser/app.rs`) keeps a visit counter in the
//! session, an encrypted cookie ([`Sessions`](pool_server::sessions)),
//! and allows the page's origin, with credentials, for `GET` and `POST`
//! only ([`Cors`](pool_server::cors)). The page's script counts a visit
//! with a cross-origin `fetch(…, {credentials: "include", method:
//! "POST"})`, then tries a `DELETE`, which the browser refuses after its
//! preflight. Both servers send the [security
//! headers](pool_server::security_headers); the API gives every answer a
//! [request id](pool_server::request_id), which the page shows.
//!
//! The session cookie is `SameSite=Lax`, and yet the browser sends it with
//! the page's cross-origin fetch: the page and the API are different
//! *origins* (the port differs) but the same *site* (the scheme and the
//! host, ports aside), and `SameSite` is about sites. A page on another
//! host would need `SameSite=None; Secure`, so HTTPS.
//!
//! Use `127.0.0.1` in the address bar, not `localhost`: the API allows
//! exactly `http://127.0.0.1:<page port>`, and `localhost` is another
//! origin (and another site). Set `RUST_LOG` to change the log level.

use std::sync::Arc;

use pool_server::Server;

#[path = "browser/app.rs"]
mod app;

/// The port from the argument at `index`, else from the environment
/// variable `var`, else `default`; 0 lets the system choose.
fn port(index: usize, var: &str, default: u16) -> Result<u16, String> {
    let text = match std::env::args().nth(index) {
        Some(arg) => arg,
        None => match std::env::var(var) {
            Ok(value) => value,
            Err(_) => return Ok(default),
        },
    };
    text.parse()
        .map_err(|_| format!("{text:?} is not a port (argument {index} or {var})"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let page_port = port(1, "PAGE_PORT", 7878)?;
    let api_port = port(2, "API_PORT", 7879)?;

    // The page server first: the API allows its origin, which is known
    // once it is bound (port 0 works too). The page learns the API's
    // origin after, before it serves anything.
    let api_origin = Arc::new(app::ApiOrigin::default());
    let pages = app::pages(Server::builder(), Arc::clone(&api_origin))
        .bind(("127.0.0.1", page_port))
        .workers(2)
        .build()?;
    let page_origin = format!("http://{}", pages.local_addr());

    let api = app::api(Server::builder(), &page_origin)
        .bind(("127.0.0.1", api_port))
        .workers(2)
        .handle_signals(false)
        .build()?;
    let api_addr = api.local_addr();
    api_origin.set(format!("http://{api_addr}"));
    // In the background; dropping the handle, once `run` below has shut
    // the page server down on Ctrl-C, stops it too.
    let _api = api.spawn()?;

    println!("API on http://{api_addr}/count");
    println!("open {page_origin}/ in a browser");
    pages.run()?;
    Ok(())
}
