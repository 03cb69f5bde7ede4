//! A ready [`Middleware`] that adds the response headers with which a
//! browser guards a page: [`SecurityHeaders::new`] sends
//!
//! | field | value | what it stops |
//! |---|---|---|
//! | `X-Content-Type-Options` | `nosniff` | a browser guessing a type, such as running a text upload as a script |
//! | `Referrer-Policy` | `strict-origin-when-cross-origin` | full URLs (paths, queries) leaking to other sites in `Referer` |
//! | `X-Frame-Options` | `DENY` | other sites framing the pages (clickjacking) |
//! | `Strict-Transport-Security` | `max-age=31536000` | plain-HTTP visits for a year after one over HTTPS; sent only over HTTPS |
//!
//! Framing is refused with `X-Frame-Options` rather than
//! `Content-Security-Policy: frame-ancestors 'none'`, which modern browsers
//! prefer when both are there: the middleware never replaces a field the
//! handler set (see below), so a page with a policy of its own would
//! silently lose `frame-ancestors`, while `X-Frame-Options` stays beside
//! it. A service with a policy of its own can add `frame-ancestors` to it
//! and keep or [`remove`](SecurityHeaders::remove) `X-Frame-Options`.
//!
//! `Strict-Transport-Security` goes only on answers to requests that came
//! over HTTPS, as [`Request::scheme`] says: pool-server has no TLS of its
//! own, so that is a [trusted proxy](crate::Builder::trusted_proxies)
//! that said `X-Forwarded-Proto: https` (browsers ignore the field over
//! plain HTTP anyway). Its default leaves out `includeSubDomains`, which
//! would commit every subdomain to HTTPS: set it when that is true.
//!
//! Every field can be replaced with [`set`](SecurityHeaders::set) or left
//! out with [`remove`](SecurityHeaders::remove), and more can be added. A
//! field the handler (or inner middleware) set itself is never replaced,
//! so one route can allow framing, say.
//!
//! ```
//! use pool_server::security_headers::SecurityHeaders;
//! use pool_server::test::TestClient;
//! use pool_server::{header, route, routes, Response, Server};
//!
//! #[route("GET /")]
//! fn home() -> &'static str {
//!     "home"
//! }
//!
//! #[route("GET /widget")]
//! fn widget() -> Response {
//!     Response::html("<p>embed me</p>").with_header("x-frame-options", "SAMEORIGIN")
//! }
//!
//! let app = Server::builder()
//!     .trusted_proxies(["127.0.0.1"])
//!     .wrap(SecurityHeaders::new().set(
//!         header::STRICT_TRANSPORT_SECURITY,
//!         "max-age=63072000; includeSubDomains",
//!     ))
//!     .routes(routes![home, widget]);
//! let client = TestClient::new(app).unwrap();
//!
//! let plain = client.get("/").send();
//! assert_eq!(plain.header("x-content-type-options"), Some("nosniff"));
//! assert_eq!(plain.header("referrer-policy"), Some("strict-origin-when-cross-origin"));
//! assert_eq!(plain.header("x-frame-options"), Some("DENY"));
//! assert_eq!(plain.header("strict-transport-security"), None); // not over HTTPS
//!
//! let https = client.get("/").header("x-forwarded-proto", "https").send();
//! assert_eq!(
//!     https.header("strict-transport-security"),
//!     Some("max-age=63072000; includeSubDomains")
//! );
//!
//! // The route's own field stays.
//! assert_eq!(client.get("/widget").send().header("x-frame-options"), Some("SAMEORIGIN"));
//! ```
//!
//! A name or value that is not a valid header fails
//! [`Builder::build`](crate::Builder::build).

use std::fmt;

use http::header::{
    HeaderName, HeaderValue, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};

use super::middleware::{Middleware, Next};
use crate::request::Request;
use crate::response::Response;

/// The security-headers middleware; see the [module docs](self).
#[derive(Clone)]
pub struct SecurityHeaders {
    fields: Vec<(HeaderName, HeaderValue)>,
    /// The first setting that cannot be used, for `build()` to report.
    error: Option<String>,
}

impl SecurityHeaders {
    /// The defaults in the [module docs](self).
    pub fn new() -> SecurityHeaders {
        let field = |name, value| (name, HeaderValue::from_static(value));
        SecurityHeaders {
            fields: vec![
                field(X_CONTENT_TYPE_OPTIONS, "nosniff"),
                field(REFERRER_POLICY, "strict-origin-when-cross-origin"),
                field(X_FRAME_OPTIONS, "DENY"),
                field(STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
            ],
            error: None,
        }
    }

    /// Sends `name` with `value` instead of its default, or as one more
    /// field (a `Permissions-Policy`, say). Names and values are taken as
    /// [`Response::with_header`] takes them; an invalid one fails
    /// [`build`](crate::Builder::build). `Strict-Transport-Security` is
    /// still sent over HTTPS only.
    pub fn set<K, V>(mut self, name: K, value: V) -> SecurityHeaders
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        let name = HeaderName::try_from(name).map_err(Into::into);
        let value = HeaderValue::try_from(value).map_err(Into::into);
        match (name, value) {
            (Ok(name), Ok(value)) => {
                self.fields.retain(|(kept, _)| *kept != name);
                self.fields.push((name, value));
            }
            (Err(err), _) | (_, Err(err)) => self.fail(format!("set: {err}")),
        }
        self
    }

    /// Leaves field `name` out, a default or one [`set`](Self::set)
    /// before. An invalid name fails [`build`](crate::Builder::build).
    pub fn remove<K>(mut self, name: K) -> SecurityHeaders
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
    {
        match HeaderName::try_from(name).map_err(Into::into) {
            Ok(name) => self.fields.retain(|(kept, _)| *kept != name),
            Err(err) => self.fail(format!("remove: {err}")),
        }
        self
    }

    fn fail(&mut self, why: String) {
        self.error.get_or_insert(why);
    }
}

impl Middleware for SecurityHeaders {
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        let https = req.scheme().eq_ignore_ascii_case("https");
        let mut response = next.run(req);
        let headers = response.headers_mut();
        for (name, value) in &self.fields {
            // Browsers ignore it over plain HTTP (RFC 6797 §8.1), where
            // anyone in the middle could have added it.
            if *name == STRICT_TRANSPORT_SECURITY && !https {
                continue;
            }
            headers.entry(name).or_insert_with(|| value.clone());
        }
        response
    }

    fn __config_error(&self) -> Option<String> {
        self.error
            .as_ref()
            .map(|why| format!("SecurityHeaders: {why}"))
    }
}

impl Default for SecurityHeaders {
    fn default() -> SecurityHeaders {
        SecurityHeaders::new()
    }
}

impl fmt::Debug for SecurityHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.fields.iter().map(|(name, value)| (name, value)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(headers: &SecurityHeaders) -> Vec<&str> {
        headers
            .fields
            .iter()
            .map(|(name, _)| name.as_str())
            .collect()
    }

    #[test]
    fn set_replaces_and_remove_leaves_out() {
        let headers = SecurityHeaders::new()
            .set("x-frame-options", "SAMEORIGIN")
            .set("permissions-policy", "camera=()")
            .remove(REFERRER_POLICY);
        assert_eq!(
            names(&headers),
            [
                "x-content-type-options",
                "strict-transport-security",
                "x-frame-options",
                "permissions-policy"
            ]
        );
        assert_eq!(headers.fields[2].1, "SAMEORIGIN");
        assert_eq!(headers.__config_error(), None);
    }

    #[test]
    fn invalid_input_is_reported_not_panicked_on() {
        let bad_value = SecurityHeaders::new().set("x-note", "line\nbreak");
        assert!(bad_value
            .__config_error()
            .unwrap()
            .starts_with("SecurityHeaders: set: "));
        let bad_name = SecurityHeaders::new().remove("bad name");
        assert!(bad_name
            .__config_error()
            .unwrap()
            .starts_with("SecurityHeaders: remove: "));
        // The first mistake is the one reported.
        let both = SecurityHeaders::new().remove("bad name").set("a b", "c");
        assert!(both.__config_error().unwrap().contains("remove"));
    }
}
