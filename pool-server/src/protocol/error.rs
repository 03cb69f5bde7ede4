//! The answers the event loop makes by itself, where no user code runs:
//! why a request is refused, the status each reason becomes, the bodies a
//! service chose for them, and the response that says it. (The error
//! answers made on workers, where user code runs, take their form in
//! `application::error_body`.)

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;

use crate::response::Response;

/// Why a request was refused. Each kind maps to exactly one status code, in
/// [`RequestError::status`]; after any of them the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestError {
    /// Syntax the parser rejects, or a rule of RFC 9112 broken (400).
    Malformed(&'static str),
    /// The request line alone exceeds the head limit (414).
    UriTooLong,
    /// The head exceeds its size limit or has too many fields (431).
    HeadTooLarge,
    /// The body exceeds its limit (413).
    BodyTooLarge,
    /// A transfer coding other than chunked (501).
    UnsupportedEncoding,
    /// A well-formed `CONNECT`: the server opens no tunnels (501).
    ConnectUnsupported,
    /// An HTTP version other than 1.0 and 1.1 (505).
    UnsupportedVersion,
    /// An `Expect` value other than `100-continue` (417).
    UnknownExpectation,
    /// The head or body did not arrive in time (408).
    Timeout,
    /// The body could not be spooled: the disk is full (507).
    StorageFull,
    /// The body could not be spooled for another reason (500).
    Storage,
}

impl RequestError {
    /// The one place where a refusal becomes a status code.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            RequestError::Malformed(_) => StatusCode::BAD_REQUEST,
            RequestError::UriTooLong => StatusCode::URI_TOO_LONG,
            RequestError::HeadTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            RequestError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::UnsupportedEncoding | RequestError::ConnectUnsupported => {
                StatusCode::NOT_IMPLEMENTED
            }
            RequestError::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            RequestError::UnknownExpectation => StatusCode::EXPECTATION_FAILED,
            RequestError::Timeout => StatusCode::REQUEST_TIMEOUT,
            RequestError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            RequestError::Storage => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestError::Malformed(why) => why,
            RequestError::UriTooLong => "request line too long",
            RequestError::HeadTooLarge => "request header fields too large",
            RequestError::BodyTooLarge => "request body too large",
            RequestError::UnsupportedEncoding => "unsupported transfer coding",
            RequestError::ConnectUnsupported => {
                "CONNECT is not supported: this server opens no tunnels"
            }
            RequestError::UnsupportedVersion => "HTTP version not supported",
            RequestError::UnknownExpectation => "unsupported expectation",
            RequestError::Timeout => "request not received in time",
            RequestError::StorageFull => "no room to store the request body",
            RequestError::Storage => "cannot store the request body",
        })
    }
}

/// The bodies a service chose for the answers the event loop makes by
/// itself, by status.
#[derive(Debug, Clone, Default)]
pub(crate) struct RefusalBodies(Arc<Vec<(StatusCode, HeaderValue, Bytes)>>);

impl RefusalBodies {
    /// Sets the body for `status`, replacing an earlier one.
    pub(crate) fn set(&mut self, status: StatusCode, content_type: HeaderValue, body: Bytes) {
        let bodies = Arc::make_mut(&mut self.0);
        bodies.retain(|(s, _, _)| *s != status);
        bodies.push((status, content_type, body));
    }

    /// The response for `status`, when one was set.
    fn get(&self, status: StatusCode) -> Option<Response> {
        let (_, content_type, body) = self.0.iter().find(|(s, _, _)| *s == status)?;
        let mut res = Response::bytes(body.clone()).with_status(status);
        res.headers_mut().insert(CONTENT_TYPE, content_type.clone());
        Some(res)
    }
}

/// The answer to a refused request: the body set for its status, else
/// what went wrong in plain text.
pub(crate) fn refusal_response(err: RequestError, bodies: &RefusalBodies) -> Response {
    bodies.get(err.status()).unwrap_or_else(|| {
        let mut message = err.to_string();
        message.push('\n');
        Response::text(message).with_status(err.status())
    })
}

/// The 503 the event loop sends when every worker is busy and the queue is
/// full; `Retry-After` asks the client to come back in a second.
pub(crate) fn overloaded_response(bodies: &RefusalBodies) -> Response {
    bodies
        .get(StatusCode::SERVICE_UNAVAILABLE)
        .unwrap_or_else(|| {
            Response::text("server busy, retry later\n")
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
        })
        .with_header("retry-after", "1")
}
