//! One connection: its buffers, the framer that turns its input into
//! requests (`protocol/framer`), the responses going out (`respond`), the
//! socket work (`socket`, through a [`Transport`]) and how it ends. The
//! event loop calls [`Conn::advance`] whenever the connection may make
//! progress; a worker calls [`Conn::serve`] once complete requests are
//! queued. Whoever holds the `Conn` value owns the connection: it is never
//! shared.

use std::mem;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use super::metrics::{ConnCounts, ConnState};
use super::outgoing::Outgoing;
use super::spool::Spool;
use super::transport::Transport;
use crate::application::middleware;
use crate::application::service::Service;
use crate::config::Limits;
use crate::protocol::encode;
use crate::protocol::error::{RefusalBodies, RequestError};
use crate::protocol::framer::{Exchange, FrameCx, Framer, Phase};
use crate::request::{BodyMemory, Request};
use crate::response::Response;

/// After an error response, how long we keep reading and discarding what the
/// client still sends, so closing does not reset the connection before it has
/// read the response (a lingering close, as nginx and Apache do).
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 256 * 1024;
/// Buffers larger than this are released when a connection goes idle, so an
/// idle connection costs a few hundred bytes whatever it carried before.
const KEEP_BUFFER: usize = 16 * 1024;
/// A request that took the application longer marks its connection slow:
/// its next request goes to a follower, and the thread that read it stays
/// in the poll rather than leave the sockets unwatched meanwhile.
const SLOW_HANDLER: Duration = Duration::from_millis(1);

mod buffers;
// Its `pub` items are what `__internals` re-exports for the fuzz targets.
#[cfg(any(test, feature = "internals"))]
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub(crate) mod memory;
mod respond;
mod socket;
#[cfg(test)]
mod tests;

pub(crate) use buffers::{Recycler, Served, LOOP_SPARES};

use respond::{BodyProgress, LOOP_WINDOWS, WORKER_WINDOWS};

/// `T` is the socket: a TCP stream, or an in-memory one in the tests.
pub(crate) struct Conn<T = TcpStream> {
    stream: T,
    /// The connection's slot in the event loop, and its poll token.
    pub(crate) key: usize,
    /// Bytes read and not yet framed into a request.
    read_buf: Vec<u8>,
    /// `read_buf` may hold requests that the framer has not looked at yet.
    unframed: bool,
    /// The reading side: requests framed from `read_buf`, waiting for a
    /// worker, or the refusal that ended the reading.
    framer: Framer<Spool>,
    /// Response bytes, written from `written` on.
    write_buf: Vec<u8>,
    written: usize,
    /// The rest of a response body that was not in memory; boxed, as most
    /// connections never have one and every connection pays for the field.
    outgoing: Option<Box<Outgoing>>,
    /// Its next window needs a worker, and the pool had no room: retried at
    /// the next deadline check.
    worker_wanted: bool,
    /// When output last stalled, or the connection last went idle.
    since: Instant,
    /// Whether and how the connection ends.
    ending: Ending,
    /// The socket may hold unread bytes: readiness is edge-triggered, so this
    /// stays set until a read comes back short or would block.
    pub(crate) maybe_readable: bool,
    /// The poller said the client closed its side: a read will end in EOF
    /// once the bytes before it are taken, so a short read is not the end.
    pub(crate) read_closed: bool,
    /// The client closed its side (EOF).
    peer_closed: bool,
    /// Its last request kept the application more than [`SLOW_HANDLER`].
    pub(crate) slow: bool,
    /// Counts for the server's metrics, taken by the loop.
    pub(crate) counts: ConnCounts,
}

/// Whether and how a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// It stays open for the next request.
    Open,
    /// It closes once the output is flushed. `reset`: a body framed by the
    /// close broke off, so it ends with a reset, never a FIN, which would
    /// say the body was complete.
    AfterOutput { reset: bool },
    /// Our side is shut down for writing, and what the client still sends
    /// is discarded until its EOF: `discarded` bytes so far.
    Lingering { discarded: usize },
    /// A write failed: the connection is dead.
    Broken,
}

/// What the event loop should do with a connection after [`Conn::advance`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Complete requests are queued: hand the connection to a worker.
    Dispatch,
    /// Nothing to do until the socket is ready again or a deadline passes.
    Wait,
    /// More to send, and the socket may take it, but others get a turn
    /// first: drive it again soon without waiting for an event.
    Again,
    /// The connection is finished: drop it.
    Close,
}

/// What a worker lends [`Conn::serve`].
pub(crate) struct WorkerCx<'a> {
    pub(crate) service: &'a Service,
    /// For a body that begins once its guards pass.
    pub(crate) limits: &'a Limits,
    /// Bodies for the refusals a worker finds queued (after pipelined answers).
    pub(crate) refusal_bodies: &'a RefusalBodies,
    /// Shutdown has begun: responses close their connections.
    pub(crate) draining: &'a AtomicBool,
    pub(crate) write_window: usize,
    /// Makes what a stream's producers call to wake the connection `key`.
    pub(crate) waker_for: &'a dyn Fn(usize) -> Box<dyn Fn() + Send + Sync>,
}

/// What the event loop lends [`Conn::advance`].
pub(crate) struct LoopCx<'a> {
    /// Asked what a head decides before its body is read.
    pub(crate) service: &'a Service,
    pub(crate) limits: &'a Limits,
    pub(crate) memory: &'a BodyMemory,
    pub(crate) scratch: &'a mut [u8],
    /// Buffers for connections that have none between requests.
    pub(crate) spares: &'a mut Recycler,
    pub(crate) now: Instant,
    pub(crate) draining: bool,
}

impl<T: Transport> Conn<T> {
    pub(crate) fn new(stream: T, key: usize, peer_addr: SocketAddr, now: Instant) -> Conn<T> {
        Conn {
            stream,
            key,
            read_buf: Vec::new(),
            unframed: false,
            framer: Framer::new(peer_addr),
            write_buf: Vec::new(),
            written: 0,
            outgoing: None,
            worker_wanted: false,
            since: now,
            ending: Ending::Open,
            // Registration reports data that is already waiting, so there is
            // no need to try a read before the first event.
            maybe_readable: false,
            read_closed: false,
            peer_closed: false,
            slow: false,
            counts: ConnCounts::default(),
        }
    }

    /// Moves the connection as far as it can go without blocking: flush
    /// output, read and frame requests, answer refusals, and say what next.
    pub(crate) fn advance(&mut self, cx: &mut LoopCx<'_>) -> Next {
        loop {
            if self.ending == Ending::Broken {
                return Next::Close;
            }
            if self.written < self.write_buf.len() {
                match self.flush(cx.now) {
                    Ok(true) => {}
                    Ok(false) => return Next::Wait,
                    Err(_) => return Next::Close,
                }
            }
            if let Ending::Lingering { discarded } = self.ending {
                return self.discard(discarded, cx.scratch);
            }
            if cx.draining && self.outgoing.as_ref().is_some_and(|o| o.stream().is_some()) {
                // A stream may never end by itself: end it cleanly now, and
                // send that end before anything closes the connection.
                self.end_body();
                continue;
            }
            if self.outgoing.is_some() {
                match self.pump(cx.limits.write_window, false, cx.now, LOOP_WINDOWS) {
                    BodyProgress::Finished => continue,
                    BodyProgress::Blocked => return Next::Wait,
                    BodyProgress::NeedsWorker => return Next::Dispatch,
                    BodyProgress::Yield => return Next::Again,
                    BodyProgress::Waiting => return self.watch_for_eof(cx),
                }
            }
            if let Ending::AfterOutput { reset } = self.ending {
                return self.close_or_linger(reset, cx.now);
            }
            if self.framer.has_requests() {
                return Next::Dispatch;
            }
            if let Some(err) = self.framer.take_refusal() {
                self.answer_refusal(err, &cx.limits.refusal_bodies);
                continue;
            }
            if self.framer.take_continue() {
                self.write_buf.extend_from_slice(encode::CONTINUE);
                continue;
            }
            match self.framer.phase() {
                Phase::Done => {
                    self.close_after_output();
                    continue;
                }
                Phase::Idle { .. } if cx.draining && self.read_buf.is_empty() && !self.unframed => {
                    // A request may wait in the socket, its event not seen yet:
                    // read it, so it is answered rather than reset by the close.
                    match self.fill(cx.scratch, cx.spares) {
                        Ok(()) if !self.read_buf.is_empty() => self.unframed = true,
                        _ => return Next::Close,
                    }
                }
                Phase::Idle { .. } if self.read_buf.is_empty() => self.release_buffers(cx.spares),
                _ => {}
            }
            if self.unframed {
                self.frame(cx);
                continue;
            }
            if !self.maybe_readable {
                return Next::Wait;
            }
            match self.fill(cx.scratch, cx.spares) {
                Ok(()) => self.unframed = true,
                Err(_) => return Next::Close,
            }
        }
    }

    /// When the connection must be looked at again if nothing happens;
    /// `None` when that lies past what the clock can represent.
    pub(crate) fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let lingering = matches!(self.ending, Ending::Lingering { .. });
        let (from, timeout) = if lingering {
            (self.since, LINGER_TIME)
        } else if self.written < self.write_buf.len() {
            (self.since, limits.write_timeout)
        } else if let Some(outgoing) = &self.outgoing {
            if self.worker_wanted {
                return Some(self.since);
            }
            match outgoing.stream() {
                // A quiet producer is no fault of the client's: only its
                // heartbeat is due.
                Some(stream) => (outgoing.last_sent, stream.heartbeat_every()?.0),
                // A file the socket stopped taking: the write timeout runs.
                None => (outgoing.last_sent.max(self.since), limits.write_timeout),
            }
        } else {
            match self.framer.phase() {
                Phase::Head { started } => (started, limits.header_read_timeout),
                Phase::Body { last_progress } => (last_progress, limits.body_read_timeout),
                Phase::Checking => (self.since, limits.body_read_timeout),
                // A client that connects and sends nothing gets no more time
                // than one that sends a head slowly.
                Phase::Idle { fresh: true } => (self.since, limits.header_read_timeout),
                Phase::Idle { fresh: false } | Phase::Done => {
                    (self.since, limits.keep_alive_timeout)
                }
            }
        };
        from.checked_add(timeout)
    }

    /// Called when [`deadline`](Self::deadline) has passed: a client too slow
    /// to send its request gets 408; a quiet stream its heartbeat; a body
    /// that waited for a worker another try; anything else is closed.
    pub(crate) fn expire(&mut self, cx: &mut LoopCx<'_>) -> Next {
        let stalled = self.written < self.write_buf.len();
        if let Some(outgoing) = self.outgoing.as_mut().filter(|_| !stalled) {
            if mem::take(&mut self.worker_wanted) {
                return self.advance(cx);
            }
            if outgoing.stream().is_none() {
                self.counts.write_timeouts += 1;
                return Next::Close;
            }
            outgoing.beat(&mut self.write_buf, cx.now);
            return self.advance(cx);
        }
        let reading = matches!(self.framer.phase(), Phase::Head { .. } | Phase::Body { .. });
        let lingering = matches!(self.ending, Ending::Lingering { .. });
        if stalled {
            self.counts.write_timeouts += 1;
        } else if !reading && !lingering {
            self.counts.idle_closes += 1;
        }
        if lingering || stalled || !reading {
            return Next::Close;
        }
        self.framer.refuse(RequestError::Timeout);
        self.advance(cx)
    }

    /// Replaces the queued requests by a 503 (the pool had no room); a body
    /// already under way instead waits for the next deadline check.
    pub(crate) fn shed(&mut self, cx: &mut LoopCx<'_>) -> Next {
        if self.outgoing.is_some() {
            self.worker_wanted = true;
            self.since = cx.now;
            return Next::Wait;
        }
        self.framer.stop();
        self.counts.shed += 1;
        self.counts.refusal(http::StatusCode::SERVICE_UNAVAILABLE);
        encode::overloaded(&mut self.write_buf, &cx.limits.refusal_bodies);
        self.close_after_output();
        self.advance(cx)
    }

    /// Answers the queued requests with the handler, in order, and writes
    /// what it can without blocking. Runs on a worker. A body that is not in
    /// memory is sent a window at a time until the socket is full, then
    /// left to the loop. Stops early while more than `write_window` bytes
    /// wait for the client: the rest are answered once it has read them, so
    /// output pinned per connection stays bounded. Each request served is
    /// emptied into `served` while it has room, for the loop to reuse.
    pub(crate) fn serve(&mut self, cx: &WorkerCx<'_>, served: &mut Served) {
        let window = cx.write_window;
        Recycler::on_worker(|spares| spares.lend(&mut self.write_buf));
        // When the application began on the next request: the job's start,
        // then each answer's end (one clock read per request; encoding the
        // answer before counts in, a few hundred nanoseconds).
        let mut started = Instant::now();
        loop {
            if self.outgoing.is_some() {
                let pumped = self.pump(window, true, started, WORKER_WINDOWS);
                if !matches!(pumped, BodyProgress::Finished) || self.ending != Ending::Open {
                    break;
                }
                started = Instant::now();
            }
            if self.unsent() > window {
                // Make room if the socket takes it; else leave the rest to the loop.
                if self.flush(started).is_err() || self.unsent() > window {
                    break;
                }
                started = Instant::now();
            }
            let Some(Exchange {
                mut request,
                keep_alive,
                checked,
                unread,
            }) = self.framer.next_request()
            else {
                break;
            };
            let (response, handler_ok) = match unread {
                None => call(&mut request, |req| cx.service.call(req, checked)),
                Some(unread) => {
                    match panic::catch_unwind(AssertUnwindSafe(|| cx.service.check(&mut request))) {
                        // The guards passed: the loop reads the body, maybe
                        // begun in `read_buf`, and sends `100 Continue` if due.
                        Ok(None) => {
                            let now = Instant::now();
                            self.framer
                                .begin_body(request, keep_alive, *unread, cx.limits, now);
                            self.unframed = true;
                            break;
                        }
                        // Refused: the body is never read, and the
                        // connection closes once the answer is out.
                        Ok(Some(refusal)) => {
                            self.framer.skip_body();
                            let (response, _) =
                                call(&mut request, |req| cx.service.refused(req, refusal));
                            (response, false)
                        }
                        Err(panic) => {
                            self.framer.skip_body();
                            (middleware::panicked(&request, &panic), false)
                        }
                    }
                }
            };
            let answered = Instant::now();
            let took = answered.saturating_duration_since(started);
            self.slow = took > SLOW_HANDLER;
            cx.service.record(&request, response.status(), took);
            started = answered;
            // Read after the handler ran: a shutdown may have begun meanwhile.
            let draining = cx.draining.load(Ordering::Acquire);
            let keep = keep_alive && handler_ok && !draining;
            if !self.start_response(response, &request, keep, cx) {
                self.stop_reading();
            }
            if served.len() < served.capacity() {
                request.recycle();
                served.push(request);
            }
        }
        if self.ending == Ending::Open && self.outgoing.is_none() {
            if let Some(err) = self.framer.take_refusal() {
                self.answer_refusal(err, cx.refusal_bodies);
            }
        }
        // Either the output stalled or the connection goes idle: both clocks
        // start now (the last answer's time, microseconds before: no clock
        // read more per job).
        let _ = self.flush(started);
        if self.write_buf.is_empty() {
            Recycler::on_worker(|spares| spares.reclaim(&mut self.write_buf));
        }
        self.since = started;
    }

    /// Nothing is left to do until the client sends more: the response is
    /// out, no request or refusal waits, no byte is buffered or known to
    /// wait in the socket, and the connection stays open.
    pub(crate) fn settled(&self) -> bool {
        self.framer.is_idle()
            && self.read_buf.is_empty()
            && !self.unframed
            && !self.maybe_readable
            && !self.read_closed
            && self.unsent() == 0
            && self.outgoing.is_none()
            && self.ending == Ending::Open
    }

    /// Where the connection is, for the metrics.
    pub(crate) fn state(&self) -> ConnState {
        match (&self.outgoing, self.framer.phase()) {
            (Some(outgoing), _) if outgoing.stream().is_some() => ConnState::Streaming,
            (Some(_), _) => ConnState::Writing,
            _ if self.unsent() > 0 || matches!(self.ending, Ending::Lingering { .. }) => {
                ConnState::Writing
            }
            (None, Phase::Head { .. } | Phase::Body { .. }) => ConnState::Reading,
            (None, _) => ConnState::Idle,
        }
    }

    /// Encoded response bytes not yet written.
    fn unsent(&self) -> usize {
        self.write_buf.len() - self.written
    }

    /// The server is gone: answer 503 with one write that does not wait, and
    /// let the connection close.
    pub(crate) fn refuse_at_exit(&mut self, bodies: &RefusalBodies) {
        self.framer.stop();
        encode::overloaded(&mut self.write_buf, bodies);
        let _ = self.flush(Instant::now());
    }

    fn answer_refusal(&mut self, err: RequestError, bodies: &RefusalBodies) {
        self.counts.refusal(err.status());
        encode::refusal(&mut self.write_buf, err, bodies);
        self.close_after_output();
    }

    fn stop_reading(&mut self) {
        self.close_after_output();
        self.framer.stop();
    }

    /// The connection closes once its output is out, unless it ends
    /// otherwise already.
    fn close_after_output(&mut self) {
        if self.ending == Ending::Open {
            self.ending = Ending::AfterOutput { reset: false };
        }
    }

    /// Frames the requests `read_buf` holds.
    fn frame(&mut self, cx: &mut LoopCx<'_>) {
        let spares = &mut *cx.spares;
        let mut spare_request = || spares.request();
        let mut frame_cx = FrameCx {
            limits: cx.limits,
            heads: cx.service,
            budget: cx.memory,
            spare_request: &mut spare_request,
            now: cx.now,
        };
        self.unframed = self
            .framer
            .frame(&mut self.read_buf, self.peer_closed, &mut frame_cx);
    }
}

/// Runs `answer` (the application) on `request`; a panic becomes a 500
/// and closes the connection.
fn call(request: &mut Request, answer: impl FnOnce(&mut Request) -> Response) -> (Response, bool) {
    match panic::catch_unwind(AssertUnwindSafe(|| answer(request))) {
        Ok(response) => (response, true),
        Err(panic) => (middleware::panicked(request, &panic), false),
    }
}
