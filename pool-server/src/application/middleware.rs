//! Code around every request: a middleware gets the request and the
//! [`Next`] step (the rest of the chain, then the route) and returns the
//! response. It may answer without calling `next` (a login check), change
//! what `next` returned (headers), measure it (timing, logs), or leave
//! values for the handler in the request's
//! [extensions](crate::Request::extensions_mut), which a route takes with
//! [`Extension<T>`](crate::Extension). The route is already known when
//! middleware runs: [`Request::matched_path`](crate::Request::matched_path)
//! names its pattern, for logs and metrics labelled by route.
//!
//! Middleware runs on workers, in the order added with
//! [`Builder::wrap`](crate::Builder::wrap): the first added is the
//! outermost. It sees every response the application makes, 404s, 405s,
//! `OPTIONS` answers and extractor rejections included, and a handler's
//! panic as a 500 (whose connection then closes). What the event loop
//! answers by itself (400 for unreadable requests, 408, 413, 414, 431, 501,
//! 503) never reaches user code. A server with no middleware pays nothing
//! for it; with one, it pays one call per request.
//!
//! Middleware for some routes only goes on a [`Scope`](crate::routing::Scope), with
//! [`Scope::wrap`](crate::routing::Scope::wrap): it runs inside the server-wide
//! middleware, for the requests routed to the scope's routes (see the
//! `Scope` docs for what it sees under its prefix).
//!
//! ```
//! use std::time::Instant;
//! use pool_server::{Next, Request, Response, Server, StatusCode};
//!
//! fn timing(req: &mut Request, next: Next<'_>) -> Response {
//!     let started = Instant::now();
//!     let response = next.run(req);
//!     let micros = started.elapsed().as_micros().to_string();
//!     response.with_header("server-timing", format!("app;dur={micros}"))
//! }
//!
//! fn api_key(req: &mut Request, next: Next<'_>) -> Response {
//!     match req.header("x-api-key") {
//!         Some("secret") => next.run(req),
//!         _ => Response::from(StatusCode::UNAUTHORIZED),
//!     }
//! }
//!
//! # fn main() -> Result<(), pool_server::Error> {
//! let server = Server::builder()
//!     .bind("127.0.0.1:0")
//!     .wrap(timing) // outermost: it times the key check too
//!     .wrap(api_key)
//!     .handler(|_| Response::text("hello"))
//!     .build()?;
//! # drop(server);
//! # Ok(())
//! # }
//! ```
//!
//! A closure passed to `wrap` needs its parameters' types written out
//! (`|req: &mut Request, next: Next<'_>|`), as Rust infers them only from an
//! `Fn` bound; [`from_fn`] is that bound, and lets the closure return any
//! [`IntoResponse`]:
//!
//! ```
//! use pool_server::middleware::from_fn;
//! use pool_server::{Server, StatusCode};
//!
//! let builder = Server::builder().wrap(from_fn(|req, next| {
//!     if req.header("x-api-key").is_none() {
//!         return Err((StatusCode::UNAUTHORIZED, "an API key, please"));
//!     }
//!     Ok(next.run(req))
//! }));
//! # drop(builder);
//! ```

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use http::header::{HeaderValue, CONNECTION};
use http::StatusCode;

use super::error_body::{render, Renderer};
use super::into_response::IntoResponse;
use super::Handler;
use crate::error::{panic_message, Error};
use crate::request::Request;
use crate::response::Response;

/// Code that runs around every request, added with
/// [`Builder::wrap`](crate::Builder::wrap) or [`Scope::wrap`](crate::routing::Scope::wrap).
/// Plain functions of the form `fn(&mut Request, Next<'_>) -> Response`
/// are middleware, and so is any closure wrapped in [`from_fn`]; implement
/// the trait for middleware that carries configuration.
pub trait Middleware: Send + Sync + 'static {
    /// Answers `req`, calling `next.run(req)` to go on down the chain.
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response;

    /// Not API: what is wrong with this middleware's settings, for
    /// [`Builder::build`](crate::Builder::build) to refuse with a
    /// configuration error, as it refuses the server's own bad settings.
    /// The ready middleware with builder methods (`Cors`, for one) use it;
    /// it may change in any release.
    #[doc(hidden)]
    fn __config_error(&self) -> Option<String> {
        None
    }
}

impl<F> Middleware for F
where
    F: Fn(&mut Request, Next<'_>) -> Response + Send + Sync + 'static,
{
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        self(req, next)
    }
}

/// Middleware from a closure whose parameter types Rust infers, returning
/// anything that is [`IntoResponse`] (a `Result` for an early refusal).
pub fn from_fn<F, R>(middleware: F) -> FromFn<F>
where
    F: Fn(&mut Request, Next<'_>) -> R + Send + Sync + 'static,
    R: IntoResponse,
{
    FromFn(middleware)
}

/// The middleware [`from_fn`] makes.
pub struct FromFn<F>(F);

impl<F, R> Middleware for FromFn<F>
where
    F: Fn(&mut Request, Next<'_>) -> R + Send + Sync + 'static,
    R: IntoResponse,
{
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        (self.0)(req, next).into_response()
    }
}

impl<F> fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FromFn")
    }
}

/// The rest of the chain: the middleware after this one, then the route.
pub struct Next<'a> {
    rest: &'a [Arc<dyn Middleware>],
    endpoint: &'a dyn Fn(&mut Request) -> Response,
}

impl<'a> Next<'a> {
    /// The chain of `layers`, then `endpoint`.
    pub(crate) fn new(
        layers: &'a [Arc<dyn Middleware>],
        endpoint: &'a dyn Fn(&mut Request) -> Response,
    ) -> Next<'a> {
        Next {
            rest: layers,
            endpoint,
        }
    }

    /// Runs the rest of the chain on `req` and returns its response.
    pub fn run(self, req: &mut Request) -> Response {
        match self.rest.split_first() {
            Some((first, rest)) => first.call(
                req,
                Next {
                    rest,
                    endpoint: self.endpoint,
                },
            ),
            None => (self.endpoint)(req),
        }
    }
}

impl fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("middleware_left", &self.rest.len())
            .finish_non_exhaustive()
    }
}

/// The first configuration mistake among `layers`, as `build()` reports it.
pub(crate) fn check(layers: &[Arc<dyn Middleware>]) -> Result<(), Error> {
    match layers.iter().find_map(|layer| layer.__config_error()) {
        Some(why) => Err(Error::config(why)),
        None => Ok(()),
    }
}

/// Answers `req` with `endpoint` inside a scope's `layers`, which see its
/// panics and errors as the server-wide middleware would: a panic as the
/// 500 of [`panicked`], errors rendered by `renderer`.
pub(crate) fn run_scoped(
    layers: &[Arc<dyn Middleware>],
    renderer: Option<&Renderer>,
    endpoint: &dyn Fn(&mut Request) -> Response,
    req: &mut Request,
) -> Response {
    let guarded = |req: &mut Request| {
        let response = panic::catch_unwind(AssertUnwindSafe(|| endpoint(req)))
            .unwrap_or_else(|panic| panicked(req, &panic));
        match renderer {
            Some(renderer) => render(renderer, response),
            None => response,
        }
    };
    Next {
        rest: layers,
        endpoint: &guarded,
    }
    .run(req)
}

/// `endpoint` with its panics turned into the 500 of [`panicked`], for what
/// wraps it (middleware, the error renderer) to see; the connection still
/// closes after it.
pub(crate) fn catch_panics(endpoint: Box<Handler>) -> Box<Handler> {
    Box::new(move |req: &mut Request| {
        panic::catch_unwind(AssertUnwindSafe(|| endpoint(req)))
            .unwrap_or_else(|panic| panicked(req, &panic))
    })
}

/// The 500 that answers a handler's panic: logged, and with
/// `Connection: close`, since the handler may have left shared state broken
/// mid-request.
pub(crate) fn panicked(req: &Request, panic: &Box<dyn std::any::Any + Send>) -> Response {
    log::error!(
        "handler panicked on {} {}: {}",
        req.method(),
        req.path(),
        panic_message(panic)
    );
    let mut response = Response::error(StatusCode::INTERNAL_SERVER_ERROR, "internal server error");
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}
