//! The request a handler receives.

use std::fmt;
use std::net::SocketAddr;

use http::{HeaderMap, Method, Version};

/// An HTTP request, read in full (head and body) before the handler runs.
///
/// Method, version and header types are the [`http`] crate's. The body is
/// already decoded from `Content-Length` or chunked framing.
pub struct Request {
    pub(crate) method: Method,
    /// The request target in origin form (`/path?query`); absolute-form
    /// targets are reduced to it.
    pub(crate) target: String,
    /// Where the path ends and the query (after `?`) begins, if there is one.
    pub(crate) query_start: Option<usize>,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) peer_addr: SocketAddr,
}

impl Request {
    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path of the request target, as sent (not percent-decoded), such as
    /// `/users/42`. For `OPTIONS *` it is `*`.
    pub fn path(&self) -> &str {
        match self.query_start {
            Some(q) => &self.target[..q],
            None => &self.target,
        }
    }

    /// The query string after `?`, as sent, if the target has one.
    pub fn query(&self) -> Option<&str> {
        self.query_start.map(|q| &self.target[q + 1..])
    }

    /// The HTTP version: [`Version::HTTP_10`] or [`Version::HTTP_11`].
    pub fn version(&self) -> Version {
        self.version
    }

    /// All header fields, in the order received for each name.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name` as text, when present and visible ASCII.
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The decoded body; empty when the request had none.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The address of the client (the TCP peer).
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer_addr
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("peer_addr", &self.peer_addr)
            .finish()
    }
}
