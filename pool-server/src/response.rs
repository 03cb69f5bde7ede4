//! The response a handler returns.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::StatusCode;

use crate::stream::BodyStream;

/// An HTTP response: a status, header fields and a body, held in memory or
/// produced as it is sent: from a reader ([`stream`](Self::stream)), a file
/// ([`file`](Self::file)) or other threads
/// ([`from_stream`](Self::from_stream)). Bodies that are not in memory go out
/// a bounded window at a time, and a client that reads slowly holds no
/// worker meanwhile.
///
/// The server adds `Content-Length`, `Date` and, when it closes the
/// connection, `Connection: close`; a handler sets everything else. The one
/// exception is an answer to `HEAD` with an empty body: a `Content-Length`
/// the handler set is sent as it is, so a HEAD route can give the size of a
/// body it does not make. The status must be final: the client gets a 500
/// for a 1xx (interim) status, and the server logs the mistake.
///
/// ```
/// use pool_server::{Response, StatusCode};
///
/// let ok = Response::text("hello");
/// assert_eq!(ok.status(), StatusCode::OK);
/// assert_eq!(ok.body(), b"hello");
///
/// let created = Response::json(r#"{"id":1}"#)
///     .with_status(StatusCode::CREATED)
///     .with_header("location", "/items/1");
/// assert_eq!(created.headers()["location"], "/items/1");
/// ```
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
    /// An invalid header was given to `with_header` or `append_header`: the
    /// response is a 500 that the builder methods no longer change.
    invalid: bool,
    /// Made by the framework for an error (404, 405, a rejection, a panic),
    /// with this message: the builder's `error_body` may render it.
    error: Option<Cow<'static, str>>,
    /// On a 304 the framework made: the 200 it stands for. Boxed, since
    /// few responses have one.
    stands_for: Option<Box<Representation>>,
}

/// What the 200 a 304 stands for had beside the fields the 304 carries:
/// middleware that would have changed that 200's validators (compression
/// weakens its `ETag`) changes the 304's alike, as RFC 9110 §15.4.5 asks.
pub(crate) struct Representation {
    pub(crate) content_type: HeaderValue,
    /// Whether it had a `Content-Encoding` (a precompressed file).
    pub(crate) encoded: bool,
    /// The length of its body.
    pub(crate) len: u64,
}

/// Where a response body comes from.
pub(crate) enum Body {
    Full(Bytes),
    /// Read on a worker, a window at a time; `len` when it is known.
    Reader {
        reader: Box<dyn Read + Send>,
        len: Option<u64>,
    },
    /// `len` bytes of `file` from `offset`, sent by the event loop (with
    /// `sendfile` where the OS has it).
    File {
        file: File,
        offset: u64,
        len: u64,
    },
    /// Fed from other threads.
    Stream(BodyStream),
}

thread_local! {
    /// Emptied header maps of the responses this thread sent, for the next
    /// ones it builds: a new map costs two allocations, and two frees when
    /// the response is dropped.
    static SPARE_MAPS: RefCell<Vec<HeaderMap>> = const { RefCell::new(Vec::new()) };
}

/// A thread keeps this many spare maps: a worker builds one response at a
/// time, middleware a few.
const SPARE_MAPS_KEPT: usize = 4;
/// A map grown past this many fields is not kept, so spares stay small.
const SPARE_MAP_FIELDS: usize = 32;

const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const OCTETS: HeaderValue = HeaderValue::from_static("application/octet-stream");

impl Response {
    /// A 200 response with a `text/plain; charset=utf-8` body.
    pub fn text(body: impl Into<Cow<'static, str>>) -> Response {
        Response::typed(TEXT, cow_bytes(body.into()))
    }

    /// A 200 response with a `text/html; charset=utf-8` body.
    pub fn html(body: impl Into<Cow<'static, str>>) -> Response {
        Response::typed(HTML, cow_bytes(body.into()))
    }

    /// A 200 response with an `application/json` body that is already encoded.
    pub fn json(body: impl Into<Cow<'static, str>>) -> Response {
        Response::typed(JSON, cow_bytes(body.into()))
    }

    /// A 200 response with an `application/octet-stream` body.
    pub fn bytes(body: impl Into<Bytes>) -> Response {
        Response::typed(OCTETS, body.into())
    }

    /// A response with `status`, no body and no content type.
    pub fn status_only(status: StatusCode) -> Response {
        Response {
            status,
            headers: HeaderMap::new(),
            body: Body::Full(Bytes::new()),
            invalid: false,
            error: None,
            stands_for: None,
        }
    }

    fn typed(content_type: HeaderValue, body: Bytes) -> Response {
        let spare = SPARE_MAPS.try_with(|maps| maps.borrow_mut().pop());
        let mut headers = spare
            .ok()
            .flatten()
            .unwrap_or_else(|| HeaderMap::with_capacity(1));
        headers.insert(header::CONTENT_TYPE, content_type);
        Response {
            status: StatusCode::OK,
            headers,
            body: Body::Full(body),
            invalid: false,
            error: None,
            stands_for: None,
        }
    }

    /// Replaces the status, unless an invalid header already made this a
    /// 500 (see [`with_header`](Self::with_header)).
    pub fn with_status(mut self, status: StatusCode) -> Response {
        if !self.invalid {
            self.status = status;
        }
        self
    }

    /// Sets header `name` to `value`, replacing earlier values of that name.
    ///
    /// Names and values are taken as [`http::request::Builder::header`]
    /// takes them: the [`header`] constants, `&str`,
    /// `String`, [`HeaderName`] and [`HeaderValue`], among others.
    ///
    /// ```
    /// use pool_server::{header, Response};
    ///
    /// let res = Response::text("moved")
    ///     .with_header(header::LOCATION, "/new")
    ///     .with_header("x-request-id", format!("{}", 42))
    ///     .with_header("x-request-id", "43");
    /// assert_eq!(res.headers()["location"], "/new");
    /// assert_eq!(res.headers().get_all("x-request-id").iter().count(), 1);
    /// ```
    ///
    /// # Invalid input
    /// An invalid name or value does not panic: it is logged
    /// (`log::error!`) and the response becomes an empty `500 Internal
    /// Server Error`, which later `with_status`, `with_header` and
    /// `append_header` calls leave as it is, so the mistake reaches the
    /// client instead of a response missing a header. For untrusted input,
    /// check it first with `HeaderValue::try_from` and set it through
    /// [`headers_mut`](Self::headers_mut).
    ///
    /// ```
    /// use pool_server::{Response, StatusCode};
    ///
    /// let res = Response::text("hi")
    ///     .with_header("x-note", "line\nbreak")
    ///     .with_status(StatusCode::CREATED);
    /// assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    /// assert!(res.body().is_empty());
    /// ```
    pub fn with_header<K, V>(self, name: K, value: V) -> Response
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.set_header(name, value, HeaderMap::insert)
    }

    /// Adds header `name` with `value`, keeping earlier values of that
    /// name: for fields that may repeat, such as `Set-Cookie`. Takes the
    /// same types as [`with_header`](Self::with_header), and turns invalid
    /// input into a 500 the same way.
    ///
    /// ```
    /// use pool_server::{header, Response};
    ///
    /// let res = Response::text("welcome")
    ///     .append_header(header::SET_COOKIE, "session=abc; HttpOnly")
    ///     .append_header(header::SET_COOKIE, "theme=dark");
    /// let cookies: Vec<_> = res.headers().get_all(header::SET_COOKIE).iter().collect();
    /// assert_eq!(cookies, ["session=abc; HttpOnly", "theme=dark"]);
    /// ```
    pub fn append_header<K, V>(self, name: K, value: V) -> Response
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.set_header(name, value, |headers, name, value| {
            headers.append(name, value);
        })
    }

    fn set_header<K, V, R>(
        mut self,
        name: K,
        value: V,
        set: impl FnOnce(&mut HeaderMap, HeaderName, HeaderValue) -> R,
    ) -> Response
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        if self.invalid {
            return self;
        }
        let name = HeaderName::try_from(name).map_err(Into::into);
        let value = HeaderValue::try_from(value).map_err(Into::into);
        match (name, value) {
            (Ok(name), Ok(value)) => {
                set(&mut self.headers, name, value);
                self
            }
            (Err(err), _) | (_, Err(err)) => {
                log::error!("a handler set an invalid header ({err}); answering 500 instead");
                Response {
                    invalid: true,
                    ..Response::status_only(StatusCode::INTERNAL_SERVER_ERROR)
                }
            }
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Mutable access to the status.
    pub fn status_mut(&mut self) -> &mut StatusCode {
        &mut self.status
    }

    /// The header fields set so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Mutable access to the header fields.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body when it is held in memory; empty for a body that is
    /// produced as it is sent (a reader, a file or a stream).
    pub fn body(&self) -> &[u8] {
        match &self.body {
            Body::Full(bytes) => bytes,
            _ => &[],
        }
    }

    /// Replaces the body with bytes in memory, keeping status and headers.
    pub fn set_body(&mut self, body: impl Into<Bytes>) {
        self.body = Body::Full(body.into());
    }

    /// A 200 response whose `application/octet-stream` body is read from
    /// `reader` as it is sent, a window at a time, on a worker. HTTP/1.1
    /// clients get it chunked, HTTP/1.0 ones until the connection closes;
    /// [`with_len`](Self::with_len) sends a `Content-Length` instead.
    ///
    /// A read error ends the connection without the end of the body, so the
    /// client sees a truncated body, never a complete-looking one.
    ///
    /// ```
    /// use std::io::Read;
    /// use pool_server::{route, Response};
    ///
    /// #[route("GET /zeros")]
    /// fn zeros() -> Response {
    ///     Response::stream(std::io::repeat(0).take(1 << 30))
    /// }
    /// ```
    pub fn stream(reader: impl Read + Send + 'static) -> Response {
        let mut response = Response::typed(OCTETS, Bytes::new());
        response.body = Body::Reader {
            reader: Box::new(reader),
            len: None,
        };
        response
    }

    /// Declares that a [`stream`](Self::stream) body has exactly `len`
    /// bytes: it is sent with `Content-Length`, and if the reader yields a
    /// different count the connection is closed after `len` bytes or at the
    /// reader's end. On other bodies, whose length is known, it does nothing.
    pub fn with_len(mut self, len: u64) -> Response {
        if let Body::Reader { len: known, .. } = &mut self.body {
            *known = Some(len);
        }
        self
    }

    /// A 200 response with the whole of `file` as an
    /// `application/octet-stream` body, sent from the event loop without
    /// holding a worker (with `sendfile`, where the OS has it), and
    /// `Last-Modified`. For content types, `ETag`, conditional requests and
    /// ranges, see [`files::ServeFile`](crate::files::ServeFile).
    ///
    /// # Errors
    /// When the file's metadata cannot be read.
    pub fn file(file: File) -> io::Result<Response> {
        let meta = file.metadata()?;
        let mut response = Response::file_part(file, 0, meta.len());
        if let Ok(modified) = meta.modified() {
            if let Ok(value) = HeaderValue::try_from(httpdate::fmt_http_date(modified)) {
                response.headers.insert(header::LAST_MODIFIED, value);
            }
        }
        Ok(response)
    }

    /// A 200 `application/octet-stream` response with `len` bytes of `file`
    /// from `offset` as its body.
    pub(crate) fn file_part(file: File, offset: u64, len: u64) -> Response {
        let mut response = Response::typed(OCTETS, Bytes::new());
        response.body = Body::File { file, offset, len };
        response
    }

    /// A 200 response whose body comes from other threads through the
    /// [`stream::Sender`](crate::stream::Sender) of `stream`, with no
    /// content type (set one with [`with_header`](Self::with_header)).
    pub fn from_stream(stream: BodyStream) -> Response {
        let mut response = Response::status_only(StatusCode::OK);
        response.body = Body::Stream(stream);
        response
    }

    /// Whether the body is held in memory (so [`body`](Self::body) is all
    /// of it), rather than produced as it is sent.
    pub fn has_body_in_memory(&self) -> bool {
        matches!(self.body, Body::Full(_))
    }

    /// An error answer the framework makes, with `message` as its plain-text
    /// body, marked so that a service's error renderer can give it its own
    /// form.
    pub(crate) fn error(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Response {
        let message = message.into();
        let mut response = Response::text(message.clone()).with_status(status);
        response.error = Some(message);
        response
    }

    /// Like [`error`](Self::error), with no body unless a renderer makes one.
    pub(crate) fn bare_error(status: StatusCode, message: &'static str) -> Response {
        let mut response = Response::status_only(status);
        response.error = Some(Cow::Borrowed(message));
        response
    }

    /// The message of an error answer the framework made, if this is one.
    pub(crate) fn error_message(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Adds `field` (lowercase) to `Vary` unless `Vary` already names it
    /// or is `*`: middleware whose answer depends on a request field says
    /// so to caches, beside what the handler said.
    pub(crate) fn add_vary(&mut self, field: &'static str) {
        let named = self.headers.get_all(header::VARY).iter().any(|value| {
            value.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case(field))
            })
        });
        if !named {
            self.headers
                .append(header::VARY, HeaderValue::from_static(field));
        }
    }

    /// Marks a 304 with the 200 it stands for.
    pub(crate) fn set_stands_for(&mut self, representation: Representation) {
        self.stands_for = Some(Box::new(representation));
    }

    /// The 200 a 304 stands for, when the framework made the 304.
    pub(crate) fn stands_for(&self) -> Option<&Representation> {
        self.stands_for.as_deref()
    }

    /// Drops a response whose head is encoded, keeping its header map,
    /// emptied, for the next response this thread builds.
    pub(crate) fn recycle(mut self) {
        let mut map = std::mem::take(&mut self.headers);
        if map.capacity() == 0 || map.capacity() > SPARE_MAP_FIELDS {
            return;
        }
        map.clear();
        let _ = SPARE_MAPS.try_with(|maps| {
            let mut maps = maps.borrow_mut();
            if maps.len() < SPARE_MAPS_KEPT {
                maps.push(map);
            }
        });
    }

    /// Takes the body out, for the runtime to send.
    pub(crate) fn take_body(&mut self) -> Body {
        std::mem::replace(&mut self.body, Body::Full(Bytes::new()))
    }

    /// The body of any kind, for the encoder.
    pub(crate) fn raw_body(&self) -> &Body {
        &self.body
    }

    /// Puts a body of any kind in, for middleware that transforms it.
    pub(crate) fn put_body(&mut self, body: Body) {
        self.body = body;
    }

    /// The file, offset and length of a file body, for unit tests of what
    /// builds one (`files`).
    #[cfg(test)]
    pub(crate) fn file_body(&self) -> Option<(&File, u64, u64)> {
        match &self.body {
            Body::File { file, offset, len } => Some((file, *offset, *len)),
            _ => None,
        }
    }
}

fn cow_bytes(body: Cow<'static, str>) -> Bytes {
    match body {
        Cow::Borrowed(s) => Bytes::from_static(s.as_bytes()),
        Cow::Owned(s) => Bytes::from(s),
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("invalid", &self.invalid)
            .finish()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Full(bytes) => write!(f, "{} bytes", bytes.len()),
            Body::Reader { len, .. } => write!(f, "reader of {len:?} bytes"),
            Body::File { offset, len, .. } => write!(f, "file bytes {offset}+{len}"),
            Body::Stream(_) => f.write_str("stream"),
        }
    }
}

impl From<StatusCode> for Response {
    fn from(status: StatusCode) -> Response {
        Response::status_only(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_header_replaces_and_append_header_keeps() {
        let res = Response::text("x")
            .with_header(header::CACHE_CONTROL, "no-store")
            .with_header("cache-control", String::from("max-age=5"))
            .append_header(header::SET_COOKIE, "a=1")
            .append_header("set-cookie", HeaderValue::from_static("b=2"));
        assert_eq!(res.headers()["cache-control"], "max-age=5");
        assert_eq!(res.headers().get_all("cache-control").iter().count(), 1);
        let cookies: Vec<_> = res.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
    }

    #[test]
    fn an_invalid_name_or_value_makes_a_500_that_builders_keep() {
        let bad_name = Response::text("x").with_header("bad name", "v");
        let bad_value = Response::text("x").append_header("x-a", "a\r\nb");
        for res in [bad_name, bad_value] {
            let res = res
                .with_status(StatusCode::CREATED)
                .with_header("x-later", "1")
                .append_header("x-later", "2");
            assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(res.headers().is_empty() && res.body().is_empty(), "{res:?}");
        }
    }
}
