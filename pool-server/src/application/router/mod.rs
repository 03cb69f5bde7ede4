//! The routing table: [`Routes`] as `routes!` builds it, and the
//! [`Router`] that `Builder::build` makes of it and calls for every request.
//!
//! The macro emits data (a [`Route`]: method, path segments, a function
//! pointer), never logic; everything that decides which route answers lives
//! here and in [`tree`].

use std::fmt;

use http::header::ALLOW;
use http::{HeaderValue, Method, StatusCode};

use super::extract::{short_type_name, RequestContext, Requirements, States};
use super::files::Mount;
use super::Handler;
use crate::{Error, Request, Response};

#[cfg(test)]
mod tests;
mod tree;

use crate::application::params::Params;

/// The function that `#[route]` generates around a route function: it runs
/// the extractors, calls the function and converts its result.
pub type HandlerFn = for<'a, 'r> fn(&'a RequestContext<'r>) -> Response;

/// One segment of a route's path, after the leading `/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Matches exactly this text (empty for `/` and trailing slashes).
    Static(&'static str),
    /// `{name}`: any non-empty segment.
    Param,
    /// `{*name}`: the rest of the path, at least one byte; always last.
    Wildcard,
}

/// One route, as `#[route]` emits it in a hidden constant next to the
/// function.
#[derive(Clone, Copy)]
pub struct Route {
    method: &'static str,
    path: &'static str,
    segments: &'static [Segment],
    name: &'static str,
    handler: HandlerFn,
    requirements: fn(&mut Requirements),
}

impl Route {
    /// A route for `method` and `path` (as written, for messages), matched
    /// by `segments`; `name` is the function's path for messages.
    pub const fn new(
        method: &'static str,
        path: &'static str,
        segments: &'static [Segment],
        name: &'static str,
        handler: HandlerFn,
        requirements: fn(&mut Requirements),
    ) -> Route {
        Route {
            method,
            path,
            segments,
            name,
            handler,
            requirements,
        }
    }

    /// Whether both routes answer the same requests: same method, and paths
    /// that differ at most in parameter names.
    const fn clashes_with(&self, other: &Route) -> bool {
        if !bytes_eq(self.method.as_bytes(), other.method.as_bytes())
            || self.segments.len() != other.segments.len()
        {
            return false;
        }
        let mut i = 0;
        while i < self.segments.len() {
            let same = match (self.segments[i], other.segments[i]) {
                (Segment::Static(a), Segment::Static(b)) => bytes_eq(a.as_bytes(), b.as_bytes()),
                (Segment::Param, Segment::Param) | (Segment::Wildcard, Segment::Wildcard) => true,
                _ => false,
            };
            if !same {
                return false;
            }
            i += 1;
        }
        true
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} => {}", self.method, self.path, self.name)
    }
}

/// A routing table: the routes that [`routes!`](crate::routes) lists, for
/// [`Builder::routes`](crate::Builder::routes).
///
/// ```
/// use pool_server::{route, routes, Routes};
///
/// #[route("GET /")]
/// fn index() -> &'static str {
///     "hello"
/// }
///
/// #[route("GET /health")]
/// fn health() -> &'static str {
///     "ok"
/// }
///
/// let table: Routes = routes![index].merge(routes![health]);
/// assert_eq!(table.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Routes {
    routes: Vec<Route>,
}

impl Routes {
    /// An empty table.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Both tables in one. Clashing routes are reported by
    /// [`Builder::build`](crate::Builder::build).
    pub fn merge(mut self, other: Routes) -> Routes {
        self.routes.extend(other.routes);
        self
    }

    /// The number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the table has no route.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub(crate) fn into_vec(self) -> Vec<Route> {
        self.routes
    }
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.routes).finish()
    }
}

/// The table of a `routes!` list; called by generated code.
#[doc(hidden)]
pub fn routes(list: &'static [Route]) -> Routes {
    Routes {
        routes: list.to_vec(),
    }
}

/// Fails compilation when two routes of one `routes!` list clash, naming
/// both functions. Called by generated code in a constant.
#[doc(hidden)]
pub const fn assert_distinct(routes: &[Route]) {
    let mut i = 0;
    while i < routes.len() {
        let mut j = i + 1;
        while j < routes.len() {
            if routes[i].clashes_with(&routes[j]) {
                let message = ConstMessage::clash(&routes[i], &routes[j]);
                panic!("{}", message.as_str());
            }
            j += 1;
        }
        i += 1;
    }
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A message assembled at compile time (a `const fn` cannot `format!`; it
/// takes `self` by value since `&mut` in `const fn` needs Rust 1.83).
struct ConstMessage {
    bytes: [u8; 1024],
    len: usize,
}

impl ConstMessage {
    const fn new() -> Self {
        ConstMessage {
            bytes: [0; 1024],
            len: 0,
        }
    }

    const fn push(mut self, text: &str) -> Self {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// The same words as [`clash_message`].
    const fn clash(first: &Route, second: &Route) -> Self {
        ConstMessage::new()
            .push("routes `")
            .push(first.name)
            .push("` (")
            .push(first.method)
            .push(" ")
            .push(first.path)
            .push(") and `")
            .push(second.name)
            .push("` (")
            .push(second.method)
            .push(" ")
            .push(second.path)
            .push(") have the same method and equivalent paths; remove or change one of them")
    }

    const fn as_str(&self) -> &str {
        let (bytes, _) = self.bytes.split_at(self.len);
        match std::str::from_utf8(bytes) {
            Ok(text) => text,
            // Cut inside a character: keep the whole ones.
            Err(err) => match std::str::from_utf8(bytes.split_at(err.valid_up_to()).0) {
                Ok(text) => text,
                Err(_) => "two routes have the same method and equivalent paths",
            },
        }
    }
}

fn clash_message(first: &Route, second: &Route) -> String {
    format!(
        "routes `{}` ({} {}) and `{}` ({} {}) have the same method and equivalent paths; remove or change one of them",
        first.name, first.method, first.path, second.name, second.method, second.path
    )
}

/// The final handler when the server has routes or mounted directories: it
/// finds the route for a request and calls it, or answers 405/`OPTIONS`
/// itself; a path no route knows goes to the mount whose prefix covers it
/// (the longest), then to the fallback, then gets 404.
pub(crate) struct Router {
    root: tree::Node,
    states: States,
    /// Longest prefix first, so `/static/img` is tried before `/static`.
    mounts: Vec<Mount>,
    fallback: Option<Box<Handler>>,
    /// `Allow` for `OPTIONS *`: every method of every route; `None` without
    /// routes, when `OPTIONS *` goes to the fallback like any request.
    allow_any: Option<HeaderValue>,
}

/// What the router decided for a request.
pub(crate) enum Resolution<'a> {
    /// Call this route.
    Route(&'a Route),
    /// No route has this path: the fallback handler, or 404.
    NotFound,
    /// The path is known but not for this method: 405.
    MethodNotAllowed(&'a HeaderValue),
    /// `OPTIONS` without an `OPTIONS` route: 204.
    Options(&'a HeaderValue),
}

impl Router {
    /// Builds the tree.
    ///
    /// # Errors
    /// A configuration error for clashing routes, a state type registered
    /// twice, a state a route needs but nobody registered, and malformed
    /// hand-made routes (an invalid method, a wildcard not last, an empty
    /// segment), and two directories mounted at the same prefix.
    pub(crate) fn new(
        routes: Vec<Route>,
        states: States,
        mut mounts: Vec<Mount>,
        fallback: Option<Box<Handler>>,
    ) -> Result<Router, Error> {
        mounts.sort_by_key(|mount| std::cmp::Reverse(mount.prefix().len()));
        if let Some(pair) = mounts.windows(2).find(|w| w[0].prefix() == w[1].prefix()) {
            return Err(Error::config(format!(
                "serve_dir `{}/` is mounted twice; mount one directory per prefix",
                pair[0].prefix()
            )));
        }
        if let Some(name) = states.duplicate() {
            return Err(Error::config(format!(
                "state `{}` is registered twice; register each type once",
                short_type_name(name)
            )));
        }
        let mut root = tree::Node::default();
        for route in routes {
            let method = check(&route)?;
            let mut needs = Requirements::default();
            (route.requirements)(&mut needs);
            if let Some((_, type_name)) = needs.states.iter().find(|(id, _)| !states.contains(*id))
            {
                return Err(Error::config(format!(
                    "route `{}` ({} {}) needs state `{}`; register one with `.state(...)`",
                    route.name,
                    route.method,
                    route.path,
                    short_type_name(type_name)
                )));
            }
            if let Err(existing) = root.insert(method, route) {
                return Err(Error::config(clash_message(&existing, &route)));
            }
        }
        let mut all_methods = Vec::new();
        root.finish(&mut all_methods);
        Ok(Router {
            root,
            states,
            mounts,
            fallback,
            allow_any: (!all_methods.is_empty()).then(|| tree::allow_value(all_methods.iter())),
        })
    }

    /// Finds what answers `method` on `path`, filling `params`.
    pub(crate) fn resolve<'a, 'p>(
        &'a self,
        method: &Method,
        path: &'p str,
        params: &mut Params<'p>,
    ) -> Resolution<'a> {
        let Some(rest) = path.strip_prefix('/') else {
            return match &self.allow_any {
                Some(allow) if path == "*" && method == Method::OPTIONS => {
                    Resolution::Options(allow)
                }
                _ => Resolution::NotFound,
            };
        };
        let Some(endpoint) = self.root.find(rest, params) else {
            return Resolution::NotFound;
        };
        match endpoint.route(method) {
            Some(route) => Resolution::Route(route),
            None if method == Method::OPTIONS => Resolution::Options(endpoint.allow()),
            None => Resolution::MethodNotAllowed(endpoint.allow()),
        }
    }

    /// Answers one request.
    pub(crate) fn dispatch(&self, request: &Request) -> Response {
        let mut params = Params::new();
        match self.resolve(request.method(), request.path(), &mut params) {
            Resolution::Route(route) => {
                let cx = RequestContext {
                    request,
                    params: &params,
                    states: &self.states,
                    matched_path: route.path,
                };
                (route.handler)(&cx)
            }
            Resolution::NotFound => {
                let path = request.path();
                for mount in &self.mounts {
                    if let Some(rest) = mount.rest(path) {
                        return mount.respond(request, rest);
                    }
                }
                match &self.fallback {
                    Some(fallback) => fallback(request),
                    None => Response::bare_error(StatusCode::NOT_FOUND, "not found"),
                }
            }
            Resolution::MethodNotAllowed(allow) => {
                let mut response =
                    Response::bare_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
                response.headers_mut().insert(ALLOW, allow.clone());
                response
            }
            Resolution::Options(allow) => with_allow(StatusCode::NO_CONTENT, allow),
        }
    }
}

fn with_allow(status: StatusCode, allow: &HeaderValue) -> Response {
    let mut response = Response::status_only(status);
    response.headers_mut().insert(ALLOW, allow.clone());
    response
}

/// Validates a route made by hand (the macro's are always valid).
fn check(route: &Route) -> Result<Method, Error> {
    let invalid = |why: &str| {
        Error::config(format!(
            "route `{}` ({} {}): {why}",
            route.name, route.method, route.path
        ))
    };
    let method =
        Method::from_bytes(route.method.as_bytes()).map_err(|_| invalid("invalid method"))?;
    // The parser answers every CONNECT with 501, so such a route could never
    // be called (`#[route]` refuses it too).
    if method == Method::CONNECT {
        return Err(invalid("CONNECT cannot be routed"));
    }
    let Some((_, init)) = route.segments.split_last() else {
        return Err(invalid("a path has at least one segment"));
    };
    for segment in init {
        match segment {
            Segment::Wildcard => return Err(invalid("a wildcard must be the last segment")),
            Segment::Static("") => return Err(invalid("only the last segment may be empty")),
            _ => {}
        }
    }
    Ok(method)
}

/// The router's lookup without a request or a handler call, for the
/// routing benchmark. Not API.
#[doc(hidden)]
pub struct BenchRouter(Router);

impl BenchRouter {
    /// Builds the tree as [`Builder::build`](crate::Builder::build) does.
    ///
    /// # Errors
    /// As `build`, for clashes and missing state.
    pub fn new(routes: Routes) -> Result<BenchRouter, Error> {
        Router::new(routes.into_vec(), States::default(), Vec::new(), None).map(BenchRouter)
    }

    /// The pattern of the route that answers, if one does.
    pub fn find(&self, method: &Method, path: &str) -> Option<&'static str> {
        let mut params = Params::new();
        match self.0.resolve(method, path, &mut params) {
            Resolution::Route(route) => Some(route.path),
            _ => None,
        }
    }
}

impl fmt::Debug for BenchRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("states", &self.states)
            .field("mounts", &self.mounts)
            .field("fallback", &self.fallback.is_some())
            .finish_non_exhaustive()
    }
}
