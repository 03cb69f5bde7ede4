//! The whole connection (framing, the application, encoding, bodies from a
//! reader and from a file, lingering close) over an in-memory socket whose
//! readiness is chosen at random: the client's bytes arrive in random
//! pieces, reads and writes take random amounts or would block. Whatever
//! the readiness, the client gets the same answers, in order.

use std::fs::File;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::*;
use crate::application::service::Service;
use crate::protocol::body::BodyDecoder;
use crate::protocol::forwarded::{ProxyHeader, TrustedProxies};
use crate::protocol::framer::MAX_PIPELINE;
use crate::runtime::transport::read_file_into;

/// The server's end of a connection, in memory.
struct Pipe {
    /// What the client sends, then EOF.
    sent: Vec<u8>,
    /// Bytes of `sent` that reached the socket, and bytes the server read.
    arrived: usize,
    taken: usize,
    /// What the server wrote.
    out: Vec<u8>,
    shut: bool,
    reset: bool,
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
            self.arrived += 1 + self.pick(left.min(300));
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

const FILE_LEN: usize = 40_000;
const READER_LEN: usize = 100_000;

/// Echoes the request, or answers `/file` from a file (sent by the loop)
/// and `/reader` from a reader (read a window at a time on a worker).
fn service() -> Service {
    let mut file = tempfile::tempfile().unwrap();
    let content: Vec<u8> = (0..FILE_LEN).map(|i| b'a' + (i % 26) as u8).collect();
    file.write_all(&content).unwrap();
    let handler = move |req: &mut Request| match req.path() {
        "/file" => Response::file(file.try_clone().unwrap()).unwrap(),
        "/reader" => Response::stream(io::Cursor::new(vec![b'r'; READER_LEN])),
        _ => Response::text(format!(
            "{} {} {}",
            req.method(),
            req.path(),
            String::from_utf8_lossy(req.body())
        )),
    };
    Service::new(
        TrustedProxies::new(Vec::new(), ProxyHeader::default()),
        None,
        Vec::new(),
        Vec::new(),
        Box::new(handler),
    )
}

/// Runs a connection that receives `sent` and then EOF, as the event loop
/// and the workers would, until it closes. Returns its socket.
fn run(sent: &[u8], seed: Option<u64>) -> Pipe {
    let service = service();
    let limits = Limits {
        // Small, so a reader's body and a pipeline's answers pass it.
        write_window: 16 * 1024,
        ..Limits::default()
    };
    let memory = BodyMemory::new(limits.body_memory_limit);
    let mut scratch = vec![0; 4096];
    let mut spares = Recycler::new(LOOP_SPARES);
    let draining = AtomicBool::new(false);
    let waker_for = |_| -> Box<dyn Fn() + Send + Sync> { Box::new(|| {}) };
    let worker = WorkerCx {
        service: &service,
        limits: &limits,
        refusal_bodies: &limits.refusal_bodies,
        draining: &draining,
        write_window: limits.write_window,
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
            service: &service,
            limits: &limits,
            memory: &memory,
            scratch: &mut scratch,
            spares: &mut spares,
            now: Instant::now(),
            draining: false,
        };
        match conn.advance(&mut cx) {
            Next::Close => return conn.stream,
            Next::Dispatch => {
                let mut served = spares.list();
                conn.serve(&worker, &mut served);
                spares.keep(served);
            }
            Next::Wait | Next::Again => {}
        }
    }
    panic!("the connection never closed");
}

/// One response as the client reads it: status, fields but the dates
/// (the clock's and each run's new file's), body.
#[derive(PartialEq, Eq)]
struct Answer {
    status: u16,
    fields: Vec<(String, String)>,
    body: Vec<u8>,
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

/// Splits what the server wrote into responses; `head_only` says which
/// ones answer `HEAD` (no body follows their head).
fn answers(mut out: &[u8], head_only: &[bool]) -> Vec<Answer> {
    let mut seen = Vec::new();
    while !out.is_empty() {
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let mut res = httparse::Response::new(&mut slots);
        let Ok(httparse::Status::Complete(n)) = res.parse(out) else {
            panic!("not a response: {:?}", String::from_utf8_lossy(out));
        };
        let fields: Vec<(String, String)> = res
            .headers
            .iter()
            .filter(|h| !["date", "last-modified"].contains(&&*h.name.to_ascii_lowercase()))
            .map(|h| {
                let value = String::from_utf8_lossy(h.value).into_owned();
                (h.name.to_ascii_lowercase(), value)
            })
            .collect();
        let status = res.code.unwrap();
        out = &out[n..];
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let mut body = Vec::new();
        if head_only.get(seen.len()) == Some(&true) {
            // The head says what a GET would get; no body follows.
        } else if let Some(len) = field("content-length") {
            let len: usize = len.parse().unwrap();
            body.extend_from_slice(&out[..len]);
            out = &out[len..];
        } else if field("transfer-encoding").is_some() {
            let done = BodyDecoder::chunked()
                .decode(out, &mut body, u64::MAX, 1024)
                .unwrap();
            assert!(done.done, "a chunked body ends");
            out = &out[done.consumed..];
        }
        seen.push(Answer {
            status,
            fields,
            body,
        });
    }
    seen
}

const EXCHANGE: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world\
GET /file HTTP/1.1\r\nHost: x\r\n\r\n\
HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n\
GET /reader HTTP/1.1\r\nHost: x\r\n\r\n\
POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n\
GET /last HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn a_connection_answers_the_same_whatever_the_readiness() {
    let head_only = [false, false, false, true, false, false, false];
    let reference = run(EXCHANGE, None);
    let expected = answers(&reference.out, &head_only);
    let statuses: Vec<u16> = expected.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200; 7]);
    assert_eq!(expected[0].body, b"GET /a ");
    assert_eq!(expected[1].body, b"POST /echo hello world");
    assert_eq!(expected[2].body.len(), FILE_LEN);
    assert!(expected[2]
        .body
        .starts_with(b"abcdefghijklmnopqrstuvwxyzabc"));
    assert!(expected[3].body.is_empty());
    assert_eq!(expected[4].body, vec![b'r'; READER_LEN]);
    assert_eq!(expected[5].body, b"POST /chunks abcdefg");
    assert_eq!(expected[6].body, b"GET /last ");
    assert!(!reference.reset && !reference.shut);
    for seed in 1..=200 {
        let pipe = run(EXCHANGE, Some(seed));
        assert_eq!(answers(&pipe.out, &head_only), expected, "seed {seed}");
        // The client closed first: no lingering, and never a reset.
        assert!(!pipe.reset && !pipe.shut, "seed {seed}");
    }
}

#[test]
fn a_refusal_closes_after_the_answers_before_it_whatever_the_readiness() {
    let sent = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
GET /b HTTP/1.1\r\nHost: x\r\n\r\n\
POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab\
GET /never HTTP/1.1\r\nHost: x\r\n\r\n";
    let reference = run(sent, None);
    let expected = answers(&reference.out, &[]);
    let statuses: Vec<u16> = expected.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 200, 400]);
    let close = ("connection".to_owned(), "close".to_owned());
    assert!(expected[2].fields.contains(&close), "{expected:?}");
    assert!(reference.shut && !reference.reset);
    for seed in 1..=200 {
        let pipe = run(sent, Some(seed));
        assert_eq!(answers(&pipe.out, &[]), expected, "seed {seed}");
        // Unread input: our side shuts down and lingers, rather than
        // reset the answer away.
        assert!(pipe.shut && !pipe.reset, "seed {seed}");
    }
}

#[test]
fn pipelined_past_the_bound_every_request_is_answered_in_order() {
    let mut sent = Vec::new();
    for i in 0..3 * MAX_PIPELINE {
        sent.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    for seed in [None, Some(7), Some(8), Some(9)] {
        let pipe = run(&sent, seed);
        let got = answers(&pipe.out, &[]);
        assert_eq!(got.len(), 3 * MAX_PIPELINE, "seed {seed:?}");
        for (i, answer) in got.iter().enumerate() {
            assert_eq!(
                answer.body,
                format!("GET /{i} ").as_bytes(),
                "seed {seed:?}"
            );
        }
    }
}
