//! The Rust Book's demonstration (chapter 21): a slow request does not hold
//! up a fast one.
//!
//! Four workers; `/` answers at once and `/sleep` after 5 seconds. Run it,
//! then in one terminal start a slow request and in another a fast one:
//!
//! ```text
//! cargo run --example sleep
//! curl http://127.0.0.1:7878/sleep   # terminal 1: answers after 5 s
//! curl http://127.0.0.1:7878/        # terminal 2: answers at once
//! ```
//!
//! A `/sleep` never delays `/`: the sleeping handler occupies one of the four
//! workers and the others keep serving. Waiting connections hold no worker at
//! all (the readiness loop keeps them), so `/` waits only when four `/sleep`s
//! run at the same time. Logs (`RUST_LOG`, `info` by default) name the worker
//! thread that served each request. Ctrl-C stops the server gracefully; a
//! `/sleep` in flight still gets its answer.

use std::thread;
use std::time::Duration;

use pool_server::{Request, Response, Server, StatusCode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(4)
        .handler(handle)
        .build()?;
    println!("listening on http://{}", server.local_addr());
    server.run()?;
    Ok(())
}

fn handle(req: &Request) -> Response {
    let worker = thread::current().name().unwrap_or("?").to_owned();
    match req.path() {
        "/" => {
            log::info!("{worker}: {} / answered at once", req.method());
            Response::text("Hello!\n")
        }
        "/sleep" => {
            log::info!("{worker}: {} /sleep, sleeping 5 s", req.method());
            thread::sleep(Duration::from_secs(5));
            log::info!("{worker}: woke up");
            Response::text("Slept for 5 s.\n")
        }
        _ => Response::text("Not Found\n").with_status(StatusCode::NOT_FOUND),
    }
}
