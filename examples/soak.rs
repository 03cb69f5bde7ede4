//! The server that `bench/soak.sh` keeps under a mixed load for minutes
//!: every feature on, and its metrics on `GET /metrics`.
//!
//! ```text
//! cargo build --release --example soak
//! target/release/examples/soak PORT [WORKERS [SPOOL_DIR]]
//! ```
//!
//! It binds 127.0.0.1:PORT (WORKERS defaults to 4; spooled uploads go to
//! SPOOL_DIR, else the temporary directory) and answers:
//! - `GET /plaintext`: `Hello, World!`;
//! - `POST /echo`: the request body;
//! - `GET /text?size=N`: N bytes of text (compressed for clients that accept
//!   gzip or brotli);
//! - `GET /download?size=N`: N bytes of `x` from a `Read`, a window at a time;
//! - `GET /stream?chunks=N`: N chunks fed from another thread (`stream::channel`);
//! - `GET /events`: a server-sent event stream, one `tick` event a second
//!   from a broadcaster thread, until the client goes;
//! - `POST /upload`: reads the body (up to 64 MiB, spooled to disk past
//!   64 KiB) with `body_reader()` and answers its length;
//! - `GET /panic`: a handler that panics (the client gets 500);
//! - `GET /metrics`: the server's metrics in the Prometheus text format.
//!
//! Only warnings and errors are logged unless `RUST_LOG` says otherwise
//! (the panics are logged as errors, one line each).

use std::io::{self, Read};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use pool_server::compression::Compression;
use pool_server::extract::Query;
use pool_server::sse::{self, Event, EventSender, EventStream};
use pool_server::{route, routes, stream, Request, Response, Server, StatsHandle, StatusCode};
use serde::Deserialize;

const USAGE: &str = "usage: soak PORT [WORKERS [SPOOL_DIR]]";

/// The open `/events` streams, fed by the broadcaster thread.
static SUBSCRIBERS: Mutex<Vec<EventSender>> = Mutex::new(Vec::new());
static STATS: OnceLock<StatsHandle> = OnceLock::new();

#[derive(Deserialize)]
struct Size {
    size: Option<u64>,
    chunks: Option<u64>,
}

#[route("GET /plaintext")]
fn plaintext() -> &'static str {
    "Hello, World!"
}

#[route("POST /echo")]
fn echo(req: &Request) -> Vec<u8> {
    req.body().to_vec()
}

#[route("GET /text")]
fn text(query: Query<Size>) -> String {
    let size = query.0.size.unwrap_or(16 * 1024).min(16 << 20) as usize;
    "soak text ".repeat(size / 10 + 1)[..size].to_owned()
}

#[route("GET /download")]
fn download(query: Query<Size>) -> Response {
    let size = query.0.size.unwrap_or(1 << 20);
    Response::stream(io::repeat(b'x').take(size)).with_len(size)
}

#[route("GET /stream")]
fn chunks(query: Query<Size>) -> Response {
    let chunks = query.0.chunks.unwrap_or(10);
    let (sender, body) = stream::channel(64 * 1024);
    thread::spawn(move || {
        for i in 0..chunks {
            if sender.send(format!("chunk {i}\n")).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(5));
        }
    });
    Response::from_stream(body)
}

#[route("GET /events")]
fn events() -> EventStream {
    let (sender, stream) = sse::channel();
    SUBSCRIBERS.lock().unwrap().push(sender);
    stream
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

#[route("GET /panic")]
fn panics() -> &'static str {
    panic!("GET /panic panics on purpose")
}

#[route("GET /metrics")]
fn metrics() -> Response {
    let text = STATS
        .get()
        .map(|h| h.stats().to_prometheus())
        .unwrap_or_default();
    Response::text(text).with_header("content-type", "text/plain; version=0.0.4")
}

/// Sends one `tick` a second to every open stream, forgetting the gone ones.
fn broadcast_ticks() {
    for n in 0u64.. {
        thread::sleep(Duration::from_secs(1));
        let event = Event::data(n.to_string()).event("tick");
        SUBSCRIBERS
            .lock()
            .unwrap()
            .retain(|s| s.send(event.clone()).is_ok());
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let mut args = std::env::args().skip(1);
    let port = match args.next().map(|arg| arg.parse::<u16>()) {
        Some(Ok(port)) if port != 0 => port,
        _ => exit_with_usage("PORT must be a number from 1 to 65535"),
    };
    let workers = match args.next().map(|arg| arg.parse::<usize>()) {
        None => 4,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => exit_with_usage("WORKERS must be a number above 0"),
    };
    let spool_dir = args.next();
    if args.next().is_some() {
        exit_with_usage("too many arguments");
    }

    let mut builder = Server::builder()
        .bind(("127.0.0.1", port))
        .workers(workers)
        .queue_capacity(512)
        .max_body_size(64 << 20)
        .header_read_timeout(Duration::from_secs(5))
        .body_read_timeout(Duration::from_secs(5))
        .keep_alive_timeout(Duration::from_secs(5))
        .write_timeout(Duration::from_secs(10))
        .shutdown_timeout(Duration::from_secs(5))
        .wrap(Compression::new())
        .routes(routes![
            plaintext, echo, text, download, chunks, events, upload, panics, metrics
        ]);
    if let Some(dir) = &spool_dir {
        builder = builder.temp_dir(dir);
    }
    let server = builder.build()?;
    let _ = STATS.set(server.stats_handle());
    thread::spawn(broadcast_ticks);
    println!(
        "soak: listening on http://{} with {workers} workers",
        server.local_addr()
    );
    server.run()?;
    Ok(())
}

fn exit_with_usage(problem: &str) -> ! {
    eprintln!("soak: {problem}\n{USAGE}");
    std::process::exit(2)
}
