//! The [`Router`] that `Builder::build` makes of the [`Routes`] tables
//! (see [`route`]) and scopes, and calls for every request.
//!
//! The macro emits data, never logic; everything that decides which route
//! answers lives here and in [`tree`].

use std::fmt;
use std::sync::Arc;

use http::header::ALLOW;
use http::{HeaderValue, Method, StatusCode};

use super::error_body::Renderer;
use super::extract::{short_type_name, RequestContext, Requirements, States};
use super::files::Mount;
use super::guard::{self, GuardFn};
use super::middleware;
use super::Handler;
use crate::error::Error;
use crate::request::Request;
use crate::response::Response;

mod route;
mod scope;
#[cfg(test)]
mod tests;
mod tree;

pub(crate) use route::Listed;
pub use route::{assert_distinct, routes, HandlerFn, Route, Routes, Segment};
use scope::FlatScope;
pub use scope::Scope;

use crate::application::params::Params;

fn clash_message(first: &Entry, second: &Entry) -> String {
    format!(
        "routes `{}` ({}) and `{}` ({}) have the same method and equivalent paths; remove or change one of them",
        first.route.name,
        first.describe(),
        second.route.name,
        second.describe()
    )
}

/// A route as the router holds it: with the prefix of its scope, if any.
#[derive(Clone)]
pub(crate) struct Entry {
    route: Route,
    /// The whole pattern, prefix included (`/api/v1/users/{id}`); empty for
    /// a fallback.
    path: Arc<str>,
    /// The index of its scope in `Router::scopes`.
    scope: Option<usize>,
    /// The prefix of its scope as written, for messages.
    scope_prefix: Option<Box<str>>,
    /// The most body it takes, when not the server's limit.
    body_limit: Option<usize>,
    /// Its place in [`Router::route_labels`]; none for a fallback.
    id: Option<u32>,
}

impl Entry {
    /// The whole pattern.
    #[cfg(feature = "internals")]
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    fn new(listed: Listed, scope: Option<(usize, &FlatScope)>) -> Entry {
        let route = listed.route;
        let prefix = scope.map_or("", |(_, scope)| scope.prefix.as_str());
        let path = match route.path {
            // A scope's `/` is the prefix itself, as with axum's `nest`.
            "/" if !prefix.is_empty() => prefix.to_owned(),
            "" => String::new(),
            path => format!("{prefix}{path}"),
        };
        Entry {
            route,
            path: path.into(),
            scope: scope.map(|(index, _)| index),
            scope_prefix: scope.map(|(_, scope)| scope.display().into()),
            body_limit: listed
                .body_limit
                .or_else(|| scope.and_then(|(_, scope)| scope.body_limit)),
            id: None,
        }
    }

    /// `GET /api/v1/users/{id}, in scope `/api/v1``, for messages.
    fn describe(&self) -> String {
        let what = if self.route.is_fallback() {
            "fallback".to_owned()
        } else {
            format!("{} {}", self.route.method, self.path)
        };
        match &self.scope_prefix {
            Some(prefix) => format!("{what}, in scope `{prefix}`"),
            None => what,
        }
    }

    /// The segments the tree matches: the scope's `/` route has none of
    /// its own, since it answers the prefix itself.
    fn segments(&self, prefix: &[Box<str>]) -> &'static [Segment] {
        match self.route.segments {
            [Segment::Static("")] if !prefix.is_empty() => &[],
            segments => segments,
        }
    }
}

/// What [`Router::new`] builds the router from: the settings of the
/// `Builder` that concern answering requests.
#[derive(Default)]
pub(crate) struct Table {
    /// The routes given to `Builder::routes`, fallbacks included.
    pub(crate) routes: Vec<Listed>,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) states: States,
    pub(crate) mounts: Vec<Mount>,
    /// `Builder::handler`.
    pub(crate) fallback: Option<Box<Handler>>,
    /// `Builder::error_body`, which scope middleware sees applied.
    pub(crate) renderer: Option<Arc<Renderer>>,
}

/// The final handler when the server has routes, scopes or mounted
/// directories: it finds the route for a request and calls it (inside its
/// scope's middleware), or answers 405/`OPTIONS` itself; a path no route
/// knows goes to the mount or scope fallback whose prefix covers it (the
/// longest), then to the server's fallback, then gets 404.
pub(crate) struct Router {
    root: tree::Node,
    states: States,
    /// Longest prefix first, so `/static/img` is tried before `/static`.
    mounts: Vec<Mount>,
    scopes: Vec<FlatScope>,
    /// The scopes' `#[fallback]`s, longest prefix first.
    scope_fallbacks: Vec<Entry>,
    fallback: Option<Fallback>,
    renderer: Option<Arc<Renderer>>,
    /// `Allow` for `OPTIONS *`: every method of every route; `None` without
    /// routes, when `OPTIONS *` goes to the fallback like any request.
    allow_any: Option<HeaderValue>,
    /// Some scope has guards.
    scope_guards: bool,
    /// Each route's method and pattern, by id.
    labels: Vec<(Box<str>, Arc<str>)>,
    /// The patterns alone, by id, for requests to name theirs.
    patterns: Arc<[Arc<str>]>,
}

/// What the router decides from a request's head: see [`Router::at_head`].
pub(crate) struct AtHead<'a> {
    /// The guards of the scope that answers, after the server-wide ones.
    pub(crate) guards: &'a [Arc<GuardFn>],
    pub(crate) body_limit: Option<usize>,
    pub(crate) takes_body: bool,
}

/// Who answers a path no route has.
enum Unrouted<'a, 'p> {
    /// A `serve_dir` mount, with the path below its prefix.
    Mount(&'a Mount, &'p str),
    /// A scope's or the server's `#[fallback]`.
    Entry(&'a Entry),
    /// `Builder::handler`.
    Handler(&'a Handler),
    /// Nobody: 404.
    Nothing,
}

/// The server's own fallback: `Builder::handler` or a `#[fallback]`.
enum Fallback {
    Handler(Box<Handler>),
    Route(Entry),
}

/// What the router decided for a request.
pub(crate) enum Resolution<'a> {
    /// Call this route.
    Route(&'a Entry),
    /// No route has this path: a mount, a fallback, or 404.
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
    /// A configuration error for clashing routes (across scopes too), two
    /// fallbacks for one place, an invalid scope prefix, a state type
    /// registered twice, a state a route needs but nobody registered,
    /// malformed hand-made routes (an invalid method, a wildcard not last,
    /// an empty segment), and two directories mounted at the same prefix.
    pub(crate) fn new(table: Table) -> Result<Router, Error> {
        let Table {
            routes,
            scopes,
            states,
            mut mounts,
            fallback,
            renderer,
        } = table;
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
        let mut scopes = scope::flatten(scopes)?;
        let mut entries: Vec<Entry> = routes.into_iter().map(|r| Entry::new(r, None)).collect();
        let scope_guards = scopes.iter().any(|scope| !scope.guards.is_empty());
        for (index, scope) in scopes.iter_mut().enumerate() {
            let routes = std::mem::take(&mut scope.routes);
            entries.extend(
                routes
                    .into_iter()
                    .map(|route| Entry::new(route, Some((index, &*scope)))),
            );
        }

        let mut root = tree::Node::default();
        let mut fallback = fallback.map(Fallback::Handler);
        let mut scope_fallbacks: Vec<Entry> = Vec::new();
        let mut labels = Vec::new();
        for mut entry in entries {
            if !entry.route.is_fallback() {
                entry.id = u32::try_from(labels.len()).ok();
                labels.push((entry.route.method.into(), Arc::clone(&entry.path)));
            }
            check_needs(&entry, &states)?;
            if entry.route.is_fallback() {
                let same_place = match entry.scope {
                    None => match fallback.take() {
                        None => None,
                        Some(Fallback::Route(other)) => Some(format!("`{}`", other.route.name)),
                        Some(Fallback::Handler(_)) => Some("`Builder::handler`".to_owned()),
                    },
                    Some(index) => scope_fallbacks
                        .iter()
                        .find(|other| {
                            other.scope.map(|i| &scopes[i].prefix) == Some(&scopes[index].prefix)
                        })
                        .map(|other| format!("`{}`", other.route.name)),
                };
                if let Some(other) = same_place {
                    let place = match &entry.scope_prefix {
                        Some(prefix) => format!("the paths under `{prefix}`"),
                        None => "the paths no route knows".to_owned(),
                    };
                    return Err(Error::config(format!(
                        "{other} and `{}` (#[fallback]) both answer {place}; keep one of them",
                        entry.route.name
                    )));
                }
                match entry.scope {
                    None => fallback = Some(Fallback::Route(entry)),
                    Some(_) => scope_fallbacks.push(entry),
                }
                continue;
            }
            let method = check(&entry.route)?;
            let prefix = entry
                .scope
                .map_or(&[][..], |index| &scopes[index].segments[..]);
            let segments = entry.segments(prefix);
            if let Err(existing) = root.insert(method, prefix, segments, entry.clone()) {
                return Err(Error::config(clash_message(&existing, &entry)));
            }
        }
        scope_fallbacks.sort_by_key(|entry| {
            std::cmp::Reverse(entry.scope.map_or(0, |index| scopes[index].prefix.len()))
        });
        let mut all_methods = Vec::new();
        root.finish(&mut all_methods);
        Ok(Router {
            root,
            states,
            mounts,
            scopes,
            scope_fallbacks,
            fallback,
            renderer,
            allow_any: (!all_methods.is_empty()).then(|| tree::allow_value(all_methods.iter())),
            scope_guards,
            patterns: labels
                .iter()
                .map(|(_, pattern)| Arc::clone(pattern))
                .collect(),
            labels,
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
            Some(entry) => Resolution::Route(entry),
            None if method == Method::OPTIONS => Resolution::Options(endpoint.allow()),
            None => Resolution::MethodNotAllowed(endpoint.allow()),
        }
    }

    /// Names the route that will answer `request` on it
    /// ([`Request::matched_path`]), for the middleware that runs before
    /// [`dispatch`](Self::dispatch).
    pub(crate) fn mark_route(&self, request: &mut Request) {
        let mut params = Params::new();
        if let Resolution::Route(entry) =
            self.resolve(request.method(), request.path(), &mut params)
        {
            self.mark(entry, request);
        }
    }

    /// What the head of `request` decides before its body is read: the
    /// guards and body limit of what answers it, and whether anything will
    /// read the body at all (a 405, an `OPTIONS` answer or a 404 will not).
    /// Names the route on the request.
    pub(crate) fn at_head(&self, request: &mut Request) -> AtHead<'_> {
        let target = request.target.clone();
        let path = target.path(request.query_start);
        let mut params = Params::new();
        let (entry, takes_body) = match self.resolve(request.method(), path, &mut params) {
            Resolution::Route(entry) => {
                self.mark(entry, request);
                (Some(entry), true)
            }
            Resolution::NotFound => match self.unrouted(path) {
                Unrouted::Entry(entry) => (Some(entry), true),
                Unrouted::Mount(..) | Unrouted::Handler(_) => (None, true),
                Unrouted::Nothing => (None, false),
            },
            Resolution::MethodNotAllowed(_) | Resolution::Options(_) => (None, false),
        };
        let scope = match entry {
            Some(entry) => entry.scope.map(|index| &self.scopes[index]),
            // The router's own answers under a guarded prefix are guarded
            // too: an unknown path there is refused as a known one would be.
            None if self.scope_guards => self
                .scopes
                .iter()
                .filter(|scope| scope::covers(&scope.prefix, path))
                .max_by_key(|scope| scope.prefix.len()),
            None => None,
        };
        AtHead {
            guards: scope.map_or(&[][..], |scope| &scope.guards[..]),
            body_limit: entry.and_then(|entry| entry.body_limit),
            takes_body,
        }
    }

    /// Each route's method and pattern, by the id it names on requests.
    pub(crate) fn route_labels(&self) -> Vec<(Box<str>, Arc<str>)> {
        self.labels.clone()
    }

    /// Names `entry` on `request` as the route that answers it (a fallback
    /// names none).
    fn mark(&self, entry: &Entry, request: &mut Request) {
        let Some(id) = entry.id else {
            return;
        };
        request.route_id = Some(id);
        // Set once per request's memory (it is reused), not per request.
        if !request
            .patterns
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &self.patterns))
        {
            request.patterns = Some(Arc::clone(&self.patterns));
        }
    }

    /// Whether some scope has guards.
    pub(crate) fn has_guards(&self) -> bool {
        self.scope_guards
    }

    /// Runs the guards of the scope that answers `request`: the first
    /// refusal, if one refuses.
    pub(crate) fn check(&self, request: &mut Request) -> Option<Response> {
        if !self.scope_guards {
            return None;
        }
        let guards = self.at_head(request).guards;
        guard::run(guards, request)
    }

    /// Answers one request.
    pub(crate) fn dispatch(&self, request: &mut Request) -> Response {
        // The parameters point into the path; a second handle on its bytes
        // (a reference count) lets scope middleware have the request
        // mutably meanwhile.
        let target = request.target.clone();
        let path = target.path(request.query_start);
        let mut params = Params::new();
        match self.resolve(request.method(), path, &mut params) {
            Resolution::Route(entry) => self.call(entry, request, &params),
            Resolution::NotFound => self.not_found(request, path),
            Resolution::MethodNotAllowed(allow) => {
                let mut response =
                    Response::bare_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
                response.headers_mut().insert(ALLOW, allow.clone());
                response
            }
            Resolution::Options(allow) => with_allow(StatusCode::NO_CONTENT, allow),
        }
    }

    /// Runs a route or a `#[fallback]`, inside its scope's middleware.
    fn call(&self, entry: &Entry, request: &mut Request, params: &Params<'_>) -> Response {
        if request.route_id.is_none() {
            self.mark(entry, request);
        }
        let handler = |req: &mut Request| {
            (entry.route.handler)(&RequestContext {
                request: req,
                params,
                states: &self.states,
                matched_path: &entry.path,
            })
        };
        match entry.scope.map(|index| &self.scopes[index]) {
            Some(scope) if !scope.layers.is_empty() => {
                middleware::run_scoped(&scope.layers, self.renderer.as_deref(), &handler, request)
            }
            _ => handler(request),
        }
    }

    /// A path no route has: answered by who [`unrouted`](Self::unrouted) names.
    fn not_found(&self, request: &mut Request, path: &str) -> Response {
        match self.unrouted(path) {
            Unrouted::Mount(mount, rest) => mount.respond(request, rest),
            Unrouted::Entry(entry) => self.call(entry, request, &Params::new()),
            Unrouted::Handler(handler) => handler(request),
            Unrouted::Nothing => Response::bare_error(StatusCode::NOT_FOUND, "not found"),
        }
    }

    /// Who answers a path no route has: the mount or scope fallback with
    /// the longest prefix that covers it (a mount on a tie), then the
    /// server's fallback.
    fn unrouted<'a, 'p>(&'a self, path: &'p str) -> Unrouted<'a, 'p> {
        let mount = self
            .mounts
            .iter()
            .find_map(|mount| Some((mount, mount.rest(path)?)));
        let scoped = self.scope_fallbacks.iter().find_map(|entry| {
            let prefix = &self.scopes[entry.scope?].prefix;
            scope::covers(prefix, path).then_some((prefix.len(), entry))
        });
        match (mount, scoped) {
            (Some((mount, rest)), scoped)
                if scoped.is_none_or(|(len, _)| mount.prefix().len() >= len) =>
            {
                Unrouted::Mount(mount, rest)
            }
            (_, Some((_, entry))) => Unrouted::Entry(entry),
            _ => match &self.fallback {
                Some(Fallback::Handler(handler)) => Unrouted::Handler(handler),
                Some(Fallback::Route(entry)) => Unrouted::Entry(entry),
                None => Unrouted::Nothing,
            },
        }
    }
}

/// Fails when a route needs a state nobody registered.
fn check_needs(entry: &Entry, states: &States) -> Result<(), Error> {
    let mut needs = Requirements::default();
    (entry.route.requirements)(&mut needs);
    match needs.states.iter().find(|(id, _)| !states.contains(*id)) {
        Some((_, type_name)) => Err(Error::config(format!(
            "route `{}` ({}) needs state `{}`; register one with `.state(...)`",
            entry.route.name,
            entry.describe(),
            short_type_name(type_name)
        ))),
        None => Ok(()),
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

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("states", &self.states)
            .field("mounts", &self.mounts)
            .field("scopes", &self.scopes)
            .field("fallback", &self.fallback.is_some())
            .finish_non_exhaustive()
    }
}
