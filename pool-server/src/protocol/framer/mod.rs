//! One connection's reading side, free of I/O: the bytes a connection has
//! read become complete requests, in order (empty lines skipped, heads
//! parsed, bodies decoded into a [`BodyStore`], pipelined requests queued),
//! or a refusal that ends the reading. The runtime appends what the socket
//! gave and calls [`Framer::frame`]; a worker takes the [`Exchange`]s. The
//! unit tests and the `pipeline` fuzz target drive this same code with bytes
//! split at random.
//!
//! What it needs from the layers around it comes through [`FrameCx`]: the
//! application's decision on a head ([`Heads`]), where a body goes
//! ([`BodyStore`]: memory or a temporary file, the runtime's), and emptied
//! requests to parse heads into.

use std::collections::VecDeque;
use std::mem;
use std::net::SocketAddr;
use std::time::Instant;

use super::body::{BodyDecoder, BodyKind};
use super::error::RequestError;
use super::parse::{find_head_end, head_too_large, parse_head};
use crate::config::Limits;
use crate::request::{Body, Request};

#[cfg(test)]
mod tests;

/// Requests framed ahead of their answers on one connection; more stay
/// unparsed in the buffer until these are answered, which bounds the memory a
/// pipelining client can make us hold.
pub(crate) const MAX_PIPELINE: usize = 32;
/// Bytes of empty lines (CR and LF) skipped before a request line, ten
/// CRLFs as Apache allows; more are refused. RFC 9112 §2.2 asks servers to
/// ignore at least one, which some clients send after a POST body.
const MAX_BLANK: usize = 20;

/// What a request's head decides before its body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AtHead {
    /// The most body it may have; `None` for the server's limit.
    pub(crate) body_limit: Option<usize>,
    /// Guards must pass before the body is read (and `100 Continue` sent).
    pub(crate) guarded: bool,
    /// Something will read the body: a route, a fallback or a mount. Else
    /// the answer (404, 405, `OPTIONS`) goes out without it.
    pub(crate) takes_body: bool,
}

/// Asked about each head that announces a body, before any of it is read:
/// the application's router.
pub(crate) trait Heads {
    fn at_head(&self, request: &mut Request) -> AtHead;
}

/// Where a body goes as it arrives. The decoder appends to
/// [`staging`](Self::staging); [`settle`](Self::settle) then moves what it
/// appended to where it belongs.
pub(crate) trait BodyStore: Sized {
    /// What settling draws on besides the limits: the server-wide memory
    /// budget for bodies.
    type Budget: ?Sized;
    /// A store for a body of `expected` bytes if the head says so.
    fn open(expected: Option<u64>, limits: &Limits) -> Result<Self, RequestError>;
    fn staging(&mut self) -> &mut Vec<u8>;
    fn settle(&mut self, limits: &Limits, budget: &Self::Budget) -> Result<(), RequestError>;
    /// The whole body, for the request.
    fn finish(self) -> Result<Body, RequestError>;
}

/// What [`Framer::frame`] borrows from the connection's surroundings.
pub(crate) struct FrameCx<'a, S: BodyStore> {
    pub(crate) limits: &'a Limits,
    pub(crate) heads: &'a dyn Heads,
    pub(crate) budget: &'a S::Budget,
    /// An emptied request to parse the next head into, if one is spare.
    pub(crate) spare_request: &'a mut dyn FnMut() -> Option<Box<Request>>,
    pub(crate) now: Instant,
}

/// The reading side of one connection; `S` holds a body as it arrives.
pub(crate) struct Framer<S> {
    peer_addr: SocketAddr,
    reading: Reading<S>,
    /// Complete requests waiting for their answers, in arrival order.
    ready: Pipeline,
    /// A refused request, answered after the ready ones; then the
    /// connection closes.
    refusal: Option<RequestError>,
    /// No request has begun on this connection yet.
    fresh: bool,
    /// Reading stopped while the client may still be sending (a refusal, a
    /// body nothing reads): closing at once could reset the connection
    /// before the client reads the answer.
    input_left: bool,
}

/// What the reading side is doing.
enum Reading<S> {
    /// Between requests: nothing of the next one has arrived.
    Idle,
    /// Part of a head has arrived, or empty lines before one: the header
    /// clock runs from the first byte either way.
    Head {
        started: Instant,
        scanned: usize,
        /// Bytes of empty lines skipped before the request line.
        blank: usize,
    },
    /// A head waits on a worker for its guards; its body is read once they
    /// pass ([`Framer::begin_body`]).
    Checking,
    /// The head is parsed; the body is arriving. Boxed: every connection
    /// carries the largest variant inline, and an idle one should cost a
    /// few hundred bytes.
    Body(Box<BodyRead<S>>),
    /// No more requests are read: after `Connection: close`, EOF or a refusal.
    Done,
}

/// Where the reading side is, for the connection's clocks and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Between requests; `fresh` when none has begun on the connection.
    Idle { fresh: bool },
    /// A head is arriving since `started`.
    Head { started: Instant },
    /// A head's guards run on a worker; its body waits.
    Checking,
    /// A body is arriving; its last bytes came at `last_progress`.
    Body { last_progress: Instant },
    /// No more requests are read.
    Done,
}

/// A body being read, and the request it belongs to.
struct BodyRead<S> {
    request: Box<Request>,
    keep_alive: bool,
    decoder: BodyDecoder,
    body: S,
    last_progress: Instant,
    /// The client waits for `100 Continue`, which is not sent yet.
    continue_due: bool,
    /// The most body the request may have.
    max_body: u64,
}

/// A complete request and whether its client wants the connection kept.
/// The request is boxed so that a connection between requests stays small:
/// an idle one costs a few hundred bytes.
pub(crate) struct Exchange {
    pub(crate) request: Box<Request>,
    pub(crate) keep_alive: bool,
    /// Its guards ran already (or it has none).
    pub(crate) checked: bool,
    /// Its body, not read yet: the guards run first, then
    /// [`Framer::begin_body`] reads it.
    pub(crate) unread: Option<Box<Unread>>,
}

/// How to read a body once the guards of its request pass.
pub(crate) struct Unread {
    decoder: BodyDecoder,
    /// The declared length, if any.
    expected: Option<u64>,
    continue_due: bool,
    max_body: u64,
}

/// A FIFO of exchanges that holds the usual single one inline, so a
/// connection allocates for this only when a client pipelines.
#[derive(Default)]
struct Pipeline {
    first: Option<Exchange>,
    rest: VecDeque<Exchange>,
}

impl Pipeline {
    fn push(&mut self, ex: Exchange) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(ex);
        } else {
            self.rest.push_back(ex);
        }
    }

    fn pop(&mut self) -> Option<Exchange> {
        self.first.take().or_else(|| self.rest.pop_front())
    }

    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    fn clear(&mut self) {
        self.first = None;
        self.rest = VecDeque::new();
    }
}

impl<S: BodyStore> Framer<S> {
    pub(crate) fn new(peer_addr: SocketAddr) -> Framer<S> {
        Framer {
            peer_addr,
            reading: Reading::Idle,
            ready: Pipeline::default(),
            refusal: None,
            fresh: true,
            input_left: false,
        }
    }

    /// Frames the requests `input` holds, up to [`MAX_PIPELINE`] waiting,
    /// and removes the bytes it used. `eof`: the client sent all it will;
    /// an unfinished request is then abandoned. Returns whether `input` may
    /// hold more requests, framed once the waiting ones are taken.
    pub(crate) fn frame(
        &mut self,
        input: &mut Vec<u8>,
        eof: bool,
        cx: &mut FrameCx<'_, S>,
    ) -> bool {
        let mut pos = 0;
        let mut more = false;
        loop {
            let (used, go_on) = self.frame_one(&input[pos..], cx);
            pos += used;
            if !go_on {
                break;
            }
            if self.ready.len() >= MAX_PIPELINE {
                more = true;
                break;
            }
        }
        input.drain(..pos);
        // A body waiting on its guards may be whole in the input already:
        // it is framed once they pass, and abandoned then if it is not.
        if eof && !more && !matches!(self.reading, Reading::Done | Reading::Checking) {
            self.reading = Reading::Done;
            input.clear();
        }
        more
    }

    /// Advances the reading state over `input`. Returns the bytes used, and
    /// whether framing can go on (false when it needs more input or is done).
    fn frame_one(&mut self, input: &[u8], cx: &mut FrameCx<'_, S>) -> (usize, bool) {
        let (limits, now) = (cx.limits, cx.now);
        match &mut self.reading {
            Reading::Done | Reading::Checking => (0, false),
            Reading::Idle if input.is_empty() => (0, false),
            Reading::Idle => {
                // The header clock starts at the first byte, an empty line
                // included: a client dripping empty lines before its head
                // gets no more time than one dripping the head.
                self.fresh = false;
                self.reading = Reading::Head {
                    started: now,
                    scanned: 0,
                    blank: 0,
                };
                (0, true)
            }
            Reading::Head { scanned, blank, .. } => {
                // RFC 9112 §2.2: ignore empty lines before a request line.
                // Nothing is taken from a head until it is whole, so a CR
                // or LF first in the input can only be one of those.
                let skipped = input
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                if skipped > 0 {
                    *blank += skipped;
                    if *blank > MAX_BLANK {
                        self.refuse(RequestError::Malformed(
                            "too many empty lines before the request line",
                        ));
                        return (0, false);
                    }
                    return (skipped, skipped < input.len());
                }
                let Some(end) = find_head_end(input, scanned.saturating_sub(3)) else {
                    *scanned = input.len();
                    if input.len() > limits.max_head_size {
                        self.refuse(head_too_large(input, limits.max_head_size));
                    }
                    return (0, false);
                };
                if end > limits.max_head_size {
                    self.refuse(head_too_large(&input[..end], limits.max_head_size));
                    return (0, false);
                }
                let mut request = (cx.spare_request)()
                    .unwrap_or_else(|| Box::new(Request::blank(self.peer_addr)));
                let head = match parse_head(&input[..end], limits, self.peer_addr, &mut request) {
                    Ok(head) => head,
                    Err(err) => {
                        self.refuse(err);
                        return (0, false);
                    }
                };
                let (decoder, expected) = match head.body {
                    BodyKind::Empty => {
                        self.finish(request, head.keep_alive, false);
                        return (end, true);
                    }
                    BodyKind::Length(n) => (BodyDecoder::length(n), Some(n)),
                    BodyKind::Chunked => (BodyDecoder::chunked(), None),
                };
                // The route is known before any of the body is read: its
                // limit, its guards, whether anything reads the body at all.
                let rules = cx.heads.at_head(&mut request);
                if !rules.takes_body {
                    // A 404, 405 or `OPTIONS` answer goes out without the
                    // body, then the connection closes; what the client
                    // still sends is discarded for a bounded time.
                    self.input_left = true;
                    self.finish(request, false, false);
                    return (end, false);
                }
                let max_body = rules.body_limit.unwrap_or(limits.max_body_size) as u64;
                if expected.is_some_and(|n| n > max_body) {
                    self.refuse(RequestError::BodyTooLarge);
                    return (0, false);
                }
                let unread = Unread {
                    decoder,
                    expected,
                    continue_due: head.expects_continue,
                    max_body,
                };
                if rules.guarded {
                    // A worker runs the guards first; the body waits.
                    self.ready.push(Exchange {
                        request,
                        keep_alive: head.keep_alive,
                        checked: false,
                        unread: Some(Box::new(unread)),
                    });
                    self.reading = Reading::Checking;
                    return (end, false);
                }
                self.begin_body(request, head.keep_alive, unread, limits, now);
                (end, true)
            }
            Reading::Body(read) => {
                let decoded = read
                    .decoder
                    .decode(
                        input,
                        read.body.staging(),
                        read.max_body,
                        limits.max_head_size,
                    )
                    .and_then(|decoded| {
                        read.body.settle(limits, cx.budget)?;
                        Ok(decoded)
                    });
                let decoded = match decoded {
                    Ok(decoded) => decoded,
                    Err(err) => {
                        self.refuse(err);
                        return (0, false);
                    }
                };
                if decoded.consumed > 0 {
                    read.last_progress = now;
                    // The client sent the body without waiting: no 100 needed.
                    read.continue_due = false;
                }
                if !decoded.done {
                    return (decoded.consumed, false);
                }
                let Reading::Body(read) = mem::replace(&mut self.reading, Reading::Idle) else {
                    unreachable!("matched Body above");
                };
                let BodyRead {
                    mut request,
                    keep_alive,
                    body,
                    ..
                } = *read;
                match body.finish() {
                    Ok(body) => request.body = body,
                    Err(err) => {
                        self.refuse(err);
                        return (0, false);
                    }
                }
                // Its guards ran before the body was read, or it has none.
                self.finish(request, keep_alive, true);
                (decoded.consumed, true)
            }
        }
    }

    /// Begins reading the body of `request` as `unread` says, its guards
    /// having passed (or it having none). The body may have begun in the
    /// input already: frame it next.
    pub(crate) fn begin_body(
        &mut self,
        request: Box<Request>,
        keep_alive: bool,
        unread: Unread,
        limits: &Limits,
        now: Instant,
    ) {
        match S::open(unread.expected, limits) {
            Ok(body) => {
                self.reading = Reading::Body(Box::new(BodyRead {
                    request,
                    keep_alive,
                    decoder: unread.decoder,
                    body,
                    last_progress: now,
                    continue_due: unread.continue_due,
                    max_body: unread.max_body,
                }))
            }
            Err(err) => self.refuse(err),
        }
    }

    fn finish(&mut self, request: Box<Request>, keep_alive: bool, checked: bool) {
        self.ready.push(Exchange {
            request,
            keep_alive,
            checked,
            unread: None,
        });
        self.reading = if keep_alive {
            Reading::Idle
        } else {
            Reading::Done
        };
    }

    /// Stops reading: `err` is answered once the requests before it are.
    pub(crate) fn refuse(&mut self, err: RequestError) {
        self.refusal = Some(err);
        self.reading = Reading::Done;
        self.input_left = true;
    }

    /// The body of a request whose guards refused it is never read.
    pub(crate) fn skip_body(&mut self) {
        self.input_left = true;
    }

    /// Stops reading and forgets every request not answered yet, and the
    /// refusal: the connection is answered some other way (503) or closes.
    pub(crate) fn stop(&mut self) {
        self.reading = Reading::Done;
        self.ready.clear();
        self.refusal = None;
    }

    /// The next complete request to answer.
    pub(crate) fn next_request(&mut self) -> Option<Exchange> {
        self.ready.pop()
    }

    pub(crate) fn has_requests(&self) -> bool {
        self.ready.len() > 0
    }

    /// The refusal to answer, once no request before it waits.
    pub(crate) fn take_refusal(&mut self) -> Option<RequestError> {
        if self.has_requests() {
            return None;
        }
        self.refusal.take()
    }

    /// Whether `100 Continue` is due now, for a body the client waits to
    /// send; true once per body.
    pub(crate) fn take_continue(&mut self) -> bool {
        match &mut self.reading {
            Reading::Body(read) => mem::take(&mut read.continue_due),
            _ => false,
        }
    }

    pub(crate) fn phase(&self) -> Phase {
        match &self.reading {
            Reading::Idle => Phase::Idle { fresh: self.fresh },
            Reading::Head { started, .. } => Phase::Head { started: *started },
            Reading::Checking => Phase::Checking,
            Reading::Body(read) => Phase::Body {
                last_progress: read.last_progress,
            },
            Reading::Done => Phase::Done,
        }
    }

    /// Between requests with nothing waiting: no request, no refusal.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.reading, Reading::Idle) && self.ready.len() == 0 && self.refusal.is_none()
    }

    /// Reading stopped while the client may still be sending: close only
    /// after discarding its input for a while.
    pub(crate) fn input_left(&self) -> bool {
        self.input_left
    }

    /// Frees the room kept for pipelined requests, for an idle connection.
    pub(crate) fn shrink(&mut self) {
        if self.ready.rest.capacity() > 0 {
            self.ready.rest = VecDeque::new();
        }
    }
}

/// A body kept in memory whatever its size, for the tests and the fuzz
/// targets: the limits still bound it.
#[cfg(any(test, feature = "internals"))]
impl BodyStore for Vec<u8> {
    type Budget = ();

    fn open(_: Option<u64>, _: &Limits) -> Result<Self, RequestError> {
        Ok(Vec::new())
    }

    fn staging(&mut self) -> &mut Vec<u8> {
        self
    }

    fn settle(&mut self, _: &Limits, _: &()) -> Result<(), RequestError> {
        Ok(())
    }

    fn finish(self) -> Result<Body, RequestError> {
        Ok(Body::Memory {
            bytes: self.into(),
            _charge: crate::request::MemoryCharge::none(),
        })
    }
}
