//! The pure part of a connection, end to end: bytes in random reads are
//! framed into requests (blank lines skipped, head found and parsed, body
//! decoded, the next pipelined request after it) as `runtime/conn/framing.rs`
//! does, each request is answered by an echo and encoded, a refusal ends the
//! exchange. The socket-bound `Conn` itself is not driven (see README).
//!
//! Checked: the requests framed and the refusal do not depend on how the
//! bytes were split; what is held never exceeds the limits; the output is
//! exactly one well-formed response per framed request (plus the refusal),
//! in order, each with the right length and `Connection`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pool_server::__internals::{
    encode_refusal, encode_response, find_head_end, head_too_large, parse_head, BodyDecoder,
    BodyKind, Limits, Persist, Refusal,
};
use pool_server::{Method, Response, Version};
use pool_server_fuzz::{pieces, seed_and_rest, Rng};

const LIMITS: Limits = Limits {
    max_head_size: 512,
    max_headers: 8,
    max_body_size: 1024,
};
/// A chunk-size line may be this long (protocol/body.rs).
const CHUNK_LINE: usize = 4096;

/// A framed request, as the handler would see it.
#[derive(Debug, PartialEq, Eq)]
struct Framed {
    method: Method,
    target: String,
    version: Version,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    keep_alive: bool,
}

enum Reading {
    Idle,
    Head {
        scanned: usize,
    },
    Body {
        framed: Box<Framed>,
        decoder: BodyDecoder,
    },
    Done,
}

struct Conn {
    buf: Vec<u8>,
    reading: Reading,
    framed: Vec<Framed>,
    refusal: Option<Refusal>,
}

impl Conn {
    fn new() -> Conn {
        Conn {
            buf: Vec::new(),
            reading: Reading::Idle,
            framed: Vec::new(),
            refusal: None,
        }
    }

    /// One read arrives: frame what it completes.
    fn read(&mut self, bytes: &[u8]) {
        if matches!(self.reading, Reading::Done) {
            return;
        }
        self.buf.extend_from_slice(bytes);
        let mut pos = 0;
        loop {
            let (used, more) = self.frame_one(pos);
            pos += used;
            if !more {
                break;
            }
        }
        self.buf.drain(..pos);
        self.check_bounds(bytes.len());
    }

    /// Advances over `buf[pos..]`: the bytes used, and whether to go on.
    fn frame_one(&mut self, pos: usize) -> (usize, bool) {
        let input = &self.buf[pos..];
        match &mut self.reading {
            Reading::Done => (0, false),
            Reading::Idle => {
                let blank = input
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                if blank == input.len() {
                    return (blank, false);
                }
                self.reading = Reading::Head { scanned: 0 };
                (blank, true)
            }
            Reading::Head { scanned } => {
                let Some(end) = find_head_end(input, scanned.saturating_sub(3)) else {
                    *scanned = input.len();
                    if input.len() > LIMITS.max_head_size {
                        let refusal = head_too_large(input, LIMITS.max_head_size);
                        self.refuse(refusal);
                    }
                    return (0, false);
                };
                if end > LIMITS.max_head_size {
                    let refusal = head_too_large(&input[..end], LIMITS.max_head_size);
                    self.refuse(refusal);
                    return (0, false);
                }
                let head = match parse_head(&input[..end], LIMITS) {
                    Ok(head) => head,
                    Err(refusal) => {
                        self.refuse(refusal);
                        return (0, false);
                    }
                };
                let req = &head.request;
                let framed = Framed {
                    method: req.method().clone(),
                    target: match req.query() {
                        Some(q) => format!("{}?{q}", req.path()),
                        None => req.path().to_owned(),
                    },
                    version: req.version(),
                    headers: req
                        .headers()
                        .iter()
                        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                        .collect(),
                    body: Vec::new(),
                    keep_alive: head.keep_alive,
                };
                let decoder = match head.body {
                    BodyKind::Empty => {
                        self.finish(framed);
                        return (end, true);
                    }
                    BodyKind::Length(n) => BodyDecoder::length(n),
                    BodyKind::Chunked => BodyDecoder::chunked(),
                };
                self.reading = Reading::Body {
                    framed: Box::new(framed),
                    decoder,
                };
                (end, true)
            }
            Reading::Body { framed, decoder } => {
                let max = LIMITS.max_body_size as u64;
                match decoder.decode(input, &mut framed.body, max, LIMITS.max_head_size) {
                    Err(refusal) => {
                        self.refuse(refusal);
                        (0, false)
                    }
                    Ok((used, false)) => (used, false),
                    Ok((used, true)) => {
                        let Reading::Body { framed, .. } =
                            std::mem::replace(&mut self.reading, Reading::Idle)
                        else {
                            unreachable!("matched Body above")
                        };
                        self.finish(*framed);
                        (used, true)
                    }
                }
            }
        }
    }

    fn finish(&mut self, framed: Framed) {
        self.reading = if framed.keep_alive {
            Reading::Idle
        } else {
            Reading::Done
        };
        self.framed.push(framed);
    }

    fn refuse(&mut self, refusal: Refusal) {
        self.refusal = Some(refusal);
        self.reading = Reading::Done;
    }

    /// What a connection holds after a read is bounded by the limits.
    fn check_bounds(&self, read: usize) {
        match &self.reading {
            Reading::Head { .. } => {
                assert!(
                    self.buf.len() <= LIMITS.max_head_size,
                    "holds a head of {}",
                    self.buf.len()
                )
            }
            Reading::Body { framed, .. } => {
                assert!(
                    framed.body.len() <= LIMITS.max_body_size,
                    "body over its limit"
                );
                // A partial size line, trailer section or chunk end, at most.
                let most = CHUNK_LINE.max(LIMITS.max_head_size) + read + 2;
                assert!(
                    self.buf.len() <= most,
                    "holds {} unread body bytes",
                    self.buf.len()
                );
            }
            Reading::Idle | Reading::Done => {}
        }
    }
}

/// Frames `reads`; on EOF an unfinished request is abandoned.
fn frame(reads: &[&[u8]]) -> (Vec<Framed>, Option<Refusal>) {
    let mut conn = Conn::new();
    for read in reads {
        conn.read(read);
    }
    (conn.framed, conn.refusal)
}

/// What a handler that echoes the request answers, encoded as a worker
/// would for this exchange; returns the expected (status, body length,
/// close) of each response.
fn answer(
    framed: &[Framed],
    refusal: Option<Refusal>,
    out: &mut Vec<u8>,
) -> Vec<(u16, usize, bool)> {
    let mut expected = Vec::new();
    for req in framed {
        let res = Response::bytes(req.body.clone())
            .with_header("x-method", req.method.as_str())
            .with_header("x-target-len", req.target.len().to_string());
        let head_only = req.method == Method::HEAD;
        let persist = match (req.keep_alive, req.version) {
            (false, _) => Persist::Close,
            (true, Version::HTTP_11) => Persist::KeepAlive,
            (true, _) => Persist::KeepAlive10,
        };
        encode_response(out, &res, head_only, persist);
        let len = if head_only { 0 } else { req.body.len() };
        expected.push((200, len, !req.keep_alive));
    }
    if let Some(refusal) = refusal {
        encode_refusal(out, refusal);
        expected.push((refusal.status().as_u16(), refusal.message().len() + 1, true));
    }
    expected
}

/// Parses `out` as consecutive responses: (status, body length, close).
fn responses(mut out: &[u8]) -> Vec<(u16, usize, bool)> {
    let mut seen = Vec::new();
    while !out.is_empty() {
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let mut res = httparse::Response::new(&mut slots);
        let Ok(httparse::Status::Complete(n)) = res.parse(out) else {
            panic!("not a response: {:?}", String::from_utf8_lossy(out));
        };
        let field = |name: &str| {
            res.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| std::str::from_utf8(h.value).unwrap().to_owned())
        };
        let length: usize = field("content-length").expect("a length").parse().unwrap();
        let close = field("connection").as_deref() == Some("close");
        let head_only = field("x-method").as_deref() == Some("HEAD");
        let body = if head_only { 0 } else { length };
        seen.push((res.code.unwrap(), body, close));
        out = &out[n + body..];
    }
    seen
}

fuzz_target!(|data: &[u8]| {
    let Some((seed, bytes)) = seed_and_rest(data, 2) else {
        return;
    };
    let (whole, whole_refusal) = frame(&[bytes]);
    let mut rng = Rng::new(seed);
    let (split, split_refusal) = frame(&pieces(bytes, &mut rng));
    assert_eq!(split, whole, "framed differently when split");
    assert_eq!(
        split_refusal, whole_refusal,
        "refused differently when split"
    );
    // Each framed request had its own head end in the input.
    assert!(whole.len() <= bytes.windows(2).filter(|w| w[1] == b'\n').count());

    let mut out = Vec::new();
    let expected = answer(&whole, whole_refusal, &mut out);
    let seen = responses(&out);
    assert_eq!(seen, expected, "answers do not match the requests");
    // Nothing after a response that closes the connection.
    if let Some(i) = seen.iter().position(|&(_, _, close)| close) {
        assert_eq!(i + 1, seen.len(), "responses after a close");
    }
});
