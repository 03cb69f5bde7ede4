//! Guards: checks on a request's head that run before its body is read.
//! A guard sees the method, path, headers, client address and matched
//! route (the body is still empty) and either lets the request on, leaving
//! values for the handler in its extensions, or refuses it: then the body
//! is never read, `100 Continue` is never sent, and the connection closes
//! once the refusal is out (what the client still sends is discarded for
//! a bounded time, as after any refusal).
//!
//! Guards run on a worker, as a job of their own when the request has a
//! body (the event loop reads the body once they pass); server-wide ones
//! ([`Builder::guard`](crate::Builder::guard)) first, then the scope's
//! ([`Scope::guard`](crate::routing::Scope::guard)). A refusal goes through the
//! server's middleware in the route's place, so an access log or a CORS
//! layer still sees it. A request with no guard to pass pays nothing for
//! the feature.
//!
//! ```
//! use pool_server::test::TestClient;
//! use pool_server::{route, routes, Extension, Request, Server, StatusCode};
//!
//! #[derive(Clone)]
//! struct UserId(u64);
//!
//! #[route("POST /upload")]
//! fn upload(Extension(UserId(user)): Extension<UserId>, req: &Request) -> String {
//!     format!("{} bytes from user {user}", req.body_len())
//! }
//!
//! let app = Server::builder()
//!     .guard(|req: &mut Request| match req.header("x-api-key") {
//!         Some("secret") => {
//!             req.extensions_mut().insert(UserId(7));
//!             Ok(())
//!         }
//!         _ => Err((StatusCode::UNAUTHORIZED, "an API key, please")),
//!     })
//!     .routes(routes![upload]);
//! let client = TestClient::new(app).unwrap();
//! let refused = client.post("/upload").body("data").send();
//! assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
//! let taken = client.post("/upload").header("x-api-key", "secret").body("data").send();
//! assert_eq!(taken.text(), "4 bytes from user 7");
//! ```

use std::sync::Arc;

use super::into_response::IntoResponse;
use crate::request::Request;
use crate::response::Response;

/// A guard as the router keeps it: its refusal, if it refuses.
pub(crate) type GuardFn = dyn Fn(&mut Request) -> Option<Response> + Send + Sync;

/// `guard` as the router keeps it: its refusal made a response.
pub(crate) fn boxed<F, R>(guard: F) -> Arc<GuardFn>
where
    F: Fn(&mut Request) -> Result<(), R> + Send + Sync + 'static,
    R: IntoResponse,
{
    Arc::new(move |req: &mut Request| guard(req).err().map(IntoResponse::into_response))
}

/// Runs `guards` in order; the first refusal ends the run and is returned.
pub(crate) fn run(guards: &[Arc<GuardFn>], request: &mut Request) -> Option<Response> {
    guards.iter().find_map(|guard| guard(request))
}
