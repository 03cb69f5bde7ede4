//! A response body fed from other threads, for server-sent events, long
//! polls, log tails and anything else that produces its body after the
//! handler has returned.
//!
//! [`channel`] makes a [`Sender`] and a [`BodyStream`]. The handler returns
//! the stream (it is an [`IntoResponse`](crate::IntoResponse)); the sender
//! goes anywhere (a [`State`](crate::State), another thread) and each
//! [`send`](Sender::send) queues bytes on the connection and wakes the event
//! loop, which writes them. No worker stays with the stream. The body ends
//! when the last sender is dropped.
//!
//! The queue is bounded: a client that stops reading while its queue is
//! full is disconnected and its senders fail from then on, so a stalled
//! client costs at most `capacity` bytes and producers can forget it when
//! `send` fails.
//!
//! ```no_run
//! use std::thread;
//! use std::time::Duration;
//! use pool_server::{route, stream, Response};
//!
//! #[route("GET /countdown")]
//! fn countdown() -> Response {
//!     let (sender, body) = stream::channel(64 * 1024);
//!     thread::spawn(move || {
//!         for n in (1..=3).rev() {
//!             if sender.send(format!("{n}\n")).is_err() {
//!                 return; // the client has gone
//!             }
//!             thread::sleep(Duration::from_secs(1));
//!         }
//!     }); // dropping the last sender ends the body
//!     Response::from_stream(body)
//! }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;

/// Makes a stream whose queue holds at most `capacity` bytes not yet
/// written to the client.
pub fn channel(capacity: usize) -> (Sender, BodyStream) {
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            queue: VecDeque::new(),
            queued: 0,
            capacity,
            senders: 1,
            closed: false,
            notify: None,
        }),
    });
    let stream = BodyStream {
        shared: Arc::clone(&shared),
        heartbeat: None,
    };
    (Sender { shared }, stream)
}

/// The sending side of a [`BodyStream`]: `Clone`, `Send` and `Sync`.
pub struct Sender {
    shared: Arc<Shared>,
}

/// The body side of [`channel`]: return it from a handler, as
/// [`Response::from_stream`](crate::Response::from_stream) or directly.
pub struct BodyStream {
    shared: Arc<Shared>,
    /// Written when the stream has been quiet this long.
    heartbeat: Option<(Duration, Bytes)>,
}

/// [`Sender::send`] failed: the client has gone, was too slow to keep up,
/// or the server shut down. Nothing more will reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

struct Shared {
    inner: Mutex<Inner>,
}

struct Inner {
    queue: VecDeque<Bytes>,
    queued: usize,
    capacity: usize,
    senders: usize,
    closed: bool,
    /// Set once the connection writes the stream: wakes its event loop.
    notify: Option<Box<dyn Fn() + Send + Sync>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code that can panic runs under this lock but `notify`, which
        // only pushes to a list; a poisoned state is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn wake(&self) {
        if let Some(notify) = &self.notify {
            notify();
        }
    }
}

impl Sender {
    /// Queues `chunk` for the client and wakes the event loop to write it.
    ///
    /// # Errors
    /// [`Closed`] once the client has gone, and when the queue would hold
    /// more than its capacity: the client is then disconnected.
    pub fn send(&self, chunk: impl Into<Bytes>) -> Result<(), Closed> {
        let chunk = chunk.into();
        let mut inner = self.shared.lock();
        if inner.closed {
            return Err(Closed);
        }
        if chunk.is_empty() {
            return Ok(());
        }
        if inner.queued + chunk.len() > inner.capacity {
            inner.closed = true;
            inner.queue.clear();
            inner.wake();
            return Err(Closed);
        }
        let was_empty = inner.queue.is_empty();
        inner.queued += chunk.len();
        inner.queue.push_back(chunk);
        // The loop takes everything queued when it looks: one wake-up per
        // burst is enough.
        if was_empty {
            inner.wake();
        }
        Ok(())
    }

    /// Whether sends fail from now on.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }
}

impl Clone for Sender {
    fn clone(&self) -> Sender {
        self.shared.lock().senders += 1;
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        inner.senders -= 1;
        if inner.senders == 0 {
            inner.wake();
        }
    }
}

impl BodyStream {
    /// Writes `bytes` whenever the stream has sent nothing for `every`, so
    /// proxies and clients do not take a quiet stream for a dead one. The
    /// bytes must mean nothing to the client (for server-sent events, a
    /// comment line).
    pub fn heartbeat(mut self, every: Duration, bytes: impl Into<Bytes>) -> BodyStream {
        self.heartbeat = Some((every, bytes.into()));
        self
    }

    /// Puts `bytes` ahead of everything queued, whatever the capacity: for
    /// what a protocol sends first.
    pub(crate) fn prepend(&self, bytes: Bytes) {
        let mut inner = self.shared.lock();
        inner.queued += bytes.len();
        inner.queue.push_front(bytes);
    }

    pub(crate) fn heartbeat_every(&self) -> Option<(Duration, &Bytes)> {
        self.heartbeat
            .as_ref()
            .map(|(every, bytes)| (*every, bytes))
    }

    /// Sets what wakes the connection's event loop when bytes arrive or the
    /// last sender goes, and wakes it once for what is queued already.
    pub(crate) fn set_notify(&self, notify: Box<dyn Fn() + Send + Sync>) {
        let mut inner = self.shared.lock();
        inner.notify = Some(notify);
        inner.wake();
    }

    /// Moves queued chunks into `out`, each through `frame` (the runtime's
    /// chunked framing, or a plain copy), until `out` holds `window` bytes
    /// or the queue is empty.
    pub(crate) fn pull(
        &self,
        out: &mut Vec<u8>,
        window: usize,
        frame: fn(&mut Vec<u8>, &[u8]),
    ) -> Pulled {
        let mut inner = self.shared.lock();
        if inner.closed {
            return Pulled::Overflowed;
        }
        while out.len() < window {
            let Some(chunk) = inner.queue.pop_front() else {
                break;
            };
            inner.queued -= chunk.len();
            frame(out, &chunk);
        }
        match (inner.queue.is_empty(), inner.senders) {
            (true, 0) => Pulled::Finished,
            (true, _) => Pulled::Empty,
            (false, _) => Pulled::More,
        }
    }
}

impl Drop for BodyStream {
    /// The connection is done with the stream: senders fail from now on.
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        inner.closed = true;
        inner.queue.clear();
        inner.notify = None;
    }
}

/// What [`BodyStream::pull`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pulled {
    /// More is queued than the window took.
    More,
    /// Nothing is queued; senders remain.
    Empty,
    /// Nothing is queued and every sender is gone: the body is complete.
    Finished,
    /// The queue overflowed: disconnect the client.
    Overflowed,
}

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the stream is closed: its client has gone or fell behind")
    }
}

impl std::error::Error for Closed {}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.shared.lock();
        f.debug_struct("BodyStream")
            .field("queued", &inner.queued)
            .field("capacity", &inner.capacity)
            .field("closed", &inner.closed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn chunked(out: &mut Vec<u8>, data: &[u8]) {
        out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }

    fn plain(out: &mut Vec<u8>, data: &[u8]) {
        out.extend_from_slice(data);
    }

    #[test]
    fn chunks_come_out_framed_and_the_last_sender_ends_the_body() {
        let (sender, stream) = channel(100);
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&wakes);
        stream.set_notify(Box::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        let other = sender.clone();
        sender.send("abc").unwrap();
        other.send("de").unwrap();
        let mut out = Vec::new();
        assert_eq!(stream.pull(&mut out, 1024, chunked), Pulled::Empty);
        assert_eq!(out, b"3\r\nabc\r\n2\r\nde\r\n");
        drop(sender);
        drop(other);
        out.clear();
        assert_eq!(stream.pull(&mut out, 1024, chunked), Pulled::Finished);
        assert!(out.is_empty());
        // set_notify, the first send of a burst, the last drop.
        assert_eq!(wakes.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn an_overflow_closes_the_stream_for_every_sender() {
        let (sender, stream) = channel(4);
        sender.send("abcd").unwrap();
        assert_eq!(sender.send("e"), Err(Closed));
        assert!(sender.is_closed());
        assert_eq!(stream.pull(&mut Vec::new(), 10, plain), Pulled::Overflowed);
    }

    #[test]
    fn a_dropped_stream_fails_later_sends() {
        let (sender, stream) = channel(4);
        drop(stream);
        assert_eq!(sender.send("a"), Err(Closed));
    }

    #[test]
    fn the_window_bounds_one_pull() {
        let (sender, stream) = channel(100);
        for _ in 0..5 {
            sender.send("0123456789").unwrap();
        }
        let mut out = Vec::new();
        assert_eq!(stream.pull(&mut out, 25, plain), Pulled::More);
        assert_eq!(out.len(), 30);
    }
}
