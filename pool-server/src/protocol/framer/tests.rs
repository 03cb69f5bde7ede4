//! The framer over in-memory input: the same requests and refusal however
//! the bytes are split into reads, the pipeline bound, end of input, the
//! empty-line and head limits, and what the head decides (guards first, a
//! body nothing reads, a route's body limit, `100 Continue`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;

/// What a worker would see of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    target: String,
    body: Vec<u8>,
    keep_alive: bool,
    checked: bool,
}

struct Fixed(AtHead);

impl Heads for Fixed {
    fn at_head(&self, _: &mut Request) -> AtHead {
        self.0
    }
}

const OPEN: AtHead = AtHead {
    body_limit: None,
    guarded: false,
    takes_body: true,
};

fn limits() -> Limits {
    Limits {
        max_head_size: 256,
        max_body_size: 64,
        ..Limits::default()
    }
}

/// A connection's reading side with its buffer, fed by the test.
struct Harness {
    framer: Framer<Vec<u8>>,
    input: Vec<u8>,
    limits: Limits,
    heads: Fixed,
    now: Instant,
    seen: Vec<Seen>,
    /// A request given to the framer to parse the next head into.
    spare: Option<Box<Request>>,
}

impl Harness {
    fn new(rules: AtHead) -> Harness {
        Harness {
            framer: Framer::new(peer()),
            input: Vec::new(),
            limits: limits(),
            heads: Fixed(rules),
            now: Instant::now(),
            seen: Vec::new(),
            spare: None,
        }
    }

    /// Frames once; true when the input may hold more requests.
    fn frame(&mut self, eof: bool) -> bool {
        let given = &mut self.spare;
        let mut spare = || given.take();
        let mut cx = FrameCx {
            limits: &self.limits,
            heads: &self.heads,
            budget: &(),
            spare_request: &mut spare,
            now: self.now,
        };
        self.framer.frame(&mut self.input, eof, &mut cx)
    }

    /// One read arrives: frame it, and answer what is framed as the
    /// runtime does: guards pass at once, and framing goes on while the
    /// input may hold more.
    fn read(&mut self, bytes: &[u8], eof: bool) {
        self.input.extend_from_slice(bytes);
        loop {
            let more = self.frame(eof);
            let resumed = self.take_requests();
            if !more && !resumed {
                break;
            }
        }
    }

    /// Takes the framed requests; true when one had its body begun.
    fn take_requests(&mut self) -> bool {
        while let Some(ex) = self.framer.next_request() {
            if let Some(unread) = ex.unread {
                assert!(!ex.checked);
                let limits = self.limits.clone();
                self.framer
                    .begin_body(ex.request, ex.keep_alive, *unread, &limits, self.now);
                return true;
            }
            let request = &ex.request;
            self.seen.push(Seen {
                method: request.method().to_string(),
                target: request.target.as_str().to_owned(),
                body: request.body().to_vec(),
                keep_alive: ex.keep_alive,
                checked: ex.checked,
            });
        }
        false
    }
}

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 1))
}

/// A tiny deterministic generator (xorshift), so failures reproduce.
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Frames `wire` in reads cut by `cuts` (ascending offsets), then EOF.
fn frame_split(wire: &[u8], cuts: &[usize], rules: AtHead) -> (Vec<Seen>, Option<RequestError>) {
    let mut h = Harness::new(rules);
    let mut from = 0;
    for &cut in cuts {
        h.read(&wire[from..cut], false);
        from = cut;
    }
    h.read(&wire[from..], true);
    let refusal = h.framer.take_refusal();
    (h.seen, refusal)
}

/// The outcome of `wire` in one read, checked to be the same over many
/// random splits, byte by byte included.
fn frame_any_split(wire: &[u8], rules: AtHead) -> (Vec<Seen>, Option<RequestError>) {
    let whole = frame_split(wire, &[], rules);
    let bytes: Vec<usize> = (1..wire.len()).collect();
    assert_eq!(frame_split(wire, &bytes, rules), whole, "byte by byte");
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        let mut cuts = Vec::new();
        let mut at = 0;
        loop {
            at += 1 + (xorshift(&mut seed) % 40) as usize;
            if at >= wire.len() {
                break;
            }
            cuts.push(at);
        }
        assert_eq!(frame_split(wire, &cuts, rules), whole, "cut at {cuts:?}");
    }
    whole
}

fn seen(method: &str, target: &str, body: &[u8], keep_alive: bool, checked: bool) -> Seen {
    Seen {
        method: method.into(),
        target: target.into(),
        body: body.to_vec(),
        keep_alive,
        checked,
    }
}

const MIXED: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
\r\n\
POST /b?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
3\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n\
GET /d HTTP/1.0\r\n\r\n\
GET /never HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn pipelined_requests_are_framed_the_same_however_split() {
    let (requests, refusal) = frame_any_split(MIXED, OPEN);
    assert_eq!(
        requests,
        [
            seen("GET", "/a", b"", true, false),
            seen("POST", "/b?q=1", b"hello", true, true),
            seen("POST", "/c", b"abcde", true, true),
            // HTTP/1.0 without keep-alive: nothing after it is read.
            seen("GET", "/d", b"", false, false),
        ]
    );
    assert_eq!(refusal, None);
}

#[test]
fn guarded_bodies_wait_for_their_guards_however_split() {
    let guarded = AtHead {
        guarded: true,
        ..OPEN
    };
    let (requests, _) = frame_any_split(MIXED, guarded);
    let targets: Vec<_> = requests.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["/a", "/b?q=1", "/c", "/d"]);
    assert_eq!(requests[1].body, b"hello");
    assert_eq!(requests[2].body, b"abcde");
}

#[test]
fn a_refusal_follows_the_requests_before_it_however_split() {
    let wire = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab\
GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
    let (requests, refusal) = frame_any_split(wire, OPEN);
    assert_eq!(requests, [seen("GET", "/a", b"", true, false)]);
    assert!(
        matches!(refusal, Some(RequestError::Malformed(_))),
        "{refusal:?}"
    );
}

#[test]
fn the_refusal_waits_until_the_requests_before_it_are_taken() {
    let mut h = Harness::new(OPEN);
    h.input
        .extend_from_slice(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/9.9\r\n\r\n");
    assert!(!h.frame(false));
    assert!(h.framer.has_requests());
    assert_eq!(h.framer.take_refusal(), None, "a request waits before it");
    assert!(h.framer.next_request().is_some());
    assert_eq!(
        h.framer.take_refusal(),
        Some(RequestError::UnsupportedVersion)
    );
    assert!(h.framer.input_left());
    assert_eq!(h.framer.phase(), Phase::Done);
}

#[test]
fn at_most_a_pipeline_of_requests_waits_and_the_rest_follow_even_after_eof() {
    let count = MAX_PIPELINE + 8;
    let one = b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut h = Harness::new(OPEN);
    for _ in 0..count {
        h.input.extend_from_slice(one);
    }
    // The client sent them all and closed its side.
    assert!(h.frame(true), "more wait in the input");
    let mut first = 0;
    while h.framer.next_request().is_some() {
        first += 1;
    }
    assert_eq!(first, MAX_PIPELINE);
    assert_eq!(h.input.len(), 8 * one.len());
    assert!(!h.frame(true));
    let mut rest = 0;
    while h.framer.next_request().is_some() {
        rest += 1;
    }
    assert_eq!(rest, 8);
    assert_eq!(h.framer.phase(), Phase::Done);
}

#[test]
fn eof_abandons_an_unfinished_request() {
    for wire in [
        &b"GET / HTTP/1.1\r\nHo"[..],
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    ] {
        let mut h = Harness::new(OPEN);
        h.read(wire, true);
        assert!(h.seen.is_empty());
        assert_eq!(h.framer.take_refusal(), None);
        assert_eq!(h.framer.phase(), Phase::Done);
        assert!(h.input.is_empty());
    }
}

#[test]
fn empty_lines_before_a_request_are_skipped_up_to_a_bound() {
    let (requests, refusal) = frame_any_split(
        b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        OPEN,
    );
    assert_eq!(requests.len(), 1);
    assert_eq!(refusal, None);
    let (requests, refusal) = frame_any_split(
        b"\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        OPEN,
    );
    assert!(requests.is_empty());
    assert!(
        matches!(refusal, Some(RequestError::Malformed(_))),
        "{refusal:?}"
    );
}

#[test]
fn a_head_past_its_limit_is_refused_before_it_ends() {
    let mut h = Harness::new(OPEN);
    let mut wire = b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: ".to_vec();
    wire.resize(h.limits.max_head_size + 1, b'a');
    h.read(&wire, false);
    assert_eq!(h.framer.take_refusal(), Some(RequestError::HeadTooLarge));
    assert!(h.seen.is_empty());
}

#[test]
fn the_header_clock_starts_at_the_first_byte() {
    let mut h = Harness::new(OPEN);
    assert_eq!(h.framer.phase(), Phase::Idle { fresh: true });
    let first = h.now;
    h.read(b"\r\nGET / HT", false);
    assert_eq!(h.framer.phase(), Phase::Head { started: first });
    h.now += Duration::from_secs(1);
    h.read(b"TP/1.1\r\nHost: x\r\n\r\n", false);
    assert_eq!(h.seen.len(), 1);
    assert_eq!(h.framer.phase(), Phase::Idle { fresh: false });
    assert!(h.framer.is_idle());
}

#[test]
fn body_progress_moves_the_body_clock() {
    let mut h = Harness::new(OPEN);
    let start = h.now;
    h.read(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab",
        false,
    );
    assert_eq!(
        h.framer.phase(),
        Phase::Body {
            last_progress: start
        }
    );
    h.now += Duration::from_secs(1);
    h.read(b"", false);
    assert_eq!(
        h.framer.phase(),
        Phase::Body {
            last_progress: start
        },
        "no bytes, no progress"
    );
    h.read(b"c", false);
    assert_eq!(
        h.framer.phase(),
        Phase::Body {
            last_progress: h.now
        }
    );
}

#[test]
fn a_body_nothing_reads_is_left_and_reading_stops() {
    let ignored = AtHead {
        takes_body: false,
        ..OPEN
    };
    let mut h = Harness::new(ignored);
    h.read(
        b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n",
        false,
    );
    // Answered without its body, and the connection closes after.
    assert_eq!(h.seen, [seen("POST", "/nowhere", b"", false, false)]);
    assert_eq!(h.framer.phase(), Phase::Done);
    assert!(h.framer.input_left());
}

#[test]
fn a_route_limit_refuses_a_declared_body_before_it_is_read() {
    let small = AtHead {
        body_limit: Some(4),
        ..OPEN
    };
    let (requests, refusal) = frame_any_split(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        small,
    );
    assert!(requests.is_empty());
    assert_eq!(refusal, Some(RequestError::BodyTooLarge));
    // A chunked body is refused once it grows past the limit.
    let (requests, refusal) = frame_any_split(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        small,
    );
    assert!(requests.is_empty());
    assert_eq!(refusal, Some(RequestError::BodyTooLarge));
}

#[test]
fn continue_is_due_once_and_only_while_the_client_waits() {
    let expect = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    let mut h = Harness::new(OPEN);
    h.read(expect, false);
    assert!(h.framer.take_continue());
    assert!(!h.framer.take_continue(), "once");
    h.read(b"ok", false);
    assert_eq!(h.seen[0].body, b"ok");

    // The body came with the head: the client did not wait.
    let mut h = Harness::new(OPEN);
    let mut wire = expect.to_vec();
    wire.extend_from_slice(b"o");
    h.read(&wire, false);
    assert!(!h.framer.take_continue());
}

#[test]
fn guards_run_before_the_body_and_a_refused_body_is_left() {
    let guarded = AtHead {
        guarded: true,
        ..OPEN
    };
    let mut h = Harness::new(guarded);
    h.input
        .extend_from_slice(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel");
    assert!(!h.frame(false));
    assert_eq!(h.framer.phase(), Phase::Checking);
    // The body waits in the input, unread.
    assert_eq!(h.input, b"hel");
    let ex = h.framer.next_request().expect("the head, for its guards");
    assert!(ex.unread.is_some() && !ex.checked);
    // The guards refuse: the body is never read.
    h.framer.skip_body();
    h.framer.stop();
    assert!(h.framer.input_left());
    assert!(!h.frame(false));
    assert!(!h.framer.has_requests());
}

#[test]
fn heads_are_parsed_into_spare_requests() {
    let mut h = Harness::new(OPEN);
    let mut spare = Box::new(Request::blank(peer()));
    spare.headers.reserve(20);
    let room = spare.headers.capacity();
    h.spare = Some(spare);
    h.input
        .extend_from_slice(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    h.frame(false);
    assert!(h.spare.is_none(), "the spare was taken");
    let first = h.framer.next_request().expect("a request");
    assert_eq!(first.request.headers.capacity(), room);
    assert_eq!(first.request.path(), "/a");
    assert_eq!(
        h.framer.next_request().expect("a request").request.path(),
        "/b"
    );
}

#[test]
fn stop_forgets_what_waits() {
    let mut h = Harness::new(OPEN);
    h.input.extend_from_slice(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\n",
    );
    h.frame(false);
    assert!(h.framer.has_requests());
    h.framer.stop();
    assert!(!h.framer.has_requests());
    assert_eq!(h.framer.take_refusal(), None);
    assert_eq!(h.framer.phase(), Phase::Done);
    assert!(!h.framer.is_idle());
}
