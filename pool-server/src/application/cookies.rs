//! Cookies: a route takes a jar as an argument to read the request's
//! cookies, and returns it with its answer, as `(jar, answer)`, to send what
//! it added or removed as `Set-Cookie` fields.
//!
//! - [`CookieJar`]: cookies as the client sent them.
//! - [`SignedCookieJar`]: readable by the client but not forgeable: a cookie
//!   whose signature does not verify is absent.
//! - [`PrivateCookieJar`]: encrypted and authenticated; the client can
//!   neither read nor change them.
//!
//! The signed and private jars need a [`Key`], registered once with
//! [`Builder::state`](crate::Builder::state): [`Key::generate`] for a key
//! that lasts as long as the process (every cookie it signed is invalid
//! after a restart), or `Key::try_from(bytes)` with 64 secret random bytes
//! kept elsewhere, so cookies outlive restarts and are valid on every
//! replica. A route taking such a jar while no `Key` is registered makes
//! [`build`](crate::Builder::build) fail.
//!
//! The [`cookie`] crate does the parsing, signing and encryption; its
//! [`Cookie`], [`Key`] and [`SameSite`] are re-exported here, and the crate
//! itself as [`cookies::cookie`](cookie) (for `cookie::time::Duration`, the
//! type of [`Cookie::set_max_age`]).
//!
//! # Defaults
//!
//! A cookie that a jar adds or removes gets these attributes unless it sets
//! them itself:
//!
//! | attribute | default | why | to override |
//! |---|---|---|---|
//! | `HttpOnly` | on | page scripts (and injected ones) cannot read it | `.http_only(false)` |
//! | `SameSite` | `Lax` | not sent with cross-site subrequests and form posts (CSRF) | `.same_site(SameSite::Strict)` or `None` |
//! | `Path` | `/` | valid for the whole site, whatever path set it | `.path("/admin")` |
//! | `Secure` | on when [`Request::scheme`](crate::Request::scheme) is `https` | never sent back over plain HTTP | `.secure(false)` |
//!
//! The scheme is `https` when a trusted proxy said so (see
//! [`Builder::trusted_proxies`](crate::Builder::trusted_proxies)). A
//! cookie with `SameSite=None` and no `Secure` of its own gets `Secure`
//! always, as browsers refuse it otherwise.
//!
//! Names and values are percent-encoded on the way out and decoded on the
//! way in, so a value may hold spaces, `;` or any text. Removing a cookie
//! sends an expired one of the same name, which the browser applies only
//! if path and domain match the cookie it has: remove with the path and
//! domain it was added with (the defaults match the defaults). A malformed
//! `Cookie` field, or a pair in it, is skipped; of two cookies with one
//! name, the first counts (browsers send the one with the longest path
//! first).
//!
//! ```
//! use pool_server::cookies::{Cookie, CookieJar, Key, SignedCookieJar};
//! use pool_server::test::TestClient;
//! use pool_server::{header, route, routes, Server, StatusCode};
//!
//! #[route("GET /")]
//! fn index(jar: CookieJar) -> (CookieJar, String) {
//!     let visits = jar
//!         .get("visits")
//!         .and_then(|cookie| cookie.value().parse::<u32>().ok())
//!         .unwrap_or(0);
//!     let jar = jar.add(Cookie::new("visits", (visits + 1).to_string()));
//!     (jar, format!("visit {}", visits + 1))
//! }
//!
//! #[route("POST /login")]
//! fn login(jar: SignedCookieJar) -> (SignedCookieJar, StatusCode) {
//!     // The client can read "alice" but cannot change it.
//!     (jar.add(Cookie::new("user", "alice")), StatusCode::NO_CONTENT)
//! }
//!
//! #[route("GET /me")]
//! fn me(jar: SignedCookieJar) -> Result<String, StatusCode> {
//!     let user = jar.get("user").ok_or(StatusCode::UNAUTHORIZED)?;
//!     Ok(format!("hello {}", user.value()))
//! }
//!
//! #[route("POST /logout")]
//! fn logout(jar: SignedCookieJar) -> SignedCookieJar {
//!     jar.remove("user")
//! }
//!
//! let app = Server::builder()
//!     .state(Key::generate())
//!     .routes(routes![index, login, me, logout]);
//! let client = TestClient::new(app).unwrap();
//!
//! let first = client.get("/").send();
//! assert_eq!(first.text(), "visit 1");
//! assert_eq!(
//!     first.header(header::SET_COOKIE),
//!     Some("visits=1; HttpOnly; SameSite=Lax; Path=/")
//! );
//! let second = client.get("/").header(header::COOKIE, "visits=1").send();
//! assert_eq!(second.text(), "visit 2");
//!
//! let login = client.post("/login").send();
//! let set_cookie = login.header(header::SET_COOKIE).unwrap();
//! let user = set_cookie.split(';').next().unwrap(); // "user=<signature>alice"
//! let me = client.get("/me").header(header::COOKIE, user).send();
//! assert_eq!(me.text(), "hello alice");
//! let forged = user.replace("alice", "admin");
//! let me = client.get("/me").header(header::COOKIE, forged).send();
//! assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
//!
//! // Without a `Key` the routes that need one cannot be built.
//! let missing = TestClient::new(Server::builder().routes(routes![me]));
//! assert!(missing.unwrap_err().to_string().contains("needs state `Key`"));
//! ```
//!
//! Middleware, and handlers that take a `&Request`, make a jar with
//! [`CookieJar::new`], [`SignedCookieJar::new`] or [`PrivateCookieJar::new`]
//! and apply it with `(jar, response).into_response()`.

use http::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};

pub use cookie;
pub use cookie::{Cookie, Key, SameSite};

use super::extract::{FromRequest, Rejection, RequestContext, Requirements, State};
use super::into_response::IntoResponse;
use crate::request::Request;
use crate::response::Response;

/// The request's cookies, and those to set or remove with the response.
///
/// As an argument, it holds the cookies of the request's `Cookie` fields.
/// Returned with the answer, as `(jar, answer)` or alone (an empty 200), it
/// adds a `Set-Cookie` field for every cookie added or removed. Adding and
/// removing take the jar and return it, so a route can end with
/// `(jar.add(cookie), answer)`. See the [module docs](self) for the
/// attributes a cookie gets by default.
#[derive(Debug, Clone)]
pub struct CookieJar {
    jar: cookie::CookieJar,
    https: bool,
}

impl CookieJar {
    /// The cookies of `req`, for middleware and handlers that take the
    /// request itself; a route takes a `CookieJar` argument instead.
    pub fn new(req: &Request) -> CookieJar {
        CookieJar {
            jar: request_cookies(req.headers()),
            https: req.scheme() == "https",
        }
    }

    /// The cookie named `name`: as the request sent it, or as added since.
    pub fn get(&self, name: &str) -> Option<&Cookie<'static>> {
        self.jar.get(name)
    }

    /// Every cookie: those of the request, less those removed, and those
    /// added.
    pub fn iter(&self) -> impl Iterator<Item = &Cookie<'static>> {
        self.jar.iter()
    }

    /// Adds `cookie` (a [`Cookie`], or a `(name, value)` pair), with the
    /// default attributes it does not set itself, replacing any of that
    /// name.
    #[must_use = "the jar must be returned with the response for the cookie to be set"]
    // The name users know from axum-extra; `+` on a jar would read oddly.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, cookie: impl Into<Cookie<'static>>) -> CookieJar {
        self.jar.add(with_defaults(cookie.into(), self.https));
        self
    }

    /// Removes the cookie named as `cookie` (a name, or a [`Cookie`] with
    /// the path and domain it was added with): the response tells the
    /// client to delete it.
    #[must_use = "the jar must be returned with the response for the cookie to be removed"]
    pub fn remove(mut self, cookie: impl Into<Cookie<'static>>) -> CookieJar {
        remove(&mut self.jar, cookie.into(), self.https);
        self
    }
}

impl<'r> FromRequest<'r> for CookieJar {
    type Rejection = std::convert::Infallible;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Self::Rejection> {
        Ok(CookieJar::new(cx.request()))
    }
}

/// Cookies signed with the server's [`Key`] (HMAC-SHA256): the client can
/// read their values but not change them. [`get`](Self::get) returns a
/// cookie only when its signature verifies, with the signature taken off;
/// [`add`](Self::add) signs. A tampered cookie is simply absent.
///
/// The signature covers the value, not the name (the `cookie` crate's
/// format, which axum-extra and Rocket share): a client can present a
/// value signed for one name under another. Where clients choose the value
/// of one signed cookie (a preference) while another's is trusted (a user
/// id), use a [`PrivateCookieJar`], whose encryption binds the name, or put
/// the name in the value.
///
/// As an argument, it reads the `Key` registered with
/// [`Builder::state`](crate::Builder::state), and
/// [`build`](crate::Builder::build) fails when there is none. Otherwise it
/// works as [`CookieJar`] does, defaults included.
#[derive(Debug, Clone)]
pub struct SignedCookieJar {
    jar: cookie::CookieJar,
    key: Key,
    https: bool,
}

impl SignedCookieJar {
    /// The cookies of `req`, verified with `key`, for middleware and
    /// handlers that take the request itself.
    pub fn new(req: &Request, key: Key) -> SignedCookieJar {
        SignedCookieJar {
            jar: request_cookies(req.headers()),
            key,
            https: req.scheme() == "https",
        }
    }

    /// The cookie named `name`, if its signature verifies, with its value
    /// as it was signed.
    pub fn get(&self, name: &str) -> Option<Cookie<'static>> {
        self.jar.signed(&self.key).get(name)
    }

    /// Every cookie whose signature verifies.
    pub fn iter(&self) -> impl Iterator<Item = Cookie<'static>> + '_ {
        self.jar.iter().filter_map(|raw| self.get(raw.name()))
    }

    /// Signs and adds `cookie`, with the default attributes it does not set
    /// itself.
    #[must_use = "the jar must be returned with the response for the cookie to be set"]
    // The name users know from axum-extra; `+` on a jar would read oddly.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, cookie: impl Into<Cookie<'static>>) -> SignedCookieJar {
        let cookie = with_defaults(cookie.into(), self.https);
        self.jar.signed_mut(&self.key).add(cookie);
        self
    }

    /// Removes the cookie named as `cookie`, as [`CookieJar::remove`]
    /// does; it need not verify.
    #[must_use = "the jar must be returned with the response for the cookie to be removed"]
    pub fn remove(mut self, cookie: impl Into<Cookie<'static>>) -> SignedCookieJar {
        remove(&mut self.jar, cookie.into(), self.https);
        self
    }
}

impl<'r> FromRequest<'r> for SignedCookieJar {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        let State(key) = State::<Key>::from_request(cx)?;
        Ok(SignedCookieJar::new(cx.request(), Key::clone(&key)))
    }

    fn requirements(needs: &mut Requirements) {
        needs.state::<Key>();
    }
}

/// Cookies encrypted with the server's [`Key`] (AES-256-GCM, the name
/// bound to the value): the client can neither read nor change them.
/// [`get`](Self::get) returns a cookie only when it decrypts and
/// authenticates, with its value in clear; [`add`](Self::add) encrypts. A
/// tampered cookie is simply absent.
///
/// As an argument, it reads the `Key` registered with
/// [`Builder::state`](crate::Builder::state), and
/// [`build`](crate::Builder::build) fails when there is none. Otherwise it
/// works as [`CookieJar`] does, defaults included. Encryption makes a value
/// about a third longer plus some 40 bytes (nonce, tag, base64 and its
/// percent-encoding); browsers keep cookies of up to about 4 KB.
#[derive(Debug, Clone)]
pub struct PrivateCookieJar {
    jar: cookie::CookieJar,
    key: Key,
    https: bool,
}

impl PrivateCookieJar {
    /// The cookies of `req`, decrypted with `key`, for middleware and
    /// handlers that take the request itself.
    pub fn new(req: &Request, key: Key) -> PrivateCookieJar {
        PrivateCookieJar {
            jar: request_cookies(req.headers()),
            key,
            https: req.scheme() == "https",
        }
    }

    /// The cookie named `name`, if it decrypts, with its value in clear.
    pub fn get(&self, name: &str) -> Option<Cookie<'static>> {
        self.jar.private(&self.key).get(name)
    }

    /// Every cookie that decrypts.
    pub fn iter(&self) -> impl Iterator<Item = Cookie<'static>> + '_ {
        self.jar.iter().filter_map(|raw| self.get(raw.name()))
    }

    /// Encrypts and adds `cookie`, with the default attributes it does not
    /// set itself.
    #[must_use = "the jar must be returned with the response for the cookie to be set"]
    // The name users know from axum-extra; `+` on a jar would read oddly.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, cookie: impl Into<Cookie<'static>>) -> PrivateCookieJar {
        let cookie = with_defaults(cookie.into(), self.https);
        self.jar.private_mut(&self.key).add(cookie);
        self
    }

    /// Removes the cookie named as `cookie`, as [`CookieJar::remove`]
    /// does; it need not decrypt.
    #[must_use = "the jar must be returned with the response for the cookie to be removed"]
    pub fn remove(mut self, cookie: impl Into<Cookie<'static>>) -> PrivateCookieJar {
        remove(&mut self.jar, cookie.into(), self.https);
        self
    }

    /// The length of `name=value` of cookie `name` as it will be sent,
    /// encrypted and encoded: what a browser's size limit counts.
    #[cfg(feature = "json")]
    pub(crate) fn sent_len(&self, name: &str) -> Option<usize> {
        let raw = self.jar.delta().find(|cookie| cookie.name() == name)?;
        Some(raw.encoded().stripped().to_string().len())
    }
}

impl<'r> FromRequest<'r> for PrivateCookieJar {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        let State(key) = State::<Key>::from_request(cx)?;
        Ok(PrivateCookieJar::new(cx.request(), Key::clone(&key)))
    }

    fn requirements(needs: &mut Requirements) {
        needs.state::<Key>();
    }
}

/// The jars as return values: `(jar, answer)` is the answer's response with
/// a `Set-Cookie` field appended for each cookie added or removed; the jar
/// alone is an empty 200 with them.
macro_rules! into_response {
    ($($jar:ident),*) => {$(
        impl IntoResponse for $jar {
            fn into_response(self) -> Response {
                (self, ()).into_response()
            }
        }

        impl<T: IntoResponse> IntoResponse for ($jar, T) {
            fn into_response(self) -> Response {
                let (jar, answer) = self;
                let mut response = answer.into_response();
                set_cookies(&jar.jar, response.headers_mut());
                response
            }
        }
    )*};
}

into_response!(CookieJar, SignedCookieJar, PrivateCookieJar);

/// The cookies of every `Cookie` field of `headers`, as the jar's
/// originals. Only the first of a name is kept; what does not parse is
/// skipped.
fn request_cookies(headers: &HeaderMap) -> cookie::CookieJar {
    let mut jar = cookie::CookieJar::new();
    let fields = headers.get_all(COOKIE).iter();
    for text in fields.filter_map(|value| value.to_str().ok()) {
        for cookie in Cookie::split_parse_encoded(text).flatten() {
            if jar.get(cookie.name()).is_none() {
                jar.add_original(cookie.into_owned());
            }
        }
    }
    jar
}

/// `cookie` with the defaults of the module docs for what it leaves unset.
fn with_defaults(mut cookie: Cookie<'static>, https: bool) -> Cookie<'static> {
    if cookie.http_only().is_none() {
        cookie.set_http_only(true);
    }
    if cookie.same_site().is_none() {
        cookie.set_same_site(SameSite::Lax);
    }
    if cookie.path().is_none() {
        cookie.set_path("/");
    }
    // Left unset over HTTP rather than set to false, so that the `cookie`
    // crate still adds the `Secure` that `SameSite=None` requires.
    if https && cookie.secure().is_none() {
        cookie.set_secure(true);
    }
    cookie
}

/// Makes `jar` send a removal cookie for `cookie`, even when the request
/// did not carry it: it may be set for a path this request is not under.
fn remove(jar: &mut cookie::CookieJar, cookie: Cookie<'static>, https: bool) {
    // `cookie::CookieJar` sends a removal only for an original cookie.
    jar.add_original(Cookie::new(cookie.name().to_owned(), ""));
    jar.remove(with_defaults(cookie, https));
}

/// Appends a `Set-Cookie` field to `headers` for each change in `jar`.
fn set_cookies(jar: &cookie::CookieJar, headers: &mut HeaderMap) {
    // The jar keeps its changes in a hash set: sorted by name, the fields
    // come out the same for the same changes, run after run.
    let mut delta: Vec<_> = jar.delta().collect();
    delta.sort_by(|a, b| a.name().cmp(b.name()));
    for cookie in delta {
        match HeaderValue::try_from(cookie.encoded().to_string()) {
            Ok(value) => {
                headers.append(SET_COOKIE, value);
            }
            // Names and values are encoded; a path or domain with control
            // characters is the service's mistake.
            Err(_) => log::error!(
                "cookie `{}` has an attribute that cannot be sent in a header; not set",
                cookie.name()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use http::StatusCode;

    use super::*;

    fn request(cookies: &[&[u8]], https: bool) -> Request {
        let mut req = Request::blank(SocketAddr::from(([127, 0, 0, 1], 40000)));
        for field in cookies {
            let value = HeaderValue::from_bytes(field).unwrap();
            req.headers.append(COOKIE, value);
        }
        if https {
            req.forwarded = Some(([127, 0, 0, 1].into(), Some("https".to_owned())));
        }
        req
    }

    fn set_cookies(response: &Response) -> Vec<&str> {
        let fields = response.headers().get_all(SET_COOKIE).iter();
        fields.map(|value| value.to_str().unwrap()).collect()
    }

    #[test]
    fn every_cookie_field_is_read_and_garbage_skipped() {
        let req = request(
            &[
                b"a=1; b=two%20words",
                b"garbage; =nameless; ;; c=3",
                b"a=shadowed",
                b"d=\xff",
                b"e=%ZZ; f=%FF",
            ],
            false,
        );
        let jar = CookieJar::new(&req);
        let value = |name| jar.get(name).map(|cookie| cookie.value().to_owned());
        assert_eq!(
            value("a").as_deref(),
            Some("1"),
            "the first of a name counts"
        );
        assert_eq!(value("b").as_deref(), Some("two words"));
        assert_eq!(value("c").as_deref(), Some("3"));
        // A field that is not visible ASCII, and a value that is not UTF-8
        // once decoded, are absent; a stray `%` is kept as it is.
        assert_eq!(value("d"), None);
        assert_eq!(value("e").as_deref(), Some("%ZZ"));
        assert_eq!(value("f"), None);
        let mut names: Vec<_> = jar.iter().map(|cookie| cookie.name()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b", "c", "e"]);
    }

    #[test]
    fn added_cookies_get_safe_defaults_unless_set() {
        let jar = CookieJar::new(&request(&[], false))
            .add(("plain", "a b;c"))
            .add(
                Cookie::build(("custom", "v"))
                    .http_only(false)
                    .same_site(SameSite::Strict)
                    .path("/admin")
                    .domain("example.com"),
            )
            .add(Cookie::build(("cross", "v")).same_site(SameSite::None));
        let response = (jar, "body").into_response();
        let mut fields = set_cookies(&response);
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "cross=v; HttpOnly; SameSite=None; Secure; Path=/",
                "custom=v; SameSite=Strict; Path=/admin; Domain=example.com",
                "plain=a%20b%3Bc; HttpOnly; SameSite=Lax; Path=/",
            ]
        );
        assert_eq!(response.body(), b"body");
    }

    #[test]
    fn secure_follows_the_scheme_unless_set() {
        let https = CookieJar::new(&request(&[], true))
            .add(("a", "1"))
            .add(Cookie::build(("b", "2")).secure(false));
        let mut fields = set_cookies(&https.into_response()).join("\n");
        assert_eq!(
            fields,
            "a=1; HttpOnly; SameSite=Lax; Secure; Path=/\nb=2; HttpOnly; SameSite=Lax; Path=/"
        );
        fields = set_cookies(
            &CookieJar::new(&request(&[], false))
                .add(("a", "1"))
                .into_response(),
        )
        .join("\n");
        assert!(!fields.contains("Secure"), "{fields}");
    }

    #[test]
    fn removal_expires_the_cookie_with_its_path_and_domain() {
        let jar = CookieJar::new(&request(&[b"a=1; b=2"], true))
            .remove("a")
            .remove(Cookie::build("b").path("/admin").domain("example.com"))
            // Not sent with this request: it may live under another path.
            .remove("c");
        assert!(jar.get("a").is_none());
        let response = jar.into_response();
        let fields = set_cookies(&response);
        assert_eq!(fields.len(), 3, "{fields:?}");
        for (field, name, attributes) in [
            (
                "a",
                "a=;",
                "; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0; Expires=",
            ),
            (
                "b",
                "b=;",
                "; Path=/admin; Domain=example.com; Max-Age=0; Expires=",
            ),
            ("c", "c=;", "; Path=/; Max-Age=0; Expires="),
        ] {
            let sent = fields
                .iter()
                .find(|sent| sent.starts_with(name))
                .unwrap_or_else(|| panic!("no removal of {field} in {fields:?}"));
            assert!(sent.contains(attributes), "{sent}");
        }
    }

    #[test]
    fn a_jar_adds_to_the_answers_cookies_and_keeps_its_status() {
        let answer = Response::text("made")
            .with_status(StatusCode::CREATED)
            .append_header(SET_COOKIE, "earlier=1");
        let response =
            (CookieJar::new(&request(&[], false)).add(("a", "1")), answer).into_response();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(
            set_cookies(&response),
            ["earlier=1", "a=1; HttpOnly; SameSite=Lax; Path=/"]
        );
        let unchanged = (CookieJar::new(&request(&[b"a=1"], false)), ()).into_response();
        assert!(set_cookies(&unchanged).is_empty());
    }

    /// The value of the cookie a jar sends, as the next request carries it.
    fn sent(response: &Response) -> String {
        let field = set_cookies(response)[0];
        field.split(';').next().unwrap().to_owned()
    }

    #[test]
    fn a_signed_cookie_reads_back_only_untampered() {
        let key = Key::generate();
        let jar = SignedCookieJar::new(&request(&[], false), key.clone()).add(("user", "alice"));
        assert_eq!(jar.get("user").unwrap().value(), "alice");
        let cookie = sent(&jar.into_response());
        assert!(cookie.ends_with("alice"), "readable: {cookie}");

        let back = SignedCookieJar::new(&request(&[cookie.as_bytes()], false), key.clone());
        assert_eq!(back.get("user").unwrap().value(), "alice");
        assert_eq!(back.iter().count(), 1);

        let forged = cookie.replace("alice", "admin");
        let truncated = cookie.replace("alice", "alic");
        for tampered in [&forged, &truncated, "user=alice", "user="] {
            let jar = SignedCookieJar::new(&request(&[tampered.as_bytes()], false), key.clone());
            assert!(jar.get("user").is_none(), "{tampered}");
            assert_eq!(jar.iter().count(), 0);
        }
        let other_key =
            SignedCookieJar::new(&request(&[cookie.as_bytes()], false), Key::generate());
        assert!(other_key.get("user").is_none());

        // As documented: the signature covers the value, not the name.
        let renamed = cookie.replacen("user", "admin", 1);
        let moved = SignedCookieJar::new(&request(&[renamed.as_bytes()], false), key);
        assert_eq!(moved.get("admin").unwrap().value(), "alice");
    }

    #[test]
    fn a_private_cookie_is_unreadable_and_unforgeable() {
        let key = Key::generate();
        let jar = PrivateCookieJar::new(&request(&[], false), key.clone()).add(("cart", "tea"));
        assert_eq!(
            jar.sent_len("cart"),
            Some(sent(&jar.clone().into_response()).len())
        );
        let cookie = sent(&jar.into_response());
        assert!(!cookie.contains("tea"), "{cookie}");

        let back = PrivateCookieJar::new(&request(&[cookie.as_bytes()], false), key.clone());
        assert_eq!(back.get("cart").unwrap().value(), "tea");
        // The name is authenticated with the value.
        let renamed = cookie.replacen("cart", "user", 1);
        let moved = PrivateCookieJar::new(&request(&[renamed.as_bytes()], false), key.clone());
        assert!(moved.get("user").is_none());
        let plain = PrivateCookieJar::new(&request(&[b"cart=tea"], false), key);
        assert!(plain.get("cart").is_none());
        assert_eq!(plain.iter().count(), 0);
        // It can still be removed, though it does not decrypt.
        let removed = plain.remove("cart").into_response();
        assert!(set_cookies(&removed)[0].starts_with("cart=; "));
    }
}
