//! Requests and latency per route: how many answers each route made, by
//! status class, and how long the application took, as a histogram. Labels
//! are route patterns (`/users/{id}`), never raw paths, so their number is
//! bounded by the routing table; requests no route matched are counted by
//! method alone.
//!
//! Counting costs a few uncontended atomic additions per request: each
//! thread counts into a shard of its own, summed when a snapshot is taken.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};

use crate::request::Request;

/// Upper bounds of the latency buckets, in microseconds (100 µs to 10 s:
/// Prometheus' default buckets with five more below 5 ms, where most
/// handlers finish).
const BOUNDS_MICROS: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// The methods requests that matched no route are counted by; any other
/// method counts as `OTHER`.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "OTHER",
];

/// What one route has answered, from [`Stats::routes`](crate::Stats::routes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteStats {
    /// The route's method (`GET`); for requests no route matched, theirs.
    pub method: String,
    /// The route's pattern with its scope's prefix (`/api/notes/{id}`);
    /// empty for requests no route matched (404s, 405s, fallbacks, mounts).
    pub route: String,
    /// Answers by status class: 1xx, 2xx, 3xx, 4xx, 5xx.
    pub responses: [u64; 5],
    /// How long the application took (guards, middleware and handler),
    /// cumulative as Prometheus wants it: for each bucket's upper bound,
    /// the requests that took at most that long.
    pub latency_buckets: Vec<(Duration, u64)>,
    /// The time of all its requests together.
    pub latency_sum: Duration,
}

impl RouteStats {
    /// Its requests, all classes together.
    pub fn count(&self) -> u64 {
        self.responses.iter().sum()
    }
}

/// The counters of every route, per thread.
#[derive(Debug)]
pub(crate) struct RouteMetrics {
    /// `(method, pattern)` by route id, then one per entry of [`METHODS`]
    /// for requests no route matched.
    labels: Vec<(Box<str>, Arc<str>)>,
    shards: Box<[Shard]>,
}

#[derive(Debug)]
struct Shard {
    cells: Box<[Counters]>,
}

#[derive(Debug, Default)]
struct Counters {
    classes: [AtomicU64; 5],
    micros: AtomicU64,
    /// Not cumulative: each request counts in its own bucket only, and in
    /// none when it took longer than the last bound.
    buckets: [AtomicU64; BOUNDS_MICROS.len()],
}

/// Shards: enough that the workers rarely share one.
const SHARDS: usize = 16;

impl RouteMetrics {
    /// Counters for the routes whose `(method, pattern)` are `routes`, by id.
    pub(crate) fn new(routes: Vec<(Box<str>, Arc<str>)>) -> RouteMetrics {
        let mut labels = routes;
        labels.extend(METHODS.iter().map(|&m| (m.into(), Arc::from(""))));
        let shards = (0..SHARDS)
            .map(|_| Shard {
                cells: (0..labels.len()).map(|_| Counters::default()).collect(),
            })
            .collect();
        RouteMetrics { labels, shards }
    }

    /// Counts the answer to `request` with `status`, which took `took`.
    pub(crate) fn record(&self, request: &Request, status: StatusCode, took: Duration) {
        let routes = self.labels.len() - METHODS.len();
        let index = match request.route_id {
            Some(id) if (id as usize) < routes => id as usize,
            _ => routes + method_index(request.method()),
        };
        let (shard, alone) = shard();
        let counters = &self.shards[shard].cells[index];
        // A shard this thread alone writes needs no locked addition: a
        // plain load and store cannot lose a count, and readers see one
        // value or the next.
        let add = |counter: &AtomicU64, n: u64| match alone {
            true => counter.store(
                counter.load(Ordering::Relaxed).wrapping_add(n),
                Ordering::Relaxed,
            ),
            false => {
                counter.fetch_add(n, Ordering::Relaxed);
            }
        };
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        add(&counters.classes[class], 1);
        add(&counters.micros, micros);
        let bucket = BOUNDS_MICROS.partition_point(|&bound| bound < micros);
        if let Some(counter) = counters.buckets.get(bucket) {
            add(counter, 1);
        }
    }

    /// Every route that has answered something, in table order.
    pub(crate) fn snapshot(&self) -> Vec<RouteStats> {
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let mut all = Vec::new();
        for (index, (method, route)) in self.labels.iter().enumerate() {
            let cells = self.shards.iter().map(|shard| &shard.cells[index]);
            let mut responses = [0; 5];
            let mut buckets = [0; BOUNDS_MICROS.len()];
            let mut micros = 0u64;
            for cell in cells {
                for (sum, n) in responses.iter_mut().zip(&cell.classes) {
                    *sum += load(n);
                }
                for (sum, n) in buckets.iter_mut().zip(&cell.buckets) {
                    *sum += load(n);
                }
                micros = micros.saturating_add(load(&cell.micros));
            }
            if responses.iter().all(|&n| n == 0) {
                continue;
            }
            let mut cumulative = 0;
            all.push(RouteStats {
                method: method.to_string(),
                route: route.to_string(),
                responses,
                latency_buckets: BOUNDS_MICROS
                    .iter()
                    .zip(buckets)
                    .map(|(&bound, n)| {
                        cumulative += n;
                        (Duration::from_micros(bound), cumulative)
                    })
                    .collect(),
                latency_sum: Duration::from_micros(micros),
            });
        }
        all
    }
}

fn method_index(method: &Method) -> usize {
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|&m| m == method.as_str())
        .unwrap_or(METHODS.len() - 1)
}

/// This thread's shard, assigned in turn at its first count, and whether
/// it has it alone: the first [`SHARDS`] threads of the process that count
/// do, every server's counters alike; later ones share.
fn shard() -> (usize, bool) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static TURN: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    TURN.with(|turn| {
        if turn.get() == usize::MAX {
            turn.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        let turn = turn.get();
        (turn % SHARDS, turn < SHARDS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, route_id: Option<u32>) -> Request {
        let mut request = Request::blank("127.0.0.1:1".parse().unwrap());
        request.method = method;
        request.route_id = route_id;
        request
    }

    #[test]
    fn answers_count_by_route_class_and_latency_bucket() {
        let metrics = RouteMetrics::new(vec![
            ("GET".into(), Arc::from("/users/{id}")),
            ("POST".into(), Arc::from("/users")),
        ]);
        let get = request(Method::GET, Some(0));
        metrics.record(&get, StatusCode::OK, Duration::from_micros(80));
        metrics.record(&get, StatusCode::NOT_FOUND, Duration::from_millis(3));
        std::thread::scope(|s| {
            s.spawn(|| metrics.record(&get, StatusCode::OK, Duration::from_secs(30)));
        });
        metrics.record(
            &request(Method::from_bytes(b"BREW").unwrap(), None),
            StatusCode::NOT_FOUND,
            Duration::ZERO,
        );
        let all = metrics.snapshot();
        assert_eq!(all.len(), 2, "routes with no answer are left out: {all:?}");
        let users = &all[0];
        assert_eq!(
            (users.method.as_str(), users.route.as_str()),
            ("GET", "/users/{id}")
        );
        assert_eq!(users.responses, [0, 2, 0, 1, 0]);
        assert_eq!(users.count(), 3);
        assert_eq!(users.latency_buckets[0], (Duration::from_micros(100), 1));
        // 3 ms is in the 5 ms bucket; 30 s in none (only in the sum).
        assert_eq!(users.latency_buckets[5], (Duration::from_millis(5), 2));
        assert_eq!(users.latency_buckets.last().unwrap().1, 2);
        assert_eq!(
            users.latency_sum,
            Duration::from_micros(80 + 3_000 + 30_000_000)
        );
        let other = &all[1];
        assert_eq!((other.method.as_str(), other.route.as_str()), ("OTHER", ""));
        assert_eq!(other.responses, [0, 0, 0, 1, 0]);
    }
}
