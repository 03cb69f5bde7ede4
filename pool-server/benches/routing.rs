//! Routing lookups (`cargo bench --bench routing --features internals`).
//!
//! Each table has a quarter of each shape, for resources `r0`, `r1`, ...:
//! `/r{i}`, `/r{i}/{id}`, `/api/v1/r{i}/{id}/items/{item}` and
//! `/files/r{i}/{*path}`.
//!
//! - `routing/50 routes/*`: one lookup per iteration in a table of 50
//!   routes, for a static path, a path with one and with two parameters, a
//!   wildcard, and two misses (404).
//! - `routing/8 lookups/*`: the same eight paths in tables of 10, 100 and
//!   1,000 routes: the cost should not grow with the number of routes.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pool_server::__internals::Router;
use pool_server::__private::{Requirements, Route, Segment};
use pool_server::extract::RequestContext;
use pool_server::{Method, Response};

fn handler(_: &RequestContext<'_>) -> Response {
    Response::text("")
}

fn no_requirements(_: &mut Requirements) {}

fn leak<T: ?Sized>(value: Box<T>) -> &'static T {
    Box::leak(value)
}

/// `/a/{b}/{*c}` into segments, as `#[route]` emits them.
fn route(pattern: String) -> Route {
    let segments: Vec<Segment> = pattern[1..]
        .split('/')
        .map(|text| match text.strip_prefix('{') {
            Some(rest) if rest.starts_with('*') => Segment::Wildcard,
            Some(_) => Segment::Param,
            None => Segment::Static(leak(text.into())),
        })
        .collect();
    Route::new(
        "GET",
        leak(pattern.into_boxed_str()),
        leak(segments.into_boxed_slice()),
        "bench::handler",
        handler,
        no_requirements,
    )
}

fn table(size: usize) -> Router {
    let per_shape = size / 4;
    let mut list = Vec::with_capacity(size);
    for i in 0..per_shape {
        list.push(route(format!("/r{i}")));
        list.push(route(format!("/r{i}/{{id}}")));
        list.push(route(format!("/api/v1/r{i}/{{id}}/items/{{item}}")));
        list.push(route(format!("/files/r{i}/{{*path}}")));
    }
    // The remainder when `size` is not a multiple of 4.
    for i in list.len()..size {
        list.push(route(format!("/extra{i}")));
    }
    let routes = pool_server::__private::routes(leak(list.into_boxed_slice()));
    Router::new(routes).expect("valid routes")
}

/// Named paths into a table of `size`, and whether a route has them.
fn paths(size: usize) -> Vec<(&'static str, String, bool)> {
    let n = size / 4;
    let (a, b, c) = (0, n / 2, n - 1);
    vec![
        ("static", format!("/r{a}"), true),
        ("one param", format!("/r{b}/42"), true),
        ("static, last", format!("/r{c}"), true),
        ("two params", format!("/api/v1/r{b}/7/items/99"), true),
        (
            "two params, encoded",
            format!("/api/v1/r{c}/abc/items/x%20y"),
            true,
        ),
        ("wildcard", format!("/files/r{a}/css/site/main.css"), true),
        ("404, near miss", format!("/api/v1/r{b}/7/other"), false),
        ("404", "/nowhere/at/all".to_owned(), false),
    ]
}

fn check(router: &Router, paths: &[(&str, String, bool)]) {
    for (_, path, found) in paths {
        assert_eq!(router.find(&Method::GET, path).is_some(), *found, "{path}");
    }
}

fn one_table(c: &mut Criterion) {
    let mut group = c.benchmark_group("routing/50 routes");
    let router = table(50);
    let paths = paths(50);
    check(&router, &paths);
    for (name, path, _) in &paths {
        group.bench_with_input(*name, path, |bench, path| {
            bench.iter(|| {
                router
                    .find(black_box(&Method::GET), black_box(path))
                    .is_some()
            });
        });
    }
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("routing/8 lookups");
    for size in [10, 100, 1000] {
        let router = table(size);
        let paths = paths(size);
        check(&router, &paths);
        group.throughput(Throughput::Elements(paths.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &paths, |bench, paths| {
            bench.iter(|| {
                for (_, path, _) in paths {
                    black_box(router.find(black_box(&Method::GET), black_box(path)));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, one_table, scaling);
criterion_main!(benches);
