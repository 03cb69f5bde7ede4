//! Sustained overload: many more clients than workers plus
//! queue, for a while. The excess is shed by the loop with 503 and
//! `Retry-After`, every accepted request is answered, and nothing is lost:
//! accepted + refused == sent. The latency of accepted requests is printed
//! (run with `--nocapture`), not asserted: speed is for benchmarks.

#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use pool_server::Response;

use support::{open_connections, serve, Client};

const WORKERS: usize = 2;
const QUEUE: usize = 4;
/// Clients sending at once, each as fast as it is answered: four times
/// what the workers and the queue hold.
const CLIENTS: usize = 4 * (WORKERS + QUEUE);
/// How long the load lasts, at least.
const LOAD_TIME: Duration = Duration::from_secs(2);
/// The load stops by then even if nothing was shed or accepted yet.
const LOAD_LIMIT: Duration = Duration::from_secs(20);
/// A shed client pauses this long before it asks again, so the load is
/// clients waiting for answers rather than clients spinning on 503s.
const PAUSE_AFTER_503: Duration = Duration::from_millis(5);

/// What one client saw.
#[derive(Default)]
struct Tally {
    sent: usize,
    accepted: usize,
    refused: usize,
    /// Milliseconds from sending an accepted request to its whole answer.
    latencies: Vec<f64>,
}

#[test]
fn sustained_overload_sheds_the_excess_with_503_and_answers_the_rest() {
    let server = serve(|b| {
        b.workers(WORKERS).queue_capacity(QUEUE).handler(|req| {
            // Work that holds the worker, as a database call would.
            thread::sleep(Duration::from_millis(10));
            Response::text(req.path().to_owned())
        })
    });
    let addr = server.addr();
    let accepted = Arc::new(AtomicUsize::new(0));
    let shed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (accepted, shed) = (Arc::clone(&accepted), Arc::clone(&shed));
            thread::spawn(move || {
                // Half keep their connection between requests, half close it.
                let close = c % 2 == 1;
                let mut tally = Tally::default();
                let mut client = None;
                loop {
                    let enough = started.elapsed() >= LOAD_TIME
                        && shed.load(Ordering::Relaxed) > 0
                        && accepted.load(Ordering::Relaxed) > 0;
                    if enough || started.elapsed() > LOAD_LIMIT {
                        return tally;
                    }
                    let n = c * 1_000_000 + tally.sent;
                    tally.sent += 1;
                    let conn = client.get_or_insert_with(|| Client::connect(addr));
                    let request = format!(
                        "GET /{n} HTTP/1.1\r\nHost: x\r\n{}\r\n",
                        if close { "Connection: close\r\n" } else { "" }
                    );
                    let asked = Instant::now();
                    let response = conn.request(request.as_bytes());
                    match response.status {
                        200 => {
                            tally.latencies.push(asked.elapsed().as_secs_f64() * 1e3);
                            assert_eq!(response.text(), format!("/{n}"), "{conn:?}");
                            tally.accepted += 1;
                            accepted.fetch_add(1, Ordering::Relaxed);
                            if close {
                                conn.assert_closed();
                                client = None;
                            }
                        }
                        503 => {
                            let retry = response.header("retry-after");
                            assert!(
                                retry.is_some_and(|s| s.parse::<u64>().is_ok()),
                                "503 without a numeric Retry-After: {conn:?}"
                            );
                            assert!(response.connection_has("close"), "{conn:?}");
                            conn.assert_closed();
                            client = None;
                            tally.refused += 1;
                            shed.fetch_add(1, Ordering::Relaxed);
                            thread::sleep(PAUSE_AFTER_503);
                        }
                        other => panic!("status {other}: {conn:?}"),
                    }
                }
            })
        })
        .collect();
    let mut all = Tally::default();
    for client in clients {
        let tally = client.join().expect("every request got an answer");
        all.sent += tally.sent;
        all.accepted += tally.accepted;
        all.refused += tally.refused;
        all.latencies.extend(tally.latencies);
    }
    let took = started.elapsed();

    assert_eq!(all.accepted + all.refused, all.sent, "a request was lost");
    assert!(all.refused > 0, "nothing shed with {CLIENTS} clients");
    assert!(all.accepted > 0, "nothing accepted");
    let stats = server.wait_stats("every connection closed", |s| {
        open_connections(s) == 0 && s.queue_depth == 0
    });
    // The server's count agrees: the 503s came from the loop's shedding.
    assert_eq!(stats.shed, all.refused as u64, "{stats:?}");
    assert_eq!(stats.responses[1], all.accepted as u64, "{stats:?}");
    assert_eq!(stats.busy_workers, 0, "{stats:?}");

    all.latencies.sort_by(f64::total_cmp);
    let at = |p: f64| all.latencies[((all.latencies.len() - 1) as f64 * p) as usize];
    eprintln!(
        "overload: {} sent in {took:.1?} by {CLIENTS} clients to {WORKERS} workers + {QUEUE} \
         queued: {} accepted, {} shed; accepted latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.sent,
        all.accepted,
        all.refused,
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
