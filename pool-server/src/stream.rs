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
//! A producer that cannot finish the body calls [`Sender::abort`]: what it
//! queued still goes out, then the connection ends without the end of the
//! body (no last chunk; for an HTTP/1.0 client, a reset), so the client
//! sees a truncated body, never a complete-looking one. A sender dropped
//! while its thread panics aborts the stream the same way, whatever the
//! other senders do.
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
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
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
            state: State::Open,
            notify: None,
        }),
        encoding: Mutex::new(Encoding::Identity),
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
/// the server shut down, or the stream was [aborted](Sender::abort).
/// Nothing more will reach the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

struct Shared {
    inner: Mutex<Inner>,
    /// Locked before `inner` by whoever encodes, and held until the
    /// encoded bytes are queued, so they leave in the order they were
    /// encoded. The event loop never waits for it.
    encoding: Mutex<Encoding>,
}

/// Re-encodes what a stream's producers send (a compressor), one chunk at
/// a time: the output for a chunk is complete on its own, so the client
/// can decode each chunk before the next one is sent.
pub(crate) trait ChunkEncoder: Send {
    /// Encodes `data` and flushes: every byte the client needs to decode
    /// all chunks so far.
    fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>>;

    /// Ends the encoding: its last bytes.
    fn finish(&mut self) -> io::Result<Vec<u8>>;
}

enum Encoding {
    /// Chunks go out as sent.
    Identity,
    Encoded(Box<dyn ChunkEncoder>),
    /// The encoder's last bytes are queued, or it failed, or the stream was
    /// aborted: nothing may follow.
    Finished,
}

struct Inner {
    queue: VecDeque<Bytes>,
    queued: usize,
    capacity: usize,
    senders: usize,
    state: State,
    /// Set once the connection writes the stream: wakes its event loop.
    notify: Option<Box<dyn Fn() + Send + Sync>>,
}

/// Whether a stream takes sends, and if not, how its body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// A producer gave up: what is queued goes out, then the body ends
    /// unfinished.
    Aborted,
    /// The client is disconnected (or the connection let go of the stream):
    /// nothing more goes out.
    Closed,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code that can panic runs under this lock but `notify`, which
        // only pushes to a list; a poisoned state is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn encoding(&self) -> MutexGuard<'_, Encoding> {
        // An encoder that panicked is dropped below before the guard, so
        // the state left behind is one of the three variants, all usable.
        self.encoding.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the body unfinished: later sends fail, and the encoder is
    /// dropped without its last bytes, so an encoded body does not decode
    /// as complete either.
    fn abort(&self) {
        let mut encoding = self.encoding();
        *encoding = Encoding::Finished;
        let mut inner = self.lock();
        if inner.state == State::Open {
            inner.state = State::Aborted;
            inner.wake();
        }
    }
}

impl Inner {
    fn wake(&self) {
        if let Some(notify) = &self.notify {
            notify();
        }
    }

    /// Queues `chunk` within the capacity; past it, the client is dropped.
    fn push(&mut self, chunk: Bytes) -> Result<(), Closed> {
        if self.state != State::Open {
            return Err(Closed);
        }
        if chunk.is_empty() {
            return Ok(());
        }
        if self.queued + chunk.len() > self.capacity {
            self.close();
            return Err(Closed);
        }
        let was_empty = self.queue.is_empty();
        self.queued += chunk.len();
        self.queue.push_back(chunk);
        // The loop takes everything queued when it looks: one wake-up per
        // burst is enough.
        if was_empty {
            self.wake();
        }
        Ok(())
    }

    /// Queues what the protocol needs whatever the capacity (a few bytes).
    fn push_anyway(&mut self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.queued += bytes.len();
            self.queue.push_back(Bytes::from(bytes));
        }
    }

    /// Disconnects the client: senders fail from now on.
    fn close(&mut self) {
        self.state = State::Closed;
        self.queue.clear();
        self.wake();
    }
}

impl Encoding {
    /// Ends the encoding, queuing its last bytes; a failure breaks the
    /// stream, since the client could not decode what it got.
    fn finish(&mut self, inner: &mut Inner) {
        if let Encoding::Encoded(encoder) = self {
            match encoder.finish() {
                Ok(last) => inner.push_anyway(last),
                Err(err) => {
                    log::error!("ending a stream's encoding failed: {err}; disconnecting");
                    inner.close();
                }
            }
            *self = Encoding::Finished;
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
        let mut encoding = self.shared.encoding();
        let chunk = match &mut *encoding {
            Encoding::Identity => chunk,
            Encoding::Finished => return Err(Closed),
            Encoding::Encoded(_) if chunk.is_empty() => chunk,
            Encoding::Encoded(encoder) => {
                // No work for a client that has gone.
                if self.shared.lock().state != State::Open {
                    *encoding = Encoding::Finished;
                    return Err(Closed);
                }
                match encoder.encode(&chunk) {
                    Ok(encoded) => Bytes::from(encoded),
                    Err(err) => {
                        log::error!("encoding a stream's chunk failed: {err}; disconnecting");
                        *encoding = Encoding::Finished;
                        self.shared.lock().close();
                        return Err(Closed);
                    }
                }
            }
        };
        self.shared.lock().push(chunk)
    }

    /// Whether sends fail from now on.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().state != State::Open
    }

    /// Ends the body without completing it, for every clone of this
    /// sender: the body is broken, and the client must not take what it
    /// got for the whole. What was queued before still goes out, then the
    /// connection ends without the end of the body (no last chunk, no
    /// encoder's last bytes; for an HTTP/1.0 client, a reset). Sends on
    /// the other clones fail with [`Closed`] from now on.
    ///
    /// Dropping a sender while its thread panics does the same.
    ///
    /// ```
    /// use std::io;
    /// use std::thread;
    /// use pool_server::{stream, Response};
    ///
    /// /// Rows from a query that can fail half way.
    /// fn rows() -> impl Iterator<Item = io::Result<String>> {
    ///     ["a,1\n", "b,2\n"].into_iter().map(|row| Ok(row.to_owned()))
    /// }
    ///
    /// fn export() -> Response {
    ///     let (sender, body) = stream::channel(64 * 1024);
    ///     thread::spawn(move || {
    ///         for row in rows() {
    ///             let Ok(row) = row else {
    ///                 // Half an export must not pass for all of it.
    ///                 return sender.abort();
    ///             };
    ///             if sender.send(row).is_err() {
    ///                 return; // the client has gone
    ///             }
    ///         }
    ///     }); // dropping the last sender completes the body
    ///     Response::from_stream(body)
    /// }
    /// # drop(export());
    /// ```
    pub fn abort(self) {
        self.shared.abort();
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
        // A producer that panics leaves its body unfinished, whatever the
        // other senders do.
        if std::thread::panicking() {
            self.shared.abort();
        }
        let mut encoding = self.shared.encoding();
        let mut inner = self.shared.lock();
        inner.senders -= 1;
        if inner.senders == 0 {
            encoding.finish(&mut inner);
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
    /// what a protocol sends first, before the stream is encoded.
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

    /// Sends the heartbeat: into `out` through `frame`, or, on an encoded
    /// stream, through the encoder into the queue, behind what is there.
    pub(crate) fn beat(&self, out: &mut Vec<u8>, frame: fn(&mut Vec<u8>, &[u8])) {
        let Some((_, bytes)) = &self.heartbeat else {
            return;
        };
        // The loop calls this: it must not wait for a producer, and a
        // producer encoding right now makes the beat needless anyway.
        let mut encoding = match self.shared.encoding.try_lock() {
            Ok(encoding) => encoding,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        match &mut *encoding {
            Encoding::Identity => frame(out, bytes),
            Encoding::Encoded(encoder) => match encoder.encode(bytes) {
                Ok(encoded) => {
                    let mut inner = self.shared.lock();
                    if inner.state == State::Open {
                        inner.push_anyway(encoded);
                    }
                }
                Err(err) => {
                    log::error!("encoding a stream's heartbeat failed: {err}; disconnecting");
                    *encoding = Encoding::Finished;
                    self.shared.lock().close();
                }
            },
            Encoding::Finished => {}
        }
    }

    /// Sends everything from now on through `encoder`, what is queued
    /// already included; ends the encoding at once if every sender has
    /// gone, unless the stream was aborted.
    ///
    /// # Errors
    /// When encoding what is queued fails; the stream is then unchanged.
    pub(crate) fn encode_with(&self, mut encoder: Box<dyn ChunkEncoder>) -> io::Result<()> {
        let mut encoding = self.shared.encoding();
        let mut inner = self.shared.lock();
        if !inner.queue.is_empty() {
            let queued: Vec<u8> = inner.queue.iter().flat_map(|c| c.iter().copied()).collect();
            let encoded = encoder.encode(&queued)?;
            inner.queue.clear();
            inner.queued = 0;
            inner.push_anyway(encoded);
        }
        match inner.state {
            // The encoder goes without its last bytes: the body is broken.
            State::Aborted => *encoding = Encoding::Finished,
            _ => {
                *encoding = Encoding::Encoded(encoder);
                if inner.senders == 0 {
                    encoding.finish(&mut inner);
                }
            }
        }
        Ok(())
    }

    /// Ends an encoded stream's encoding now, whatever its senders do
    /// (shutdown ends the body): its last bytes are queued.
    pub(crate) fn finish_encoding(&self) {
        let mut encoding = self.shared.encoding();
        let mut inner = self.shared.lock();
        encoding.finish(&mut inner);
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
        if inner.state == State::Closed {
            return Pulled::Overflowed;
        }
        while out.len() < window {
            let Some(chunk) = inner.queue.pop_front() else {
                break;
            };
            inner.queued -= chunk.len();
            frame(out, &chunk);
        }
        match (inner.queue.is_empty(), inner.state, inner.senders) {
            (false, _, _) => Pulled::More,
            (true, State::Aborted, _) => Pulled::Aborted,
            (true, _, 0) => Pulled::Finished,
            (true, _, _) => Pulled::Empty,
        }
    }
}

impl Drop for BodyStream {
    /// The connection is done with the stream: senders fail from now on.
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        inner.state = State::Closed;
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
    /// Nothing is queued and a producer aborted: end the body unfinished.
    Aborted,
    /// The queue overflowed: disconnect the client.
    Overflowed,
}

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the stream is closed: its client has gone or fell behind, or it was aborted")
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
            .field("state", &inner.state)
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

    /// Brackets each chunk, so order and flushing show; ends with `$`.
    struct Brackets;

    impl ChunkEncoder for Brackets {
        fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
            Ok([&b"["[..], data, b"]"].concat())
        }

        fn finish(&mut self) -> io::Result<Vec<u8>> {
            Ok(b"$".to_vec())
        }
    }

    #[test]
    fn an_encoded_stream_encodes_what_was_queued_then_each_send_then_ends() {
        let (sender, stream) = channel(100);
        let stream = stream.heartbeat(Duration::from_secs(1), "hb");
        sender.send("a").unwrap();
        sender.send("b").unwrap();
        stream.encode_with(Box::new(Brackets)).unwrap();
        sender.send("c").unwrap();
        let mut out = Vec::new();
        stream.beat(&mut out, plain);
        assert!(out.is_empty(), "an encoded beat is queued behind the rest");
        assert_eq!(stream.pull(&mut out, 1024, plain), Pulled::Empty);
        assert_eq!(out, b"[ab][c][hb]");
        drop(sender);
        out.clear();
        assert_eq!(stream.pull(&mut out, 1024, plain), Pulled::Finished);
        assert_eq!(out, b"$");
    }

    #[test]
    fn a_stream_encoded_after_its_senders_left_is_ended_at_once() {
        let (sender, stream) = channel(100);
        sender.send("x").unwrap();
        drop(sender);
        stream.encode_with(Box::new(Brackets)).unwrap();
        let mut out = Vec::new();
        assert_eq!(stream.pull(&mut out, 1024, plain), Pulled::Finished);
        assert_eq!(out, b"[x]$");
    }

    #[test]
    fn shutdown_ends_the_encoding_and_later_sends_fail() {
        let (sender, stream) = channel(100);
        stream.encode_with(Box::new(Brackets)).unwrap();
        sender.send("x").unwrap();
        stream.finish_encoding();
        assert_eq!(sender.send("y"), Err(Closed));
        let mut out = Vec::new();
        assert_eq!(stream.pull(&mut out, 1024, plain), Pulled::Empty);
        assert_eq!(out, b"[x]$");
    }

    #[test]
    fn an_abort_sends_what_was_queued_then_ends_the_body_unfinished() {
        let (sender, stream) = channel(100);
        let other = sender.clone();
        sender.send("abc").unwrap();
        other.abort();
        assert_eq!(sender.send("d"), Err(Closed));
        assert!(sender.is_closed());
        let mut out = Vec::new();
        assert_eq!(stream.pull(&mut out, 1024, chunked), Pulled::Aborted);
        assert_eq!(out, b"3\r\nabc\r\n");
        // The last sender's drop does not complete it after all.
        drop(sender);
        assert_eq!(stream.pull(&mut out, 1024, chunked), Pulled::Aborted);
    }

    #[test]
    fn a_sender_dropped_while_its_thread_panics_aborts_the_stream() {
        let (sender, stream) = channel(100);
        let producer = sender.clone();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            producer.send("half").unwrap();
            panic!("a producer fails on purpose");
        }));
        assert!(panicked.is_err());
        assert_eq!(sender.send("more"), Err(Closed), "another sender remains");
        let mut out = Vec::new();
        assert_eq!(stream.pull(&mut out, 1024, plain), Pulled::Aborted);
        assert_eq!(out, b"half");
    }

    #[test]
    fn an_aborted_encoded_stream_gets_no_last_bytes() {
        let (sender, stream) = channel(100);
        stream.encode_with(Box::new(Brackets)).unwrap();
        sender.send("a").unwrap();
        sender.abort();
        stream.finish_encoding();
        let mut out = Vec::new();
        assert_eq!(stream.pull(&mut out, 1024, plain), Pulled::Aborted);
        assert_eq!(out, b"[a]");

        // Aborted before the encoder came: what was queued is encoded, the
        // end is not.
        let (sender, stream) = channel(100);
        sender.send("x").unwrap();
        sender.abort();
        stream.encode_with(Box::new(Brackets)).unwrap();
        out.clear();
        assert_eq!(stream.pull(&mut out, 1024, plain), Pulled::Aborted);
        assert_eq!(out, b"[x]");
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
