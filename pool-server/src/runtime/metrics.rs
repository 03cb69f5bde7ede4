//! What a running server can say about itself: a cheap [`Stats`] snapshot
//! and its Prometheus text form.
//!
//! Counting costs little on the request path: a connection counts into
//! plain fields of its own ([`ConnCounts`]) wherever it is, and the event loop
//! adds them to the shared atomics when the connection is back with it.
//! Connection states are counted by the loop at each deadline check (at
//! most a second old); queue depth and busy workers are gauges.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;

use crate::application::route_metrics::RouteStats;

/// The statuses the event loop answers by itself, in [`Stats::refused`]
/// (and whose bodies `Builder::refusal_body` sets).
pub(crate) const REFUSALS: [u16; 11] = [400, 408, 413, 414, 417, 431, 500, 501, 503, 505, 507];

/// Counts one connection gathered since the loop last took them.
///
/// Every connection carries one, so the event counts are `u32`: they are
/// taken after each turn or job, which counts a few at most.
#[derive(Debug, Default)]
pub(crate) struct ConnCounts {
    pub(crate) bytes_read: u64,
    pub(crate) bytes_written: u64,
    /// Responses from the application, by status class (1xx to 5xx).
    pub(crate) responses: [u32; 5],
    /// Refusals the connection answered itself, by index in [`REFUSALS`].
    pub(crate) refused: [u32; REFUSALS.len()],
    pub(crate) idle_closes: u32,
    pub(crate) write_timeouts: u32,
    pub(crate) shed: u32,
}

impl ConnCounts {
    pub(crate) fn response(&mut self, status: StatusCode) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        self.responses[class] += 1;
    }

    pub(crate) fn refusal(&mut self, status: StatusCode) {
        if let Some(i) = REFUSALS.iter().position(|&s| s == status.as_u16()) {
            self.refused[i] += 1;
        }
    }
}

/// The server-wide counters and gauges.
#[derive(Debug)]
pub(crate) struct Metrics {
    started: Instant,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
    responses: [AtomicU64; 5],
    refused: [AtomicU64; REFUSALS.len()],
    idle_closes: AtomicU64,
    write_timeouts: AtomicU64,
    shed: AtomicU64,
    pub(crate) queued: AtomicUsize,
    pub(crate) busy_workers: AtomicUsize,
    /// Published by each loop at its deadline checks.
    states: Vec<[AtomicUsize; 5]>,
    workers: usize,
    queue_capacity: usize,
}

/// Where the open connections are, as the loop last counted them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ConnState {
    /// Between requests, waiting for the next one.
    Idle = 0,
    /// A request head or body is arriving.
    Reading = 1,
    /// Handed to the pool: queued or with a worker.
    Dispatched = 2,
    /// A response is going out (or a lingering close).
    Writing = 3,
    /// A body fed from other threads is open.
    Streaming = 4,
}

impl Metrics {
    pub(crate) fn new(workers: usize, queue_capacity: usize, loops: usize) -> Metrics {
        Metrics {
            started: Instant::now(),
            bytes_read: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            responses: Default::default(),
            refused: Default::default(),
            idle_closes: AtomicU64::new(0),
            write_timeouts: AtomicU64::new(0),
            shed: AtomicU64::new(0),
            queued: AtomicUsize::new(0),
            busy_workers: AtomicUsize::new(0),
            states: (0..loops).map(|_| Default::default()).collect(),
            workers,
            queue_capacity,
        }
    }

    /// Adds a connection's counts and clears it.
    pub(crate) fn take(&self, counts: &mut ConnCounts) {
        fn add<N: Copy + Default + PartialEq + Into<u64>>(counter: &AtomicU64, n: &mut N) {
            if *n != N::default() {
                counter.fetch_add(std::mem::take(n).into(), Ordering::Relaxed);
            }
        }
        add(&self.bytes_read, &mut counts.bytes_read);
        add(&self.bytes_written, &mut counts.bytes_written);
        for (counter, n) in self.responses.iter().zip(&mut counts.responses) {
            add(counter, n);
        }
        for (counter, n) in self.refused.iter().zip(&mut counts.refused) {
            add(counter, n);
        }
        add(&self.idle_closes, &mut counts.idle_closes);
        add(&self.write_timeouts, &mut counts.write_timeouts);
        add(&self.shed, &mut counts.shed);
    }

    /// Publishes one loop's connection counts by state.
    pub(crate) fn publish_states(&self, event_loop: usize, counts: [usize; 5]) {
        for (gauge, n) in self.states[event_loop].iter().zip(counts) {
            gauge.store(n, Ordering::Relaxed);
        }
    }

    /// What a [`TestClient`](crate::test::TestClient) can tell: the
    /// application's responses, `routes`, and `uptime`; no connections,
    /// queue or workers.
    pub(crate) fn detached(&self, routes: Vec<RouteStats>, uptime: Duration) -> Stats {
        let mut stats = self.snapshot(Vec::new());
        for route in &routes {
            for (sum, n) in stats.responses.iter_mut().zip(route.responses) {
                *sum += n;
            }
        }
        stats.routes = routes;
        stats.uptime = uptime;
        stats
    }

    /// The counters now, with `routes` (the application's, per route).
    pub(crate) fn snapshot(&self, routes: Vec<RouteStats>) -> Stats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let state = |s: ConnState| {
            let gauges = self.states.iter();
            gauges.map(|g| g[s as usize].load(Ordering::Relaxed)).sum()
        };
        Stats {
            connections_idle: state(ConnState::Idle),
            connections_reading: state(ConnState::Reading),
            connections_dispatched: state(ConnState::Dispatched),
            connections_writing: state(ConnState::Writing),
            connections_streaming: state(ConnState::Streaming),
            queue_depth: self.queued.load(Ordering::Relaxed),
            queue_capacity: self.queue_capacity,
            busy_workers: self.busy_workers.load(Ordering::Relaxed),
            workers: self.workers,
            responses: std::array::from_fn(|i| load(&self.responses[i])),
            shed: load(&self.shed),
            refused: REFUSALS
                .iter()
                .zip(&self.refused)
                .map(|(&status, n)| (status, load(n)))
                .collect(),
            idle_closes: load(&self.idle_closes),
            write_timeouts: load(&self.write_timeouts),
            bytes_read: load(&self.bytes_read),
            bytes_written: load(&self.bytes_written),
            uptime: self.started.elapsed(),
            routes,
        }
    }
}

/// A snapshot of a running server, from
/// [`ServerHandle::stats`](crate::ServerHandle::stats) or a
/// [`StatsHandle`](crate::StatsHandle).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Stats {
    /// Open connections between requests.
    pub connections_idle: usize,
    /// Open connections whose request is arriving.
    pub connections_reading: usize,
    /// Connections handed to the pool (queued or with a worker).
    pub connections_dispatched: usize,
    /// Connections sending a response (or closing after one).
    pub connections_writing: usize,
    /// Connections with an open stream (server-sent events and the like).
    pub connections_streaming: usize,
    /// Jobs waiting for a worker.
    pub queue_depth: usize,
    /// Most jobs that may wait before the loop answers 503.
    pub queue_capacity: usize,
    /// Workers running a job now.
    pub busy_workers: usize,
    /// Worker threads.
    pub workers: usize,
    /// Responses the application made, by status class: 1xx, 2xx, 3xx, 4xx, 5xx.
    pub responses: [u64; 5],
    /// Requests answered 503 by the loop because the queue was full.
    pub shed: u64,
    /// Answers the loop made by itself, by status (408 counts request
    /// timeouts; 503 includes `shed`).
    pub refused: Vec<(u16, u64)>,
    /// Idle keep-alive connections closed by their timeout.
    pub idle_closes: u64,
    /// Connections closed because the client stopped reading.
    pub write_timeouts: u64,
    /// Bytes read from clients.
    pub bytes_read: u64,
    /// Bytes written to clients.
    pub bytes_written: u64,
    /// Time since the server started.
    pub uptime: Duration,
    /// Answers and latency per route (and, by method, of requests no route
    /// matched), for the routes that have answered.
    pub routes: Vec<RouteStats>,
}

impl Stats {
    /// The snapshot in the Prometheus text exposition format (version
    /// 0.0.4), metric names prefixed `pool_server_`: serve it on
    /// `GET /metrics` with `Content-Type: text/plain; version=0.0.4`.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
            let _ = writeln!(out, "# HELP pool_server_{name} {help}");
            let _ = writeln!(out, "# TYPE pool_server_{name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "pool_server_{name}{labels} {value}");
            }
        };
        let one = |value: String| vec![(String::new(), value)];
        let states = [
            ("idle", self.connections_idle),
            ("reading", self.connections_reading),
            ("dispatched", self.connections_dispatched),
            ("writing", self.connections_writing),
            ("streaming", self.connections_streaming),
        ];
        let states = states
            .iter()
            .map(|(s, n)| (format!("{{state=\"{s}\"}}"), n.to_string()));
        metric(
            "connections",
            "gauge",
            "Open connections by state.",
            states.collect(),
        );
        metric(
            "queue_depth",
            "gauge",
            "Jobs waiting for a worker.",
            one(self.queue_depth.to_string()),
        );
        metric(
            "queue_capacity",
            "gauge",
            "Jobs that may wait before 503.",
            one(self.queue_capacity.to_string()),
        );
        metric(
            "workers_busy",
            "gauge",
            "Workers running a job.",
            one(self.busy_workers.to_string()),
        );
        metric(
            "workers",
            "gauge",
            "Worker threads.",
            one(self.workers.to_string()),
        );
        let classes = self.responses.iter().enumerate();
        let classes = classes.map(|(i, n)| (format!("{{class=\"{}xx\"}}", i + 1), n.to_string()));
        metric(
            "responses_total",
            "counter",
            "Responses from the application by status class.",
            classes.collect(),
        );
        metric(
            "shed_total",
            "counter",
            "Requests answered 503 because the queue was full.",
            one(self.shed.to_string()),
        );
        let refused = self.refused.iter();
        let refused =
            refused.map(|(status, n)| (format!("{{status=\"{status}\"}}"), n.to_string()));
        metric(
            "refused_total",
            "counter",
            "Answers the event loop made itself, by status.",
            refused.collect(),
        );
        metric(
            "idle_closes_total",
            "counter",
            "Idle connections closed by their timeout.",
            one(self.idle_closes.to_string()),
        );
        metric(
            "write_timeouts_total",
            "counter",
            "Connections closed because the client stopped reading.",
            one(self.write_timeouts.to_string()),
        );
        metric(
            "read_bytes_total",
            "counter",
            "Bytes read from clients.",
            one(self.bytes_read.to_string()),
        );
        metric(
            "written_bytes_total",
            "counter",
            "Bytes written to clients.",
            one(self.bytes_written.to_string()),
        );
        metric(
            "uptime_seconds",
            "gauge",
            "Seconds since the server started.",
            one(format!("{:.3}", self.uptime.as_secs_f64())),
        );
        let route_labels = |route: &RouteStats| {
            format!(
                "method=\"{}\",route=\"{}\"",
                escape_label(&route.method),
                escape_label(&route.route)
            )
        };
        let mut answers = Vec::new();
        let mut latency = Vec::new();
        for route in &self.routes {
            let labels = route_labels(route);
            for (i, n) in route.responses.iter().enumerate().filter(|(_, &n)| n > 0) {
                answers.push((format!("{{{labels},class=\"{}xx\"}}", i + 1), n.to_string()));
            }
            for (bound, n) in &route.latency_buckets {
                let le = bound.as_secs_f64();
                latency.push((format!("_bucket{{{labels},le=\"{le}\"}}"), n.to_string()));
            }
            let count = route.count().to_string();
            latency.push((format!("_bucket{{{labels},le=\"+Inf\"}}"), count.clone()));
            let sum = route.latency_sum.as_secs_f64();
            latency.push((format!("_sum{{{labels}}}"), format!("{sum:.6}")));
            latency.push((format!("_count{{{labels}}}"), count));
        }
        metric(
            "route_responses_total",
            "counter",
            "Responses by route pattern (empty: no route matched), method and status class.",
            answers,
        );
        metric(
            "route_duration_seconds",
            "histogram",
            "Time the application took, by route pattern and method.",
            latency,
        );
        out
    }
}

/// A label value as the exposition format writes it.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Stats {
    /// The answers and latency of the route with this `method` and pattern
    /// (`"/users/{id}"`), if it has answered anything.
    pub fn route(&self, method: &str, pattern: &str) -> Option<&RouteStats> {
        self.routes
            .iter()
            .find(|r| r.method == method && r.route == pattern)
    }
}
