//! The connection's socket work: reading into the input buffer, writing
//! the output, and ending with a lingering close. What the framer and the
//! responses decide goes out and comes in here, through the [`Transport`].

use std::io;
use std::time::Instant;

use super::{Conn, Ending, Next, Recycler, LINGER_BYTES};
use crate::runtime::transport::Transport;

impl<T: Transport> Conn<T> {
    /// Reads once into `scratch` and appends what came to `read_buf`.
    pub(super) fn fill(&mut self, scratch: &mut [u8], spares: &mut Recycler) -> io::Result<()> {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => {
                    self.maybe_readable = false;
                    self.peer_closed = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.counts.bytes_read += n as u64;
                    // A short read drained the socket, and the next byte brings
                    // a new edge; but an EOF that came with these bytes brings
                    // none, so read on until it shows.
                    self.maybe_readable = n == scratch.len() || self.read_closed;
                    spares.lend(&mut self.read_buf);
                    self.read_buf.extend_from_slice(&scratch[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.maybe_readable = false;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes pending output; `Ok(true)` once all of it is out. Every write
    /// that makes progress restarts the write timeout: it bounds a pause, not
    /// the whole transfer.
    pub(super) fn flush(&mut self, now: Instant) -> io::Result<bool> {
        // The head of a file response: the file's first bytes follow.
        let more = self.outgoing.as_ref().is_some_and(|o| o.is_file());
        while self.written < self.write_buf.len() {
            match self.stream.write(&self.write_buf[self.written..], more) {
                Ok(0) => {
                    self.ending = Ending::Broken;
                    return Err(io::ErrorKind::WriteZero.into());
                }
                Ok(n) => {
                    self.written += n;
                    self.counts.bytes_written += n as u64;
                    self.since = now;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.ending = Ending::Broken;
                    return Err(e);
                }
            }
        }
        self.write_buf.clear();
        self.written = 0;
        Ok(true)
    }

    /// Closing with unread input makes the kernel send a reset, which can
    /// destroy the response before the client reads it; in that case shut
    /// down our side and discard input for a while first. A connection that
    /// ends with a reset anyway closes at once.
    pub(super) fn close_or_linger(&mut self, reset: bool, now: Instant) -> Next {
        let unread = !self.read_buf.is_empty() || self.maybe_readable || self.framer.input_left();
        if self.peer_closed || !unread || reset {
            return Next::Close;
        }
        if self.stream.shutdown_write().is_err() {
            return Next::Close;
        }
        self.read_buf = Vec::new();
        self.ending = Ending::Lingering { discarded: 0 };
        self.since = now;
        Next::Wait
    }

    /// Reads and drops what the client still sends, `discarded` bytes of
    /// it before: until its EOF, or a bound.
    pub(super) fn discard(&mut self, mut discarded: usize, scratch: &mut [u8]) -> Next {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => return Next::Close,
                Ok(n) => {
                    self.counts.bytes_read += n as u64;
                    discarded += n;
                    if discarded > LINGER_BYTES {
                        return Next::Close;
                    }
                    self.ending = Ending::Lingering { discarded };
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close,
            }
        }
    }

    /// An idle connection holds no buffer: small ones go to the spares,
    /// large ones are freed.
    pub(super) fn release_buffers(&mut self, spares: &mut Recycler) {
        spares.reclaim(&mut self.read_buf);
        if self.write_buf.is_empty() {
            spares.reclaim(&mut self.write_buf);
        }
        // Room for pipelined requests, kept after a client pipelined.
        self.framer.shrink();
    }
}
