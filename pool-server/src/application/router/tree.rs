//! The routing tree: one node per path segment, so a lookup costs one step
//! per segment of the request path whatever the number of routes.
//!
//! At each node the request's segment is tried as a static child first, then
//! as the `{param}` child, then the `{*wildcard}` takes the rest of the
//! path. When a branch leads nowhere the lookup backtracks to the next kind,
//! so `/users/new/posts` still reaches `/users/{id}/posts` next to a
//! static `/users/new`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use http::{HeaderValue, Method};

use super::{Entry, Segment};
use crate::application::params::Params;

/// Static children are scanned linearly up to this many, then hashed.
const LINEAR_SCAN_MAX: usize = 8;

#[derive(Default)]
pub(super) struct Node {
    statics: Statics,
    param: Option<Box<Node>>,
    wildcard: Option<Box<Endpoint>>,
    endpoint: Option<Endpoint>,
}

enum Statics {
    Few(Vec<(Box<str>, Node)>),
    Many(HashMap<Box<str>, Node, BuildHasherDefault<Fnv>>),
}

impl Default for Statics {
    fn default() -> Self {
        Statics::Few(Vec::new())
    }
}

/// The routes of one path, one per method.
pub(super) struct Endpoint {
    routes: Vec<(Method, Entry)>,
    /// The `Allow` value for 405 and `OPTIONS`, made by [`Node::finish`].
    allow: HeaderValue,
}

impl Node {
    /// Adds `entry` at `prefix` (static segments) then `segments`; on a
    /// clash returns the entry already there for the same method and an
    /// equivalent path. The segments were validated.
    pub(super) fn insert(
        &mut self,
        method: Method,
        prefix: &[Box<str>],
        segments: &[Segment],
        entry: Entry,
    ) -> Result<(), Box<Entry>> {
        let mut node = self;
        for text in prefix {
            node = node.static_child(text);
        }
        for segment in segments {
            node = match segment {
                Segment::Static(text) => node.static_child(text),
                Segment::Param => node.param.get_or_insert_with(Box::default),
                Segment::Wildcard => {
                    let endpoint = node
                        .wildcard
                        .get_or_insert_with(|| Box::new(Endpoint::new()));
                    return endpoint.add(method, entry);
                }
            };
        }
        node.endpoint
            .get_or_insert_with(Endpoint::new)
            .add(method, entry)
    }

    fn static_child(&mut self, text: &str) -> &mut Node {
        let Statics::Few(children) = &mut self.statics else {
            unreachable!("nodes are hashed only by `finish`, after every insert");
        };
        let index = match children.iter().position(|(key, _)| &**key == text) {
            Some(index) => index,
            None => {
                children.push((text.into(), Node::default()));
                children.len() - 1
            }
        };
        &mut children[index].1
    }

    /// Computes every `Allow` value and hashes wide nodes. Also collects
    /// every method in the tree, for `OPTIONS *`.
    pub(super) fn finish(&mut self, all_methods: &mut Vec<Method>) {
        if let Statics::Few(children) = &mut self.statics {
            if children.len() > LINEAR_SCAN_MAX {
                self.statics = Statics::Many(std::mem::take(children).into_iter().collect());
            }
        }
        let children: Box<dyn Iterator<Item = &mut Node>> = match &mut self.statics {
            Statics::Few(children) => Box::new(children.iter_mut().map(|(_, node)| node)),
            Statics::Many(children) => Box::new(children.values_mut()),
        };
        for child in children.chain(self.param.as_deref_mut()) {
            child.finish(all_methods);
        }
        for endpoint in self.endpoint.iter_mut().chain(self.wildcard.as_deref_mut()) {
            endpoint.allow = allow_value(endpoint.routes.iter().map(|(method, _)| method));
            for (method, _) in &endpoint.routes {
                if !all_methods.contains(method) {
                    all_methods.push(method.clone());
                }
            }
        }
    }

    /// The endpoint for `rest`, the part of a request path after a `/`,
    /// pushing the parameter values on the way.
    pub(super) fn find<'n, 'p>(
        &'n self,
        rest: &'p str,
        params: &mut Params<'p>,
    ) -> Option<&'n Endpoint> {
        let (segment, tail) = match rest.find('/') {
            Some(slash) => (&rest[..slash], Some(&rest[slash + 1..])),
            None => (rest, None),
        };
        if let Some(child) = self.get_static(segment) {
            if let Some(endpoint) = child.descend(tail, params) {
                return Some(endpoint);
            }
        }
        if let Some(child) = self.param.as_deref() {
            if !segment.is_empty() {
                let depth = params.len();
                params.push(segment);
                if let Some(endpoint) = child.descend(tail, params) {
                    return Some(endpoint);
                }
                params.truncate(depth);
            }
        }
        match self.wildcard.as_deref() {
            Some(endpoint) if !rest.is_empty() => {
                params.push(rest);
                Some(endpoint)
            }
            _ => None,
        }
    }

    fn descend<'n, 'p>(
        &'n self,
        tail: Option<&'p str>,
        params: &mut Params<'p>,
    ) -> Option<&'n Endpoint> {
        match tail {
            None => self.endpoint.as_ref(),
            Some(rest) => self.find(rest, params),
        }
    }

    fn get_static(&self, segment: &str) -> Option<&Node> {
        match &self.statics {
            Statics::Few(children) => children
                .iter()
                .find(|(key, _)| &**key == segment)
                .map(|(_, node)| node),
            Statics::Many(children) => children.get(segment),
        }
    }
}

impl Endpoint {
    fn new() -> Self {
        Endpoint {
            routes: Vec::new(),
            allow: HeaderValue::from_static(""),
        }
    }

    fn add(&mut self, method: Method, entry: Entry) -> Result<(), Box<Entry>> {
        if let Some((_, existing)) = self.routes.iter().find(|(m, _)| *m == method) {
            return Err(Box::new(existing.clone()));
        }
        self.routes.push((method, entry));
        Ok(())
    }

    /// The route for `method`; `HEAD` falls back to `GET` (the server drops
    /// the body of responses to `HEAD`).
    pub(super) fn route(&self, method: &Method) -> Option<&Entry> {
        let find = |method: &Method| {
            self.routes
                .iter()
                .find(|(m, _)| m == method)
                .map(|(_, route)| route)
        };
        find(method).or_else(|| {
            (method == Method::HEAD)
                .then(|| find(&Method::GET))
                .flatten()
        })
    }

    pub(super) fn allow(&self) -> &HeaderValue {
        &self.allow
    }
}

/// `GET, HEAD, POST, OPTIONS`: the methods in a fixed order, with `HEAD`
/// where there is `GET` and always `OPTIONS`, which the router answers.
pub(super) fn allow_value<'m>(methods: impl Iterator<Item = &'m Method> + Clone) -> HeaderValue {
    const ORDER: [Method; 8] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::TRACE,
        Method::OPTIONS,
    ];
    let has = |wanted: &Method| methods.clone().any(|m| m == wanted);
    let mut names: Vec<&str> = ORDER
        .iter()
        .filter(|m| has(m) || **m == Method::OPTIONS || (**m == Method::HEAD && has(&Method::GET)))
        .map(Method::as_str)
        .collect();
    let mut extensions: Vec<&str> = methods
        .map(Method::as_str)
        .filter(|name| !ORDER.iter().any(|m| m.as_str() == *name))
        .collect();
    extensions.sort_unstable();
    extensions.dedup();
    names.extend(extensions);
    HeaderValue::from_str(&names.join(", ")).expect("method names are valid header text")
}

/// FNV-1a: keys are short path segments fixed at build time, so a simple,
/// fast hash is enough (lookups cannot add keys, so there is nothing to flood).
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
