//! Request heads (`cargo bench --bench parse --features internals`): finding
//! the end of a head and parsing it into a `Request`, for the smallest head
//! a load generator sends and for a browser's.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pool_server::__internals::{find_head_end, parse_head, Limits};

/// What `wrk` sends for `/plaintext`.
const MINIMAL: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/// What a browser sends for a page: 11 fields, 600-odd bytes.
const BROWSER: &[u8] = b"GET /users/42/orders?page=2&sort=date HTTP/1.1\r\n\
Host: shop.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://shop.example.com/users/42\r\n\
Connection: keep-alive\r\n\
Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
\r\n";

fn heads(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, head) in [("minimal", MINIMAL), ("browser", BROWSER)] {
        assert_eq!(find_head_end(head, 0), Some(head.len()));
        let parsed = parse_head(head, Limits::default()).expect("valid head");
        assert!(parsed.keep_alive);
        group.throughput(Throughput::Bytes(head.len() as u64));
        group.bench_function(format!("find_head_end/{name}"), |bench| {
            bench.iter(|| find_head_end(black_box(head), 0));
        });
        group.bench_function(format!("parse_head/{name}"), |bench| {
            bench.iter(|| parse_head(black_box(head), Limits::default()));
        });
    }
    group.finish();
}

criterion_group!(benches, heads);
criterion_main!(benches);
