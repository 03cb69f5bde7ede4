//! [`Query<T>`]: the query string, deserialized.

use http::StatusCode;

use super::{FromRequest, Rejection, RequestContext};

/// The query string, deserialized with `serde_urlencoded`: a malformed one
/// is answered with 400 and serde's message. A request without a query
/// deserializes from the empty string, so optional fields still work.
///
/// ```
/// use pool_server::extract::Query;
/// use pool_server::route;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Page {
///     #[serde(default)]
///     offset: u32,
///     limit: Option<u32>,
/// }
///
/// #[route("GET /items")]
/// fn items(page: Query<Page>) -> String {
///     format!("from {} take {}", page.offset, page.limit.unwrap_or(10))
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<'r, T: serde::de::DeserializeOwned> FromRequest<'r> for Query<T> {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        let query = cx.request.query().unwrap_or("");
        url_encoded(query.as_bytes(), "query string").map(Query)
    }
}

/// Deserializes URL-encoded pairs; the rejection names the field at fault.
pub(super) fn url_encoded<T: serde::de::DeserializeOwned>(
    input: &[u8],
    what: &str,
) -> Result<T, Rejection> {
    let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(input));
    serde_path_to_error::deserialize(pairs).map_err(|err| {
        let field = err.path().to_string();
        let status = match what {
            "query string" => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let message = match field.as_str() {
            "." | "" => format!("invalid {what}: {}", err.inner()),
            _ => format!("invalid {what}: field `{field}`: {}", err.inner()),
        };
        Rejection::new(status, message)
    })
}

super::deref_wrapper!(Query);
