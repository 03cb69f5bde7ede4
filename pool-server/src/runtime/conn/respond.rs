//! Sending a response whose body is not in memory: encoding its head,
//! then moving its body a window at a time, on a worker or in the loop.

use std::time::Instant;

use http::{Method, StatusCode, Version};

use super::{Conn, Ending, LoopCx, Next, WorkerCx};
use crate::protocol::encode::{self, Framing, Persist};
use crate::request::Request;
use crate::response::Response;
use crate::runtime::outgoing::{Outgoing, Step};
use crate::runtime::transport::Transport;

/// Windows of a body one turn may move before it lets the others run: on a
/// worker (a job), and in the loop (one connection's turn).
pub(super) const WORKER_WINDOWS: usize = 16;
pub(super) const LOOP_WINDOWS: usize = 4;

/// How far [`Conn::pump`] got with the body in progress.
pub(super) enum BodyProgress {
    /// No body is in progress (any more).
    Finished,
    /// The socket takes no more now.
    Blocked,
    /// The next window needs a worker.
    NeedsWorker,
    /// The body's producer has nothing now.
    Waiting,
    /// The turn's windows are used up; more could go.
    Yield,
}

impl<T: Transport> Conn<T> {
    /// Encodes the head of `response` (and its body when it is in memory),
    /// and keeps any other body as the one in progress. Returns whether the
    /// connection stays open after it.
    pub(super) fn start_response(
        &mut self,
        mut response: Response,
        request: &Request,
        keep: bool,
        cx: &WorkerCx<'_>,
    ) -> bool {
        let head_only = request.method == Method::HEAD;
        self.counts
            .response(match encode::is_final(response.status()) {
                true => response.status(),
                false => StatusCode::INTERNAL_SERVER_ERROR,
            });
        let persist = |keep| match (keep, request.version) {
            (false, _) => Persist::Close,
            (true, Version::HTTP_10) => Persist::KeepAlive10,
            (true, _) => Persist::KeepAlive,
        };
        if response.has_body_in_memory() {
            let written = encode::response(
                &mut self.write_buf,
                &response,
                head_only,
                persist(keep),
                Some(request),
            );
            response.recycle();
            return !written.close;
        }
        let framing = encode::framing(&response, request.version);
        let keep = keep && framing != Framing::UntilClose;
        let now = Instant::now();
        let written = encode::head(
            &mut self.write_buf,
            &response,
            head_only,
            persist(keep),
            framing,
            Some(request),
        );
        if written.body {
            self.outgoing = Outgoing::new(response.take_body(), framing, now).map(Box::new);
            if let Some(stream) = self.outgoing.as_ref().and_then(|o| o.stream()) {
                stream.set_notify((cx.waker_for)(self.key));
            }
        }
        response.recycle();
        !written.close
    }

    /// Sends the body in progress as far as it goes without blocking, for at
    /// most `windows` windows. On a worker, it also reads from a reader.
    pub(super) fn pump(
        &mut self,
        window: usize,
        on_worker: bool,
        now: Instant,
        windows: usize,
    ) -> BodyProgress {
        let mut windows = windows;
        loop {
            if self.unsent() > 0 {
                match self.flush(now) {
                    Ok(true) => {}
                    Ok(false) | Err(_) => return BodyProgress::Blocked,
                }
            }
            let Some(outgoing) = self.outgoing.as_mut() else {
                return BodyProgress::Finished;
            };
            if windows == 0 {
                return BodyProgress::Yield;
            }
            windows -= 1;
            let framing = outgoing.framing();
            let step = outgoing.step(
                &mut self.write_buf,
                &mut self.stream,
                window,
                on_worker,
                now,
            );
            self.counts.bytes_written += outgoing.take_file_bytes();
            match step {
                Step::Progress => {}
                Step::Blocked if self.unsent() > 0 => {}
                Step::Blocked => return BodyProgress::Blocked,
                Step::NeedsWorker => return BodyProgress::NeedsWorker,
                Step::LeaveToLoop => return BodyProgress::Yield,
                Step::Waiting => return BodyProgress::Waiting,
                Step::Done { close } => {
                    self.outgoing = None;
                    if close {
                        self.stop_reading();
                    }
                }
                Step::Failed => self.end_unfinished(framing),
                Step::FellBehind => {
                    self.end_unfinished(framing);
                    self.ending = Ending::Broken;
                }
            }
        }
    }

    /// Ends the body in progress where it stands, as its framing says.
    pub(super) fn end_body(&mut self) {
        if let Some(mut outgoing) = self.outgoing.take() {
            match outgoing.end(&mut self.write_buf) {
                Step::Done { close: false } => {}
                Step::Failed => self.end_unfinished(outgoing.framing()),
                Step::FellBehind => {
                    self.end_unfinished(outgoing.framing());
                    self.ending = Ending::Broken;
                }
                _ => self.stop_reading(),
            }
        }
    }

    /// The body in progress broke off: what is buffered goes out, then the
    /// connection ends without the end of the body. A chunked or sized body
    /// shows the cut by that; one framed by the close (RFC 9112 §6.3 rule 8)
    /// would look complete after a FIN, so its connection ends with a reset
    /// instead. The reset may discard bytes still in the kernel's send
    /// buffer: the body is broken anyway.
    fn end_unfinished(&mut self, framing: Framing) {
        self.outgoing = None;
        self.stop_reading();
        if framing == Framing::UntilClose {
            if self.ending != Ending::Broken {
                self.ending = Ending::AfterOutput { reset: true };
            }
            if let Err(err) = self.stream.reset_on_close() {
                log::debug!("cannot set SO_LINGER to end a broken body with a reset: {err}");
            }
        }
    }

    /// While a stream waits for its producer, the only thing to learn from
    /// the client is that it has gone; what else it sends waits in
    /// `read_buf` (up to a head's size) for after the stream.
    pub(super) fn watch_for_eof(&mut self, cx: &mut LoopCx<'_>) -> Next {
        while self.maybe_readable && self.read_buf.len() <= cx.limits.max_head_size {
            if self.fill(cx.scratch, cx.spares).is_err() || self.peer_closed {
                return Next::Close;
            }
        }
        Next::Wait
    }
}
