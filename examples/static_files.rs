//! A folder of static files mounted at `/`, a route that wins over the
//! mount, and a handler that serves a private folder after checking a token.
//!
//! ```text
//! cargo run --example static_files
//! # open http://127.0.0.1:7878/ in a browser: the page, its CSS and its PNG
//! curl -i http://127.0.0.1:7878/                 # 200, index.html, text/html; charset=utf-8
//! curl -I http://127.0.0.1:7878/logo.png         # 200, image/png, Content-Length: 138, ETag
//! curl -i http://127.0.0.1:7878/style.css -H 'If-None-Match: <the ETag above>'  # 304
//! curl -i http://127.0.0.1:7878/style.css -H 'Range: bytes=0-9'                 # 206, 10 bytes
//! curl -i http://127.0.0.1:7878/nope.txt         # 404 from the mount
//! curl -i http://127.0.0.1:7878/../Cargo.toml --path-as-is   # 404: nothing outside the folder
//! curl http://127.0.0.1:7878/health              # ok: a route, tried before the mount
//! curl -i http://127.0.0.1:7878/private/report.txt                      # 401
//! curl -i http://127.0.0.1:7878/private/report.txt -H 'X-Token: letmein' # 200, the file
//! ```
//!
//! The folders are found from `CARGO_MANIFEST_DIR`, so the example works
//! from any current directory. Files go out from the event loop with
//! `sendfile`; no worker waits on a slow download. Set `RUST_LOG` (for
//! example `RUST_LOG=debug`) to change the log level.

use pool_server::files::ServeDir;
use pool_server::{route, routes, Request, Response, Server, State, StatusCode};

/// The folder mounted at `/`.
const PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/public");
/// The folder only `private` serves.
const PRIVATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/private");
/// The token `private` asks for. A real server would check a session or a
/// signed credential; a constant keeps the example about serving files.
const TOKEN: &str = "letmein";

#[route("GET /health")]
fn health() -> &'static str {
    "ok\n"
}

/// `ServeDir::respond` applies the mount's rules (path checks, conditional
/// requests, ranges) once the handler's own check has passed.
#[route("GET /private/{*file}")]
fn private(req: &Request, file: String, dir: State<ServeDir>) -> Response {
    if req.header("x-token") != Some(TOKEN) {
        return Response::text("send the header X-Token\n").with_status(StatusCode::UNAUTHORIZED);
    }
    dir.respond(req, &file)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(4)
        .routes(routes![health, private])
        .state(ServeDir::new(PRIVATE))
        // `no-cache` makes browsers revalidate each time (a 304 while the
        // file is unchanged), so an edit to the folder shows on reload.
        .serve_dir("/", ServeDir::new(PUBLIC).cache_control("no-cache"))
        .build()?; // fails if the folder is missing
    println!("serving {PUBLIC} on http://{}/", server.local_addr());
    println!(
        "try: curl -i http://{}/private/report.txt -H 'X-Token: {TOKEN}'",
        server.local_addr()
    );
    server.run()?;
    Ok(())
}
