//! Metrics: counts that follow what happened on the wire, and a
//! Prometheus rendering that a real parser reads.

#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use pool_server::{Response, Server};

use support::{Client, IO_TIMEOUT};

#[test]
fn stats_count_what_happened_and_render_for_prometheus() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .keep_alive_timeout(Duration::from_millis(200))
        .handler(|req| match req.path() {
            "/missing" => Response::from(pool_server::StatusCode::NOT_FOUND),
            _ => Response::text("ok"),
        })
        .build()
        .unwrap()
        .spawn()
        .unwrap();
    let mut client = Client::connect(server.local_addr());
    for _ in 0..3 {
        assert_eq!(
            client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").status,
            200
        );
    }
    assert_eq!(
        client
            .request(b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        404
    );
    let mut bad = Client::connect(server.local_addr());
    assert_eq!(bad.request(b"GET / HTTP/1.1\r\n\r\n").status, 400);
    bad.assert_closed();
    // The keep-alive connection idles out.
    client.assert_closed();

    // Counters are taken when the loop next looks at a connection, gauges
    // at its next deadline check: wait for both.
    let deadline = Instant::now() + IO_TIMEOUT;
    let stats = loop {
        let stats = server.stats();
        if stats.idle_closes == 1 && stats.connections_idle == 0 || Instant::now() > deadline {
            break stats;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(stats.responses, [0, 3, 0, 1, 0], "{stats:?}");
    assert_eq!(stats.idle_closes, 1, "{stats:?}");
    assert!(stats.refused.contains(&(400, 1)), "{stats:?}");
    assert_eq!(
        (stats.workers, stats.busy_workers, stats.queue_depth),
        (1, 0, 0)
    );
    assert!(
        stats.bytes_read > 100 && stats.bytes_written > 100,
        "{stats:?}"
    );

    let text = stats.to_prometheus();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition format");
    let value = |name: &str, label: Option<(&str, &str)>| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                _ => f64::NAN,
            })
    };
    assert_eq!(
        value("pool_server_responses_total", Some(("class", "2xx"))),
        Some(3.0)
    );
    assert_eq!(
        value("pool_server_refused_total", Some(("status", "400"))),
        Some(1.0)
    );
    assert_eq!(value("pool_server_workers", None), Some(1.0));
    assert_eq!(value("pool_server_idle_closes_total", None), Some(1.0));
    server.shutdown().unwrap();
}

/// The loop counts connections by state at its deadline checks, which stop
/// when no connection is left: the gauges must still come back to zero
/// then, not show the last connections forever.
#[test]
fn connection_gauges_return_to_zero_when_the_last_connection_closes() {
    let server = support::serve(|b| b.handler(|_| Response::text("ok")));
    let mut client = server.client();
    assert_eq!(
        client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").status,
        200
    );
    server.wait_stats("the idle connection is counted", |s| {
        s.connections_idle == 1
    });
    drop(client);
    server.wait_stats("no connection is counted", |s| {
        support::open_connections(s) == 0
    });
}

#[pool_server::route("GET /users/{id}")]
fn user(id: u64) -> String {
    format!("user {id}")
}

#[pool_server::route("GET /metrics")]
fn metrics(stats: pool_server::StatsHandle) -> Response {
    Response::text(stats.stats().to_prometheus())
}

/// Answers per route pattern with their latency, in `stats()` and on a
/// `/metrics` route that takes the `StatsHandle` as an argument: labelled by
/// pattern and method, never by raw path.
#[test]
fn routes_are_counted_by_pattern_with_their_latency() {
    let server = support::serve(|b| b.routes(pool_server::routes![user, metrics]));
    let mut client = server.client();
    for target in ["/users/1", "/users/2", "/users/x", "/nowhere"] {
        let head = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        client.request(head.as_bytes());
    }
    let text = client
        .request(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .text();
    assert!(!text.contains("/users/1"), "a raw path is a label:\n{text}");
    // Exact lines: prometheus-parse cuts label values at `}`, which route
    // patterns hold (the exposition format allows any text in quotes).
    for line in [
        r#"pool_server_route_responses_total{method="GET",route="/users/{id}",class="2xx"} 2"#,
        r#"pool_server_route_responses_total{method="GET",route="/users/{id}",class="4xx"} 1"#,
        r#"pool_server_route_responses_total{method="GET",route="",class="4xx"} 1"#,
        "# TYPE pool_server_route_duration_seconds histogram",
        r#"pool_server_route_duration_seconds_bucket{method="GET",route="/users/{id}",le="+Inf"} 3"#,
        r#"pool_server_route_duration_seconds_count{method="GET",route="/users/{id}"} 3"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no line {line}:\n{text}");
    }
    // Buckets are cumulative: never fewer below a larger bound.
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with(
                r#"pool_server_route_duration_seconds_bucket{method="GET",route="/users/{id}""#,
            )
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    let stats = server.stats();
    let users = stats
        .route("GET", "/users/{id}")
        .expect("the route has answered");
    assert_eq!(users.responses, [0, 2, 0, 1, 0]);
    assert_eq!(users.latency_buckets.last().map(|b| b.1), Some(3));
}
