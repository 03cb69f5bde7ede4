//! Sessions kept in an encrypted cookie: the [`Sessions`] middleware reads
//! the session from the request's cookie, a route takes it as a
//! [`Session`] argument to read and change serde values, and the
//! middleware sends the session back, in a [private
//! cookie](crate::cookies::PrivateCookieJar), when it changed.
//!
//! The whole session travels with each request, so it suits small values
//! (a user id, a cart of a few items, a flash message): an encrypted
//! session cookie larger than the limit ([`Sessions::max_cookie_size`],
//! about 4 KB as browsers allow) is not sent, and the client keeps the
//! session it had. A session expires [`Sessions::max_age`] after it began
//! (or was [rotated](Session::rotate)), by a time written inside the
//! encrypted cookie: an expired cookie replayed by a client is an empty
//! session. Until then a copy of the cookie stays valid, even after
//! [`Session::destroy`]; a session that must be revocable keeps its state
//! on the server (below). Two requests that change one session at once
//! each send their own version, and the client keeps the last.
//!
//! ```
//! use pool_server::cookies::Key;
//! use pool_server::extract::Form;
//! use pool_server::sessions::{Session, Sessions};
//! use pool_server::test::TestClient;
//! use pool_server::{header, route, routes, Server, StatusCode};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Login {
//!     user: String,
//! }
//!
//! #[route("POST /login")]
//! fn login(session: Session, Form(form): Form<Login>) -> StatusCode {
//!     // A new id when the user changes, so an id seen before login is
//!     // worth nothing after.
//!     session.rotate();
//!     session.insert("user", &form.user).expect("a string serializes");
//!     StatusCode::NO_CONTENT
//! }
//!
//! #[route("GET /me")]
//! fn me(session: Session) -> Result<String, StatusCode> {
//!     let user: String = session.get("user").ok_or(StatusCode::UNAUTHORIZED)?;
//!     Ok(format!("hello {user}"))
//! }
//!
//! #[route("POST /logout")]
//! fn logout(session: Session) -> StatusCode {
//!     session.destroy();
//!     StatusCode::NO_CONTENT
//! }
//!
//! let app = Server::builder()
//!     .wrap(Sessions::new(Key::generate()))
//!     .routes(routes![login, me, logout]);
//! let client = TestClient::new(app).unwrap();
//!
//! let login = client
//!     .post("/login")
//!     .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
//!     .body("user=alice")
//!     .send();
//! let set_cookie = login.header(header::SET_COOKIE).unwrap();
//! assert!(set_cookie.starts_with("session="));
//! assert!(!set_cookie.contains("alice")); // encrypted
//!
//! let cookie = set_cookie.split(';').next().unwrap();
//! let me = client.get("/me").header(header::COOKIE, cookie).send();
//! assert_eq!(me.text(), "hello alice");
//! // Unchanged, so not sent again.
//! assert_eq!(me.header(header::SET_COOKIE), None);
//!
//! let logout = client.post("/logout").header(header::COOKIE, cookie).send();
//! assert!(logout.header(header::SET_COOKIE).unwrap().contains("Max-Age=0"));
//! ```
//!
//! # State on the server
//!
//! To keep large or revocable state, store it in your own state under the
//! session's [`id`](Session::id): the cookie then carries only the id (and
//! the expiry). The id is random, and the encryption keeps clients from
//! choosing or changing it. Your store forgets entries by its own rules:
//! the cookie's expiry does not reach it.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Mutex;
//!
//! use pool_server::cookies::Key;
//! use pool_server::extract::Form;
//! use pool_server::sessions::{Session, Sessions};
//! use pool_server::{route, routes, Server, State};
//!
//! /// Each session's cart, by session id.
//! type Carts = Mutex<HashMap<String, Vec<String>>>;
//!
//! #[route("POST /cart/{item}")]
//! fn add(item: String, session: Session, carts: State<Carts>) -> String {
//!     let mut carts = carts.lock().unwrap();
//!     let cart = carts.entry(session.id()).or_default();
//!     cart.push(item);
//!     format!("{} items", cart.len())
//! }
//!
//! #[route("POST /checkout")]
//! fn checkout(session: Session, carts: State<Carts>) -> String {
//!     let cart = carts.lock().unwrap().remove(&session.id());
//!     session.destroy();
//!     format!("bought {:?}", cart.unwrap_or_default())
//! }
//!
//! let app = Server::builder()
//!     .state(Carts::default())
//!     .wrap(Sessions::new(Key::generate()))
//!     .routes(routes![add, checkout]);
//! # let client = pool_server::test::TestClient::new(app).unwrap();
//! # let first = client.post("/cart/tea").send();
//! # assert_eq!(first.text(), "1 items");
//! # let cookie = first.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
//! # let second = client.post("/cart/milk").header("cookie", &*cookie).send();
//! # assert_eq!(second.text(), "2 items");
//! # let done = client.post("/checkout").header("cookie", &*cookie).send();
//! # assert_eq!(done.text(), r#"bought ["tea", "milk"]"#);
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::cookies::{cookie, Cookie, Key, PrivateCookieJar};
use super::extract::{FromRequest, Rejection, RequestContext};
use super::into_response::IntoResponse;
use super::middleware::{Middleware, Next};
use crate::request::Request;
use crate::response::Response;

/// The middleware that loads and saves sessions, added with
/// [`Builder::wrap`](crate::Builder::wrap) (or
/// [`Scope::wrap`](crate::routing::Scope::wrap)); routes take the session as a
/// [`Session`] argument.
///
/// It holds the [`Key`] that encrypts the session cookie: generate one
/// with [`Key::generate`] (sessions then end when the process does), or
/// load 64 secret random bytes with `Key::try_from` so that sessions
/// outlive restarts. The cookie has the defaults of a
/// [private cookie](crate::cookies): `HttpOnly`, `SameSite=Lax`, `Path=/`,
/// and `Secure` over HTTPS, plus a `Max-Age` that ends with the session.
#[derive(Debug, Clone)]
pub struct Sessions {
    key: Key,
    cookie_name: String,
    max_age: Duration,
    max_cookie_size: usize,
}

impl Sessions {
    /// Sessions in the cookie `session`, encrypted with `key`, that last
    /// 24 hours, in cookies of at most 4096 bytes.
    pub fn new(key: Key) -> Sessions {
        Sessions {
            key,
            cookie_name: "session".to_owned(),
            max_age: Duration::from_secs(24 * 60 * 60),
            max_cookie_size: 4096,
        }
    }

    /// The name of the session cookie (by default `session`).
    #[must_use]
    pub fn cookie_name(mut self, name: impl Into<String>) -> Sessions {
        self.cookie_name = name.into();
        self
    }

    /// How long a session lasts from its start, or from its last
    /// [`rotate`](Session::rotate), whether or not it is used (by default
    /// 24 hours). Changing a session does not extend it.
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Sessions {
        self.max_age = max_age;
        self
    }

    /// The largest session cookie sent, counting its encrypted and encoded
    /// `name=value` (by default 4096 bytes, what browsers keep). A larger
    /// session is not sent: an error is logged and the client keeps its
    /// previous session cookie.
    #[must_use]
    pub fn max_cookie_size(mut self, bytes: usize) -> Sessions {
        self.max_cookie_size = bytes;
        self
    }

    /// The response with the session's cookie, if it must be sent.
    fn save(&self, session: &Session, jar: PrivateCookieJar, response: Response) -> Response {
        let mut state = session.lock();
        match state.write {
            Write::Nothing => response,
            Write::Remove => {
                (jar.remove(Cookie::from(self.cookie_name.clone())), response).into_response()
            }
            Write::Save => {
                let now = unix_now();
                let id = state.id.get_or_insert_with(new_id).clone();
                let expires = *state
                    .expires
                    .get_or_insert(now.saturating_add(self.max_age.as_secs()));
                let payload = serde_json::json!({"id": id, "exp": expires, "data": state.data});
                let max_age = i64::try_from(expires.saturating_sub(now)).unwrap_or(i64::MAX);
                let cookie = Cookie::build((self.cookie_name.clone(), payload.to_string()))
                    .max_age(cookie::time::Duration::seconds(max_age));
                let jar = jar.add(cookie);
                match jar.sent_len(&self.cookie_name) {
                    Some(len) if len <= self.max_cookie_size => (jar, response).into_response(),
                    len => {
                        log::error!(
                            "a session cookie of {} bytes exceeds the limit of {}; not sent, \
                             the client keeps its previous session",
                            len.unwrap_or(0),
                            self.max_cookie_size
                        );
                        response
                    }
                }
            }
        }
    }
}

impl Middleware for Sessions {
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        let jar = PrivateCookieJar::new(req, self.key.clone());
        let loaded = jar
            .get(&self.cookie_name)
            .and_then(|cookie| decode(cookie.value(), unix_now()));
        let session = Session(Arc::new(Mutex::new(loaded.unwrap_or_default())));
        req.extensions_mut().insert(session.clone());
        let response = next.run(req);
        self.save(&session, jar, response)
    }
}

/// The session of the request, from the [`Sessions`] middleware: serde
/// values by name. It is a handle: clones share one session, and its
/// methods take `&self`.
///
/// A route that takes it where no `Sessions` middleware runs answers 500.
/// Changes are sent when the route returns; a session read and left
/// unchanged sends no cookie.
#[derive(Clone)]
pub struct Session(Arc<Mutex<SessionState>>);

/// What a session holds, and what its cookie needs.
#[derive(Debug, Default)]
struct SessionState {
    /// Made when first needed: a session nobody changes needs none.
    id: Option<String>,
    /// Seconds since the Unix epoch; `None` until saved (or since rotated).
    expires: Option<u64>,
    data: Map<String, Value>,
    write: Write,
}

/// What the middleware sends for a session once the route has answered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Write {
    #[default]
    Nothing,
    Save,
    Remove,
}

impl Session {
    /// The value under `key`, if there is one of type `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let state = self.lock();
        T::deserialize(state.data.get(key)?).ok()
    }

    /// Puts `value` under `key`, replacing what was there.
    ///
    /// # Errors
    /// When `value` cannot be serialized as JSON, as a map with keys other
    /// than strings; the session is then unchanged.
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        let mut state = self.lock();
        if state.data.get(key) != Some(&value) {
            state.data.insert(key.to_owned(), value);
            state.write = Write::Save;
        }
        Ok(())
    }

    /// Removes the value under `key` and returns it, if it is of type `T`
    /// (take-once values such as flash messages); it is removed whatever
    /// its type (`remove::<serde::de::IgnoredAny>` when that does not
    /// matter).
    pub fn remove<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let mut state = self.lock();
        let value = state.data.remove(key)?;
        state.write = Write::Save;
        T::deserialize(value).ok()
    }

    /// Removes every value; the session and its id stay.
    pub fn clear(&self) {
        let mut state = self.lock();
        if !state.data.is_empty() {
            state.data.clear();
            state.write = Write::Save;
        }
    }

    /// The session's id: 32 random hexadecimal digits, the same for the
    /// session's life (until [`rotate`](Self::rotate) or
    /// [`destroy`](Self::destroy)), to key state kept on the server. A new
    /// session gets one when asked, and is then sent so as to keep it.
    pub fn id(&self) -> String {
        let mut state = self.lock();
        if state.id.is_none() {
            state.id = Some(new_id());
            state.write = Write::Save;
        }
        state.id.clone().unwrap_or_default()
    }

    /// Gives the session a new id and a new lifetime, keeping its values:
    /// call it when the user logs in or out, so that an id (or a cookie)
    /// someone saw before is not the one that carries the new rights.
    pub fn rotate(&self) {
        let mut state = self.lock();
        state.id = Some(new_id());
        state.expires = None;
        state.write = Write::Save;
    }

    /// Ends the session: its values are gone and the client is told to
    /// delete the cookie. Values inserted afterwards start a new session.
    pub fn destroy(&self) {
        let mut state = self.lock();
        *state = SessionState {
            write: Write::Remove,
            ..SessionState::default()
        };
    }

    fn lock(&self) -> MutexGuard<'_, SessionState> {
        // The state is whole between method calls, so a panic elsewhere
        // while holding the lock leaves nothing half done.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<'r> FromRequest<'r> for Session {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        cx.request()
            .extensions()
            .get::<Session>()
            .cloned()
            .ok_or_else(|| {
                let message = "no session: is the `Sessions` middleware in place?";
                log::error!("{message}");
                Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, message)
            })
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values may be secrets, and debug output ends in logs.
        let state = self.lock();
        f.debug_struct("Session")
            .field("id", &state.id)
            .field("keys", &state.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The session in a decrypted cookie, unless it has expired at `now` or is
/// not one of ours (a cookie from another version of the format).
fn decode(payload: &str, now: u64) -> Option<SessionState> {
    let Value::Object(mut fields) = serde_json::from_str(payload).ok()? else {
        return None;
    };
    let expires = fields.get("exp")?.as_u64()?;
    if now >= expires {
        return None;
    }
    let Value::String(id) = fields.remove("id")? else {
        return None;
    };
    let Value::Object(data) = fields.remove("data")? else {
        return None;
    };
    Some(SessionState {
        id: Some(id),
        expires: Some(expires),
        data,
        write: Write::Nothing,
    })
}

/// 128 random bits as hexadecimal, from the thread's CSPRNG.
fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use http::header::{COOKIE, SET_COOKIE};

    use super::*;
    use crate::runtime::server::Server;
    use crate::runtime::test_client::{TestClient, TestResponse};

    fn write(session: &Session) -> Write {
        session.lock().write
    }

    fn loaded(data: Value) -> Session {
        let Value::Object(data) = data else {
            unreachable!("a test passes an object")
        };
        let state = SessionState {
            id: Some("0".repeat(32)),
            expires: Some(u64::MAX),
            data,
            write: Write::Nothing,
        };
        Session(Arc::new(Mutex::new(state)))
    }

    #[test]
    fn only_changes_make_a_session_be_sent() {
        let session = loaded(serde_json::json!({"n": 1, "s": "x"}));
        assert_eq!(session.get::<u32>("n"), Some(1));
        assert_eq!(session.get::<String>("n"), None, "another type");
        assert_eq!(session.get::<u32>("missing"), None);
        session.insert("n", 1).unwrap();
        assert_eq!(session.remove::<u32>("missing"), None);
        assert_eq!(session.id(), "0".repeat(32));
        assert_eq!(write(&session), Write::Nothing);

        session.insert("n", 2).unwrap();
        assert_eq!(write(&session), Write::Save);
        assert_eq!(session.get::<u32>("n"), Some(2));

        let session = loaded(serde_json::json!({"flash": "saved"}));
        assert_eq!(session.remove::<String>("flash").as_deref(), Some("saved"));
        assert_eq!(session.remove::<String>("flash"), None);
        assert_eq!(write(&session), Write::Save);

        let session = loaded(serde_json::json!({"a": [1, 2]}));
        session.clear();
        assert_eq!(write(&session), Write::Save);
        assert_eq!(session.get::<Vec<u8>>("a"), None);

        let empty = loaded(serde_json::json!({}));
        empty.clear();
        assert_eq!(write(&empty), Write::Nothing);
    }

    #[test]
    fn a_value_that_is_not_json_is_refused_and_changes_nothing() {
        let session = loaded(serde_json::json!({}));
        let map = std::collections::HashMap::from([((1, 2), "tuple keys")]);
        assert!(session.insert("map", map).is_err());
        assert_eq!(write(&session), Write::Nothing);
    }

    #[test]
    fn ids_are_made_when_asked_and_new_on_rotation() {
        let fresh = Session(Arc::default());
        assert_eq!(write(&fresh), Write::Nothing);
        let id = fresh.id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert_eq!(fresh.id(), id, "stable");
        assert_eq!(write(&fresh), Write::Save, "kept once asked for");

        let session = loaded(serde_json::json!({"user": "alice"}));
        session.rotate();
        assert_ne!(session.id(), "0".repeat(32));
        assert_eq!(session.lock().expires, None, "a new lifetime");
        assert_eq!(session.get::<String>("user").as_deref(), Some("alice"));
        assert_eq!(write(&session), Write::Save);

        session.destroy();
        assert_eq!(write(&session), Write::Remove);
        assert_eq!(session.get::<String>("user"), None);
        assert_eq!(session.lock().id, None);
        session.insert("user", "bob").unwrap();
        assert_eq!(write(&session), Write::Save, "a new session");
    }

    #[test]
    fn decoding_enforces_expiry_and_shape() {
        let payload = r#"{"id":"abc","exp":100,"data":{"n":1}}"#;
        let state = decode(payload, 99).unwrap();
        assert_eq!(state.id.as_deref(), Some("abc"));
        assert_eq!(state.expires, Some(100));
        assert_eq!(state.data["n"], 1);
        assert_eq!(state.write, Write::Nothing);
        assert!(decode(payload, 100).is_none(), "expired at its time");
        assert!(decode(payload, 101).is_none());
        for odd in [
            "",
            "[]",
            r#"{"id":"abc","data":{}}"#,
            r#"{"id":"abc","exp":-1,"data":{}}"#,
            r#"{"id":7,"exp":100,"data":{}}"#,
            r#"{"id":"abc","exp":100,"data":[]}"#,
            r#"{"exp":100,"data":{}}"#,
        ] {
            assert!(decode(odd, 0).is_none(), "{odd}");
        }
    }

    /// A server whose handler counts in the session under `n`, or reads it
    /// when the request says `x-read`, or stores `x-store` bytes.
    fn counter(sessions: Sessions) -> TestClient {
        let app = Server::builder().wrap(sessions).handler(|req| {
            let session = req.extensions().get::<Session>().unwrap();
            let n = session.get::<u64>("n").unwrap_or(0);
            if req.header("x-read").is_some() {
                return Response::text(n.to_string());
            }
            if let Some(len) = req.header("x-store") {
                let junk = "j".repeat(len.parse().unwrap());
                session.insert("junk", junk).unwrap();
                return Response::text("stored");
            }
            session.insert("n", n + 1).unwrap();
            Response::text((n + 1).to_string())
        });
        TestClient::new(app).unwrap()
    }

    fn cookie_of(response: &TestResponse) -> Option<String> {
        let field = response.header(SET_COOKIE)?;
        Some(field.split(';').next().unwrap().to_owned())
    }

    #[test]
    fn the_middleware_sends_a_session_only_when_changed() {
        let client = counter(Sessions::new(Key::generate()));
        let read = client.get("/").header("x-read", "1").send();
        assert_eq!(read.text(), "0");
        assert_eq!(read.header(SET_COOKIE), None);

        let first = client.get("/").send();
        assert_eq!(first.text(), "1");
        let field = first.header(SET_COOKIE).unwrap();
        assert!(field.starts_with("session="), "{field}");
        assert!(
            field.ends_with("; HttpOnly; SameSite=Lax; Path=/; Max-Age=86400"),
            "{field}"
        );
        let cookie = cookie_of(&first).unwrap();

        let second = client.get("/").header(COOKIE, &*cookie).send();
        assert_eq!(second.text(), "2");
        let read = client
            .get("/")
            .header(COOKIE, cookie_of(&second).unwrap())
            .header("x-read", "1")
            .send();
        assert_eq!(read.text(), "2");
        assert_eq!(read.header(SET_COOKIE), None);
        // Another key cannot read it: a new session.
        let other = counter(Sessions::new(Key::generate()));
        let read = other
            .get("/")
            .header(COOKIE, &*cookie)
            .header("x-read", "1")
            .send();
        assert_eq!(read.text(), "0");
    }

    #[test]
    fn a_session_too_large_for_a_cookie_is_not_sent() {
        let client = counter(Sessions::new(Key::generate()).max_cookie_size(400));
        let cookie = cookie_of(&client.get("/").send()).unwrap();
        let small = client
            .get("/")
            .header(COOKIE, &*cookie)
            .header("x-store", "100")
            .send();
        assert!(cookie_of(&small).is_some());
        let large = client
            .get("/")
            .header(COOKIE, &*cookie)
            .header("x-store", "400")
            .send();
        assert_eq!(large.status(), StatusCode::OK);
        assert_eq!(large.text(), "stored");
        assert_eq!(large.header(SET_COOKIE), None);
        // The client's previous cookie still holds the previous session.
        let read = client
            .get("/")
            .header(COOKIE, &*cookie)
            .header("x-read", "1")
            .send();
        assert_eq!(read.text(), "1");
    }

    #[test]
    fn an_expired_session_is_empty_and_its_name_can_be_chosen() {
        let sessions = Sessions::new(Key::generate())
            .cookie_name("sid")
            .max_age(Duration::ZERO);
        let client = counter(sessions);
        let first = client.get("/").send();
        let field = first.header(SET_COOKIE).unwrap();
        assert!(
            field.starts_with("sid=") && field.ends_with("Max-Age=0"),
            "{field}"
        );
        // Expired as soon as made (its time is this second), whatever the
        // client does with Max-Age.
        let again = client
            .get("/")
            .header(COOKIE, cookie_of(&first).unwrap())
            .send();
        assert_eq!(again.text(), "1");
    }
}
