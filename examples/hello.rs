//! The smallest useful server: `Hello, world!` on `/`, 404 everywhere else.
//!
//! ```text
//! cargo run --example hello
//! curl http://127.0.0.1:7878/            # Hello, world!
//! curl -i http://127.0.0.1:7878/nope     # 404 Not Found: no route has this path
//! curl -i -X POST http://127.0.0.1:7878/ # 405 Method Not Allowed, Allow: GET, HEAD, OPTIONS
//! ```
//!
//! One function marked with `#[route]`, listed once with `routes!`. Ctrl-C
//! stops the server gracefully. Logging goes through `env_logger` at `info`
//! by default; set `RUST_LOG` (for example `RUST_LOG=debug`) to change it.

use pool_server::{route, routes, Server};

#[route("GET /")]
fn index() -> &'static str {
    "Hello, world!"
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(4)
        .routes(routes![index])
        .build()?;
    println!("listening on http://{}", server.local_addr());
    server.run()?;
    Ok(())
}
