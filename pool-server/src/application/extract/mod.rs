//! Extractors: the arguments of a route function that are not path
//! parameters.
//!
//! Each argument type implements [`FromRequest`]; the code that
//! [`route`](crate::route) generates calls it once per request, in argument
//! order, and answers with the extractor's rejection if one fails.

use std::any::TypeId;
use std::convert::Infallible;
use std::fmt;

use http::{HeaderMap, Method};

use super::into_response::IntoResponse;
use super::params::Params;
use crate::request::Request;

mod extension;
#[cfg(feature = "json")]
mod form;
#[cfg(feature = "json")]
mod json;
mod path;
#[cfg(feature = "json")]
mod query;
mod rejection;
mod state;

pub use extension::Extension;
#[cfg(feature = "json")]
pub use form::Form;
#[cfg(feature = "json")]
pub use json::Json;
#[doc(hidden)]
pub use path::path_param;
#[cfg(feature = "json")]
pub use query::Query;
pub use rejection::Rejection;
pub use state::State;
pub(crate) use state::{short_type_name, States};

/// A type that a route function can take as an argument.
///
/// Implement it to write your own extractor. `from_request` runs on the
/// worker thread before the route function; an `Err` (the rejection) is sent
/// as the response and the function is not called. `requirements` runs once, at
/// [`Builder::build`](crate::Builder::build), to declare the shared state
/// the extractor reads, so a missing [`Builder::state`](crate::Builder::state)
/// is a build error rather than a failure on every request.
///
/// ```
/// use pool_server::extract::{FromRequest, RequestContext};
/// use pool_server::{route, StatusCode};
///
/// /// The bearer token of the `Authorization` header.
/// struct Token(String);
///
/// impl FromRequest<'_> for Token {
///     type Rejection = (StatusCode, &'static str);
///
///     fn from_request(cx: &RequestContext<'_>) -> Result<Self, Self::Rejection> {
///         cx.request()
///             .header("authorization")
///             .and_then(|value| value.strip_prefix("Bearer "))
///             .map(|token| Token(token.to_owned()))
///             .ok_or((StatusCode::UNAUTHORIZED, "log in first"))
///     }
/// }
///
/// #[route("GET /me")]
/// fn me(token: Token) -> String {
///     format!("your token is {}", token.0)
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor, so it cannot be an argument of a route function",
    label = "neither a path parameter nor an extractor",
    note = "an argument named like a `{{param}}` of the path is parsed from it; any other argument must implement `FromRequest`, as `&Request`, `&HeaderMap`, `State<T>`, `Query<T>` and `Json<T>` do"
)]
pub trait FromRequest<'r>: Sized {
    /// What is sent instead when extraction fails: [`Rejection`] for the
    /// built-in extractors, [`Infallible`] for those that cannot fail, or
    /// any [`IntoResponse`] type (such as `Response` or
    /// `(StatusCode, &'static str)`).
    type Rejection: IntoResponse;

    /// Builds the value from the request.
    ///
    /// # Errors
    /// The rejection, sent as the response instead of calling the route
    /// function (such as 400 for a malformed body).
    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Self::Rejection>;

    /// Declares what the extractor needs from the server (its state types).
    /// The default declares nothing.
    fn requirements(needs: &mut Requirements) {
        let _ = needs;
    }
}

/// What an extractor can read: the request, the matched route and the
/// server's shared state.
pub struct RequestContext<'r> {
    pub(crate) request: &'r Request,
    pub(crate) params: &'r Params<'r>,
    pub(crate) states: &'r States,
    pub(crate) matched_path: &'r str,
}

impl<'r> RequestContext<'r> {
    /// The request.
    pub fn request(&self) -> &'r Request {
        self.request
    }

    /// The pattern of the route that matched, such as `/users/{id}`, with
    /// the prefix of its [`Scope`](crate::routing::Scope) (`/api/v1/users/{id}`);
    /// useful as a metrics label. Empty in a [`#[fallback]`](crate::fallback).
    pub fn matched_path(&self) -> &'r str {
        self.matched_path
    }

    /// The state of type `T` registered with
    /// [`Builder::state`](crate::Builder::state), if there is one.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<&'r T> {
        self.states.get::<T>()?.downcast_ref()
    }
}

impl fmt::Debug for RequestContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("request", self.request)
            .field("matched_path", &self.matched_path)
            .finish_non_exhaustive()
    }
}

/// What a route's extractors need, gathered by [`FromRequest::requirements`]
/// and checked at [`Builder::build`](crate::Builder::build).
#[derive(Debug, Default)]
pub struct Requirements {
    pub(crate) states: Vec<(TypeId, &'static str)>,
}

impl Requirements {
    /// Declares that the extractor reads the state of type `T`.
    pub fn state<T: Send + Sync + 'static>(&mut self) {
        self.states
            .push((TypeId::of::<T>(), std::any::type_name::<T>()));
    }
}

impl<'r> FromRequest<'r> for &'r Request {
    type Rejection = Infallible;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Infallible> {
        Ok(cx.request)
    }
}

/// The decoded request body, shared with the request rather than copied
/// (see [`Request::body_bytes`]).
impl<'r> FromRequest<'r> for bytes::Bytes {
    type Rejection = Infallible;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Infallible> {
        Ok(cx.request.body_bytes())
    }
}

/// The request's header fields.
impl<'r> FromRequest<'r> for &'r HeaderMap {
    type Rejection = Infallible;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Infallible> {
        Ok(cx.request.headers())
    }
}

/// The request method (useful in a route that answers several, or `HEAD`).
impl<'r> FromRequest<'r> for &'r Method {
    type Rejection = Infallible;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Infallible> {
        Ok(cx.request.method())
    }
}

/// `None` when the inner extractor fails, instead of its rejection. The
/// inner extractor's requirements are not enforced, so `Option<State<T>>`
/// works whether or not a `T` was registered.
impl<'r, T: FromRequest<'r>> FromRequest<'r> for Option<T> {
    type Rejection = Infallible;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Infallible> {
        Ok(T::from_request(cx).ok())
    }
}

/// `Deref` and `DerefMut` to the wrapped value, for the serde extractors.
#[cfg(feature = "json")]
macro_rules! deref_wrapper {
    ($($name:ident),*) => {$(
                impl<T> std::ops::Deref for $name<T> {
            type Target = T;

            fn deref(&self) -> &T {
                &self.0
            }
        }

                impl<T> std::ops::DerefMut for $name<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.0
            }
        }
    )*};
}
#[cfg(feature = "json")]
use deref_wrapper;
