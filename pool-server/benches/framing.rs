//! Request framing (`cargo bench --bench framing --features internals`):
//! the head's `Content-Length` / `Transfer-Encoding` decision, decoding a
//! body with `Content-Length` and chunked (large and small chunks), and the
//! connection's framer over a read of 16 pipelined requests.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pool_server::__internals::{parse_head, BodyDecoder, BodyKind, Framer, HeadRules, Limits};

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

/// The head a load generator sends (`wrk`'s, with a browser-like set of
/// fields), 16 times in one read, as `bench/run.sh`'s pipelined load does.
fn pipelined(c: &mut Criterion) {
    const GET: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n\
User-Agent: Mozilla/5.0\r\nAccept: text/plain,*/*;q=0.8\r\n\
Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n";
    let read = GET.repeat(16);
    let rules = HeadRules {
        body_limit: None,
        guarded: false,
        takes_body: true,
    };
    let mut group = c.benchmark_group("framing/connection");
    group.throughput(Throughput::Elements(16));
    let mut input = Vec::with_capacity(read.len());
    group.bench_function("16 pipelined GETs", |bench| {
        bench.iter(|| {
            let mut framer = Framer::new(Limits::default(), rules);
            input.clear();
            input.extend_from_slice(black_box(&read));
            assert!(!framer.frame(&mut input, false));
            let mut framed = 0;
            while let Some(exchange) = framer.next_request() {
                black_box(&exchange);
                framed += 1;
            }
            assert_eq!(framed, 16);
        });
    });
    group.finish();
}

criterion_group!(benches, decisions, decoders, pipelined);
criterion_main!(benches);
