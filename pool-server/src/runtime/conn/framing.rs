//! Turning the bytes a connection has read into complete requests: heads
//! parsed, bodies decoded (and spooled), pipelined requests queued, bad
//! ones refused.

use std::mem;

use std::time::Instant;

use super::{BodyRead, Conn, Exchange, LoopCx, Reading, Unread, MAX_BLANK, MAX_PIPELINE};
use crate::config::Limits;
use crate::protocol::body::{BodyDecoder, BodyKind};
use crate::protocol::error::RequestError;
use crate::protocol::parse::{find_head_end, head_too_large, parse_head};
use crate::request::Request;
use crate::runtime::spool::Spool;

impl Conn {
    /// Frames the requests `read_buf` holds, up to [`MAX_PIPELINE`].
    pub(super) fn frame(&mut self, cx: &mut LoopCx<'_>) {
        self.unframed = false;
        let mut buf = mem::take(&mut self.read_buf);
        let mut pos = 0;
        loop {
            let (used, more) = self.frame_one(&buf[pos..], cx);
            pos += used;
            if !more {
                break;
            }
            if self.ready.len() >= MAX_PIPELINE {
                self.unframed = true;
                break;
            }
        }
        buf.drain(..pos);
        self.read_buf = buf;
        if self.peer_closed && !matches!(self.reading, Reading::Done) {
            // EOF: answer what is complete; an unfinished request is abandoned.
            self.reading = Reading::Done;
            self.read_buf.clear();
        }
    }

    /// Advances the reading state over `input`. Returns the bytes used, and
    /// whether framing can go on (false when it needs more input or is done).
    fn frame_one(&mut self, input: &[u8], cx: &mut LoopCx<'_>) -> (usize, bool) {
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
                let mut request = cx
                    .spares
                    .request()
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
                let rules = cx.service.at_head(&mut request);
                if !rules.takes_body {
                    // A 404, 405 or `OPTIONS` answer goes out without the
                    // body, then the connection closes; what the client
                    // still sends is discarded for a bounded time.
                    self.refused = true;
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
                self.start_body(request, head.keep_alive, unread, true, limits, now);
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
                        read.body.settle(limits, cx.memory)?;
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
                    checked,
                    ..
                } = *read;
                match body.finish() {
                    Ok(body) => request.body = body,
                    Err(err) => {
                        self.refuse(err);
                        return (0, false);
                    }
                }
                self.finish(request, keep_alive, checked);
                (decoded.consumed, true)
            }
        }
    }

    /// Begins reading the body of `request` as `unread` says; `checked`
    /// when its guards ran or it has none.
    pub(super) fn start_body(
        &mut self,
        request: Box<Request>,
        keep_alive: bool,
        unread: Unread,
        checked: bool,
        limits: &Limits,
        now: Instant,
    ) {
        match Spool::new(unread.expected, limits) {
            Ok(body) => {
                self.reading = Reading::Body(Box::new(BodyRead {
                    request,
                    keep_alive,
                    decoder: unread.decoder,
                    body,
                    last_progress: now,
                    continue_due: unread.continue_due,
                    max_body: unread.max_body,
                    checked,
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

    fn refuse(&mut self, err: RequestError) {
        self.refusal = Some(err);
        self.reading = Reading::Done;
    }
}
