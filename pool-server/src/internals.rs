//! Crate-private code made reachable for the fuzz targets in `fuzz/` and
//! for benchmarks, behind the `internals` feature. Not API: these are thin
//! wrappers that change whenever the code under them does. Each converts
//! the crate's private types to plain public ones and adds no logic.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderName, Method, StatusCode};

use crate::application::files::{conditional, range, resolve};
use crate::application::params;
use crate::application::router::{self, Routes};
use crate::config;
use crate::error::Error;
use crate::protocol::{body, encode, error::RequestError, framer, parse};
use crate::request::Request;
use crate::response::Response;
use crate::runtime::conn::memory;
pub use crate::runtime::conn::memory::{answers, Answer};

/// Why the protocol layer refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal(RequestError);

impl Refusal {
    /// The status the client gets.
    pub fn status(&self) -> StatusCode {
        self.0.status()
    }

    /// The message of the response body.
    pub fn message(&self) -> String {
        self.0.to_string()
    }
}

/// The limits the protocol code checks; the rest are the server's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `Builder::max_head_size`.
    pub max_head_size: usize,
    /// `Builder::max_headers`.
    pub max_headers: usize,
    /// `Builder::max_body_size`.
    pub max_body_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let limits = config::Limits::default();
        Limits {
            max_head_size: limits.max_head_size,
            max_headers: limits.max_headers,
            max_body_size: limits.max_body_size,
        }
    }
}

impl Limits {
    fn config(self) -> config::Limits {
        config::Limits {
            max_head_size: self.max_head_size,
            max_headers: self.max_headers.min(config::MAX_HEADERS_CAP),
            max_body_size: self.max_body_size,
            ..config::Limits::default()
        }
    }
}

/// See `protocol::parse::find_head_end`.
pub fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    parse::find_head_end(buf, from)
}

/// How a request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    Empty,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head.
#[derive(Debug)]
pub struct Head {
    /// The request, its body still empty.
    pub request: Request,
    /// How its body is delimited.
    pub body: BodyKind,
    /// The client asked to keep the connection.
    pub keep_alive: bool,
    /// The client waits for `100 Continue`.
    pub expects_continue: bool,
}

/// See `protocol::parse::parse_head`.
pub fn parse_head(head: &[u8], limits: Limits) -> Result<Head, Refusal> {
    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
    let mut request = Request::blank(peer);
    let head = parse::parse_head(head, &limits.config(), peer, &mut request).map_err(Refusal)?;
    Ok(Head {
        request,
        body: match head.body {
            body::BodyKind::Empty => BodyKind::Empty,
            body::BodyKind::Length(n) => BodyKind::Length(n),
            body::BodyKind::Chunked => BodyKind::Chunked,
        },
        keep_alive: head.keep_alive,
        expects_continue: head.expects_continue,
    })
}

/// See `protocol::body::BodyDecoder`.
#[derive(Debug)]
pub struct BodyDecoder(body::BodyDecoder);

impl BodyDecoder {
    /// A `Content-Length` body of `n` bytes.
    pub fn length(n: u64) -> BodyDecoder {
        BodyDecoder(body::BodyDecoder::length(n))
    }

    /// A chunked body.
    pub fn chunked() -> BodyDecoder {
        BodyDecoder(body::BodyDecoder::chunked())
    }

    /// Decodes what it can; returns the bytes consumed and whether the body
    /// is complete.
    pub fn decode(
        &mut self,
        input: &[u8],
        body: &mut Vec<u8>,
        max_body: u64,
        max_trailers: usize,
    ) -> Result<(usize, bool), Refusal> {
        let decoded = self
            .0
            .decode(input, body, max_body, max_trailers)
            .map_err(Refusal)?;
        Ok((decoded.consumed, decoded.done))
    }
}

/// What the application decides from a head before its body is read (see
/// `protocol::framer::AtHead`); the same for every head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadRules {
    /// The route's body limit; `None` for `max_body_size`.
    pub body_limit: Option<usize>,
    /// Guards run before the body is read.
    pub guarded: bool,
    /// Something reads the body (else it is left, and reading stops).
    pub takes_body: bool,
}

impl framer::Heads for HeadRules {
    fn at_head(&self, _: &mut Request) -> framer::AtHead {
        framer::AtHead {
            body_limit: self.body_limit,
            guarded: self.guarded,
            takes_body: self.takes_body,
        }
    }
}

/// See `protocol::framer::Framer`: a connection's reading side over
/// in-memory input, with every body kept in memory.
pub struct Framer {
    inner: framer::Framer<Vec<u8>>,
    limits: config::Limits,
    rules: HeadRules,
}

/// A framed request (see `protocol::framer::Exchange`).
pub struct Exchange(framer::Exchange);

impl Exchange {
    /// The request, its body read unless [`body_waits`](Self::body_waits).
    pub fn request(&self) -> &Request {
        &self.0.request
    }

    /// The client wants the connection kept.
    pub fn keep_alive(&self) -> bool {
        self.0.keep_alive
    }

    /// Its guards have not run and its body is not read: pass it to
    /// [`Framer::begin_body`] as a passed guard would.
    pub fn body_waits(&self) -> bool {
        self.0.unread.is_some()
    }
}

/// Where the reading side is (see `protocol::framer::Phase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Between requests.
    Idle,
    /// A head is arriving.
    Head,
    /// A head waits for its guards.
    Checking,
    /// A body is arriving.
    Body,
    /// No more requests are read.
    Done,
}

impl Framer {
    /// A connection's reading side, with these limits and head rules.
    pub fn new(limits: Limits, rules: HeadRules) -> Framer {
        Framer {
            inner: framer::Framer::new(std::net::SocketAddr::from(([127, 0, 0, 1], 1))),
            limits: limits.config(),
            rules,
        }
    }

    /// See `Framer::frame`: frames what `input` holds and removes what it
    /// used; true when more requests may wait in it.
    pub fn frame(&mut self, input: &mut Vec<u8>, eof: bool) -> bool {
        let mut cx = framer::FrameCx {
            limits: &self.limits,
            heads: &self.rules,
            budget: &(),
            spare_request: &mut || None,
            now: std::time::Instant::now(),
        };
        self.inner.frame(input, eof, &mut cx)
    }

    /// The next framed request.
    pub fn next_request(&mut self) -> Option<Exchange> {
        self.inner.next_request().map(Exchange)
    }

    /// Reads the body of `exchange` next, as when its guards pass.
    ///
    /// # Panics
    /// When its body does not wait.
    pub fn begin_body(&mut self, exchange: Exchange) {
        let framer::Exchange {
            request,
            keep_alive,
            unread,
            ..
        } = exchange.0;
        let unread = unread.expect("a body that waits for its guards");
        let now = std::time::Instant::now();
        self.inner
            .begin_body(request, keep_alive, *unread, &self.limits, now);
    }

    /// The refusal that ended the reading, once no request waits before it.
    pub fn take_refusal(&mut self) -> Option<Refusal> {
        self.inner.take_refusal().map(Refusal)
    }

    /// Where the reading side is.
    pub fn phase(&self) -> Phase {
        match self.inner.phase() {
            framer::Phase::Idle { .. } => Phase::Idle,
            framer::Phase::Head { .. } => Phase::Head,
            framer::Phase::Checking => Phase::Checking,
            framer::Phase::Body { .. } => Phase::Body,
            framer::Phase::Done => Phase::Done,
        }
    }
}

impl std::fmt::Debug for Framer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Framer")
            .field("phase", &self.phase())
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("request", self.request())
            .field("keep_alive", &self.keep_alive())
            .field("body_waits", &self.body_waits())
            .finish()
    }
}

/// Connections served over an in-memory socket, one at a time, by the real
/// connection code (see `runtime/conn/memory`): an application that echoes
/// each request (`METHOD /path body`), and answers `/file` (40,000 bytes)
/// from a file and `/reader` (100,000 bytes of `r`) from a reader.
pub struct MemoryConnections(memory::Harness);

/// What a connection wrote back, and how it ended.
#[derive(Debug)]
pub struct Written {
    /// The bytes the client received.
    pub out: Vec<u8>,
    /// The server shut its side down first (a lingering close).
    pub shut_down: bool,
    /// The server ended the connection with a reset.
    pub reset: bool,
}

impl MemoryConnections {
    /// The application, and a loop's buffers kept across connections.
    pub fn new() -> MemoryConnections {
        MemoryConnections(memory::Harness::new())
    }

    /// Serves one connection that receives `sent`, then EOF, until it
    /// closes. `seed`: reads, writes and arrivals take random amounts or
    /// would block; `None`: everything is ready at once.
    ///
    /// # Panics
    /// When the connection never closes.
    pub fn serve(&mut self, sent: &[u8], seed: Option<u64>) -> Written {
        let pipe = self.0.run(sent, seed);
        Written {
            out: pipe.out,
            shut_down: pipe.shut,
            reset: pipe.reset,
        }
    }
}

impl Default for MemoryConnections {
    fn default() -> Self {
        MemoryConnections::new()
    }
}

impl std::fmt::Debug for MemoryConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryConnections").finish_non_exhaustive()
    }
}

/// What the `Connection` header of a response says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// Keep an HTTP/1.1 connection.
    KeepAlive,
    /// Keep an HTTP/1.0 connection.
    KeepAlive10,
    /// Close after the response.
    Close,
}

/// See `protocol::encode::response`.
pub fn encode_response(out: &mut Vec<u8>, res: &Response, head_only: bool, persist: Persist) {
    encode::response(out, res, head_only, persist.encode(), None);
}

impl Persist {
    fn encode(self) -> encode::Persist {
        match self {
            Persist::KeepAlive => encode::Persist::KeepAlive,
            Persist::KeepAlive10 => encode::Persist::KeepAlive10,
            Persist::Close => encode::Persist::Close,
        }
    }
}

/// How a response body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes.
    UntilClose,
}

/// See `protocol::encode::head`: appends the head alone, and says whether
/// a body follows.
pub fn encode_head(
    out: &mut Vec<u8>,
    res: &Response,
    head_only: bool,
    persist: Persist,
    framing: Framing,
) -> bool {
    let framing = match framing {
        Framing::Length(n) => encode::Framing::Length(n),
        Framing::Chunked => encode::Framing::Chunked,
        Framing::UntilClose => encode::Framing::UntilClose,
    };
    encode::head(out, res, head_only, persist.encode(), framing, None).body
}

/// See `protocol::encode::refusal` (with the default bodies).
pub fn encode_refusal(out: &mut Vec<u8>, refusal: Refusal) {
    encode::refusal(
        out,
        refusal.0,
        &crate::protocol::error::RefusalBodies::default(),
    );
}

/// See `protocol::encode::chunk`.
pub fn encode_chunk(out: &mut Vec<u8>, data: &[u8]) {
    encode::chunk(out, data);
}

/// The end of a chunked body.
pub const LAST_CHUNK: &[u8] = encode::LAST_CHUNK;

/// See `application::params::percent_decode`.
pub fn percent_decode(raw: &str) -> Option<Cow<'_, str>> {
    params::percent_decode(raw)
}

/// The `Query<T>` extractor on `request`; the rejection's status and message.
#[cfg(feature = "json")]
pub fn query<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, (StatusCode, String)> {
    use crate::application::extract::{FromRequest, Query, RequestContext, States};
    let params = params::Params::new();
    let states = States::default();
    let cx = RequestContext {
        request,
        params: &params,
        states: &states,
        matched_path: "",
    };
    Query::<T>::from_request(&cx)
        .map(|Query(value)| value)
        .map_err(|rejection| (rejection.status(), rejection.message().to_owned()))
}

/// One range-spec: `Some(first)` and maybe a last position, or a suffix
/// length with `first` `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// `first-last` or `first-`.
    From {
        /// First position.
        first: u64,
        /// Last position, if written.
        last: Option<u64>,
    },
    /// `-n`.
    Suffix(u64),
}

/// See `application::files::range::parse`.
pub fn parse_range(value: &str) -> Option<Vec<RangeSpec>> {
    let specs = range::parse(value)?;
    Some(
        specs
            .into_iter()
            .map(|spec| match spec {
                range::Spec::From { first, last } => RangeSpec::From { first, last },
                range::Spec::Suffix(n) => RangeSpec::Suffix(n),
            })
            .collect(),
    )
}

/// What a `Range` asks of a representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranges {
    /// Send it whole (200).
    Ignore,
    /// Bytes `start..=end` (206).
    One {
        /// First byte.
        start: u64,
        /// Last byte, included.
        end: u64,
    },
    /// 416.
    Unsatisfiable,
}

/// See `application::files::range::resolve`.
pub fn resolve_range(value: &str, len: u64) -> Ranges {
    match range::resolve(value, len) {
        range::Ranges::Ignore => Ranges::Ignore,
        range::Ranges::One { start, end } => Ranges::One { start, end },
        range::Ranges::Unsatisfiable => Ranges::Unsatisfiable,
    }
}

/// `If-Match` / `If-None-Match`: `*`, or the entity tags as (weak, opaque).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagList<'a> {
    /// `*`.
    Any,
    /// The well-formed tags listed.
    Tags(Vec<(bool, &'a str)>),
}

/// See `application::files::conditional::tag_list`.
pub fn tag_list<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<TagList<'h>> {
    Some(match conditional::tag_list(headers, name)? {
        conditional::TagList::Any => TagList::Any,
        conditional::TagList::Tags(tags) => {
            TagList::Tags(tags.iter().map(|tag| (tag.weak, tag.opaque)).collect())
        }
    })
}

/// What the preconditions decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answer normally.
    Proceed,
    /// 304.
    NotModified,
    /// 412.
    Failed,
}

/// See `application::files::conditional::evaluate`, for a representation
/// with the strong tag `etag` modified at `modified` (seconds).
pub fn evaluate(
    headers: &HeaderMap,
    get_or_head: bool,
    etag: &str,
    modified: Option<u64>,
) -> Outcome {
    let current = conditional::Validators { etag, modified };
    match conditional::evaluate(headers, get_or_head, current) {
        conditional::Outcome::Proceed => Outcome::Proceed,
        conditional::Outcome::NotModified => Outcome::NotModified,
        conditional::Outcome::Failed => Outcome::Failed,
    }
}

/// See `application::files::conditional::if_range_holds`; `date` is the
/// second the response's `Date` names.
pub fn if_range_holds(headers: &HeaderMap, etag: &str, modified: Option<u64>, date: u64) -> bool {
    conditional::if_range_holds(headers, conditional::Validators { etag, modified }, date)
}

/// See `application::files::resolve::relative`; the refusal as its status.
pub fn relative_path(rel: &str, dotfiles: bool) -> Result<PathBuf, StatusCode> {
    resolve::relative(rel, dotfiles).map_err(resolve::Refused::status)
}

/// See `application::files::resolve::confine`; the refusal as its status.
pub fn confine_path(
    root: &Path,
    path: &Path,
    outside_ok: bool,
    dotfiles: bool,
) -> Result<PathBuf, StatusCode> {
    resolve::confine(root, path, outside_ok, dotfiles).map_err(resolve::Refused::status)
}

/// The router `Builder::build` makes of a table (no state, mounts or fallback).
#[derive(Debug)]
pub struct Router(router::Router);

/// What the router decided for a method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'p> {
    /// The route with this pattern (prefix included), and the raw
    /// parameter values.
    Route(String, Vec<&'p str>),
    /// No route has the path: 404 (or the fallback).
    NotFound,
    /// 405 with this `Allow`.
    MethodNotAllowed(String),
    /// `OPTIONS` answered by the router with this `Allow`.
    Options(String),
}

impl Router {
    /// Builds the tree; fails as `build` does (clashes, malformed routes).
    pub fn new(routes: Routes) -> Result<Router, Error> {
        router::Router::new(router::Table {
            routes: routes.into_vec(),
            ..router::Table::default()
        })
        .map(Router)
    }

    /// The pattern of the route that answers `method` on `path`, if one
    /// does. Unlike [`Router::resolve`] it allocates nothing, for benchmarks.
    pub fn find(&self, method: &Method, path: &str) -> Option<&str> {
        let mut params = params::Params::new();
        match self.0.resolve(method, path, &mut params) {
            router::Resolution::Route(entry) => Some(entry.path()),
            _ => None,
        }
    }

    /// Resolves `method` on `path` (the request's path, without the query).
    pub fn resolve<'p>(&self, method: &Method, path: &'p str) -> Resolution<'p> {
        let mut params = params::Params::new();
        let allow =
            |value: &http::HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned();
        match self.0.resolve(method, path, &mut params) {
            router::Resolution::Route(entry) => Resolution::Route(
                entry.path().to_owned(),
                (0..params.len()).filter_map(|i| params.get(i)).collect(),
            ),
            router::Resolution::NotFound => Resolution::NotFound,
            router::Resolution::MethodNotAllowed(value) => {
                Resolution::MethodNotAllowed(allow(value))
            }
            router::Resolution::Options(value) => Resolution::Options(allow(value)),
        }
    }
}
