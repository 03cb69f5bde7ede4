//! Request body framing (`cargo bench --bench framing --features internals`):
//! the head's `Content-Length` / `Transfer-Encoding` decision, and decoding
//! a body with `Content-Length` and chunked (large and small chunks).

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pool_server::__internals::{parse_head, BodyDecoder, BodyKind, Limits};

const LENGTH_HEAD: &[u8] = b"POST /echo HTTP/1.1\r\nHost: x\r\n\
Content-Type: application/json\r\nContent-Length: 65536\r\n\r\n";
const CHUNKED_HEAD: &[u8] = b"POST /echo HTTP/1.1\r\nHost: x\r\n\
Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

const BODY: usize = 64 * 1024;
const MAX_BODY: u64 = 2 * 1024 * 1024;
const MAX_TRAILERS: usize = 16 * 1024;

/// `BODY` bytes in chunks of `size`, then the last chunk.
fn chunked(size: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    for _ in 0..BODY / size {
        wire.extend_from_slice(format!("{size:x}\r\n").as_bytes());
        wire.extend(std::iter::repeat_n(b'a', size));
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}

/// Decodes `wire` in one call into `body`, which is reused.
fn decode(mut decoder: BodyDecoder, wire: &[u8], body: &mut Vec<u8>) {
    body.clear();
    let (used, done) = decoder
        .decode(wire, body, MAX_BODY, MAX_TRAILERS)
        .expect("valid body");
    assert!(done && used == wire.len());
}

fn decisions(c: &mut Criterion) {
    let mut group = c.benchmark_group("framing/decide");
    for (name, head, kind) in [
        ("content-length", LENGTH_HEAD, BodyKind::Length(BODY as u64)),
        ("chunked", CHUNKED_HEAD, BodyKind::Chunked),
    ] {
        let parsed = parse_head(head, Limits::default()).expect("valid head");
        assert_eq!(parsed.body, kind);
        group.bench_function(name, |bench| {
            bench.iter(|| parse_head(black_box(head), Limits::default()));
        });
    }
    group.finish();
}

fn decoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("framing/decode 64 KiB");
    group.throughput(Throughput::Bytes(BODY as u64));
    let mut body = Vec::with_capacity(BODY);
    let plain = vec![b'a'; BODY];
    group.bench_function("content-length", |bench| {
        bench.iter(|| {
            decode(
                BodyDecoder::length(BODY as u64),
                black_box(&plain),
                &mut body,
            )
        });
    });
    for size in [16 * 1024, 64] {
        let wire = chunked(size);
        group.bench_function(format!("chunked, {size}-byte chunks"), |bench| {
            bench.iter(|| decode(BodyDecoder::chunked(), black_box(&wire), &mut body));
        });
    }
    group.finish();
}

criterion_group!(benches, decisions, decoders);
criterion_main!(benches);
