//! [`Json<T>`]: a JSON body, both ways.

use http::StatusCode;

use super::{FromRequest, Rejection, RequestContext};
use crate::application::into_response::IntoResponse;
use crate::response::Response;

/// A JSON body, both ways.
///
/// As an argument, it deserializes the request body with `serde_json`. The
/// request must say `Content-Type: application/json` (or `application/…+json`),
/// else the answer is 415; malformed JSON is 400 and JSON of the wrong shape
/// is 422, each with serde's message.
///
/// As a return value, it serializes `T` into an `application/json` response
/// (500 if serialization fails, which only odd `Serialize` impls do).
///
/// ```
/// use pool_server::{route, Json, StatusCode};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize, Serialize)]
/// struct Item {
///     name: String,
/// }
///
/// #[route("POST /items")]
/// fn create(item: Json<Item>) -> (StatusCode, Json<Item>) {
///     (StatusCode::CREATED, item)
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<'r, T: serde::de::DeserializeOwned> FromRequest<'r> for Json<T> {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        if !is_json(cx.request.header(http::header::CONTENT_TYPE)) {
            return Err(Rejection::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a request with `Content-Type: application/json`",
            ));
        }
        let mut body = serde_json::Deserializer::from_slice(cx.request.body());
        let value = serde_path_to_error::deserialize(&mut body)
            .map_err(|err| json_rejection(err.inner(), &err.path().to_string()))?;
        // Trailing bytes after the value make the body malformed.
        body.end().map_err(|err| json_rejection(&err, ""))?;
        Ok(Json(value))
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_string(&self.0) {
            Ok(body) => Response::json(body),
            Err(err) => {
                log::error!("cannot serialize a JSON response: {err}");
                Response::status_only(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

/// 422 for JSON of the wrong shape, naming the field at `path`; 400 for
/// malformed JSON, where the path says only how far the parser got (`?`
/// inside an object) and would mislead.
fn json_rejection(err: &serde_json::Error, path: &str) -> Rejection {
    match err.classify() {
        serde_json::error::Category::Data if !matches!(path, "" | "." | "?") => {
            let message = format!("invalid JSON body: field `{path}`: {err}");
            Rejection::new(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
        serde_json::error::Category::Data => Rejection::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid JSON body: {err}"),
        ),
        _ => Rejection::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {err}")),
    }
}

/// `application/json`, `application/json; charset=utf-8` or
/// `application/<anything>+json`, in any case.
fn is_json(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() > 5
                && subtype.is_char_boundary(subtype.len() - 5)
                && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json"))
}

super::deref_wrapper!(Json);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_serializes_with_its_content_type() {
        let response = Json(vec![("a", 1)]).into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.body(), br#"[["a",1]]"#);
    }

    #[test]
    fn json_content_types_are_recognised() {
        let cases = [
            (Some("application/json"), true),
            (Some("Application/JSON; charset=utf-8"), true),
            (Some("application/problem+json"), true),
            (Some("application/+json"), false),
            (Some("text/json"), false),
            (Some("application/jsonx"), false),
            (Some("text/plain"), false),
            (None, false),
        ];
        for (content_type, expected) in cases {
            assert_eq!(is_json(content_type), expected, "{content_type:?}");
        }
    }
}
