//! The whole connection in user space (`cargo bench --bench connection
//! --features internals`): 16 pipelined requests read, framed, answered by
//! an echo handler, encoded and written by the real connection code, over
//! an in-memory socket, so the kernel's share (syscalls, wake-ups) is left
//! out. `bench/instructions.sh` counts the same work on a real socket.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pool_server::__internals::MemoryConnections;

/// The head `bench/instructions.sh` sends, 16 to a write.
const GET: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n\
User-Agent: Mozilla/5.0\r\nAccept: text/plain,*/*;q=0.8\r\n\
Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n";

fn pipelined(c: &mut Criterion) {
    let sent = GET.repeat(16);
    let mut connections = MemoryConnections::new();
    let mut group = c.benchmark_group("connection in memory");
    group.throughput(Throughput::Elements(16));
    group.bench_function("16 pipelined GETs, then EOF", |bench| {
        bench.iter(|| {
            let written = connections.serve(black_box(&sent), None);
            assert!(written.out.len() > 16 * 100);
            written
        });
    });
    group.finish();
}

criterion_group!(benches, pipelined);
criterion_main!(benches);
