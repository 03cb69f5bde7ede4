//! What the compression middleware costs on streamed JSON
//! (`cargo bench -p pool-server --bench compression`): a `Response::stream`
//! reader and a `BodyStream` fed chunk by chunk, sent through a
//! `TestClient` with no `Accept-Encoding` (the baseline) and with gzip and
//! brotli. The difference from the baseline is the compression's CPU per
//! response, since everything else is the same.
//!
//! Everything runs on the benchmark's thread, and what is measured is that
//! thread's CPU time, not wall time: on a machine shared with other work,
//! wall time would also count the time the thread waited for a core.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pool_server::compression::Compression;
use pool_server::test::TestClient;
use pool_server::{stream, Next, Request, Response, Server};
use rustix::time::{clock_gettime, ClockId};

/// The calling thread's CPU time, reported as wall time is.
struct ThreadCpu(WallTime);

fn thread_cpu() -> Duration {
    let now = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu()
    }

    fn end(&self, start: Duration) -> Duration {
        thread_cpu() - start
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

/// JSON records of about 60 bytes each, `records` of them, one a line.
fn records(records: usize) -> Vec<Vec<u8>> {
    (0..records)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"name\":\"item {}\",\"price\":{}.{:02},\"tags\":[\"a\",\"b\"]}}\n",
                (i * 7919) % 1009,
                i % 500,
                i % 100
            )
            .into_bytes()
        })
        .collect()
}

/// A server whose `/reader` answers `body` through a reader, and whose
/// `/stream` answers `chunks` through a `BodyStream`, one `send` each. The
/// chunks are sent by a middleware outside the compression, after it has
/// set the stream's encoder, so each send is compressed and flushed on its
/// own as a producer's would be.
fn client(body: Bytes, chunks: Arc<Vec<Vec<u8>>>) -> TestClient {
    let pending: Arc<Mutex<Option<stream::Sender>>> = Arc::default();
    let slot = Arc::clone(&pending);
    let produce = move |req: &mut Request, next: Next<'_>| {
        let response = next.run(req);
        if let Some(sender) = pending.lock().unwrap().take() {
            for chunk in chunks.iter() {
                sender.send(chunk.clone()).unwrap();
            }
        }
        response
    };
    let app = Server::builder()
        .wrap(produce)
        .wrap(Compression::new())
        .handler(move |req| {
            match req.path() {
                "/full" => {
                    return Response::bytes(body.clone())
                        .with_header("content-type", "application/json")
                }
                "/reader" => {
                    return Response::stream(Cursor::new(body.clone()))
                        .with_header("content-type", "application/json")
                }
                _ => {}
            }
            let (sender, stream) = stream::channel(16 << 20);
            *slot.lock().unwrap() = Some(sender);
            Response::from_stream(stream).with_header("content-type", "application/json")
        });
    TestClient::new(app).unwrap()
}

/// Benchmarks `GET path` with each coding; `len` bytes before compression.
fn codings(c: &mut Criterion<ThreadCpu>, group: &str, client: &TestClient, path: &str, len: usize) {
    let mut group = c.benchmark_group(format!("compression/{group}"));
    group.throughput(Throughput::Bytes(len as u64));
    for coding in ["identity", "gzip", "br"] {
        let encoded = (coding != "identity").then_some(coding);
        group.bench_function(coding, |bench| {
            bench.iter(|| {
                let response = client.get(path).header("accept-encoding", coding).send();
                assert_eq!(response.header("content-encoding"), encoded);
                assert!(!response.bytes().is_empty());
            });
        });
    }
    group.finish();
}

fn streamed(c: &mut Criterion<ThreadCpu>) {
    // The reader's body: about 15 KB (as the in-memory one beside it) and
    // 1 MB; the stream's, 200 sends of one record.
    for (count, in_memory_too) in [(245, true), (17_000, false)] {
        let body = records(count).concat();
        let len = body.len();
        let name = format!("{:.1} KB", len as f64 / 1000.0);
        let client = client(Bytes::from(body), Arc::default());
        if in_memory_too {
            codings(c, &format!("in memory {name}"), &client, "/full", len);
        }
        codings(c, &format!("reader {name}"), &client, "/reader", len);
    }
    let chunks = records(200);
    let len = chunks.iter().map(Vec::len).sum();
    let client = client(Bytes::new(), Arc::new(chunks));
    codings(c, "stream 200 sends", &client, "/stream", len);
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu(WallTime));
    targets = streamed
}
criterion_main!(benches);
