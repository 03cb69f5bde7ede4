//! The server's own metrics on `GET /metrics`, in the Prometheus text
//! format, with an access log line per request.
//!
//! ```text
//! cargo run --example metrics
//! curl http://127.0.0.1:7878/hello
//! curl http://127.0.0.1:7878/nope
//! curl http://127.0.0.1:7878/metrics   # pool_server_responses_total{class="2xx"} 1 ...
//! ```
//!
//! The route reads the server's `StatsHandle` from a `OnceLock`: the handle
//! exists only once the server is built, after the routes are registered.

use std::sync::OnceLock;

use pool_server::access_log::AccessLog;
use pool_server::{route, routes, Response, Server, StatsHandle};

static STATS: OnceLock<StatsHandle> = OnceLock::new();

#[route("GET /hello")]
fn hello() -> &'static str {
    "hello"
}

#[route("GET /metrics")]
fn metrics() -> Response {
    let text = STATS
        .get()
        .map(|h| h.stats().to_prometheus())
        .unwrap_or_default();
    Response::text(text).with_header("content-type", "text/plain; version=0.0.4")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(2)
        .wrap(AccessLog::combined())
        .routes(routes![hello, metrics])
        .build()?;
    let _ = STATS.set(server.stats_handle());
    println!("metrics on http://{}/metrics", server.local_addr());
    server.run()?;
    Ok(())
}
