//! The Rust Book's demonstration (chapter 21): a slow request does not hold
//! up a fast one.
//!
//! Four workers; `GET /` answers at once and `GET /sleep` after 5 seconds.
//! Run it, then in one terminal start a slow request and in another a fast
//! one:
//!
//! ```text
//! cargo run --example sleep
//! curl http://127.0.0.1:7878/sleep   # terminal 1: answers after 5 s
//! curl http://127.0.0.1:7878/        # terminal 2: answers at once
//! ```
//!
//! A `/sleep` never delays `/`: the sleeping route function occupies one of
//! the four workers and the others keep serving. Waiting connections hold no
//! worker at all (the readiness loop keeps them), so `/` waits only when four
//! `/sleep`s run at the same time. Logs (`RUST_LOG`, `info` by default) name
//! the worker thread that served each request. Other paths get 404. Ctrl-C
//! stops the server gracefully; a `/sleep` in flight still gets its answer.

use std::thread;
use std::time::Duration;

use pool_server::{route, routes, Server};

#[route("GET /")]
fn index() -> &'static str {
    log::info!("{}: / answered at once", worker());
    "Hello!\n"
}

#[route("GET /sleep")]
fn sleep() -> &'static str {
    log::info!("{}: /sleep, sleeping 5 s", worker());
    thread::sleep(Duration::from_secs(5));
    log::info!("{}: woke up", worker());
    "Slept for 5 s.\n"
}

/// The name of the worker thread running the route function.
fn worker() -> String {
    thread::current().name().unwrap_or("?").to_owned()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(4)
        .routes(routes![index, sleep])
        .build()?;
    println!("listening on http://{}", server.local_addr());
    server.run()?;
    Ok(())
}
