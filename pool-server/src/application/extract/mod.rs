//! Extractors: the arguments of a route function that are not path
//! parameters.
//!
//! Each argument type implements [`FromRequest`]; the code that
//! [`route`](crate::route) generates calls it once per request, in argument
//! order, and answers with the extractor's rejection if one fails.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode};

use super::into_response::IntoResponse;
use super::params::{percent_decode, Params};
use crate::{Request, Response};

mod extension;

pub use extension::Extension;

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
/// use pool_server::{route, FromRequest, RequestContext, StatusCode};
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
    /// the prefix of its [`Scope`](crate::Scope) (`/api/v1/users/{id}`);
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

/// The shared values registered with `Builder::state`, one per type. A short
/// vector: servers have a handful, and a linear scan beats hashing them.
#[derive(Default)]
pub(crate) struct States {
    entries: Vec<StateEntry>,
}

struct StateEntry {
    type_id: TypeId,
    type_name: &'static str,
    value: Arc<dyn Any + Send + Sync>,
}

impl States {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.entries.push(StateEntry {
            type_id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
            value,
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn contains(&self, type_id: TypeId) -> bool {
        self.entries.iter().any(|entry| entry.type_id == type_id)
    }

    /// The name of a type registered more than once, if any.
    pub(crate) fn duplicate(&self) -> Option<&'static str> {
        self.entries.iter().enumerate().find_map(|(i, entry)| {
            self.entries[..i]
                .iter()
                .any(|earlier| earlier.type_id == entry.type_id)
                .then_some(entry.type_name)
        })
    }

    fn get<T: 'static>(&self) -> Option<&Arc<dyn Any + Send + Sync>> {
        let type_id = TypeId::of::<T>();
        self.entries
            .iter()
            .find(|entry| entry.type_id == type_id)
            .map(|entry| &entry.value)
    }
}

impl fmt::Debug for States {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|entry| entry.type_name))
            .finish()
    }
}

/// Shared state of type `T`, registered once with
/// [`Builder::state`](crate::Builder::state) and handed to every route that
/// takes a `State<T>`. Wrap mutable state in a `Mutex` or an atomic.
///
/// A route that takes `State<T>` while no `T` is registered makes
/// [`Builder::build`](crate::Builder::build) fail. Take `Option<State<T>>`
/// for state that may be absent.
///
/// `State<T>` dereferences to `T`, and no further: for a newtype such as
/// `struct UploadDir(PathBuf)`, write `dir.0.join(..)`, or implement
/// `Deref` for the newtype.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use pool_server::{route, State};
///
/// #[route("POST /hits")]
/// fn hit(hits: State<AtomicU64>) -> String {
///     format!("hit {}", hits.fetch_add(1, Ordering::Relaxed) + 1)
/// }
/// ```
pub struct State<T>(pub Arc<T>);

impl<'r, T: Send + Sync + 'static> FromRequest<'r> for State<T> {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        match cx
            .states
            .get::<T>()
            .map(|value| Arc::clone(value).downcast::<T>())
        {
            Some(Ok(value)) => Ok(State(value)),
            // `build` checked the requirements, so this is a bug, not a
            // client error; answer rather than panic.
            _ => {
                let message = format!(
                    "state `{}` is not registered",
                    short_type_name(std::any::type_name::<T>())
                );
                log::error!("{message}");
                Err(Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, message))
            }
        }
    }

    fn requirements(needs: &mut Requirements) {
        needs.state::<T>();
    }
}

impl<T> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State(Arc::clone(&self.0))
    }
}

impl<T: fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
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

/// The query string, deserialized with `serde_urlencoded`: a malformed one
/// is answered with 400 and serde's message. A request without a query
/// deserializes from the empty string, so optional fields still work.
///
/// ```
/// use pool_server::{route, Query};
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
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

#[cfg(feature = "json")]
impl<'r, T: serde::de::DeserializeOwned> FromRequest<'r> for Query<T> {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        let query = cx.request.query().unwrap_or("");
        url_encoded(query.as_bytes(), "query string").map(Query)
    }
}

/// An `application/x-www-form-urlencoded` body (an HTML form's POST),
/// deserialized with serde. Another content type is 415; a body that does
/// not fit `T` is 422, naming the field at fault.
///
/// ```
/// use pool_server::{route, Form};
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
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

#[cfg(feature = "json")]
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

/// Deserializes URL-encoded pairs; the rejection names the field at fault.
#[cfg(feature = "json")]
fn url_encoded<T: serde::de::DeserializeOwned>(input: &[u8], what: &str) -> Result<T, Rejection> {
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
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

#[cfg(feature = "json")]
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

#[cfg(feature = "json")]
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
#[cfg(feature = "json")]
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
#[cfg(feature = "json")]
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

macro_rules! deref_wrapper {
    ($($name:ident),*) => {$(
        #[cfg(feature = "json")]
        impl<T> Deref for $name<T> {
            type Target = T;

            fn deref(&self) -> &T {
                &self.0
            }
        }

        #[cfg(feature = "json")]
        impl<T> std::ops::DerefMut for $name<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.0
            }
        }
    )*};
}

deref_wrapper!(Query, Json, Form);

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    #[test]
    fn type_names_read_as_written() {
        let cases = [
            ("core::sync::atomic::AtomicU64", "AtomicU64"),
            (
                "std::sync::Mutex<alloc::vec::Vec<pool_server::sse::EventSender>>",
                "Mutex<Vec<EventSender>>",
            ),
            ("(u8, &str)", "(u8, &str)"),
            ("[u8; 4]", "[u8; 4]"),
        ];
        for (full, short) in cases {
            assert_eq!(short_type_name(full), short, "{full}");
        }
    }

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
/// A type's name as a user writes it: `Mutex<Vec<AtomicU64>>` rather than
/// `std::sync::Mutex<alloc::vec::Vec<core::sync::atomic::AtomicU64>>`,
/// for messages.
pub(crate) fn short_type_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut token = String::new();
    for c in name.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            token.push(c);
            continue;
        }
        out.push_str(token.rsplit("::").next().unwrap_or(&token));
        token.clear();
        if c != ' ' || !out.is_empty() {
            out.push(c);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// The value of path parameter `index` (named `name`, of type `type_name`
/// in the route function), percent-decoded and parsed. Called by generated
/// code; a bad value is answered with 400 and a message naming the
/// parameter.
#[doc(hidden)]
pub fn path_param<T: FromStr>(
    cx: &RequestContext<'_>,
    index: usize,
    name: &str,
    type_name: &str,
) -> Result<T, Rejection> {
    let raw = cx.params.get(index).unwrap_or_default();
    let Some(decoded) = percent_decode(raw) else {
        return Err(bad_request(format!(
            "invalid path parameter `{name}`: not UTF-8 once percent-decoded"
        )));
    };
    decoded.parse().map_err(|_| {
        bad_request(format!(
            "invalid path parameter `{name}`: expected {type_name}"
        ))
    })
}

fn bad_request(message: String) -> Rejection {
    Rejection::new(StatusCode::BAD_REQUEST, message)
}
