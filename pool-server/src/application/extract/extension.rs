//! [`Extension<T>`]: a value that middleware left in the request's
//! extensions, taken by a route as an argument.

use std::ops::Deref;

use http::StatusCode;

use super::{FromRequest, Rejection, RequestContext};

/// A value of type `T` that middleware (or a guard) put in the request's
/// [extensions](crate::Request::extensions_mut), cloned for the route, as
/// axum's `Extension` is. Missing, it is a 500: the middleware that should
/// have set it did not run, a mistake of the service rather than of the
/// client. Take `Option<Extension<T>>` for a value that may be absent.
///
/// ```
/// use pool_server::{route, Extension};
///
/// #[derive(Clone)]
/// struct UserId(u64);
///
/// #[route("GET /me")]
/// fn me(Extension(UserId(id)): Extension<UserId>) -> String {
///     format!("user {id}")
/// }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Extension<T>(pub T);

impl<T> Deref for Extension<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'r, T: Clone + Send + Sync + 'static> FromRequest<'r> for Extension<T> {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        match cx.request().extensions().get::<T>() {
            Some(value) => Ok(Extension(value.clone())),
            None => Err(Rejection::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "missing request extension `{}`: is the middleware that sets it in place?",
                    super::short_type_name(std::any::type_name::<T>())
                ),
            )),
        }
    }
}
