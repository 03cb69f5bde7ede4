//! A ready [`Middleware`] that gives every request an id, for finding one
//! request in the logs of every service it went through.
//!
//! [`RequestId`] keeps the request's `X-Request-Id` when it can be trusted
//! (see [`Trust`]) and is a plausible id (1 to 128 visible ASCII
//! characters), and otherwise makes a new one: 32 hex digits (128 bits),
//! unique in the process and random-looking, so that ids reveal nothing of
//! how many requests came before. The id then
//!
//! - is in the request's extensions as a [`RequestIdValue`], which a route
//!   takes as [`Extension<RequestIdValue>`](crate::Extension), and in its
//!   `X-Request-Id` header, replacing the client's, for a handler that
//!   passes it on to the services it calls;
//! - goes back to the client in the response's `X-Request-Id`;
//! - ends the [access log](crate::access_log)'s line, and is
//!   [`Entry::request_id`](crate::access_log::Entry::request_id) for a
//!   custom one.
//!
//! ```
//! use pool_server::request_id::{RequestId, RequestIdValue};
//! use pool_server::test::TestClient;
//! use pool_server::{route, routes, Extension, Server};
//!
//! #[route("GET /")]
//! fn home(Extension(id): Extension<RequestIdValue>) -> String {
//!     format!("request {id}")
//! }
//!
//! let app = Server::builder()
//!     .trusted_proxies(["10.0.0.0/8"])
//!     .wrap(RequestId::new())
//!     .routes(routes![home]);
//! let client = TestClient::new(app).unwrap();
//!
//! let response = client.get("/").send();
//! let id = response.header("x-request-id").unwrap();
//! assert_eq!(id.len(), 32);
//! assert_eq!(response.text(), format!("request {id}"));
//!
//! // A client that is no trusted proxy cannot choose its id...
//! let response = client.get("/").header("x-request-id", "mine").send();
//! assert_ne!(response.header("x-request-id"), Some("mine"));
//!
//! // ...while the proxy in front, which names the client, can.
//! let response = client
//!     .get("/")
//!     .peer_addr("10.0.0.7:40000".parse().unwrap())
//!     .header("x-forwarded-for", "203.0.113.9")
//!     .header("x-request-id", "lb-7f3a")
//!     .send();
//! assert_eq!(response.header("x-request-id"), Some("lb-7f3a"));
//! ```
//!
//! The answers the event loop makes by itself (a 400 for an unreadable
//! request, 408, 413, 503 and the like) run no middleware, so they carry
//! no id.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use http::HeaderValue;

use super::middleware::{Middleware, Next};
use crate::request::Request;
use crate::response::Response;

/// The header that carries the id, both ways.
const HEADER: &str = "x-request-id";

/// The longest incoming id kept.
const MAX_LEN: usize = 128;

/// Whose `X-Request-Id` to keep; [`RequestId::trust`] chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trust {
    /// Make a new id for every request.
    Never,
    /// Keep the id of a request that a [trusted
    /// proxy](crate::Builder::trusted_proxies) forwarded: one whose field
    /// named the client or the scheme, so that
    /// [`Request::client_addr`] or [`Request::scheme`] come from it. The
    /// proxy must replace a client's own `X-Request-Id` (nginx:
    /// `proxy_set_header X-Request-Id $request_id;`). The default.
    #[default]
    Proxies,
    /// Keep the id of any request: for a server that only trusted peers
    /// can reach.
    Always,
}

/// The request-id middleware; see the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct RequestId {
    trust: Trust,
}

impl RequestId {
    /// Keeps the ids that [trusted proxies](Trust::Proxies) forward, and
    /// makes the others.
    pub fn new() -> RequestId {
        RequestId::default()
    }

    /// Whose `X-Request-Id` to keep.
    pub fn trust(mut self, trust: Trust) -> RequestId {
        self.trust = trust;
        self
    }

    /// The request's own id, when it may be kept.
    fn incoming(&self, req: &Request) -> Option<RequestIdValue> {
        let trusted = match self.trust {
            Trust::Never => false,
            // Set only for a trusted peer that said who or how it forwards.
            Trust::Proxies => req.forwarded.is_some(),
            Trust::Always => true,
        };
        if !trusted {
            return None;
        }
        // Two fields are two claims; keep neither.
        let mut values = req.headers().get_all(HEADER).iter();
        match (values.next(), values.next()) {
            (Some(value), None) if plausible(value.as_bytes()) => {
                Some(RequestIdValue(value.clone()))
            }
            _ => None,
        }
    }
}

/// Bounded, and harmless in a log line or a header passed on.
fn plausible(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len()) && id.iter().all(u8::is_ascii_graphic)
}

impl Middleware for RequestId {
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        let id = self.incoming(req).unwrap_or_else(|| Ids::get().make());
        req.headers.insert(HEADER, id.0.clone());
        req.extensions_mut().insert(id.clone());
        let mut response = next.run(req);
        response.headers_mut().insert(HEADER, id.0);
        response
    }
}

/// A request's id, left in its extensions by [`RequestId`]: visible ASCII,
/// at most 128 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestIdValue(pub(crate) HeaderValue);

impl RequestIdValue {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Never empty: an id is checked (or made) visible ASCII.
        self.0.to_str().unwrap_or_default()
    }
}

impl fmt::Display for RequestIdValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ids this process makes: a random 64-bit prefix, then a counter
/// under a keyed permutation. The counter never repeats, so neither do the
/// ids here; the prefix keeps them apart from another process's; the
/// permutation hides the count.
struct Ids {
    prefix: u64,
    rounds: [RandomState; 4],
    next: AtomicU64,
}

impl Ids {
    fn get() -> &'static Ids {
        static IDS: OnceLock<Ids> = OnceLock::new();
        // std seeds each RandomState from the OS's random numbers, which
        // spares a dependency for them.
        IDS.get_or_init(|| Ids {
            prefix: RandomState::new().hash_one(0u8),
            rounds: std::array::from_fn(|_| RandomState::new()),
            next: AtomicU64::new(0),
        })
    }

    fn make(&self) -> RequestIdValue {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = (u128::from(self.prefix) << 64) | u128::from(self.permute(n));
        let text = format!("{id:032x}");
        RequestIdValue(HeaderValue::try_from(text).expect("hex digits are a valid header value"))
    }

    /// A four-round Feistel network over the halves of `n`, SipHash under
    /// each round's key as the round function: a bijection, so distinct
    /// counts give distinct results.
    fn permute(&self, n: u64) -> u64 {
        let (mut left, mut right) = ((n >> 32) as u32, n as u32);
        for key in &self.rounds {
            (left, right) = (right, left ^ key.hash_one(right) as u32);
        }
        (u64::from(left) << 32) | u64::from(right)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn made_ids_are_distinct_hex() {
        let ids = Ids::get();
        let made: HashSet<String> = (0..10_000).map(|_| ids.make().to_string()).collect();
        assert_eq!(made.len(), 10_000);
        for id in &made {
            assert_eq!(id.len(), 32, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        }
    }

    #[test]
    fn the_permutation_is_one_to_one() {
        let ids = Ids::get();
        let small: HashSet<u64> = (0..1 << 16).map(|n| ids.permute(n)).collect();
        assert_eq!(small.len(), 1 << 16);
        // Consecutive counts do not give consecutive values.
        assert!(ids.permute(1).abs_diff(ids.permute(0)) > 1 << 20);
    }

    #[test]
    fn only_plausible_ids_are_kept() {
        assert!(plausible(b"4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(plausible(b"Root=1-67891233-abcdef012345678912345678"));
        assert!(plausible(&[b'a'; MAX_LEN]));
        for bad in [
            &b""[..],
            b"has space",
            b"tab\t",
            b"caf\xc3\xa9",
            &[b'a'; MAX_LEN + 1],
        ] {
            assert!(!plausible(bad), "{bad:?}");
        }
    }
}
