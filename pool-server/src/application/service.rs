//! The application as one value: what the server's workers (and the
//! [`TestClient`](crate::test::TestClient)) call for every request, and
//! what the event loop asks of a request's head before it reads the body.
//!
//! A request goes: trusted-proxy fields read, then the guards (server-wide,
//! then its scope's) on the head alone, then (the body read) the
//! middleware, outermost first, then the route. A guard's refusal goes
//! through the middleware in the route's place, so a CORS layer or an
//! access log still sees it.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::guard::{self, GuardFn};
use super::middleware::{Middleware, Next};
use super::route_metrics::{RouteMetrics, RouteStats};
use super::router::Router;
use super::Handler;
use crate::protocol::forwarded::TrustedProxies;
use crate::protocol::framer::{AtHead, Heads};
use crate::request::Request;
use crate::response::Response;

pub(crate) struct Service {
    pub(crate) proxies: TrustedProxies,
    /// The routing table, when the application has routes, scopes or mounts.
    router: Option<Arc<Router>>,
    /// Guards for every request, before the scopes'.
    guards: Vec<Arc<GuardFn>>,
    /// Whether any guard exists, server-wide or in a scope: without one,
    /// a request pays nothing for them.
    guarded: bool,
    layers: Vec<Arc<dyn Middleware>>,
    /// The route (through the router) or the plain handler, with panics and
    /// error bodies handled when middleware needs to see them.
    endpoint: Box<Handler>,
    metrics: RouteMetrics,
}

impl Service {
    pub(crate) fn new(
        proxies: TrustedProxies,
        router: Option<Arc<Router>>,
        guards: Vec<Arc<GuardFn>>,
        layers: Vec<Arc<dyn Middleware>>,
        endpoint: Box<Handler>,
    ) -> Service {
        let guarded = !guards.is_empty() || router.as_ref().is_some_and(|r| r.has_guards());
        let labels = router
            .as_ref()
            .map(|r| r.route_labels())
            .unwrap_or_default();
        Service {
            proxies,
            router,
            guards,
            guarded,
            layers,
            endpoint,
            metrics: RouteMetrics::new(labels),
        }
    }

    /// Counts the answer to `request`, which took `took`, for its route.
    pub(crate) fn record(&self, request: &Request, status: http::StatusCode, took: Duration) {
        self.metrics.record(request, status, took);
    }

    /// Answers and latency per route so far.
    pub(crate) fn route_stats(&self) -> Vec<RouteStats> {
        self.metrics.snapshot()
    }

    /// Runs the guards on the head of `request`: server-wide ones, then
    /// those of the scope that answers it; the first refusal, if one
    /// refuses. The trusted-proxy fields are read first, so guards see the
    /// client's address.
    pub(crate) fn check(&self, request: &mut Request) -> Option<Response> {
        self.proxies.apply(request);
        if !self.guarded {
            return None;
        }
        guard::run(&self.guards, request).or_else(|| {
            self.router
                .as_ref()
                .and_then(|router| router.check(request))
        })
    }

    /// Answers `request`: its guards, unless `checked` says they passed
    /// already, then the middleware and the route.
    pub(crate) fn call(&self, request: &mut Request, checked: bool) -> Response {
        if !checked {
            if let Some(refusal) = self.check(request) {
                return self.refused(request, refusal);
            }
        }
        if self.layers.is_empty() {
            return (self.endpoint)(request);
        }
        if let (Some(router), None) = (&self.router, request.route_id) {
            // Middleware sees which route will answer: routed once for it,
            // once more to answer (only with middleware, and only when the
            // head was not routed already).
            router.mark_route(request);
        }
        Next::new(&self.layers, &*self.endpoint).run(request)
    }

    /// A guard's `refusal` as the answer to `request`, through the
    /// middleware in the route's place.
    pub(crate) fn refused(&self, request: &mut Request, refusal: Response) -> Response {
        if self.layers.is_empty() {
            return refusal;
        }
        let refusal = Cell::new(Some(refusal));
        // Taken once: the chain calls its endpoint at most once.
        let endpoint = move |_: &mut Request| {
            refusal
                .take()
                .unwrap_or_else(|| Response::status_only(http::StatusCode::INTERNAL_SERVER_ERROR))
        };
        Next::new(&self.layers, &endpoint).run(request)
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("router", &self.router)
            .field("guards", &self.guards.len())
            .field("middleware", &self.layers.len())
            .finish_non_exhaustive()
    }
}

impl Heads for Service {
    /// What the head of `request` (its body not read yet) decides; names
    /// its route on it as a side effect.
    fn at_head(&self, request: &mut Request) -> AtHead {
        let Some(router) = &self.router else {
            return AtHead {
                body_limit: None,
                guarded: !self.guards.is_empty(),
                takes_body: true,
            };
        };
        let found = router.at_head(request);
        AtHead {
            body_limit: found.body_limit,
            guarded: !self.guards.is_empty() || !found.guards.is_empty(),
            takes_body: found.takes_body,
        }
    }
}
