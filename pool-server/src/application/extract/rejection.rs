//! [`Rejection`]: why a built-in extractor or a path parameter refused a
//! request.

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;

use crate::application::into_response::IntoResponse;
use crate::response::Response;

/// Why a built-in extractor or a path parameter refused a request: a status
/// and a plain-text message, such as 400 `invalid query string: …`.
///
/// Its response is the message as `text/plain` with that status. Use it for
/// your own extractors too, or any other [`IntoResponse`] type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: StatusCode,
    message: Cow<'static, str>,
}

impl Rejection {
    /// A rejection answered with `status` and `message` as plain text.
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection {
            status,
            message: message.into(),
        }
    }

    /// The status of the response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The text of the response.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rejection {}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        Response::error(self.status, self.message)
    }
}
