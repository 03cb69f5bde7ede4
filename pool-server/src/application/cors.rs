//! A ready [`Middleware`] for cross-origin requests from browsers (CORS,
//! in the [Fetch standard](https://fetch.spec.whatwg.org/#http-cors-protocol)),
//! with tower-http's `CorsLayer` semantics.
//!
//! A page on another origin may read a response only when the response
//! names that origin in `Access-Control-Allow-Origin`. [`Cors`] adds that
//! field, and the others the protocol needs, for the origins it allows,
//! and answers *preflights* itself: an `OPTIONS` request with `Origin` and
//! `Access-Control-Request-Method`, which a browser sends before a request
//! that is not "simple" (a `PUT`, a JSON body, an `Authorization` header).
//! A preflight never reaches the routes, so it is answered `204` on any
//! path, also where the router would have answered 404 or 405.
//!
//! An origin that is not allowed gets no CORS field at all, and its
//! request is otherwise answered as usual: the browser, not the server,
//! keeps the page from reading it. Whenever the answer depends on the
//! `Origin` (a list or a predicate, not any origin), every response says
//! `Vary: Origin`, so a cache does not give one origin's answer to another.
//!
//! ```
//! use std::time::Duration;
//! use pool_server::cors::Cors;
//! use pool_server::test::TestClient;
//! use pool_server::{header, route, routes, Method, Server, StatusCode};
//!
//! #[route("GET /items")]
//! fn items() -> &'static str {
//!     "[]"
//! }
//!
//! let cors = Cors::new()
//!     .allow_origins(["https://app.example"])
//!     .allow_methods([Method::GET, Method::POST, Method::DELETE])
//!     .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
//!     .allow_credentials(true)
//!     .max_age(Duration::from_secs(600));
//! let client = TestClient::new(Server::builder().wrap(cors).routes(routes![items])).unwrap();
//!
//! // The preflight for a DELETE, answered by the middleware (no route has
//! // DELETE /items, and the route is not called):
//! let preflight = client
//!     .options("/items")
//!     .header("origin", "https://app.example")
//!     .header("access-control-request-method", "DELETE")
//!     .send();
//! assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
//! assert_eq!(preflight.header("access-control-allow-origin"), Some("https://app.example"));
//! assert_eq!(preflight.header("access-control-allow-methods"), Some("GET, POST, DELETE"));
//! assert_eq!(preflight.header("access-control-allow-credentials"), Some("true"));
//! assert_eq!(preflight.header("access-control-max-age"), Some("600"));
//! assert_eq!(preflight.header("vary"), Some("origin"));
//!
//! // The request itself, from the allowed origin, then from another one.
//! let allowed = client.get("/items").header("origin", "https://app.example").send();
//! assert_eq!(allowed.header("access-control-allow-origin"), Some("https://app.example"));
//! let other = client.get("/items").header("origin", "https://evil.example").send();
//! assert_eq!(other.status(), StatusCode::OK);
//! assert_eq!(other.header("access-control-allow-origin"), None);
//! ```
//!
//! # What the standard forbids
//!
//! With credentials (cookies, `Authorization`) allowed, a browser takes no
//! `*`: not for the origin, the request headers, the methods, nor the
//! exposed headers. Those combinations make
//! [`Builder::build`](crate::Builder::build) fail with a configuration
//! error, as do an origin that a browser could never send (a trailing
//! slash, a path, a default port such as `:443`) and a header name that is
//! not one:
//!
//! ```
//! use pool_server::cors::Cors;
//! use pool_server::test::TestClient;
//! use pool_server::Server;
//!
//! let cors = Cors::new().allow_any_origin().allow_credentials(true);
//! let err = TestClient::new(Server::builder().wrap(cors)).unwrap_err();
//! assert!(err.is_config());
//! assert!(err.to_string().contains("allow_any_origin"), "{err}");
//!
//! let cors = Cors::new().allow_origins(["https://app.example/"]);
//! assert!(TestClient::new(Server::builder().wrap(cors)).is_err());
//! ```
//!
//! # Where it goes
//!
//! Wrap it on the [`Builder`](crate::Builder::wrap), outside (added
//! before) middleware that refuses requests, such as a login check: a
//! preflight carries no credentials and must not be refused, and a
//! refusal needs the CORS fields for the page to read it. On a
//! [`Scope`](crate::routing::Scope) it would not see preflights, which the router
//! answers by itself for the scope's paths.

use std::fmt;
use std::time::Duration;

use http::header::{
    HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS,
    ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
};
use http::{HeaderMap, Method, StatusCode};

use super::middleware::{Middleware, Next};
use crate::request::Request;
use crate::response::Response;

/// The CORS middleware; see the [module docs](self).
pub struct Cors {
    origins: Origins,
    /// `Access-Control-Allow-Methods`, `*` for any.
    methods: Option<HeaderValue>,
    headers: AllowHeaders,
    credentials: bool,
    max_age: Option<HeaderValue>,
    /// `Access-Control-Expose-Headers`, `*` for any.
    expose: Option<HeaderValue>,
    /// The first setting that cannot be used, for `build()` to report.
    error: Option<String>,
}

type Predicate = dyn Fn(&str, &Request) -> bool + Send + Sync;

enum Origins {
    Any,
    /// Serialized origins, lowercase, as browsers send them.
    List(Vec<HeaderValue>),
    Predicate(Box<Predicate>),
}

enum AllowHeaders {
    /// `Access-Control-Allow-Headers` as set, `*` for any.
    Listed(Option<HeaderValue>),
    /// The preflight's `Access-Control-Request-Headers`, sent back.
    Mirrored,
}

const ANY: &str = "*";

impl Cors {
    /// A policy that allows nothing yet: no origin, no method or header
    /// beyond the ones the standard allows without asking (`GET`, `HEAD`,
    /// `POST`, and a few safelisted headers), no credentials.
    pub fn new() -> Cors {
        Cors {
            origins: Origins::List(Vec::new()),
            methods: None,
            headers: AllowHeaders::Listed(None),
            credentials: false,
            max_age: None,
            expose: None,
            error: None,
        }
    }

    /// Allows these origins, written as browsers send them in `Origin`:
    /// `scheme://host` or `scheme://host:port`, with no path, no trailing
    /// slash and no default port (`https://app.example`, not
    /// `https://app.example/` nor `https://app.example:443`); case does not
    /// matter. Replaces earlier origin settings. An entry that is no such
    /// origin, or `*`, fails [`build`](crate::Builder::build).
    pub fn allow_origins<I>(mut self, origins: I) -> Cors
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut list = Vec::new();
        for origin in origins {
            match parse_origin(origin.as_ref()) {
                Ok(origin) => list.push(origin),
                Err(why) => self.fail(why),
            }
        }
        self.origins = Origins::List(list);
        self
    }

    /// Allows the origins for which `predicate` returns true; it gets the
    /// `Origin` as sent (`https://app.example`) and the request. Replaces
    /// earlier origin settings. Match whole labels: `.example.com` at the
    /// end of a host, not `example.com`, which `https://evilexample.com`
    /// ends with too.
    ///
    /// ```
    /// use pool_server::cors::Cors;
    ///
    /// let cors = Cors::new().allow_origin_if(|origin, _req| {
    ///     origin.starts_with("https://") && origin.ends_with(".app.example")
    /// });
    /// # drop(cors);
    /// ```
    pub fn allow_origin_if(
        mut self,
        predicate: impl Fn(&str, &Request) -> bool + Send + Sync + 'static,
    ) -> Cors {
        self.origins = Origins::Predicate(Box::new(predicate));
        self
    }

    /// Allows every origin, with `Access-Control-Allow-Origin: *`, which
    /// browsers refuse for requests with credentials: together with
    /// [`allow_credentials(true)`](Self::allow_credentials) it fails
    /// [`build`](crate::Builder::build). Replaces earlier origin settings.
    pub fn allow_any_origin(mut self) -> Cors {
        self.origins = Origins::Any;
        self
    }

    /// The methods a preflight allows (`Access-Control-Allow-Methods`).
    /// Replaces earlier method settings.
    pub fn allow_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Cors {
        let names: Vec<_> = methods.into_iter().collect();
        self.methods = joined(names.iter().map(Method::as_str));
        self
    }

    /// Allows every method (`Access-Control-Allow-Methods: *`); not with
    /// credentials.
    pub fn allow_any_method(mut self) -> Cors {
        self.methods = Some(HeaderValue::from_static(ANY));
        self
    }

    /// The request headers a preflight allows
    /// (`Access-Control-Allow-Headers`): names such as `"content-type"` or
    /// [`header::AUTHORIZATION`](crate::header::AUTHORIZATION). Replaces
    /// earlier header settings. A name that is not one, or `*`, fails
    /// [`build`](crate::Builder::build).
    pub fn allow_headers<I>(mut self, names: I) -> Cors
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let listed = self.header_list(names, "allow_any_header()");
        self.headers = AllowHeaders::Listed(listed);
        self
    }

    /// Allows every request header (`Access-Control-Allow-Headers: *`);
    /// not with credentials (see
    /// [`mirror_request_headers`](Self::mirror_request_headers)).
    pub fn allow_any_header(mut self) -> Cors {
        self.headers = AllowHeaders::Listed(Some(HeaderValue::from_static(ANY)));
        self
    }

    /// Allows whatever request headers a preflight asks for, by sending its
    /// `Access-Control-Request-Headers` back: every header, also with
    /// credentials.
    pub fn mirror_request_headers(mut self) -> Cors {
        self.headers = AllowHeaders::Mirrored;
        self
    }

    /// Whether pages may send credentials (cookies, `Authorization`, TLS
    /// client certificates) and read the answers
    /// (`Access-Control-Allow-Credentials: true`); off by default.
    pub fn allow_credentials(mut self, allow: bool) -> Cors {
        self.credentials = allow;
        self
    }

    /// How long a browser may keep a preflight's answer
    /// (`Access-Control-Max-Age`, in whole seconds); browsers cap it (two
    /// hours in Chromium, a day in Firefox). Without it, they ask again
    /// after about five seconds.
    pub fn max_age(mut self, max_age: Duration) -> Cors {
        self.max_age = Some(HeaderValue::from(max_age.as_secs()));
        self
    }

    /// The response headers a page may read beside the safelisted ones
    /// (`Access-Control-Expose-Headers`), such as `"x-request-id"`.
    /// Replaces earlier settings. A name that is not one, or `*`, fails
    /// [`build`](crate::Builder::build).
    pub fn expose_headers<I>(mut self, names: I) -> Cors
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.expose = self.header_list(names, "expose_any_header()");
        self
    }

    /// Lets pages read every response header
    /// (`Access-Control-Expose-Headers: *`); not with credentials.
    pub fn expose_any_header(mut self) -> Cors {
        self.expose = Some(HeaderValue::from_static(ANY));
        self
    }

    /// `names` checked and joined with commas; a bad one is kept for
    /// `build()` to report.
    fn header_list<I>(&mut self, names: I, wildcard: &str) -> Option<HeaderValue>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut checked = Vec::new();
        for name in names {
            let name = name.as_ref();
            match HeaderName::from_bytes(name.as_bytes()) {
                _ if name == ANY => self.fail(format!("`*` is not a header name: use {wildcard}")),
                Ok(name) => checked.push(name),
                Err(_) => self.fail(format!("{name:?} is not a header name")),
            }
        }
        joined(checked.iter().map(HeaderName::as_str))
    }

    fn fail(&mut self, why: String) {
        self.error.get_or_insert(why);
    }

    /// The `Access-Control-Allow-Origin` for `req`, when its origin is allowed.
    fn allow_origin(&self, req: &Request) -> Option<HeaderValue> {
        let origin = req.headers().get(ORIGIN);
        match &self.origins {
            Origins::Any => Some(HeaderValue::from_static(ANY)),
            Origins::List(list) => origin.filter(|origin| list.contains(origin)).cloned(),
            Origins::Predicate(allows) => origin
                .filter(|origin| origin.to_str().is_ok_and(|text| allows(text, req)))
                .cloned(),
        }
    }

    fn preflight(&self, req: &Request) -> Response {
        let mut response = Response::status_only(StatusCode::NO_CONTENT);
        self.vary_on_origin(&mut response);
        if matches!(self.headers, AllowHeaders::Mirrored) {
            response.add_vary("access-control-request-headers");
        }
        let Some(origin) = self.allow_origin(req) else {
            return response;
        };
        let allow_headers = match &self.headers {
            AllowHeaders::Listed(listed) => listed.clone(),
            AllowHeaders::Mirrored => req.headers().get(ACCESS_CONTROL_REQUEST_HEADERS).cloned(),
        };
        let headers = response.headers_mut();
        self.allow(headers, origin);
        let fields = [
            (ACCESS_CONTROL_ALLOW_METHODS, self.methods.clone()),
            (ACCESS_CONTROL_ALLOW_HEADERS, allow_headers),
            (ACCESS_CONTROL_MAX_AGE, self.max_age.clone()),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                headers.insert(name, value);
            }
        }
        response
    }

    /// The fields that let `origin` read the answer, preflight or not.
    fn allow(&self, headers: &mut HeaderMap, origin: HeaderValue) {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if self.credentials {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }

    fn vary_on_origin(&self, response: &mut Response) {
        if !matches!(self.origins, Origins::Any) {
            response.add_vary("origin");
        }
    }
}

/// A preflight, in the Fetch standard's terms: the browser asks before
/// the request itself. Any other `OPTIONS` goes to the routes.
fn is_preflight(req: &Request) -> bool {
    req.method() == Method::OPTIONS
        && req.headers().contains_key(ORIGIN)
        && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

impl Middleware for Cors {
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        if is_preflight(req) {
            return self.preflight(req);
        }
        let mut response = next.run(req);
        self.vary_on_origin(&mut response);
        if let Some(origin) = self.allow_origin(req) {
            let headers = response.headers_mut();
            self.allow(headers, origin);
            if let Some(expose) = &self.expose {
                headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
            }
        }
        response
    }

    fn __config_error(&self) -> Option<String> {
        if let Some(why) = &self.error {
            return Some(format!("Cors: {why}"));
        }
        if !self.credentials {
            return None;
        }
        let any = |value: &Option<HeaderValue>| value.as_ref().is_some_and(|v| v == ANY);
        let wildcard = if matches!(self.origins, Origins::Any) {
            "allow_any_origin(); list the origins, or choose them with allow_origin_if"
        } else if matches!(&self.headers, AllowHeaders::Listed(listed) if any(listed)) {
            "allow_any_header(); list the headers, or mirror_request_headers()"
        } else if any(&self.methods) {
            "allow_any_method(); list the methods"
        } else if any(&self.expose) {
            "expose_any_header(); list the headers"
        } else {
            return None;
        };
        Some(format!(
            "Cors: allow_credentials(true) with {wildcard} (browsers take no `*` with credentials)"
        ))
    }
}

impl Default for Cors {
    fn default() -> Cors {
        Cors::new()
    }
}

impl fmt::Debug for Cors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origins: &dyn fmt::Debug = match &self.origins {
            Origins::Any => &ANY,
            Origins::List(list) => list,
            Origins::Predicate(_) => &"(predicate)",
        };
        let headers: &dyn fmt::Debug = match &self.headers {
            AllowHeaders::Listed(listed) => listed,
            AllowHeaders::Mirrored => &"(mirrored)",
        };
        f.debug_struct("Cors")
            .field("origins", origins)
            .field("methods", &self.methods)
            .field("headers", headers)
            .field("credentials", &self.credentials)
            .field("max_age", &self.max_age)
            .field("expose", &self.expose)
            .finish_non_exhaustive()
    }
}

/// `items` as one comma-separated field value; `None` for none.
fn joined<'a>(items: impl Iterator<Item = &'a str>) -> Option<HeaderValue> {
    let list = items.collect::<Vec<_>>().join(", ");
    // Method and header names are tokens, so the list is a valid value.
    (!list.is_empty())
        .then(|| HeaderValue::try_from(list).ok())
        .flatten()
}

/// `origin` as a browser would send it in `Origin` (lowercase), or why no
/// browser ever sends it.
fn parse_origin(origin: &str) -> Result<HeaderValue, String> {
    let lower = origin.to_ascii_lowercase();
    let not_an_origin = |why: &str| {
        format!(
            "{origin:?} is not an origin as browsers send it: {why}, such as `https://app.example`"
        )
    };
    if lower == ANY {
        return Err("`*` is not an origin: use allow_any_origin()".to_owned());
    }
    let Some((scheme, authority)) = lower.split_once("://") else {
        return Err(not_an_origin("write scheme://host[:port]"));
    };
    if authority.contains('/') {
        return Err(not_an_origin("write it without a path or a trailing slash"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        // The colons of an IPv6 address are inside its brackets.
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ip) => ip.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        }
    };
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok() && !p.starts_with('0'));
    if !(scheme_ok && host_ok && port_ok) {
        return Err(not_an_origin(
            "write scheme://host[:port], the host in ASCII (punycode for an international name)",
        ));
    }
    if matches!(
        (scheme, port),
        ("https", Some("443")) | ("http", Some("80"))
    ) {
        return Err(not_an_origin("browsers leave the default port out"));
    }
    HeaderValue::try_from(lower).map_err(|_| not_an_origin("write scheme://host[:port]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_taken_as_browsers_send_them() {
        for (written, sent) in [
            ("https://app.example", "https://app.example"),
            ("HTTPS://App.Example:8443", "https://app.example:8443"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            ("http://[::1]", "http://[::1]"),
            ("chrome-extension://abcdef", "chrome-extension://abcdef"),
        ] {
            assert_eq!(parse_origin(written).unwrap(), sent, "{written}");
        }
    }

    #[test]
    fn what_no_browser_sends_is_refused() {
        for (written, why) in [
            ("https://app.example/", "trailing slash"),
            ("https://app.example/path", "trailing slash"),
            ("https://app.example:443", "default port"),
            ("http://app.example:80", "default port"),
            ("app.example", "scheme://host"),
            ("null", "scheme://host"),
            ("*", "allow_any_origin"),
            ("https://", "scheme://host"),
            ("https://app.example:", "scheme://host"),
            ("https://app.example:99999", "scheme://host"),
            ("https://app.example:080", "scheme://host"),
            ("https://bad host", "scheme://host"),
            ("https://bücher.example", "punycode"),
            ("https://[::1", "scheme://host"),
            ("https://[zz]:80", "scheme://host"),
            ("1https://a.example", "scheme://host"),
        ] {
            let err = parse_origin(written).expect_err(written);
            assert!(err.contains(why), "{written}: {err}");
        }
    }

    #[test]
    fn credentials_refuse_every_wildcard() {
        let with_credentials = || Cors::new().allow_credentials(true);
        let cases = [
            (with_credentials().allow_any_origin(), "allow_any_origin"),
            (with_credentials().allow_any_header(), "allow_any_header"),
            (with_credentials().allow_any_method(), "allow_any_method"),
            (with_credentials().expose_any_header(), "expose_any_header"),
        ];
        for (cors, named) in cases {
            let err = cors.__config_error().expect(named);
            assert!(err.contains(named), "{err}");
        }
        let listed = with_credentials()
            .allow_origins(["https://a.example"])
            .allow_methods([Method::PUT])
            .mirror_request_headers()
            .expose_headers(["x-request-id"]);
        assert_eq!(listed.__config_error(), None);
        // Without credentials, wildcards are what they say.
        let open = Cors::new()
            .allow_any_origin()
            .allow_any_header()
            .allow_any_method()
            .expose_any_header();
        assert_eq!(open.__config_error(), None);
    }

    #[test]
    fn bad_names_are_reported() {
        let cors = Cors::new().allow_headers(["x-ok", "bad name"]);
        assert!(cors.__config_error().unwrap().contains("\"bad name\""));
        let cors = Cors::new().expose_headers(["*"]);
        assert!(cors
            .__config_error()
            .unwrap()
            .contains("expose_any_header()"));
        let cors = Cors::new().allow_origins(["https://a.example", "https://b.example/"]);
        assert!(cors
            .__config_error()
            .unwrap()
            .contains("https://b.example/"));
    }

    #[test]
    fn lists_are_joined() {
        let cors = Cors::new()
            .allow_methods([Method::GET, Method::DELETE])
            .allow_headers(["Content-Type", "x-api-key"]);
        assert_eq!(cors.methods.unwrap(), "GET, DELETE");
        match cors.headers {
            AllowHeaders::Listed(Some(value)) => assert_eq!(value, "content-type, x-api-key"),
            _ => panic!("a listed value"),
        }
        assert!(Cors::new().allow_methods([]).methods.is_none());
    }
}
