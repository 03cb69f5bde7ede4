//! Downloads of any size, generated as they are sent: `GET /download` with
//! a declared length, `GET /chunked` without one.
//!
//! ```text
//! cargo run --example download
//! curl -OJ http://127.0.0.1:7878/download     # saves pattern-4294967296.bin, 4 GiB
//! curl -I 'http://127.0.0.1:7878/download?size=1000'   # Content-Length: 1000, Content-Disposition
//! curl -s -o /dev/null -w '%{size_download}\n' 'http://127.0.0.1:7878/download?size=100000000'
//!                                             # 100000000
//! curl -s 'http://127.0.0.1:7878/chunked?size=1000000' | wc -c          # 1000000
//! curl -s -D - -o /dev/null 'http://127.0.0.1:7878/chunked?size=10'     # transfer-encoding: chunked
//! curl -s --limit-rate 1M -o /dev/null http://127.0.0.1:7878/download & # a slow reader...
//! curl http://127.0.0.1:7878/chunked?size=5 | od -An -tu1               # ...holds no worker: 0 1 2 3 4
//! ```
//!
//! The body is a `Read` that makes the bytes on demand: byte `i` is
//! `i % 251`, so a lost or repeated window shows in the output. The server
//! reads it on a worker a window (`write_window`, 64 KiB) at a time, as the
//! socket takes them; while a slow client has not read the last window, the
//! connection waits in the event loop and holds no worker. Ctrl-C lets
//! downloads in progress go on for up to 5 s, then closes them (a second
//! Ctrl-C stops at once). Set `RUST_LOG` (for example `RUST_LOG=debug`) to
//! change the log level.

use std::io::{self, Read};
use std::time::Duration;

use pool_server::extract::Query;
use pool_server::{header, route, routes, Response, Server};
use serde::Deserialize;

/// The size when the query names none: 4 GiB, more than fits in memory.
const DEFAULT_SIZE: u64 = 4 << 30;

/// `?size=N`, in bytes.
#[derive(Debug, Deserialize)]
struct Size {
    size: Option<u64>,
}

impl Size {
    fn bytes(&self) -> u64 {
        self.size.unwrap_or(DEFAULT_SIZE)
    }
}

/// `len` bytes of the pattern, made as they are read.
#[derive(Debug)]
struct Pattern {
    pos: u64,
    len: u64,
}

impl Pattern {
    fn new(len: u64) -> Pattern {
        Pattern { pos: 0, len }
    }
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.len - self.pos).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        for (i, byte) in buf[..n].iter_mut().enumerate() {
            // 251 is prime, so the pattern does not line up with any power
            // of two, as window and buffer sizes do.
            *byte = ((self.pos + i as u64) % 251) as u8;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// A declared length: `Content-Length`, so clients show progress, and the
/// connection stays open for the next request.
#[route("GET /download")]
fn download(Query(size): Query<Size>) -> Response {
    let len = size.bytes();
    Response::stream(Pattern::new(len))
        .with_len(len)
        .with_header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"pattern-{len}.bin\""),
        )
}

/// No declared length: HTTP/1.1 clients get it chunked, HTTP/1.0 ones until
/// the connection closes.
#[route("GET /chunked")]
fn chunked(Query(size): Query<Size>) -> Response {
    Response::stream(Pattern::new(size.bytes()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(2)
        // Shutdown waits for responses in progress; the default 30 s suits
        // short requests, not a 4 GiB download to a slow client.
        .shutdown_timeout(Duration::from_secs(5))
        .routes(routes![download, chunked])
        .build()?;
    let addr = server.local_addr();
    println!("serving generated downloads on http://{addr}/");
    println!("try: curl -s -o /dev/null -w '%{{size_download}}\\n' 'http://{addr}/download?size=100000000'");
    server.run()?;
    Ok(())
}
