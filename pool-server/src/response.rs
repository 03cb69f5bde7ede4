//! The response a handler returns.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::StatusCode;

/// An HTTP response: a status, header fields and a body held in memory.
///
/// The server adds `Content-Length`, `Date` and, when it closes the
/// connection, `Connection: close`; a handler sets everything else.
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
#[derive(Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

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
            body: Bytes::new(),
        }
    }

    fn typed(content_type: HeaderValue, body: Bytes) -> Response {
        let mut headers = HeaderMap::with_capacity(1);
        headers.insert(header::CONTENT_TYPE, content_type);
        Response {
            status: StatusCode::OK,
            headers,
            body,
        }
    }

    /// Replaces the status.
    pub fn with_status(mut self, status: StatusCode) -> Response {
        self.status = status;
        self
    }

    /// Sets header `name` to `value`, replacing earlier values of that name.
    ///
    /// # Panics
    /// When `name` is not a valid header name or `value` not a valid header
    /// value; use [`headers_mut`](Self::headers_mut) with checked types for
    /// untrusted input.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        let name = HeaderName::try_from(name).expect("invalid header name");
        let value = HeaderValue::try_from(value).expect("invalid header value");
        self.headers.insert(name, value);
        self
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

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Replaces the body, keeping status and headers.
    pub fn set_body(&mut self, body: impl Into<Bytes>) {
        self.body = body.into();
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
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl From<StatusCode> for Response {
    fn from(status: StatusCode) -> Response {
        Response::status_only(status)
    }
}
