//! Routing lookups in tables of 10, 100 and 1,000 routes: the cost should
//! not grow with the number of routes (`cargo bench --bench routing`).
//!
//! Each table has a quarter of each shape, for resources `r0`, `r1`, ...:
//! `/r{i}`, `/r{i}/{id}`, `/api/v1/r{i}/{id}/items/{item}` and
//! `/files/r{i}/{*path}`. Each iteration looks up the same eight paths
//! (static, parameters, deep, wildcard, near-miss, miss) spread over the table.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pool_server::__private::{BenchRouter, Requirements, Route, Segment};
use pool_server::{Method, RequestContext, Response};

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

fn table(size: usize) -> BenchRouter {
    let per_shape = size / 4;
    let mut list = Vec::with_capacity(size);
    for i in 0..per_shape {
        list.push(route(format!("/r{i}")));
        list.push(route(format!("/r{i}/{{id}}")));
        list.push(route(format!("/api/v1/r{i}/{{id}}/items/{{item}}")));
        list.push(route(format!("/files/r{i}/{{*path}}")));
    }
    // Two more for 10 (4 shapes x 2 = 8).
    for i in list.len()..size {
        list.push(route(format!("/extra{i}")));
    }
    let routes = pool_server::__private::routes(leak(list.into_boxed_slice()));
    BenchRouter::new(routes).expect("valid routes")
}

fn paths(size: usize) -> Vec<(String, bool)> {
    let n = size / 4;
    let (a, b, c) = (0, n / 2, n - 1);
    vec![
        (format!("/r{a}"), true),
        (format!("/r{b}/42"), true),
        (format!("/r{c}"), true),
        (format!("/api/v1/r{b}/7/items/99"), true),
        (format!("/api/v1/r{c}/abc/items/x%20y"), true),
        (format!("/files/r{a}/css/site/main.css"), true),
        (format!("/api/v1/r{b}/7/other"), false),
        ("/nowhere/at/all".to_owned(), false),
    ]
}

fn lookups(c: &mut Criterion) {
    let mut group = c.benchmark_group("routing");
    for size in [10, 100, 1000] {
        let router = table(size);
        let paths = paths(size);
        for (path, found) in &paths {
            assert_eq!(router.find(&Method::GET, path).is_some(), *found, "{path}");
        }
        group.throughput(Throughput::Elements(paths.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("8 lookups", size),
            &paths,
            |bench, paths| {
                bench.iter(|| {
                    for (path, _) in paths {
                        black_box(router.find(black_box(&Method::GET), black_box(path)));
                    }
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
