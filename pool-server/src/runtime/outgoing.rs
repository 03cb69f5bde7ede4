//! The body of the response being sent, once it is not a buffer in memory:
//! what is left of it and how the next window gets onto the socket.
//!
//! A reader is read on a worker (a read may block); a file is sent by the
//! event loop with `sendfile` (the page cache serves it without a worker);
//! a stream from other threads is drained by the loop when its producer
//! wakes it. Each step moves at most one window, so a connection holds at
//! most that much in memory and a fast one cannot starve the others.

use std::fs::File;
use std::io::{self, Read};
use std::time::Instant;

use super::transport::Transport;
use crate::protocol::encode::{self, Framing};
use crate::response::Body;
use crate::stream::{BodyStream, Pulled};

/// What one [`Outgoing::step`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Bytes were added to the write buffer or sent: flush and step again.
    Progress,
    /// The socket takes no more now (a file was sent up to the would-block).
    Blocked,
    /// The next window must be read on a worker.
    NeedsWorker,
    /// A file: the loop sends it, so the worker can go.
    LeaveToLoop,
    /// Nothing to send until a producer wakes the loop.
    Waiting,
    /// The body is complete; `close` when the connection cannot go on (a
    /// body that ends with the connection, or a length the source broke).
    Done { close: bool },
    /// The source failed, or a stream's producer aborted: send what is
    /// buffered, then end the connection without completing the body, so
    /// the client sees a truncated one.
    Failed,
    /// A stream's client fell behind its queue, so it is not reading: drop
    /// the connection now.
    FellBehind,
}

pub(crate) struct Outgoing {
    source: Source,
    framing: Framing,
    /// For `Content-Length` framing, the bytes still owed.
    owed: u64,
    /// When bytes last went out, for stream heartbeats.
    pub(crate) last_sent: Instant,
    /// File bytes the kernel sent since the last look, for the metrics.
    file_bytes: u64,
}

enum Source {
    Reader(Box<dyn Read + Send>),
    File { file: File, offset: u64 },
    Stream(BodyStream),
}

/// Room kept in front of a chunk read in place: a chunk-size line of up to
/// 8 hex digits and CRLF, whatever the window size (a window is far below
/// 4 GiB).
const SIZE_LINE: usize = 10;

impl Outgoing {
    /// What is left to send of `body`, framed as the head said; `None` for a
    /// body held in memory, which the encoder wrote already.
    pub(crate) fn new(body: Body, framing: Framing, now: Instant) -> Option<Outgoing> {
        let source = match body {
            Body::Full(_) => return None,
            Body::Reader { reader, .. } => Source::Reader(reader),
            Body::File { file, offset, .. } => Source::File { file, offset },
            Body::Stream(stream) => Source::Stream(stream),
        };
        let owed = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Some(Outgoing {
            source,
            framing,
            owed,
            last_sent: now,
            file_bytes: 0,
        })
    }

    /// A file comes next: a head ahead of it should wait for it (`MSG_MORE`),
    /// so both go out in full segments.
    pub(crate) fn is_file(&self) -> bool {
        matches!(self.source, Source::File { .. })
    }

    /// File bytes sent since the last call.
    pub(crate) fn take_file_bytes(&mut self) -> u64 {
        std::mem::take(&mut self.file_bytes)
    }

    pub(crate) fn framing(&self) -> Framing {
        self.framing
    }

    pub(crate) fn stream(&self) -> Option<&BodyStream> {
        match &self.source {
            Source::Stream(stream) => Some(stream),
            _ => None,
        }
    }

    /// Moves at most one window of body into `out` (or, for a file, onto
    /// `socket`, once `out` is empty). `on_worker` says whether blocking
    /// reads are allowed here.
    pub(crate) fn step(
        &mut self,
        out: &mut Vec<u8>,
        socket: &mut impl Transport,
        window: usize,
        on_worker: bool,
        now: Instant,
    ) -> Step {
        let step = match &mut self.source {
            Source::Reader(_) if !on_worker => Step::NeedsWorker,
            Source::Reader(reader) => {
                read_window(reader, self.framing, &mut self.owed, out, window)
            }
            // The page cache serves a file without blocking: no worker needed.
            Source::File { .. } if on_worker => Step::LeaveToLoop,
            Source::File { file, offset } => {
                let before = *offset;
                let step = send_file(file, offset, &mut self.owed, socket, out);
                self.file_bytes += *offset - before;
                step
            }
            Source::Stream(stream) => {
                let frame = frame_for(self.framing);
                let before = out.len();
                let pulled = stream.pull(out, window, frame);
                if out.len() > before {
                    self.last_sent = now;
                }
                match pulled {
                    Pulled::More => Step::Progress,
                    Pulled::Empty if out.len() > before => Step::Progress,
                    Pulled::Empty => Step::Waiting,
                    Pulled::Finished => self.end(out),
                    Pulled::Aborted => {
                        log::debug!("a stream's producer aborted it; ending its body unfinished");
                        Step::Failed
                    }
                    Pulled::Overflowed => {
                        log::debug!("a stream's client fell behind its queue; disconnecting it");
                        Step::FellBehind
                    }
                }
            }
        };
        if step == Step::Progress && matches!(self.source, Source::File { .. }) {
            self.last_sent = now;
        }
        step
    }

    /// Ends the body as its framing wants; for a stream, stops taking from
    /// its producers (used at shutdown).
    pub(crate) fn end(&mut self, out: &mut Vec<u8>) -> Step {
        if let Source::Stream(stream) = &self.source {
            // What the producers sent before the end still goes out, and
            // an encoded stream's last bytes, without which it would not
            // decode.
            stream.finish_encoding();
            match stream.pull(out, usize::MAX, frame_for(self.framing)) {
                Pulled::Aborted => return Step::Failed,
                Pulled::Overflowed => return Step::FellBehind,
                Pulled::More | Pulled::Empty | Pulled::Finished => {}
            }
        }
        match self.framing {
            Framing::Chunked => {
                out.extend_from_slice(encode::LAST_CHUNK);
                Step::Done { close: false }
            }
            Framing::UntilClose => Step::Done { close: true },
            Framing::Length(_) if self.owed == 0 => Step::Done { close: false },
            Framing::Length(_) => Step::Failed,
        }
    }

    /// Appends a stream's heartbeat, if it has one.
    pub(crate) fn beat(&mut self, out: &mut Vec<u8>, now: Instant) {
        let Some(stream) = self.stream() else {
            return;
        };
        if stream.heartbeat_every().is_none() {
            return;
        }
        stream.beat(out, frame_for(self.framing));
        self.last_sent = now;
    }
}

/// How a piece of a stream goes into the write buffer.
fn frame_for(framing: Framing) -> fn(&mut Vec<u8>, &[u8]) {
    match framing {
        Framing::Chunked => encode::chunk,
        _ => |out, data| out.extend_from_slice(data),
    }
}

/// One read from a reader, framed in place: no copy between the reader
/// and the write buffer.
fn read_window(
    reader: &mut Box<dyn Read + Send>,
    framing: Framing,
    owed: &mut u64,
    out: &mut Vec<u8>,
    window: usize,
) -> Step {
    let room = window.saturating_sub(out.len()).max(1);
    let want = match framing {
        Framing::Length(_) => usize::try_from(*owed).map_or(room, |owed| owed.min(room)),
        _ => room,
    };
    if want == 0 {
        return check_exhausted(reader);
    }
    let start = out.len();
    let data = start
        + if framing == Framing::Chunked {
            SIZE_LINE
        } else {
            0
        };
    out.resize(data + want, 0);
    let read = loop {
        match reader.read(&mut out[data..]) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            other => break other,
        }
    };
    let n = match read {
        Ok(n) => n,
        Err(err) => {
            out.truncate(start);
            log::error!("reading a response body failed: {err}; ending the connection");
            return Step::Failed;
        }
    };
    out.truncate(data + n);
    if n == 0 {
        out.truncate(start);
        return match framing {
            Framing::Chunked => {
                out.extend_from_slice(encode::LAST_CHUNK);
                Step::Done { close: false }
            }
            Framing::UntilClose => Step::Done { close: true },
            Framing::Length(_) => {
                log::error!("a response body ended {owed} bytes short of its length");
                Step::Failed
            }
        };
    }
    match framing {
        Framing::Chunked => {
            // A fixed-width size line, zero-padded (RFC 9112 §7.1 allows
            // leading zeros), so the data could be read in place.
            let line = format!("{n:08x}\r\n");
            out[start..data].copy_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Framing::Length(_) => {
            *owed -= n as u64;
            if *owed == 0 {
                return check_exhausted(reader);
            }
        }
        Framing::UntilClose => {}
    }
    Step::Progress
}

/// A reader with a declared length has given all of it: the body is done,
/// but if the reader has more, the length was wrong and the connection
/// closes, so the extra bytes cannot be taken for a next response.
fn check_exhausted(reader: &mut Box<dyn Read + Send>) -> Step {
    let mut probe = [0u8; 1];
    match reader.read(&mut probe) {
        Ok(0) => Step::Done { close: false },
        Ok(_) => {
            log::error!("a response body is longer than its declared length; closing");
            Step::Done { close: true }
        }
        Err(_) => Step::Done { close: true },
    }
}

/// Bytes of a file one `sendfile` may move: they cost no memory of ours,
/// so this only bounds one connection's turn in the loop.
const FILE_CHUNK: usize = 1024 * 1024;

/// Sends up to [`FILE_CHUNK`] of the file straight from the page cache,
/// once the head ahead of it is out.
fn send_file(
    file: &File,
    offset: &mut u64,
    owed: &mut u64,
    socket: &mut impl Transport,
    out: &mut Vec<u8>,
) -> Step {
    if !out.is_empty() {
        // The head (or a previous window) must go first.
        return Step::Blocked;
    }
    if *owed == 0 {
        return Step::Done { close: false };
    }
    let count = usize::try_from(*owed).map_or(FILE_CHUNK, |owed| owed.min(FILE_CHUNK));
    match socket.send_file(file, offset, count, out) {
        Ok(0) => {
            log::error!("a file being sent ended {owed} bytes early (truncated on disk?)");
            Step::Failed
        }
        Ok(n) => {
            *owed -= n as u64;
            if *owed == 0 {
                Step::Done { close: false }
            } else {
                Step::Progress
            }
        }
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Step::Blocked,
        Err(err) => {
            log::debug!("sending a file failed: {err}");
            Step::Failed
        }
    }
}
