//! Requests through the application with no socket and no thread: the
//! real router, mounts, middleware, extractors, `IntoResponse` and error
//! answers, from a unit test.
//!
//! It runs in the test's own thread and needs no extra dev-dependency. In
//! a binary crate, put the routes in a function (`fn app() -> Builder`)
//! that `main` and the tests share. [`TestClient::get`], `post`, `put`,
//! `delete`, `head` and `options` start a request; `.body(..)`,
//! `.json(&value)` and `.header(..)` shape it. The response has
//! `status()`, `headers()`, `text()`, `bytes()` and `json::<T>()`;
//! streamed bodies are read whole.
//!
//! ```
//! use pool_server::test::TestClient;
//! use pool_server::{route, routes, Server, StatusCode};
//!
//! #[route("GET /users/{id}")]
//! fn user(id: u64) -> String {
//!     format!("user {id}")
//! }
//!
//! let client = TestClient::new(Server::builder().routes(routes![user])).unwrap();
//! let response = client.get("/users/7").header("accept", "text/plain").send();
//! assert_eq!(response.status(), StatusCode::OK);
//! assert_eq!(response.text(), "user 7");
//! assert_eq!(client.get("/users/x").send().status(), StatusCode::BAD_REQUEST);
//! ```
//!
//! What the head decides comes first, as on the wire: a body over the
//! route's limit (or the server's [`max_body_size`](crate::Builder::max_body_size))
//! is 413 with the server's refusal body, [guards](crate::guard) run
//! before the body is handed over, and a body nothing would read (a 404,
//! a 405) is dropped. What it does not show is the rest of the wire:
//! framing, `Date`, keep-alive, timeouts and the other refusals are the
//! event loop's. Test those with [`Server::spawn`](crate::Server::spawn) on
//! `127.0.0.1:0` and a real client.

use std::fmt;
use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH};
use http::{Method, StatusCode};

use crate::application::middleware;
use crate::application::service::Service;
use crate::config::Limits;
use crate::error::Error;
use crate::protocol::encode;
use crate::protocol::error::{self, RequestError};
use crate::protocol::framer::Heads;
use crate::request::Request;
use crate::request::{Body as RequestBody, MemoryCharge};
use crate::response::Body;
use crate::response::Response;
use crate::runtime::handle::StatsHandle;
use crate::runtime::server::Builder;
use crate::stream::{BodyStream, Pulled};

/// Sends requests through an application built from a [`Builder`], in this
/// thread. The builder's address, workers and limits play no part.
pub struct TestClient {
    service: Arc<Service>,
    limits: Limits,
    started: Instant,
}

impl TestClient {
    /// Builds the application as [`Builder::build`] would, without binding.
    ///
    /// # Errors
    /// The configuration errors of [`Builder::build`]: clashing routes, a
    /// missing state, a bad mount, a middleware's unusable settings.
    pub fn new(builder: Builder) -> Result<TestClient, Error> {
        let app = builder.into_app()?;
        let service = Arc::new(app.service);
        let started = Instant::now();
        if let Some(slot) = app.stats_slot {
            slot.fill_detached(&service, started);
        }
        Ok(TestClient {
            service,
            limits: app.limits,
            started,
        })
    }

    /// What a [`StatsHandle`](crate::StatsHandle) reads under this client:
    /// the responses and the per-route answers and latency so far (no
    /// connections, queue or workers).
    pub fn stats(&self) -> crate::runtime::metrics::Stats {
        StatsHandle::detached(Arc::clone(&self.service), self.started).stats()
    }

    /// A request with `method` for `target` (a path with an optional query).
    pub fn request(&self, method: Method, target: &str) -> TestRequest<'_> {
        TestRequest {
            client: self,
            method,
            target: target.to_owned(),
            headers: HeaderMap::new(),
            body: Vec::new(),
            peer_addr: SocketAddr::from(([127, 0, 0, 1], 40000)),
        }
    }

    /// A `GET` request.
    pub fn get(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::GET, target)
    }

    /// A `HEAD` request: the response has the `GET` route's headers and no
    /// body.
    pub fn head(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::HEAD, target)
    }

    /// A `POST` request.
    pub fn post(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::POST, target)
    }

    /// A `PUT` request.
    pub fn put(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::PUT, target)
    }

    /// A `DELETE` request.
    pub fn delete(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, target)
    }

    /// An `OPTIONS` request.
    pub fn options(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::OPTIONS, target)
    }
}

/// A request being made; [`send`](Self::send) it.
pub struct TestRequest<'c> {
    client: &'c TestClient,
    method: Method,
    target: String,
    headers: HeaderMap,
    body: Vec<u8>,
    peer_addr: SocketAddr,
}

impl TestRequest<'_> {
    /// Appends a header field.
    ///
    /// # Panics
    /// When the name or value is invalid: a test's mistake.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: fmt::Debug,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: fmt::Debug,
    {
        let name = HeaderName::try_from(name).expect("a valid header name");
        let value = HeaderValue::try_from(value).expect("a valid header value");
        self.headers.append(name, value);
        self
    }

    /// Sets the body; `Content-Length` follows it.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and `Content-Type: application/json`.
    ///
    /// # Panics
    /// When `value` cannot be serialized.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("a serializable value");
        self.header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
    }

    /// The client address the application sees (by default 127.0.0.1:40000).
    pub fn peer_addr(mut self, addr: SocketAddr) -> Self {
        self.peer_addr = addr;
        self
    }

    /// Runs the request through the application and reads the whole
    /// response body (a stream's, until its last sender is dropped: for a
    /// stream that never ends, such as server-sent events, use
    /// [`open`](Self::open)). A body that breaks off (a reader that fails,
    /// an aborted stream) is what came before the break, and an error is
    /// logged.
    ///
    /// # Panics
    /// When the target does not start with `/` (or is not `*`).
    pub fn send(self) -> TestResponse {
        let (status, headers, body) = self.answer();
        TestResponse {
            status,
            headers,
            body: body.map_or_else(Bytes::new, read_body),
        }
    }

    /// Runs the request through the application and returns the response
    /// with its body still open, to read a piece at a time as a client of
    /// a stream does; dropping it is the client going away.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pool_server::sse::{self, Event};
    /// use pool_server::test::TestClient;
    /// use pool_server::{route, routes, Server};
    ///
    /// #[route("GET /events")]
    /// fn events() -> sse::EventStream {
    ///     let (sender, stream) = sse::channel();
    ///     std::thread::spawn(move || {
    ///         let mut n = 0;
    ///         // Never ends by itself: stops once the client has gone.
    ///         while sender.send(Event::data(n.to_string())).is_ok() {
    ///             n += 1;
    ///             std::thread::sleep(Duration::from_millis(10));
    ///         }
    ///     });
    ///     stream
    /// }
    ///
    /// let client = TestClient::new(Server::builder().routes(routes![events])).unwrap();
    /// let mut stream = client.get("/events").open();
    /// let first = stream.next_chunk(Duration::from_secs(5)).expect("an event");
    /// assert!(first.starts_with(b"data: 0\n\n"), "{first:?}");
    /// drop(stream); // the client goes: the producer's next send fails
    /// ```
    ///
    /// # Panics
    /// When the target does not start with `/` (or is not `*`).
    pub fn open(self) -> TestStream {
        let (status, headers, body) = self.answer();
        let body = match body {
            Some(Body::Stream(stream)) => Open::Stream(Box::new(Watched::new(stream))),
            Some(other) => Open::Done(Some(read_body(other))),
            None => Open::Done(None),
        };
        TestStream {
            status,
            headers,
            body,
        }
    }

    /// The application's answer: status, headers, and the body unless the
    /// request was `HEAD`.
    fn answer(self) -> (StatusCode, HeaderMap, Option<Body>) {
        assert!(
            self.target.starts_with('/') || self.target == "*",
            "a test request's target is a path, such as /users/7"
        );
        let mut headers = self.headers;
        if !self.body.is_empty() && !headers.contains_key(CONTENT_LENGTH) {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        }
        let mut request = Request::blank(self.peer_addr);
        request.method = self.method;
        request.query_start = self.target.find('?');
        request.target = self.target.into();
        request.headers = headers;
        let client = self.client;
        let started = Instant::now();
        let mut response = panic::catch_unwind(AssertUnwindSafe(|| {
            if self.body.is_empty() {
                return client.service.call(&mut request, false);
            }
            // As the event loop does with a head before reading its body.
            let rules = client.service.at_head(&mut request);
            let limit = rules.body_limit.unwrap_or(client.limits.max_body_size);
            if !rules.takes_body {
                return client.service.call(&mut request, false);
            }
            if self.body.len() > limit {
                let bodies = &client.limits.refusal_bodies;
                return error::refusal_response(RequestError::BodyTooLarge, bodies);
            }
            if let Some(refusal) = client.service.check(&mut request) {
                return client.service.refused(&mut request, refusal);
            }
            request.body = RequestBody::Memory {
                bytes: self.body.into(),
                _charge: MemoryCharge::none(),
            };
            client.service.call(&mut request, true)
        }))
        .unwrap_or_else(|panic| middleware::panicked(&request, &panic));
        client
            .service
            .record(&request, response.status(), started.elapsed());
        if !encode::is_final(response.status()) {
            // As on the wire: an interim status (or no HTTP status at all)
            // from a handler is refused.
            response = Response::status_only(StatusCode::INTERNAL_SERVER_ERROR);
        }
        let body = (request.method != Method::HEAD).then(|| response.take_body());
        (
            response.status(),
            std::mem::take(response.headers_mut()),
            body,
        )
    }
}

fn read_body(body: Body) -> Bytes {
    match body {
        Body::Full(bytes) => bytes,
        Body::Reader { reader, len } => {
            let mut out = Vec::new();
            let read = match len {
                Some(len) => reader.take(len).read_to_end(&mut out),
                None => { reader }.read_to_end(&mut out),
            };
            if let Err(err) = read {
                log::error!("reading a response body failed: {err}");
            }
            out.into()
        }
        Body::File { file, offset, len } => {
            let mut out = vec![0; usize::try_from(len).expect("a file body that fits in memory")];
            if let Err(err) = file.read_exact_at(&mut out, offset) {
                log::error!("reading a file body failed: {err}");
                out.clear();
            }
            out.into()
        }
        Body::Stream(stream) => read_stream(stream),
    }
}

/// Takes what the producers send until the last of them is gone.
fn read_stream(stream: BodyStream) -> Bytes {
    let mut watched = Watched::new(stream);
    let mut out = Vec::new();
    while let Some(chunk) = watched.next(None) {
        out.extend_from_slice(&chunk);
    }
    out.into()
}

/// A response stream, read as its producers send.
struct Watched {
    stream: BodyStream,
    /// Set by the producers' wake-ups, cleared by the reader.
    news: Arc<(Mutex<bool>, Condvar)>,
    ended: bool,
}

impl Watched {
    fn new(stream: BodyStream) -> Watched {
        let news = Arc::new((Mutex::new(false), Condvar::new()));
        let wake = Arc::clone(&news);
        stream.set_notify(Box::new(move || {
            *wake.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
            wake.1.notify_all();
        }));
        Watched {
            stream,
            news,
            ended: false,
        }
    }

    /// What the producers sent since the last call, waiting for some (up to
    /// `within`, or for ever); `None` once the body has ended, or when
    /// nothing came in time.
    fn next(&mut self, within: Option<Duration>) -> Option<Bytes> {
        let deadline = within.map(|d| Instant::now() + d);
        loop {
            if self.ended {
                return None;
            }
            let mut out = Vec::new();
            let pulled = self.stream.pull(&mut out, usize::MAX, |out, data| {
                out.extend_from_slice(data)
            });
            match pulled {
                Pulled::More => {}
                Pulled::Finished | Pulled::Overflowed => self.ended = true,
                Pulled::Aborted => {
                    log::error!("a response stream was aborted: its body is cut short");
                    self.ended = true;
                }
                Pulled::Empty if out.is_empty() => {
                    let (flag, changed) = &*self.news;
                    let mut flag = flag.lock().unwrap_or_else(|e| e.into_inner());
                    while !*flag {
                        flag = match deadline {
                            None => changed.wait(flag).unwrap_or_else(|e| e.into_inner()),
                            Some(deadline) => {
                                let left = deadline.checked_duration_since(Instant::now())?;
                                changed
                                    .wait_timeout(flag, left)
                                    .unwrap_or_else(|e| e.into_inner())
                                    .0
                            }
                        };
                    }
                    *flag = false;
                    continue;
                }
                Pulled::Empty => {}
            }
            if !out.is_empty() {
                return Some(out.into());
            }
        }
    }
}

/// A response whose body is still open: made by [`TestRequest::open`].
/// Dropping it is the client going away: the stream's senders fail from
/// then on.
pub struct TestStream {
    status: StatusCode,
    headers: HeaderMap,
    body: Open,
}

enum Open {
    Stream(Box<Watched>),
    /// A body that is not a stream, whole; taken by the first read.
    Done(Option<Bytes>),
}

impl TestStream {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The header fields.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name` as text.
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// What the producers sent since the last call, waiting up to `within`
    /// for something to come; `None` when nothing came in time or the body
    /// has ended (see [`is_finished`](Self::is_finished)). A body that is
    /// not a stream comes whole, in one piece.
    pub fn next_chunk(&mut self, within: Duration) -> Option<Bytes> {
        match &mut self.body {
            Open::Stream(watched) => watched.next(Some(within)),
            Open::Done(whole) => whole.take().filter(|bytes| !bytes.is_empty()),
        }
    }

    /// Whether the body has ended: every sender gone, and all they sent read.
    pub fn is_finished(&self) -> bool {
        match &self.body {
            Open::Stream(watched) => watched.ended,
            Open::Done(whole) => whole.is_none(),
        }
    }
}

impl fmt::Debug for TestStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestStream")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// What the application answered: status, the headers it set (not the
/// ones the wire adds: `Content-Length`, `Date`, `Connection`) and the
/// whole body.
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The header fields.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name` as text.
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    /// When the body is not JSON of that shape.
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

impl fmt::Debug for TestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClient").finish_non_exhaustive()
    }
}

impl fmt::Debug for TestRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl fmt::Debug for TestResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}
