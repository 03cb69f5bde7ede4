//! [`IntoResponse`]: what a route function may return.

use std::borrow::Cow;

use bytes::Bytes;
use http::StatusCode;

use crate::response::Response;

/// A value that a route function can return.
///
/// | type | response |
/// |---|---|
/// | [`Response`] | itself |
/// | `&'static str`, `String`, `Cow<'static, str>` | 200, `text/plain; charset=utf-8` |
/// | `Vec<u8>`, `&'static [u8]`, [`Bytes`] | 200, `application/octet-stream` |
/// | [`StatusCode`] | that status, empty body |
/// | `()` | 200, empty body |
/// | `(StatusCode, T)` | `T`'s response with that status |
/// | `Result<T, E>` | `T`'s or `E`'s response |
/// | `Option<T>` | `T`'s response, or 404 with an empty body for `None` |
/// | [`Json<T>`](crate::Json) | 200, `application/json` (feature `json`) |
/// | `(jar, T)`, with a [`CookieJar`](crate::cookies::CookieJar) or a signed or private jar | `T`'s response with a `Set-Cookie` per cookie added or removed |
///
/// Implement it for your own types, typically an error enum:
///
/// ```
/// use pool_server::{route, IntoResponse, Response, StatusCode};
///
/// enum AppError {
///     NotFound,
///     Busy,
/// }
///
/// impl IntoResponse for AppError {
///     fn into_response(self) -> Response {
///         match self {
///             AppError::NotFound => (StatusCode::NOT_FOUND, "no such item").into_response(),
///             AppError::Busy => StatusCode::SERVICE_UNAVAILABLE.into_response(),
///         }
///     }
/// }
///
/// #[route("GET /items/{id}")]
/// fn item(id: u32) -> Result<String, AppError> {
///     match id {
///         0 => Err(AppError::Busy),
///         1 => Ok("the first item".to_owned()),
///         _ => Err(AppError::NotFound),
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a route function",
    label = "this type does not implement `IntoResponse`",
    note = "return a `Response`, a string, bytes, a `StatusCode`, `(StatusCode, T)`, `Result`, `Option` or `Json<T>`, or implement `IntoResponse` for your type"
)]
pub trait IntoResponse {
    /// Converts the value into the response to send.
    fn into_response(self) -> Response;
}

/// Called by generated code, spanned on the route's return type so that a
/// type without `IntoResponse` is reported there.
#[doc(hidden)]
pub fn into_response<T: IntoResponse>(value: T) -> Response {
    value.into_response()
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        Response::bytes(self)
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        Response::bytes(Bytes::from_static(self))
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        Response::bytes(self)
    }
}

/// A body fed from other threads, as [`Response::from_stream`] makes it.
impl IntoResponse for crate::stream::BodyStream {
    fn into_response(self) -> Response {
        Response::from_stream(self)
    }
}

/// An I/O error from a handler (`io::Result<T>` with `?`): 404 for a file
/// that is not there, 403 for one it may not read, else 500; each logged.
impl IntoResponse for std::io::Error {
    fn into_response(self) -> Response {
        let status = match self.kind() {
            std::io::ErrorKind::NotFound => StatusCode::NOT_FOUND,
            std::io::ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        log::error!("a handler failed with an I/O error: {self}; answering {status}");
        Response::bare_error(status, status.canonical_reason().unwrap_or("error"))
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        Response::status_only(self)
    }
}

/// For rejections that cannot happen.
impl IntoResponse for std::convert::Infallible {
    fn into_response(self) -> Response {
        match self {}
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::status_only(StatusCode::OK)
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        self.1.into_response().with_status(self.0)
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(err) => err.into_response(),
        }
    }
}

impl<T: IntoResponse> IntoResponse for Option<T> {
    fn into_response(self) -> Response {
        match self {
            Some(value) => value.into_response(),
            None => Response::status_only(StatusCode::NOT_FOUND),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(response: Response, status: StatusCode, content_type: Option<&str>, body: &[u8]) {
        assert_eq!(response.status(), status);
        assert_eq!(
            response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap()),
            content_type
        );
        assert_eq!(response.body(), body);
    }

    const TEXT: Option<&str> = Some("text/plain; charset=utf-8");
    const OCTETS: Option<&str> = Some("application/octet-stream");

    #[test]
    fn every_return_form_converts() {
        check("hi".into_response(), StatusCode::OK, TEXT, b"hi");
        check(
            String::from("hi").into_response(),
            StatusCode::OK,
            TEXT,
            b"hi",
        );
        check(
            Cow::Borrowed("hi").into_response(),
            StatusCode::OK,
            TEXT,
            b"hi",
        );
        check(
            vec![1u8, 2].into_response(),
            StatusCode::OK,
            OCTETS,
            &[1, 2],
        );
        check((&b"ab"[..]).into_response(), StatusCode::OK, OCTETS, b"ab");
        check(
            Bytes::from_static(b"ab").into_response(),
            StatusCode::OK,
            OCTETS,
            b"ab",
        );
        check(
            StatusCode::ACCEPTED.into_response(),
            StatusCode::ACCEPTED,
            None,
            b"",
        );
        check(().into_response(), StatusCode::OK, None, b"");
        check(
            (StatusCode::CREATED, "made").into_response(),
            StatusCode::CREATED,
            TEXT,
            b"made",
        );
        let ok: Result<&str, StatusCode> = Ok("fine");
        check(ok.into_response(), StatusCode::OK, TEXT, b"fine");
        let err: Result<&str, (StatusCode, String)> =
            Err((StatusCode::CONFLICT, "taken".to_owned()));
        check(err.into_response(), StatusCode::CONFLICT, TEXT, b"taken");
        check(Some("here").into_response(), StatusCode::OK, TEXT, b"here");
        check(
            None::<&str>.into_response(),
            StatusCode::NOT_FOUND,
            None,
            b"",
        );
        let response = Response::html("<p>").with_header("x-a", "b");
        check(
            response.into_response(),
            StatusCode::OK,
            Some("text/html; charset=utf-8"),
            b"<p>",
        );
    }
}
