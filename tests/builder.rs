//! Building and starting a server: settings are checked in `build()`, bind
//! failures are reported, and a started server answers a real client with
//! what the handler saw and returned.

#[allow(dead_code)]
mod support;

use std::net::TcpListener;
use std::time::Duration;

use pool_server::{Builder, Request, Response, Server, StatusCode};

use support::{agent, serve};

#[test]
fn zero_workers_is_a_config_error() {
    let err = Server::builder()
        .bind("127.0.0.1:0")
        .workers(0)
        .build()
        .expect_err("zero workers is refused");

    assert!(err.is_config(), "{err:?}");
    assert!(!err.is_bind(), "{err:?}");
}

#[test]
fn out_of_range_settings_are_config_errors() {
    type Configure = fn(Builder) -> Builder;
    let cases: [(&str, Configure); 9] = [
        ("max_head_size(31)", |b| b.max_head_size(31)),
        ("queue_capacity(0)", |b| b.queue_capacity(0)),
        ("max_headers(0)", |b| b.max_headers(0)),
        ("max_headers(1025)", |b| b.max_headers(1025)),
        ("max_connections(0)", |b| b.max_connections(0)),
        ("header_read_timeout(0)", |b| {
            b.header_read_timeout(Duration::ZERO)
        }),
        ("body_read_timeout(0)", |b| {
            b.body_read_timeout(Duration::ZERO)
        }),
        ("keep_alive_timeout(0)", |b| {
            b.keep_alive_timeout(Duration::ZERO)
        }),
        ("write_timeout(0)", |b| b.write_timeout(Duration::ZERO)),
    ];
    for (setting, configure) in cases {
        let result = configure(Server::builder().bind("127.0.0.1:0").workers(1)).build();
        match result {
            Err(err) => assert!(err.is_config(), "{setting}: {err:?}"),
            Ok(server) => panic!("{setting} was accepted: {server:?}"),
        }
    }
}

#[test]
fn the_smallest_max_head_size_builds_and_serves_a_short_request() {
    let server = serve(|b| b.max_head_size(32).handler(|_| Response::text("ok")));
    let mut client = server.client();

    // 27 bytes of head: within the 32.
    let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");

    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), "ok");
}

#[test]
fn address_in_use_is_a_bind_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();

    let err = Server::builder()
        .bind(taken.local_addr().unwrap())
        .workers(1)
        .build()
        .expect_err("the address is taken");

    assert!(err.is_bind(), "{err:?}");
    assert!(!err.is_config(), "{err:?}");
}

#[test]
fn local_addr_is_the_bound_port() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .build()
        .expect("server builds");
    let addr = server.local_addr();

    let handle = server.spawn().expect("server spawns");

    assert!(addr.ip().is_loopback(), "{addr}");
    assert_ne!(addr.port(), 0);
    assert_eq!(handle.local_addr(), addr);
    handle.shutdown().expect("shutdown succeeds");
}

#[test]
fn get_returns_the_handlers_status_headers_and_body() {
    let server = serve(|b| b.handler(|_| Response::text("hello").with_header("x-test", "yes")));

    let response = agent().get(&server.url("/")).call().expect("200");

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.header("x-test"), Some("yes"));
    assert_eq!(response.header("content-length"), Some("5"));
    assert_eq!(response.into_string().unwrap(), "hello");
}

#[test]
fn default_handler_answers_404() {
    let server = serve(|b| b);

    let result = agent().get(&server.url("/anything")).call();

    match result {
        Err(ureq::Error::Status(404, response)) => {
            assert_eq!(response.into_string().unwrap(), "");
        }
        other => panic!("expected 404, got {other:?}"),
    }
}

#[test]
fn response_constructors_set_status_and_content_type() {
    let server = serve(|b| {
        b.handler(|req| match req.path() {
            "/json" => Response::json(r#"{"id":1}"#),
            "/html" => Response::html("<p>hi</p>"),
            "/bytes" => Response::bytes(&b"\x00\x01"[..]),
            "/created" => Response::text("made")
                .with_status(StatusCode::CREATED)
                .with_header("location", "/items/1"),
            _ => Response::from(StatusCode::IM_A_TEAPOT),
        })
    });
    let agent = agent();
    // ureq reports 4xx and 5xx as errors; here every status is an answer.
    let get = |path: &str| match agent.get(&server.url(path)).call() {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(err) => panic!("GET {path} failed: {err}"),
    };

    let json = get("/json");
    assert_eq!(json.content_type(), "application/json");
    assert_eq!(json.into_string().unwrap(), r#"{"id":1}"#);
    let html = get("/html");
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let bytes = get("/bytes");
    assert_eq!(bytes.content_type(), "application/octet-stream");
    assert_eq!(bytes.header("content-length"), Some("2"));
    let created = get("/created");
    assert_eq!(created.status(), 201);
    assert_eq!(created.header("location"), Some("/items/1"));
    assert_eq!(get("/teapot").status(), 418);
}

/// Describes the request the handler saw, one `name=value` per line.
fn describe(req: &Request) -> Response {
    Response::text(format!(
        "method={}\npath={}\nquery={:?}\nversion={:?}\nx-custom={:?}\npeer={}\nbody={}",
        req.method(),
        req.path(),
        req.query(),
        req.version(),
        req.header("X-Custom"),
        req.peer_addr(),
        String::from_utf8_lossy(req.body()),
    ))
}

#[test]
fn handler_sees_the_request_as_sent() {
    let server = serve(|b| b.handler(describe));
    let mut client = server.client();
    let peer = client.stream().local_addr().unwrap();

    let response = client.request(
        b"PUT /a/b%20c?x=1&y=2 HTTP/1.1\r\n\
          Host: x\r\n\
          x-custom: value\r\n\
          Content-Length: 4\r\n\
          \r\n\
          body",
    );

    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(
        response.text(),
        format!(
            "method=PUT\npath=/a/b%20c\nquery=Some(\"x=1&y=2\")\nversion=HTTP/1.1\n\
             x-custom=Some(\"value\")\npeer={peer}\nbody=body"
        )
    );
    assert_eq!(peer.ip().to_string(), "127.0.0.1");
}

#[test]
fn handler_sees_http10_and_no_query() {
    let server = serve(|b| b.handler(describe));
    let mut client = server.client();
    let peer = client.stream().local_addr().unwrap();

    let response = client.request(b"GET /plain HTTP/1.0\r\n\r\n");

    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(
        response.text(),
        format!(
            "method=GET\npath=/plain\nquery=None\nversion=HTTP/1.0\nx-custom=None\n\
             peer={peer}\nbody="
        )
    );
}

/// A timeout that overflows the clock is refused by `build()`,
/// instead of panicking the event loop at the first deadline; the longest
/// allowed one serves normally.
#[test]
fn timeouts_past_the_maximum_are_config_errors() {
    type Configure = fn(Builder, Duration) -> Builder;
    let setters: [(&str, Configure); 5] = [
        ("header_read_timeout", |b, t| b.header_read_timeout(t)),
        ("body_read_timeout", |b, t| b.body_read_timeout(t)),
        ("keep_alive_timeout", |b, t| b.keep_alive_timeout(t)),
        ("write_timeout", |b, t| b.write_timeout(t)),
        ("shutdown_timeout", |b, t| b.shutdown_timeout(t)),
    ];
    let too_long = [
        Duration::MAX,
        pool_server::config::MAX_TIMEOUT + Duration::from_secs(1),
    ];
    for (name, set) in setters {
        for timeout in too_long {
            let builder = set(Server::builder().bind("127.0.0.1:0").workers(1), timeout);
            match builder.build() {
                Err(err) => {
                    assert!(err.is_config(), "{name}: {err:?}");
                    assert!(err.to_string().contains(name), "{name}: {err}");
                }
                Ok(server) => panic!("{name}({timeout:?}) was accepted: {server:?}"),
            }
        }
    }

    let longest = pool_server::config::MAX_TIMEOUT;
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .header_read_timeout(longest)
        .body_read_timeout(longest)
        .keep_alive_timeout(longest)
        .write_timeout(longest)
        .handler(|_| pool_server::Response::text("ok"))
        .build()
        .expect("the longest timeouts are accepted")
        .spawn()
        .expect("spawns");
    let mut client = support::Client::connect(server.local_addr());
    // Idle between the requests for longer than the loop's deadline check
    // interval (1 s at most), so that check ran over this connection.
    for pause in [Duration::from_millis(1200), Duration::ZERO] {
        let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(response.status, 200, "{response:?}");
        std::thread::sleep(pause);
    }
    server.shutdown().expect("shuts down");
}
