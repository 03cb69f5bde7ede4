//! The server's own metrics on `GET /metrics`, in the Prometheus text
//! format, with an access log line per request.
//!
//! ```text
//! cargo run --example metrics
//! curl http://127.0.0.1:7878/hello/ada
//! curl http://127.0.0.1:7878/nope
//! curl http://127.0.0.1:7878/metrics
//! # pool_server_responses_total{class="2xx"} 1 ...
//! # pool_server_route_responses_total{method="GET",route="/hello/{name}",class="2xx"} 1
//! ```
//!
//! The route takes the server's `StatsHandle` as an argument. Requests are
//! counted by route pattern (`/hello/{name}`), never by raw path, so the
//! number of series stays bounded.

use pool_server::access_log::AccessLog;
use pool_server::{route, routes, Response, Server, StatsHandle};

#[route("GET /hello/{name}")]
fn hello(name: String) -> String {
    format!("hello {name}")
}

#[route("GET /metrics")]
fn metrics(stats: StatsHandle) -> Response {
    Response::text(stats.stats().to_prometheus())
        .with_header("content-type", "text/plain; version=0.0.4")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(2)
        .wrap(AccessLog::combined())
        .routes(routes![hello, metrics])
        .build()?;
    println!("metrics on http://{}/metrics", server.local_addr());
    server.run()?;
    Ok(())
}
