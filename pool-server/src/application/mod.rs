//! What turns a request into a response above the wire: the router and the
//! dispatch table the macros emit, extractors, `IntoResponse`, and static
//! files. Knows the public request and response types; never sockets,
//! threads or bytes on the wire.

pub mod access_log;
pub mod compression;
pub mod cookies;
pub(crate) mod error_body;
pub(crate) mod extract;
pub mod files;
pub mod guard;
pub(crate) mod into_response;
pub mod middleware;
pub(crate) mod params;
pub(crate) mod route_metrics;
pub(crate) mod router;
pub(crate) mod service;
#[cfg(feature = "json")]
pub mod sessions;
pub mod sse;

// Ready middleware for what browsers ask of a server.
pub mod cors;
pub mod request_id;
pub mod security_headers;

use crate::request::Request;
use crate::response::Response;

/// The function that answers every request: the fallback handler, or the
/// router that wraps it. The runtime runs it on a worker.
pub(crate) type Handler = dyn Fn(&mut Request) -> Response + Send + Sync + 'static;
