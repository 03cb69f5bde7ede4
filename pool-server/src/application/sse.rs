//! Server-sent events (the WHATWG `EventSource` protocol) on top of
//! [`stream`]: a route returns an [`EventStream`], and its
//! [`EventSender`] pushes [`Event`]s from any thread. The event loop writes
//! them; no worker stays with the stream.
//!
//! Policy for slow clients: each stream queues at most its capacity (64 KiB
//! by default) of events not yet written; a client that stops reading until
//! the queue is full is disconnected, and its sender fails from then on.
//! Quiet streams get a comment line every 15 s (settable), so proxies do not
//! cut them.
//!
//! In detail:
//!
//! - The answer is 200 with `Content-Type: text/event-stream`,
//!   `Cache-Control: no-cache` and `X-Accel-Buffering: no` (so nginx does
//!   not buffer it). An [`Event`] is [`Event::data`], optionally
//!   [`.event(name)`](Event::event) (what `EventSource` listeners subscribe
//!   to) and [`.id(id)`](Event::id) (sent back as `Last-Event-ID` on
//!   reconnection); [`EventStream::retry`] tells the client how long to
//!   wait before reconnecting.
//! - Slow clients: each stream queues at most `capacity` bytes the client
//!   has not read ([`DEFAULT_CAPACITY`], 64 KiB, for [`channel`];
//!   [`channel_with_capacity`] sets another). A send that would go past it
//!   disconnects the client instead. From then on, and once the client has
//!   gone, every send fails with [`Closed`](crate::stream::Closed), so a
//!   producer drops the sender and a stalled client costs at most
//!   `capacity` bytes.
//! - Keep-alive comments: a stream quiet for 15 s ([`DEFAULT_KEEP_ALIVE`])
//!   gets a comment line, `:`, which `EventSource` ignores, so proxies and
//!   clients do not take it for dead. [`EventStream::keep_alive`] with
//!   `Some(d)` changes the interval and `None` turns it off. For a plain
//!   [`stream`], [`BodyStream::heartbeat`](crate::stream::BodyStream::heartbeat)
//!   writes bytes that mean nothing to your format.
//! - A stream holds no worker, so two workers can serve hundreds of open
//!   streams and still answer other requests. At shutdown, open streams
//!   are ended and their connections closed.
//! - Event streams are not compressed by
//!   [`Compression`](crate::compression::Compression) unless its
//!   `event_streams(true)` says so.
//!
//! ```no_run
//! use std::sync::Mutex;
//! use pool_server::sse::{self, Event, EventSender, EventStream};
//! use pool_server::{route, routes, Server, State};
//!
//! /// Every open stream; a ticker thread broadcasts to them.
//! type Clients = Mutex<Vec<EventSender>>;
//!
//! #[route("GET /events")]
//! fn events(clients: State<Clients>) -> EventStream {
//!     let (sender, stream) = sse::channel();
//!     clients.lock().unwrap().push(sender);
//!     stream
//! }
//!
//! fn broadcast(clients: &Clients, n: u64) {
//!     let event = Event::data(n.to_string()).event("tick");
//!     // A sender whose client has gone fails: forget it.
//!     clients.lock().unwrap().retain(|s| s.send(event.clone()).is_ok());
//! }
//! # fn main() {}
//! ```

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};

use super::into_response::IntoResponse;
use crate::response::Response;
use crate::stream::{self, BodyStream, Closed, Sender};

/// Bytes of events a stream queues for a client that has not read them.
pub const DEFAULT_CAPACITY: usize = 64 * 1024;
/// How long a stream may stay quiet before it gets a keep-alive comment.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A stream with the default capacity and keep-alive interval.
pub fn channel() -> (EventSender, EventStream) {
    channel_with_capacity(DEFAULT_CAPACITY)
}

/// A stream that queues at most `capacity` bytes of events for its client.
pub fn channel_with_capacity(capacity: usize) -> (EventSender, EventStream) {
    let (sender, body) = stream::channel(capacity);
    let stream = EventStream {
        body,
        keep_alive: Some(DEFAULT_KEEP_ALIVE),
        retry: None,
    };
    (EventSender(sender), stream)
}

/// Sends events to one client; `Clone`, `Send` and `Sync`.
#[derive(Clone, Debug)]
pub struct EventSender(Sender);

impl EventSender {
    /// Queues `event` and wakes the event loop to write it.
    ///
    /// # Errors
    /// [`Closed`] once the client has gone or fell behind its queue.
    pub fn send(&self, event: Event) -> Result<(), Closed> {
        self.0.send(event.encode())
    }

    /// Whether sends fail from now on.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

/// The response side: return it from a route. It answers
/// `200 text/event-stream` with `Cache-Control: no-cache`.
pub struct EventStream {
    body: BodyStream,
    keep_alive: Option<Duration>,
    retry: Option<Duration>,
}

impl EventStream {
    /// Sends a comment line after `interval` without events; `None` turns
    /// it off.
    pub fn keep_alive(mut self, interval: Option<Duration>) -> EventStream {
        self.keep_alive = interval;
        self
    }

    /// Tells the client, first thing, how long to wait before reconnecting
    /// (the `retry:` field).
    pub fn retry(mut self, after: Duration) -> EventStream {
        self.body
            .prepend(format!("retry: {}\n\n", after.as_millis()).into());
        self.retry = Some(after);
        self
    }
}

impl IntoResponse for EventStream {
    fn into_response(self) -> Response {
        let EventStream {
            body, keep_alive, ..
        } = self;
        let body = match keep_alive {
            Some(every) => body.heartbeat(every, Bytes::from_static(b":\n\n")),
            None => body,
        };
        let mut response = Response::from_stream(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // nginx buffers responses unless told not to.
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        response
    }
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("keep_alive", &self.keep_alive)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// One event: its data and optional name (`event:`) and id (`id:`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    data: String,
    event: Option<String>,
    id: Option<String>,
}

impl Event {
    /// An event with `data`; each of its lines becomes a `data:` line, and
    /// the client joins them back with `\n`.
    pub fn data(data: impl Into<String>) -> Event {
        Event {
            data: data.into(),
            ..Event::default()
        }
    }

    /// Names the event: `EventSource` listeners for this name receive it.
    /// Line breaks, which would end the field, become spaces.
    pub fn event(mut self, name: impl Into<String>) -> Event {
        self.event = Some(single_line(name.into()));
        self
    }

    /// Sets the id the client sends back as `Last-Event-ID` when it
    /// reconnects. Line breaks become spaces.
    pub fn id(mut self, id: impl Into<String>) -> Event {
        self.id = Some(single_line(id.into()));
        self
    }

    /// The event as it goes on the wire.
    fn encode(&self) -> Bytes {
        let mut out = String::with_capacity(self.data.len() + 32);
        if let Some(event) = &self.event {
            field(&mut out, "event", event);
        }
        if let Some(id) = &self.id {
            field(&mut out, "id", id);
        }
        // "\r\n", "\r" and "\n" all end a line in the event stream format.
        for line in self.data.split("\r\n").flat_map(|l| l.split(['\r', '\n'])) {
            field(&mut out, "data", line);
        }
        out.push('\n');
        Bytes::from(out)
    }
}

fn field(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push('\n');
}

fn single_line(value: String) -> String {
    if value.contains(['\r', '\n']) {
        value.replace(['\r', '\n'], " ")
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_encode_as_the_format_says() {
        let cases = [
            (Event::data("hi"), "data: hi\n\n"),
            (
                Event::data("a\nb\r\nc").event("tick").id("7"),
                "event: tick\nid: 7\ndata: a\ndata: b\ndata: c\n\n",
            ),
            (Event::data("").event("x\ny"), "event: x y\ndata: \n\n"),
        ];
        for (event, wire) in cases {
            assert_eq!(event.encode(), wire.as_bytes(), "{event:?}");
        }
    }
}
