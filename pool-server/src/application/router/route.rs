//! What the macros emit and `Builder::routes` takes: a [`Route`] (method,
//! path segments, a function pointer) and the [`Routes`] table of a
//! `routes!` list, with the compile-time check that no two of one list
//! clash. Data only: what decides which route answers lives in the router.

use std::fmt;

use super::super::extract::{RequestContext, Requirements};
use crate::response::Response;

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
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    pub(super) segments: &'static [Segment],
    pub(super) name: &'static str,
    pub(super) handler: HandlerFn,
    pub(super) requirements: fn(&mut Requirements),
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

    /// The fallback that `#[fallback]` emits: no method and no path.
    pub const fn fallback(
        name: &'static str,
        handler: HandlerFn,
        requirements: fn(&mut Requirements),
    ) -> Route {
        Route::new("", "", &[], name, handler, requirements)
    }

    pub(super) const fn is_fallback(&self) -> bool {
        self.segments.is_empty() && self.method.is_empty()
    }

    /// Whether both routes answer the same requests: same method, and paths
    /// that differ at most in parameter names (two fallbacks clash too).
    pub(super) const fn clashes_with(&self, other: &Route) -> bool {
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
    routes: Vec<Listed>,
}

/// A route as a [`Routes`] table lists it, with the table's settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Listed {
    pub(crate) route: Route,
    /// [`Routes::max_body_size`].
    pub(crate) body_limit: Option<usize>,
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

    /// The most body these routes take, in bytes, whatever the server's
    /// [`max_body_size`](crate::Builder::max_body_size) or their scope's
    /// ([`Scope::max_body_size`](super::Scope::max_body_size)): the most specific setting wins. A
    /// declared `Content-Length` over it is answered 413 from the head,
    /// before any of the body is read; a chunked body as soon as it passes
    /// it. Nothing past the limit is read or spooled.
    ///
    /// ```
    /// use pool_server::{route, routes, Request, Server};
    ///
    /// #[route("POST /upload")]
    /// fn upload(req: &Request) -> String {
    ///     format!("{} bytes", req.body_len())
    /// }
    ///
    /// #[route("POST /notes")]
    /// fn note(req: &Request) -> String {
    ///     format!("{} bytes", req.body_len())
    /// }
    ///
    /// let builder = Server::builder()
    ///     .max_body_size(64 * 1024) // JSON routes
    ///     .routes(routes![note])
    ///     .routes(routes![upload].max_body_size(2 << 30)); // 2 GiB, spooled to disk
    /// # drop(builder);
    /// ```
    pub fn max_body_size(mut self, bytes: usize) -> Routes {
        for listed in &mut self.routes {
            listed.body_limit = Some(bytes);
        }
        self
    }

    pub(crate) fn into_vec(self) -> Vec<Listed> {
        self.routes
    }
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.routes.iter().map(|listed| &listed.route))
            .finish()
    }
}

/// The table of a `routes!` list; called by generated code.
#[doc(hidden)]
pub fn routes(list: &'static [Route]) -> Routes {
    Routes {
        routes: list
            .iter()
            .map(|&route| Listed {
                route,
                body_limit: None,
            })
            .collect(),
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
pub(super) struct ConstMessage {
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
    pub(super) const fn clash(first: &Route, second: &Route) -> Self {
        if first.is_fallback() {
            return ConstMessage::new()
                .push("`")
                .push(first.name)
                .push("` and `")
                .push(second.name)
                .push("` are both `#[fallback]`s; keep one of them");
        }
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

    pub(super) const fn as_str(&self) -> &str {
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
