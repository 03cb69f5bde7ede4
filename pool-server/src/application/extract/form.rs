//! [`Form<T>`]: an HTML form's body, deserialized.

use http::StatusCode;

use super::query::url_encoded;
use super::{FromRequest, Rejection, RequestContext};

/// An `application/x-www-form-urlencoded` body (an HTML form's POST),
/// deserialized with serde. Another content type is 415; a body that does
/// not fit `T` is 422, naming the field at fault.
///
/// ```
/// use pool_server::extract::Form;
/// use pool_server::route;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Login {
///     user: String,
///     password: String,
/// }
///
/// #[route("POST /login")]
/// fn login(Form(form): Form<Login>) -> String {
///     format!("hello {} ({} characters of password)", form.user, form.password.len())
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<'r, T: serde::de::DeserializeOwned> FromRequest<'r> for Form<T> {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        let content_type = cx.request.header(http::header::CONTENT_TYPE).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(Rejection::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a request with `Content-Type: application/x-www-form-urlencoded`",
            ));
        }
        url_encoded(cx.request.body(), "form body").map(Form)
    }
}

super::deref_wrapper!(Form);
