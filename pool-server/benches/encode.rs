//! Responses into bytes (`cargo bench --bench encode --features internals`):
//! a whole small response, heads alone, and chunk framing. Each iteration
//! appends to a buffer that is cleared and reused, as a connection's is.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pool_server::__internals::{encode_chunk, encode_head, encode_response, Framing, Persist};
use pool_server::{header, Response};

/// A response with the fields a typical API sets.
fn api_response() -> Response {
    Response::json(r#"{"id":42,"name":"widget"}"#)
        .with_header(header::CACHE_CONTROL, "no-store")
        .with_header(header::ETAG, "\"33a64df551425fcc55e4d42a148795d9f25f89d4\"")
        .with_header("x-request-id", "b7f8a4c2-19de-4c0e-9d1f-3a7b2e5c6d80")
        .with_header(header::VARY, "accept-encoding")
        .append_header(header::SET_COOKIE, "session=8f14e45f; Path=/; HttpOnly")
        .append_header(header::SET_COOKIE, "theme=dark; Path=/")
}

fn responses(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    let mut out = Vec::with_capacity(4096);
    let plaintext = Response::text("Hello, World!");
    let api = api_response();
    for (name, res) in [("plaintext", &plaintext), ("api, 8 fields", &api)] {
        group.bench_function(format!("response/{name}"), |bench| {
            bench.iter(|| {
                out.clear();
                encode_response(&mut out, black_box(res), false, Persist::KeepAlive);
            });
        });
    }
    group.bench_function("head/chunked", |bench| {
        bench.iter(|| {
            out.clear();
            encode_head(
                &mut out,
                black_box(&api),
                false,
                Persist::KeepAlive,
                Framing::Chunked,
            )
        });
    });
    group.finish();
}

fn chunks(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode/chunk");
    let mut out = Vec::with_capacity(80 * 1024);
    for size in [16, 64 * 1024] {
        let data = vec![b'a'; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("{size} bytes"), |bench| {
            bench.iter(|| {
                out.clear();
                encode_chunk(&mut out, black_box(&data));
            });
        });
    }
    group.finish();
}

criterion_group!(benches, responses, chunks);
criterion_main!(benches);
