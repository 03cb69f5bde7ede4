//! The server that `bench/run.sh` (and the external peer cross-check that
//! `bench/README.md` describes) measures.
//!
//! ```text
//! cargo build --release --example bench
//! target/release/examples/bench PORT [WORKERS [STATIC_DIR]]
//! ```
//!
//! PORT defaults to 8080, WORKERS to the CPU count; STATIC_DIR (or, without
//! the argument, the `BENCH_STATIC_DIR` environment variable) is served
//! under `/static/` when given. It binds 127.0.0.1:PORT and answers:
//! - `GET /plaintext`: 200 `Hello, World!` (`text/plain`);
//! - `GET /sleep`: 200 `slept`, after blocking its worker for 100 ms;
//! - `POST /echo`: 200 with the request body;
//! - `GET /static/{path}`: the file under STATIC_DIR (`sendfile`, from the
//!   event loop), when a directory is given;
//! - `GET /download?size=N`: N bytes (default 100 MiB) of `x`, generated as
//!   they are sent (`Response::stream`, with `Content-Length`). The rate is
//!   the client's to limit: a server-side sleep would hold a worker;
//! - `GET /events`: a server-sent event stream, kept until the client goes;
//! - `POST /broadcast`: sends one event (`event: broadcast`, the request
//!   body as data, `ping` when empty) to every open `/events` stream and
//!   answers how many took it;
//! - `POST /upload`: reads the body (up to 2 GiB, spooled to disk past
//!   64 KiB) with `body_reader()` and answers its length in bytes;
//! - any other path: 404 (another method on these paths: 405).
//!
//! It logs nothing per request (the benchmark measures server CPU); only
//! warnings and errors are logged unless `RUST_LOG` says otherwise. With
//! `BENCH_MIDDLEWARE=1` every request also passes through one middleware
//! that adds a header, to measure what a middleware costs.

use std::io::{self, Read};
use std::path::PathBuf;
use std::process;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use pool_server::extract::Query;
use pool_server::sse::{self, Event, EventSender, EventStream};
use pool_server::{route, routes, Next, Request, Response, Server, State, StatusCode};
use serde::Deserialize;

const USAGE: &str = "usage: bench PORT [WORKERS [STATIC_DIR]]";
/// Largest `/upload` body: room for the 1 GiB upload test.
const MAX_UPLOAD: usize = 2 << 30;
const DEFAULT_DOWNLOAD: u64 = 100 << 20;

/// The open `/events` streams.
type Subscribers = Mutex<Vec<EventSender>>;

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

#[derive(Deserialize)]
struct DownloadQuery {
    size: Option<u64>,
}

#[route("GET /download")]
fn download(query: Query<DownloadQuery>) -> Response {
    let size = query.0.size.unwrap_or(DEFAULT_DOWNLOAD);
    Response::stream(io::repeat(b'x').take(size)).with_len(size)
}

#[route("GET /events")]
fn events(subscribers: State<Subscribers>) -> EventStream {
    let (sender, stream) = sse::channel();
    subscribers.lock().unwrap().push(sender);
    stream
}

#[route("POST /broadcast")]
fn broadcast(req: &Request, subscribers: State<Subscribers>) -> String {
    let data = match std::str::from_utf8(req.body()) {
        Ok("") | Err(_) => "ping",
        Ok(text) => text,
    };
    let event = Event::data(data).event("broadcast");
    let mut subscribers = subscribers.lock().unwrap();
    // A sender whose client has gone fails: forget it.
    subscribers.retain(|s| s.send(event.clone()).is_ok());
    format!("{}\n", subscribers.len())
}

#[route("POST /upload")]
fn upload(req: &Request) -> Result<String, StatusCode> {
    match io::copy(&mut req.body_reader(), &mut io::sink()) {
        Ok(n) => Ok(format!("{n}\n")),
        Err(err) => {
            log::error!("reading an upload failed: {err}");
            Err(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The middleware `BENCH_MIDDLEWARE=1` adds: as cheap as one can be, so the
/// benchmark shows the cost of the call itself.
fn tag(req: &mut Request, next: Next<'_>) -> Response {
    next.run(req).with_header("x-bench", "1")
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
    let static_dir = args
        .next()
        .or_else(|| std::env::var("BENCH_STATIC_DIR").ok())
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from);
    if args.next().is_some() {
        exit_with_usage("too many arguments");
    }

    let mut builder = Server::builder()
        .bind(("127.0.0.1", port))
        .workers(workers)
        // sleep64 keeps 64 requests waiting for 2 workers: never shed them.
        .queue_capacity(4096)
        .max_body_size(MAX_UPLOAD)
        .state(Subscribers::default())
        .routes(routes![
            plaintext, sleep, echo, download, events, broadcast, upload
        ]);
    if let Some(dir) = &static_dir {
        builder = builder.serve_dir("/static", dir.as_path());
    }
    if std::env::var_os("BENCH_MIDDLEWARE").is_some_and(|v| v == "1") {
        builder = builder.wrap(tag);
    }
    let server = builder.build()?;
    println!(
        "bench: listening on http://{} with {workers} workers{}",
        server.local_addr(),
        static_dir.map_or(String::new(), |dir| format!(
            ", /static from {}",
            dir.display()
        ))
    );
    server.run()?;
    Ok(())
}

fn exit_with_usage(problem: &str) -> ! {
    eprintln!("bench: {problem}\n{USAGE}");
    process::exit(2)
}
