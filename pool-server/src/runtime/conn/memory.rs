//! A connection over an in-memory socket whose readiness is chosen at
//! random: the client's bytes arrive in random pieces, reads and writes take
//! random amounts or would block; and what its client reads, split into
//! answers. For the connection's tests, and through `__internals` for the
//! fuzz targets and the `connection` benchmark.

use std::fs::File;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::{Conn, LoopCx, Next, Recycler, WorkerCx, LOOP_SPARES};
use crate::application::service::Service;
use crate::config::Limits;
use crate::protocol::body::BodyDecoder;
use crate::protocol::forwarded::{ProxyHeader, TrustedProxies};
use crate::request::{BodyMemory, Request};
use crate::response::Response;
use crate::runtime::transport::{read_file_into, Transport};

/// The server's end of a connection, in memory.
pub(crate) struct Pipe {
    /// What the client sends, then EOF.
    sent: Vec<u8>,
    /// Bytes of `sent` that reached the socket, and bytes the server read.
    arrived: usize,
    taken: usize,
    /// What the server wrote.
    pub(crate) out: Vec<u8>,
    /// The server shut its side down (a lingering close).
    pub(crate) shut: bool,
    /// The server asked for a reset on close.
    pub(crate) reset: bool,
    /// `None`: every byte arrives at once and every call takes all it can.
    rng: Option<u64>,
}

impl Pipe {
    fn new(sent: &[u8], seed: Option<u64>) -> Pipe {
        Pipe {
            sent: sent.to_vec(),
            arrived: 0,
            taken: 0,
            out: Vec::new(),
            shut: false,
            reset: false,
            rng: seed.map(|seed| seed | 1),
        }
    }

    /// A random number below `n` (at least 1); `n - 1` when not random.
    fn pick(&mut self, n: usize) -> usize {
        match &mut self.rng {
            None => n.max(1) - 1,
            Some(state) => {
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                (*state % n.max(1) as u64) as usize
            }
        }
    }

    /// Sometimes, when random: the call would block.
    fn blocks(&mut self) -> bool {
        self.rng.is_some() && self.pick(4) == 0
    }

    /// The network brings some of what the client sent; true when
    /// something new can be read (the poller's readable edge), the EOF
    /// included.
    fn deliver(&mut self) -> bool {
        let left = self.sent.len() - self.arrived;
        if left > 0 {
            self.arrived += match self.rng {
                None => left,
                Some(_) => 1 + self.pick(left.min(300)),
            };
        }
        left > 0 || self.eof_arrived()
    }

    fn eof_arrived(&self) -> bool {
        self.arrived == self.sent.len()
    }
}

impl Transport for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let ready = self.arrived - self.taken;
        if ready == 0 {
            return match self.eof_arrived() {
                true => Ok(0),
                false => Err(io::ErrorKind::WouldBlock.into()),
            };
        }
        let n = 1 + self.pick(ready.min(buf.len()));
        buf[..n].copy_from_slice(&self.sent[self.taken..self.taken + n]);
        self.taken += n;
        Ok(n)
    }

    fn write(&mut self, buf: &[u8], _more: bool) -> io::Result<usize> {
        assert!(!self.shut, "a write after shutting down");
        if self.blocks() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = 1 + self.pick(buf.len());
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn send_file(
        &mut self,
        file: &File,
        offset: &mut u64,
        count: usize,
        _out: &mut Vec<u8>,
    ) -> io::Result<usize> {
        if self.blocks() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let count = 1 + self.pick(count);
        read_file_into(file, offset, count, &mut self.out)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shut = true;
        Ok(())
    }

    fn reset_on_close(&mut self) -> io::Result<()> {
        self.reset = true;
        Ok(())
    }
}

/// The length of `/file`'s body, and of `/reader`'s.
pub(crate) const FILE_LEN: usize = 40_000;
pub(crate) const READER_LEN: usize = 100_000;

/// Echoes the request, or answers `/file` from a file (sent by the loop)
/// and `/reader` from a reader (read a window at a time on a worker); every
/// answer names the request's method in `x-method`.
fn service() -> Service {
    let mut file = tempfile::tempfile().unwrap();
    let content: Vec<u8> = (0..FILE_LEN).map(|i| b'a' + (i % 26) as u8).collect();
    file.write_all(&content).unwrap();
    let handler = move |req: &mut Request| {
        let response = match req.path() {
            "/file" => Response::file(file.try_clone().unwrap()).unwrap(),
            "/reader" => Response::stream(io::Cursor::new(vec![b'r'; READER_LEN])),
            _ => Response::text(format!(
                "{} {} {}",
                req.method(),
                req.path(),
                String::from_utf8_lossy(req.body())
            )),
        };
        // The client learns which answers have no body (those to HEAD).
        response.with_header("x-method", req.method().as_str())
    };
    Service::new(
        TrustedProxies::new(Vec::new(), ProxyHeader::default()),
        None,
        Vec::new(),
        Vec::new(),
        Box::new(handler),
    )
}

/// What a connection borrows from its loop and its workers, kept from one
/// connection to the next as a loop keeps it.
pub(crate) struct Harness {
    service: Service,
    limits: Limits,
    memory: BodyMemory,
    scratch: Vec<u8>,
    spares: Recycler,
    draining: AtomicBool,
}

impl Harness {
    pub(crate) fn new() -> Harness {
        let limits = Limits {
            // Small, so a reader's body and a pipeline's answers pass it.
            write_window: 16 * 1024,
            ..Limits::default()
        };
        Harness {
            service: service(),
            memory: BodyMemory::new(limits.body_memory_limit),
            limits,
            scratch: vec![0; 4096],
            spares: Recycler::new(LOOP_SPARES),
            draining: AtomicBool::new(false),
        }
    }

    /// Runs a connection that receives `sent` and then EOF, as the event
    /// loop and the workers would, until it closes; `seed` makes its
    /// readiness random. Returns its socket.
    ///
    /// # Panics
    /// When the connection does not close (it would hang on a socket).
    pub(crate) fn run(&mut self, sent: &[u8], seed: Option<u64>) -> Pipe {
        let waker_for = |_| -> Box<dyn Fn() + Send + Sync> { Box::new(|| {}) };
        let worker = WorkerCx {
            service: &self.service,
            limits: &self.limits,
            refusal_bodies: &self.limits.refusal_bodies,
            draining: &self.draining,
            write_window: self.limits.write_window,
            waker_for: &waker_for,
        };
        let peer = SocketAddr::from(([127, 0, 0, 1], 1));
        let mut conn = Conn::new(Pipe::new(sent, seed), 0, peer, Instant::now());
        for _ in 0..1_000_000 {
            // The poller: an edge when bytes or the EOF arrived.
            if conn.stream.deliver() {
                conn.maybe_readable = true;
            }
            conn.read_closed = conn.stream.eof_arrived();
            let mut cx = LoopCx {
                service: &self.service,
                limits: &self.limits,
                memory: &self.memory,
                scratch: &mut self.scratch,
                spares: &mut self.spares,
                now: Instant::now(),
                draining: false,
            };
            match conn.advance(&mut cx) {
                Next::Close => return conn.stream,
                Next::Dispatch => {
                    let mut served = self.spares.list();
                    conn.serve(&worker, &mut served);
                    self.spares.keep(served);
                }
                Next::Wait | Next::Again => {}
            }
        }
        panic!("the connection never closed");
    }
}

/// One final response as the client reads it: status, fields (names in
/// lower case) but the dates (the clock's, and a file's, which each
/// harness makes anew), body.
#[derive(PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Name and value of each field, in order.
    pub fields: Vec<(String, String)>,
    /// The body, decoded from its framing.
    pub body: Vec<u8>,
}

impl Answer {
    /// The value of the first field named `name` (in lower case).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let start = &self.body[..self.body.len().min(32)];
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("fields", &self.fields)
            .field("body_len", &self.body.len())
            .field("body_start", &String::from_utf8_lossy(start))
            .finish()
    }
}

/// Splits what a client received into final responses, skipping
/// `100 Continue`. Those that name `HEAD` in `x-method` have no body after
/// their head; one with neither a length nor chunks ends at the close.
///
/// # Panics
/// When `out` is not a sequence of well-formed responses.
pub fn answers(mut out: &[u8]) -> Vec<Answer> {
    let mut seen = Vec::new();
    while !out.is_empty() {
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let mut res = httparse::Response::new(&mut slots);
        let Ok(httparse::Status::Complete(n)) = res.parse(out) else {
            panic!("not a response: {:?}", String::from_utf8_lossy(out));
        };
        let status = res.code.expect("a complete response has a status");
        let fields: Vec<(String, String)> = res
            .headers
            .iter()
            .map(|h| {
                let value = String::from_utf8_lossy(h.value).into_owned();
                (h.name.to_ascii_lowercase(), value)
            })
            .filter(|(name, _)| name != "date" && name != "last-modified")
            .collect();
        out = &out[n..];
        if status == 100 {
            assert!(fields.is_empty(), "100 Continue has no fields");
            continue;
        }
        let mut answer = Answer {
            status,
            fields,
            body: Vec::new(),
        };
        if answer.field("x-method") == Some("HEAD") {
            // The head says what a GET would get; no body follows.
        } else if let Some(len) = answer.field("content-length") {
            let len: usize = len.parse().expect("a numeric Content-Length");
            answer.body = out[..len].to_vec();
            out = &out[len..];
        } else if answer.field("transfer-encoding").is_some() {
            let decoded = BodyDecoder::chunked()
                .decode(out, &mut answer.body, u64::MAX, 1024)
                .expect("a well-formed chunked body");
            assert!(decoded.done, "a chunked body that ends");
            out = &out[decoded.consumed..];
        } else {
            answer.body = out.to_vec();
            out = &[];
        }
        seen.push(answer);
    }
    seen
}
