//! Route groups: a [`Scope`] mounts `routes!` tables under a path prefix,
//! with middleware of its own. [`flatten`] turns scopes (nested ones too)
//! into what the router keeps: a prefix, its segments and the middleware
//! chain of each.

use std::fmt;
use std::sync::Arc;

use super::{Listed, Routes};
use crate::application::guard::{self, GuardFn};
use crate::application::into_response::IntoResponse;
use crate::application::middleware::{self, Middleware};
use crate::error::Error;
use crate::request::Request;

/// Routes under a path prefix, with middleware that runs only for them;
/// given to [`Builder::scope`](crate::Builder::scope).
///
/// ```
/// use pool_server::routing::Scope;
/// use pool_server::test::TestClient;
/// use pool_server::{route, routes, Next, Request, Response, Server, StatusCode};
///
/// #[route("GET /")]
/// fn home() -> &'static str {
///     "home"
/// }
///
/// #[route("GET /notes/{id}")]
/// fn note(id: u64) -> String {
///     format!("note {id}")
/// }
///
/// fn api_key(req: &mut Request, next: Next<'_>) -> Response {
///     match req.header("x-api-key") {
///         Some("secret") => next.run(req),
///         _ => Response::from(StatusCode::UNAUTHORIZED),
///     }
/// }
///
/// let app = Server::builder()
///     .routes(routes![home])
///     .scope(Scope::new("/api/v1").routes(routes![note]).wrap(api_key));
/// let client = TestClient::new(app).unwrap();
/// assert_eq!(client.get("/").send().text(), "home"); // no key needed
/// assert_eq!(client.get("/api/v1/notes/7").send().status(), StatusCode::UNAUTHORIZED);
/// let response = client.get("/api/v1/notes/7").header("x-api-key", "secret").send();
/// assert_eq!(response.text(), "note 7");
/// ```
///
/// # Paths
///
/// A route's path is the prefix followed by the path in its `#[route]`:
/// `GET /notes/{id}` under `/api/v1` answers `GET /api/v1/notes/{id}`. A
/// `/` route answers the prefix itself (`/api/v1`, as axum's `nest` does);
/// the prefix `/` adds nothing, for middleware on some routes only.
/// Routes of a scope and routes elsewhere may share a path (with other
/// methods): the path's `Allow`, its 405 and its automatic `OPTIONS` answer
/// list every method, whichever scope it comes from.
///
/// The prefix starts with `/`, does not end with one (except `/` itself),
/// and is fixed text, matched as the client sends it: no `{param}`, no
/// empty segment, no `?`, `#`, space or non-ASCII character. A bad prefix,
/// or two routes with the same method and equivalent whole paths (in two
/// scopes, or in a scope and at the top level), fail
/// [`Builder::build`](crate::Builder::build) with a message naming both
/// routes and their scopes. Within one `routes!` list, clashes are compile
/// errors, as usual.
///
/// A path under the prefix that no route knows goes to the scope's
/// `#[fallback]` if it has one, unless a `serve_dir` mount with a longer
/// (or equal) prefix covers it; otherwise on to the server's fallback.
///
/// # Middleware
///
/// [`wrap`](Self::wrap) adds middleware that runs for the requests routed
/// to one of the scope's routes (`HEAD` answered by its `GET` route, and
/// the route's extractor rejections, included), and for its
/// [`#[fallback]`](crate::fallback), if its routes have one. It sees a
/// panic as a 500 and the errors in the form chosen with
/// [`Builder::error_body`](crate::Builder::error_body), as server-wide
/// middleware does. It does not run for what the router answers by
/// itself, even under the prefix: a 404 for an unknown path (unless the
/// scope has a fallback), a 405 for a known path with another method, and
/// the automatic `OPTIONS` answer (so CORS preflights, which carry no
/// credentials, need no key). Nor does it run for `serve_dir` mounts.
///
/// Server-wide middleware ([`Builder::wrap`](crate::Builder::wrap)) is
/// outermost: it runs before the scope's and sees its answer. Within a
/// scope, as on the builder, the first added is the outermost, and an
/// enclosing scope's middleware runs around a nested scope's.
pub struct Scope {
    prefix: String,
    routes: Vec<Listed>,
    layers: Vec<Arc<dyn Middleware>>,
    guards: Vec<Arc<GuardFn>>,
    body_limit: Option<usize>,
    scopes: Vec<Scope>,
}

impl Scope {
    /// A scope at `prefix`, such as `"/api/v1"`, checked by
    /// [`Builder::build`](crate::Builder::build).
    pub fn new(prefix: &str) -> Scope {
        Scope {
            prefix: prefix.to_owned(),
            routes: Vec::new(),
            layers: Vec::new(),
            guards: Vec::new(),
            body_limit: None,
            scopes: Vec::new(),
        }
    }

    /// Adds the routes that [`routes!`](crate::routes) lists, under the
    /// prefix; call it as often as needed. A [`#[fallback]`](crate::fallback)
    /// among them answers the paths under the prefix that no route knows.
    pub fn routes(mut self, routes: Routes) -> Scope {
        self.routes.extend(routes.into_vec());
        self
    }

    /// Runs `middleware` around the scope's routes; see [Middleware](#middleware).
    /// The first added is the outermost.
    pub fn wrap(mut self, middleware: impl Middleware) -> Scope {
        self.layers.push(Arc::new(middleware));
        self
    }

    /// Checks the head of every request under the prefix before its body
    /// is read, after the server-wide guards and an enclosing scope's; see
    /// [`guard`](crate::guard). `Err` refuses the request with that answer:
    /// the body is never read and no `100 Continue` is sent. Unlike the
    /// scope's middleware, a guard also covers what the router answers by
    /// itself under the prefix (a 404 for an unknown path, a 405, an
    /// `OPTIONS` answer), so a client without a key learns nothing of
    /// which paths exist. A route of another scope, or of none, under the
    /// same prefix is guarded by its own scope only.
    ///
    /// ```
    /// use pool_server::routing::Scope;
    /// use pool_server::{Request, StatusCode};
    ///
    /// let uploads = Scope::new("/uploads").guard(|req: &mut Request| {
    ///     match req.header("authorization") {
    ///         Some(_) => Ok(()),
    ///         None => Err(StatusCode::UNAUTHORIZED),
    ///     }
    /// });
    /// # drop(uploads);
    /// ```
    pub fn guard<F, R>(mut self, guard: F) -> Scope
    where
        F: Fn(&mut Request) -> Result<(), R> + Send + Sync + 'static,
        R: IntoResponse,
    {
        self.guards.push(guard::boxed(guard));
        self
    }

    /// The most body the scope's routes take, in bytes, instead of the
    /// server's [`max_body_size`](crate::Builder::max_body_size); a nested
    /// scope's setting, and a route table's own
    /// ([`Routes::max_body_size`]), win over it.
    pub fn max_body_size(mut self, bytes: usize) -> Scope {
        self.body_limit = Some(bytes);
        self
    }

    /// Nests `inner` under this scope: its prefix follows this one's
    /// (`/api` then `/v1` is `/api/v1`), and this scope's middleware runs
    /// around its own.
    pub fn scope(mut self, inner: Scope) -> Scope {
        self.scopes.push(inner);
        self
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("prefix", &self.prefix)
            .field("routes", &self.routes)
            .field("middleware", &self.layers.len())
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A scope as the router keeps it, enclosing scopes resolved.
pub(crate) struct FlatScope {
    /// The whole prefix without a trailing `/`: empty for `/`.
    pub(super) prefix: String,
    /// The prefix's segments after the leading `/`.
    pub(super) segments: Vec<Box<str>>,
    /// The enclosing scopes' middleware, then this one's.
    pub(crate) layers: Vec<Arc<dyn Middleware>>,
    /// The enclosing scopes' guards, then this one's.
    pub(super) guards: Vec<Arc<GuardFn>>,
    /// This scope's body limit, else the nearest enclosing scope's.
    pub(super) body_limit: Option<usize>,
    /// Moved out into the tree by `Router::new`.
    pub(super) routes: Vec<Listed>,
}

impl FlatScope {
    /// The prefix as messages show it.
    pub(super) fn display(&self) -> &str {
        if self.prefix.is_empty() {
            "/"
        } else {
            &self.prefix
        }
    }
}

impl fmt::Debug for FlatScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlatScope")
            .field("prefix", &self.display())
            .field("middleware", &self.layers.len())
            .finish_non_exhaustive()
    }
}

/// Every scope and nested scope, prefixes checked and joined.
///
/// # Errors
/// A configuration error naming a prefix that is not valid.
pub(super) fn flatten(scopes: Vec<Scope>) -> Result<Vec<FlatScope>, Error> {
    let mut flat = Vec::new();
    for scope in scopes {
        flatten_into(scope, &Outer::default(), &mut flat)?;
    }
    Ok(flat)
}

/// What a nested scope takes from the scopes around it.
#[derive(Default)]
struct Outer {
    prefix: String,
    layers: Vec<Arc<dyn Middleware>>,
    guards: Vec<Arc<GuardFn>>,
    body_limit: Option<usize>,
}

fn flatten_into(scope: Scope, outer: &Outer, flat: &mut Vec<FlatScope>) -> Result<(), Error> {
    let mut this = Outer {
        prefix: format!("{}{}", outer.prefix, checked(&scope.prefix)?),
        layers: outer.layers.clone(),
        guards: outer.guards.clone(),
        body_limit: scope.body_limit.or(outer.body_limit),
    };
    middleware::check(&scope.layers)?;
    this.layers.extend(scope.layers);
    this.guards.extend(scope.guards);
    for inner in scope.scopes {
        flatten_into(inner, &this, flat)?;
    }
    flat.push(FlatScope {
        segments: this.prefix.split('/').skip(1).map(Into::into).collect(),
        prefix: this.prefix,
        layers: this.layers,
        guards: this.guards,
        body_limit: this.body_limit,
        routes: scope.routes,
    });
    Ok(())
}

/// The prefix without its trailing `/` (so `/` is empty), or why it is
/// not valid.
fn checked(prefix: &str) -> Result<&str, Error> {
    let invalid = |why: String| Error::config(format!("scope `{prefix}`: {why}"));
    if prefix == "/" {
        return Ok("");
    }
    if !prefix.starts_with('/') {
        return Err(invalid(format!(
            "the prefix must start with `/`: write `/{prefix}`"
        )));
    }
    if let Some(trimmed) = prefix.strip_suffix('/') {
        return Err(invalid(format!(
            "the prefix cannot end with `/`: write `{trimmed}` (a `/` route answers the prefix itself)"
        )));
    }
    if prefix.contains("//") {
        return Err(invalid(
            "the prefix cannot hold an empty segment (`//`)".to_owned(),
        ));
    }
    if let Some(bad) = prefix
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '?' | '#' | '{' | '}'))
    {
        return Err(invalid(match bad {
            '{' | '}' => "the prefix is fixed text and cannot hold parameters (`{..}`); put them in the routes' paths".to_owned(),
            '?' | '#' => "the prefix cannot hold a query or a fragment".to_owned(),
            c => format!(
                "the prefix cannot hold `{}`; percent-encode it (the router matches the path as sent)",
                c.escape_default()
            ),
        }));
    }
    Ok(prefix)
}

/// Whether a scope's `prefix` (without trailing `/`) covers `path`: the
/// prefix itself or anything below it (`/api` covers `/api/x`, not `/apix`).
pub(super) fn covers(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
