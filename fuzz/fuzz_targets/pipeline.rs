//! A connection's reading side end to end, through the real framer
//! (`protocol/framer`, as the runtime drives it): bytes in random reads are
//! framed into requests (blank lines skipped, head found and parsed, body
//! decoded, the next pipelined request after it, at most a pipeline's worth
//! waiting), under head rules the first seed byte picks (bodies taken,
//! guarded first, left unread, or a small route limit); EOF follows the last
//! read. Each request is answered by an echo and encoded, a refusal ends the
//! exchange.
//!
//! Checked: the requests framed and the refusal do not depend on how the
//! bytes were split; what is held never exceeds the limits; the output is
//! exactly one well-formed response per framed request (plus the refusal),
//! in order, each with the right length and `Connection`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pool_server::__internals::{
    answers, encode_refusal, encode_response, Exchange, Framer, HeadRules, Limits, Persist, Phase,
    Refusal,
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

impl Framed {
    fn new(ex: &Exchange) -> Framed {
        let req = ex.request();
        Framed {
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
            body: req.body().to_vec(),
            keep_alive: ex.keep_alive(),
        }
    }
}

/// The head rules for an input, from its first seed byte.
fn rules(seed: u8) -> HeadRules {
    let open = HeadRules {
        body_limit: None,
        guarded: false,
        takes_body: true,
    };
    match seed % 4 {
        0 => open,
        1 => HeadRules {
            guarded: true,
            ..open
        },
        2 => HeadRules {
            takes_body: false,
            ..open
        },
        _ => HeadRules {
            body_limit: Some(16),
            ..open
        },
    }
}

/// A connection's reading side and its input buffer.
struct Conn {
    framer: Framer,
    input: Vec<u8>,
    rules: HeadRules,
    framed: Vec<Framed>,
}

impl Conn {
    fn new(rules: HeadRules) -> Conn {
        Conn {
            framer: Framer::new(LIMITS, rules),
            input: Vec::new(),
            rules,
            framed: Vec::new(),
        }
    }

    /// One read arrives (or EOF): frame, take what is framed as a worker
    /// would (a body waiting for its guards is begun at once, as when they
    /// pass), and frame again while more may wait.
    fn read(&mut self, bytes: &[u8], eof: bool) {
        self.input.extend_from_slice(bytes);
        loop {
            let more = self.framer.frame(&mut self.input, eof);
            let mut resumed = false;
            while let Some(ex) = self.framer.next_request() {
                if ex.body_waits() {
                    self.framer.begin_body(ex);
                    resumed = true;
                    break;
                }
                let framed = Framed::new(&ex);
                let limit = self.rules.body_limit.unwrap_or(LIMITS.max_body_size);
                assert!(framed.body.len() <= limit, "a body over its limit");
                self.framed.push(framed);
            }
            self.check_bounds(bytes.len());
            if !more && !resumed {
                break;
            }
        }
    }

    /// What a connection holds after a read is bounded by the limits.
    fn check_bounds(&self, read: usize) {
        match self.framer.phase() {
            Phase::Head => assert!(
                self.input.len() <= LIMITS.max_head_size,
                "holds a head of {}",
                self.input.len()
            ),
            Phase::Body => {
                // A partial size line, trailer section or chunk end, at most.
                let most = CHUNK_LINE.max(LIMITS.max_head_size) + read + 2;
                assert!(
                    self.input.len() <= most,
                    "holds {} unread body bytes",
                    self.input.len()
                );
            }
            Phase::Checking => panic!("a head left waiting for its guards"),
            Phase::Idle | Phase::Done => {}
        }
    }
}

/// Frames `reads`, then EOF, which abandons an unfinished request.
fn frame(reads: &[&[u8]], rules: HeadRules) -> (Vec<Framed>, Option<Refusal>) {
    let mut conn = Conn::new(rules);
    for read in reads {
        conn.read(read, false);
    }
    conn.read(&[], true);
    assert_eq!(conn.framer.phase(), Phase::Done, "EOF ends the reading");
    let refusal = conn.framer.take_refusal();
    (conn.framed, refusal)
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

/// Splits `out` into responses: (status, body length, close). Each has
/// a `Content-Length`, as an in-memory echo and a refusal get.
fn responses(out: &[u8]) -> Vec<(u16, usize, bool)> {
    answers(out)
        .iter()
        .map(|a| {
            assert!(a.field("content-length").is_some(), "a length: {a:?}");
            (
                a.status,
                a.body.len(),
                a.field("connection") == Some("close"),
            )
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((seed, bytes)) = seed_and_rest(data, 2) else {
        return;
    };
    let rules = rules(seed[0]);
    let (whole, whole_refusal) = frame(&[bytes], rules);
    let mut rng = Rng::new(seed);
    let (split, split_refusal) = frame(&pieces(bytes, &mut rng), rules);
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
