//! The server that `bench/compare.sh` measures.
//!
//! ```text
//! cargo build --release --example bench
//! target/release/examples/bench PORT [WORKERS]   # PORT defaults to 8080, WORKERS to the CPU count
//! ```
//!
//! It binds 127.0.0.1:PORT and answers:
//! - `GET /plaintext`: 200 `Hello, World!` (`text/plain`);
//! - `GET /sleep`: 200 `slept`, after blocking its worker for 100 ms;
//! - `POST /echo`: 200 with the request body;
//! - any other path: 404 (another method on these paths: 405).
//!
//! It logs nothing per request (the benchmark measures server CPU); only
//! warnings and errors are logged unless `RUST_LOG` says otherwise.

use std::process;
use std::thread;
use std::time::Duration;

use pool_server::{route, routes, Request, Server};

const USAGE: &str = "usage: bench PORT [WORKERS]";

#[route("GET /plaintext")]
fn plaintext() -> &'static str {
    "Hello, World!"
}

#[route("GET /sleep")]
fn sleep() -> &'static str {
    thread::sleep(Duration::from_millis(100));
    "slept"
}

#[route("POST /echo")]
fn echo(req: &Request) -> Vec<u8> {
    req.body().to_vec()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();

    let mut args = std::env::args().skip(1);
    let port = match args.next().map(|arg| arg.parse::<u16>()) {
        None => 8080,
        Some(Ok(port)) if port != 0 => port,
        Some(_) => exit_with_usage("PORT must be a number from 1 to 65535"),
    };
    let workers = match args.next().map(|arg| arg.parse::<usize>()) {
        None => thread::available_parallelism().map_or(1, usize::from),
        Some(Ok(n)) if n > 0 => n,
        Some(_) => exit_with_usage("WORKERS must be a number above 0"),
    };

    let server = Server::builder()
        .bind(("127.0.0.1", port))
        .workers(workers)
        // sleep64 keeps 64 requests waiting for 2 workers: never shed them.
        .queue_capacity(4096)
        .routes(routes![plaintext, sleep, echo])
        .build()?;
    println!(
        "bench: listening on http://{} with {workers} workers",
        server.local_addr()
    );
    server.run()?;
    Ok(())
}

fn exit_with_usage(problem: &str) -> ! {
    eprintln!("bench: {problem}\n{USAGE}");
    process::exit(2)
}
