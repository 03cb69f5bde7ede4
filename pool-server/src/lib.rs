//! An embeddable HTTP/1.1 server: a fixed pool of worker threads behind one
//! readiness loop.
//!
//! Handlers are plain blocking functions. A worker runs one only when a whole
//! request (head and body) has arrived; idle keep-alive connections, slow
//! senders and slow readers wait in the event loop and hold no worker, so a
//! few workers serve thousands of connections.
//!
//! Annotate functions with [`route`], list them with [`routes!`], and run:
//!
//! ```no_run
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use pool_server::{route, routes, Request, Server, State, StatusCode};
//!
//! #[route("GET /")]
//! fn index() -> &'static str {
//!     "Hello"
//! }
//!
//! #[route("GET /users/{id}")]
//! fn user(id: u64) -> String {
//!     format!("user {id}")
//! }
//!
//! #[route("POST /echo")]
//! fn echo(req: &Request) -> Vec<u8> {
//!     req.body().to_vec()
//! }
//!
//! #[route("POST /hits")]
//! fn hit(hits: State<AtomicU64>) -> (StatusCode, String) {
//!     let n = hits.fetch_add(1, Ordering::Relaxed) + 1;
//!     (StatusCode::CREATED, n.to_string())
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     Server::builder()
//!         .bind("127.0.0.1:7878")
//!         .workers(4)
//!         .state(AtomicU64::new(0))
//!         .routes(routes![index, user, echo, hit])
//!         .build()? // binds now; clashing routes or missing state fail here
//!         .run()?; // serves until SIGINT or SIGTERM, then shuts down gracefully
//!     Ok(())
//! }
//! ```
//!
//! Without routes, one closure can answer everything; with routes, it answers
//! the paths no route knows:
//!
//! ```no_run
//! use pool_server::{Request, Response, Server, StatusCode};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! Server::builder()
//!     .handler(|req: &Request| match req.path() {
//!         "/" => Response::text("hello"),
//!         _ => Response::status_only(StatusCode::NOT_FOUND),
//!     })
//!     .build()?
//!     .run()?;
//! # Ok(())
//! # }
//! ```
//!
//! In tests, [`Server::spawn`] runs the server in the background and its
//! [`ServerHandle`] stops it:
//!
//! ```
//! use std::io::{Read, Write};
//! use pool_server::{Response, Server};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::builder()
//!     .bind("127.0.0.1:0")
//!     .workers(2)
//!     .handler(|_| Response::text("hi"))
//!     .build()?
//!     .spawn()?;
//! let mut stream = std::net::TcpStream::connect(server.local_addr())?;
//! stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! let mut reply = String::new();
//! stream.read_to_string(&mut reply)?;
//! assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(reply.ends_with("\r\n\r\nhi"));
//! server.shutdown()?;
//! # Ok(())
//! # }
//! ```
//!
//! Limits and timeouts, with their defaults, are in [`config`].

pub mod config;
pub mod stream;

// The layers, bottom up; each imports only from those above it here. The
// public request, response and error types and `config` sit beneath all
// three.
mod error;
mod request;
mod response;

mod protocol;

mod application;

mod runtime;

/// Crate-private code for the fuzz targets and benchmarks. Not API.
#[cfg(feature = "internals")]
#[doc(hidden)]
#[path = "internals.rs"]
pub mod __internals;

pub use bytes::Bytes;
pub use http::{header, Extensions, HeaderMap, Method, StatusCode, Version};

pub use crate::application::cookies;
// The extractors nearly every route takes, here as well as in `extract`;
// `Json` is a response too.
#[cfg(feature = "json")]
pub use crate::application::extract::Json;
pub use crate::application::extract::{Extension, State};
pub use crate::application::files;
pub use crate::application::into_response::IntoResponse;
pub use crate::application::middleware::{Middleware, Next};
pub use crate::application::route_metrics::RouteStats;
// What `routes!` returns, here as well as in `routing`, as axum's `Router`.
pub use crate::application::router::Routes;
#[cfg(feature = "json")]
pub use crate::application::sessions;
pub use crate::application::{access_log, compression, guard, middleware, sse};
pub use crate::error::Error;
pub use crate::protocol::forwarded::ProxyHeader;
pub use crate::request::{BodyReader, Request};
pub use crate::response::Response;
pub use crate::runtime::handle::{ServerHandle, StatsHandle};
pub use crate::runtime::metrics::Stats;
pub use crate::runtime::pool;
pub use crate::runtime::server::{Builder, Server};
pub use crate::runtime::test_client as test;
pub use pool_server_macros::{fallback, route, routes};

// Ready middleware for what browsers ask of a server.
pub use crate::application::{cors, request_id, security_headers};

// Transitional, hidden: the old root paths of what moved to `extract` and
// `routing`, while README.md, application/extract/mod.rs and
// runtime/server.rs (rewritten on other branches) still name them in
// doctests and links. Remove once they name the new paths.
#[cfg(feature = "json")]
#[doc(hidden)]
pub use crate::application::extract::{Form, Query};
#[doc(hidden)]
pub use crate::application::extract::{FromRequest, Rejection, RequestContext, Requirements};
#[doc(hidden)]
pub use crate::application::router::Scope;

pub mod extract {
    //! The arguments a route function takes besides its path parameters,
    //! and [`FromRequest`] to write more.

    pub use crate::application::extract::{
        Extension, FromRequest, Rejection, RequestContext, Requirements, State,
    };
    #[cfg(feature = "json")]
    pub use crate::application::extract::{Form, Json, Query};
}

pub mod routing {
    //! The tables [`routes!`](crate::routes) builds, and the [`Scope`]s that
    //! mount them under a prefix with middleware of their own.

    pub use crate::application::router::{Routes, Scope};
}

/// What the code generated by [`route`] and [`routes!`] refers to. Not
/// public API: it changes whenever the macros do.
#[doc(hidden)]
pub mod __private {
    pub use crate::application::extract::{path_param, FromRequest, RequestContext, Requirements};
    pub use crate::application::into_response::into_response;
    pub use crate::application::router::{assert_distinct, routes, HandlerFn, Route, Segment};
}

/// The README's Rust snippets, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
