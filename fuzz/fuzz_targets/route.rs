//! Route strings through the parser of `#[route]` (the macro crate's
//! `route.rs`, included by path: a proc-macro crate exports no functions),
//! then through the router.
//!
//! Input: lines. The first few are route strings, the rest are values for
//! parameters and extra paths. Checked: a string that parses re-parses the
//! same when written back; the router refuses a table exactly when two
//! routes clash; and for paths made from each pattern (and arbitrary
//! paths) the router answers as a plain reference matcher says: the
//! matching route whose segments are best (text, then `{param}`, then
//! `{*wildcard}`, segment by segment), with the right raw parameters.

#![no_main]

use std::collections::HashMap;
use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use pool_server::__internals::{Resolution, Router};
use pool_server::__private::{Requirements, Route, Segment};
use pool_server::extract::RequestContext;
use pool_server::{Method, Response};

#[allow(dead_code, unreachable_pub)]
#[path = "../../pool-server-macros/src/route.rs"]
mod route;

use route::{parse_str, RouteSpec, Segment as Spec};

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];
/// Routes are told apart by pattern; these stand for "route i".
const NAMES: [&str; 6] = ["r0", "r1", "r2", "r3", "r4", "r5"];

fn handler(_: &RequestContext<'_>) -> Response {
    Response::text("")
}

fn no_requirements(_: &mut Requirements) {}

/// Routes need `&'static` data. Each route (method, index, segments) is
/// interned, not leaked per run, so memory grows with distinct patterns
/// only, up to a cap.
type Interned = HashMap<(&'static str, usize, Vec<Key>), &'static [Route]>;
static INTERNED: Mutex<Option<(Interned, usize)>> = Mutex::new(None);
const INTERN_CAP: usize = 256 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Static(String),
    Param,
    Wildcard,
}

fn keys(spec: &RouteSpec) -> Vec<Key> {
    spec.segments
        .iter()
        .map(|s| match s {
            Spec::Static(text) => Key::Static(text.clone()),
            Spec::Param(_) => Key::Param,
            Spec::Wildcard(_) => Key::Wildcard,
        })
        .collect()
}

fn intern(method: &'static str, index: usize, keys: &[Key]) -> Option<&'static [Route]> {
    let mut guard = INTERNED.lock().unwrap();
    let (map, bytes) = guard.get_or_insert_with(Default::default);
    let key = (method, index, keys.to_vec());
    if let Some(route) = map.get(&key) {
        return Some(route);
    }
    let size: usize = keys
        .iter()
        .map(|k| {
            64 + if let Key::Static(t) = k {
                2 * t.len()
            } else {
                0
            }
        })
        .sum();
    if *bytes + size > INTERN_CAP {
        return None;
    }
    *bytes += size;
    let segments: Vec<Segment> = keys
        .iter()
        .map(|k| match k {
            Key::Static(text) => Segment::Static(Box::leak(text.clone().into_boxed_str())),
            Key::Param => Segment::Param,
            Key::Wildcard => Segment::Wildcard,
        })
        .collect();
    let segments: &'static [Segment] = Box::leak(segments.into_boxed_slice());
    let route = Route::new(
        method,
        NAMES[index],
        segments,
        "fuzz",
        handler,
        no_requirements,
    );
    let route: &'static [Route] = Box::leak(Box::new([route]));
    map.insert(key, route);
    Some(route)
}

/// The pattern written back: braces in text doubled, parameters by name.
fn render(spec: &RouteSpec) -> String {
    let mut out = String::new();
    for segment in &spec.segments {
        out.push('/');
        match segment {
            Spec::Static(text) => out.push_str(&text.replace('{', "{{").replace('}', "}}")),
            Spec::Param(name) => out.push_str(&format!("{{{name}}}")),
            Spec::Wildcard(name) => out.push_str(&format!("{{*{name}}}")),
        }
    }
    out
}

fn check_spec(line: &str, spec: &RouteSpec) {
    assert!(METHODS.contains(&spec.method.as_str()));
    let (init, last) = spec.segments.split_at(spec.segments.len() - 1);
    for segment in init {
        assert!(
            !matches!(segment, Spec::Wildcard(_)),
            "{line:?}: wildcard not last"
        );
        assert!(
            *segment != Spec::Static(String::new()),
            "{line:?}: empty segment"
        );
    }
    if let Spec::Static(text) = &last[0] {
        assert!(text
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '?' && c != '#'));
    }
    let names: Vec<&str> = spec.params().collect();
    for (i, name) in names.iter().enumerate() {
        assert!(!names[..i].contains(name), "{line:?}: duplicate {name}");
    }
    let again = format!("{} {}", spec.method, render(spec));
    assert_eq!(
        parse_str(&again).as_ref(),
        Ok(spec),
        "{line:?} written back as {again:?}"
    );
}

/// The raw parameters if `keys` matches `path`, the way the README says.
fn matches<'p>(keys: &[Key], path: &'p str) -> Option<Vec<&'p str>> {
    let mut rest = path.strip_prefix('/')?;
    let mut params = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if *key == Key::Wildcard {
            if rest.is_empty() {
                return None;
            }
            params.push(rest);
            return Some(params);
        }
        let (segment, tail) = match rest.find('/') {
            Some(slash) => (&rest[..slash], Some(&rest[slash + 1..])),
            None => (rest, None),
        };
        match key {
            Key::Static(text) if text == segment => {}
            Key::Param if !segment.is_empty() => params.push(segment),
            _ => return None,
        }
        match tail {
            None => return (i + 1 == keys.len()).then_some(params),
            Some(_) if i + 1 == keys.len() => return None,
            Some(tail) => rest = tail,
        }
    }
    None
}

fn rank(keys: &[Key]) -> Vec<u8> {
    keys.iter()
        .map(|k| match k {
            Key::Static(_) => 0,
            Key::Param => 1,
            Key::Wildcard => 2,
        })
        .collect()
}

/// What the router should answer: among the routes whose path matches,
/// those of the best rank share one endpoint; then the method decides.
fn expected<'p>(table: &[(&str, Vec<Key>)], method: &Method, path: &'p str) -> Resolution<'p> {
    let matching: Vec<(usize, Vec<&'p str>)> = table
        .iter()
        .enumerate()
        .filter_map(|(i, (_, keys))| matches(keys, path).map(|p| (i, p)))
        .collect();
    let Some(best) = matching.iter().map(|(i, _)| rank(&table[*i].1)).min() else {
        return Resolution::NotFound;
    };
    let endpoint: Vec<&(usize, Vec<&str>)> = matching
        .iter()
        .filter(|(i, _)| rank(&table[*i].1) == best)
        .collect();
    let find = |m: &str| endpoint.iter().find(|(i, _)| table[*i].0 == m);
    let found =
        find(method.as_str()).or_else(|| (method == Method::HEAD).then(|| find("GET")).flatten());
    match found {
        Some((i, params)) => Resolution::Route(NAMES[*i].to_owned(), params.clone()),
        None => {
            let allow = String::new();
            if method == Method::OPTIONS {
                Resolution::Options(allow)
            } else {
                Resolution::MethodNotAllowed(allow)
            }
        }
    }
}

/// Compares, ignoring the `Allow` text (checked separately).
fn check_path(router: &Router, table: &[(&str, Vec<Key>)], method: &Method, path: &str) {
    let got = router.resolve(method, path);
    let want = expected(table, method, path);
    match (&got, &want) {
        (Resolution::Options(allow), Resolution::Options(_))
        | (Resolution::MethodNotAllowed(allow), Resolution::MethodNotAllowed(_)) => {
            assert!(allow.split(", ").any(|m| m == "OPTIONS"), "Allow {allow:?}");
        }
        _ => assert_eq!(got, want, "{method} {path:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let count = lines.next().map_or(0, |l| l.len() % 5 + 1);
    let routes: Vec<&str> = lines.by_ref().take(count).collect();
    let values: Vec<&str> = lines.collect();

    let mut table: Vec<(&'static str, Vec<Key>)> = Vec::new();
    for line in &routes {
        let Ok(spec) = parse_str(line) else {
            continue;
        };
        check_spec(line, &spec);
        let method = METHODS.iter().find(|m| **m == spec.method).unwrap();
        table.push((method, keys(&spec)));
    }
    let mut routes = pool_server::Routes::new();
    for (i, (method, keys)) in table.iter().enumerate() {
        let Some(route) = intern(method, i, keys) else {
            return;
        };
        routes = routes.merge(pool_server::__private::routes(route));
    }
    let clash = (0..table.len()).any(|i| (0..i).any(|j| table[i] == table[j]));
    let router = Router::new(routes);
    assert_eq!(router.is_err(), clash, "clash detection: {table:?}");
    let Ok(router) = router else {
        return;
    };

    // Paths made from each pattern, with parameter values from the input.
    let mut next_value = values.iter().cycle();
    let methods = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::OPTIONS,
        Method::DELETE,
    ];
    for (_, keys) in &table {
        let mut path = String::new();
        for key in keys {
            path.push('/');
            match key {
                Key::Static(text) => path.push_str(text),
                Key::Param => {
                    let value = next_value.next().map_or("v", |v| *v).replace('/', "");
                    path.push_str(if value.is_empty() { "v" } else { &value });
                }
                Key::Wildcard => {
                    let value = next_value.next().map_or("w", |v| *v);
                    path.push_str(if value.is_empty() { "w" } else { value });
                }
            }
        }
        for method in &methods {
            check_path(&router, &table, method, &path);
        }
    }
    for value in &values {
        check_path(&router, &table, &Method::GET, value);
    }
});
