//! The smallest useful server: `Hello, world!` on `/`, 404 everywhere else.
//!
//! ```text
//! cargo run --example hello
//! curl http://127.0.0.1:7878/               # Hello, world!
//! curl 'http://127.0.0.1:7878/?name=Ferris' # Hello, Ferris!
//! curl -i http://127.0.0.1:7878/nope        # 404 Not Found
//! ```
//!
//! Ctrl-C stops it gracefully. Logging goes through `env_logger` at `info` by
//! default; set `RUST_LOG` (for example `RUST_LOG=debug`) to change it.

use pool_server::{Request, Response, Server, StatusCode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(4)
        .handler(hello)
        .build()?;
    println!("listening on http://{}", server.local_addr());
    server.run()?;
    Ok(())
}

/// Answers `/` (any method), greeting `?name=` when the query has one.
fn hello(req: &Request) -> Response {
    if req.path() != "/" {
        return Response::text("Not Found\n").with_status(StatusCode::NOT_FOUND);
    }
    // The query is as sent: no percent-decoding here, to keep the example short.
    let name = req
        .query()
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| pair.strip_prefix("name="))
        .filter(|name| !name.is_empty());
    match name {
        Some(name) => Response::text(format!("Hello, {name}!")),
        None => Response::text("Hello, world!"),
    }
}
