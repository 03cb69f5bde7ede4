//! Persistent connections (RFC 9112 §9.3): HTTP/1.1 keeps the connection open
//! by default, `Connection: close` and HTTP/1.0 close it, idle connections
//! time out silently, and every response carries `Content-Length` and `Date`.

#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use pool_server::{Request, Response, StatusCode};

use support::{parse_imf_fixdate, serve, serve_echo_path, unix_now};

#[test]
fn http11_connection_stays_open_between_requests() {
    let server = serve_echo_path();
    let mut client = server.client();

    let first = client.request(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    let second = client.request(b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n");

    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.text(), "/one");
    assert!(!first.connection_has("close"), "{first:?}");
    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(second.text(), "/two");
    assert!(!second.connection_has("close"), "{second:?}");
    client.assert_open(Duration::from_millis(200));
}

#[test]
fn connection_close_is_honoured() {
    let server = serve_echo_path();
    let mut client = server.client();

    let response = client.request(
        b"GET /bye HTTP/1.1\r\n\
          Host: x\r\n\
          Connection: close\r\n\
          \r\n",
    );

    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), "/bye");
    assert!(response.connection_has("close"), "{response:?}");
    client.assert_closed();
}

#[test]
fn http10_closes_by_default() {
    let server = serve_echo_path();
    let mut client = server.client();

    let response = client.request(b"GET /old HTTP/1.0\r\n\r\n");

    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), "/old");
    assert!(!response.connection_has("keep-alive"), "{response:?}");
    client.assert_closed();
}

#[test]
fn http10_with_keep_alive_stays_open() {
    let server = serve_echo_path();
    let mut client = server.client();
    let request = b"GET /again HTTP/1.0\r\n\
                    Connection: keep-alive\r\n\
                    \r\n";

    let first = client.request(request);
    let second = client.request(request);

    for response in [&first, &second] {
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.text(), "/again");
        assert!(response.connection_has("keep-alive"), "{response:?}");
    }
    client.assert_open(Duration::from_millis(200));
}

#[test]
fn idle_keep_alive_connection_is_closed_silently_after_the_timeout() {
    let timeout = Duration::from_millis(300);
    let server = serve(|b| b.keep_alive_timeout(timeout).handler(support::echo_path));
    let mut client = server.client();

    // Started before the request is sent, so no later than the server's idle
    // clock (which starts once the response is written): however late this
    // thread runs, the server closing early is the only way to fail the
    // lower bound. Reading the response first would start it too late.
    let sent = Instant::now();
    let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200, "{response:?}");
    // Fails unless EOF comes within IO_TIMEOUT: that is the upper bound.
    client.assert_closed();
    let idle = sent.elapsed();

    assert!(
        idle >= timeout,
        "closed after only {idle:?} of a {timeout:?} keep-alive timeout"
    );
}

#[test]
fn every_response_has_content_length_and_an_imf_fixdate() {
    let server = serve(|b| {
        b.handler(|req| match req.path() {
            "/text" => Response::text("hello"),
            _ => Response::status_only(StatusCode::NOT_FOUND),
        })
    });
    let mut client = server.client();
    let ok = client.request(b"GET /text HTTP/1.1\r\nHost: x\r\n\r\n");
    let not_found = client.request(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
    // An error the server answers itself: no Host in HTTP/1.1.
    let bad = server.client().request(b"GET / HTTP/1.1\r\n\r\n");

    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.header_all("content-length"), ["5"], "{ok:?}");
    assert_eq!(not_found.status, 404, "{not_found:?}");
    assert_eq!(
        not_found.header_all("content-length"),
        ["0"],
        "{not_found:?}"
    );
    assert_eq!(bad.status, 400, "{bad:?}");
    let bad_length = bad
        .header("content-length")
        .expect("400 has content-length");
    assert_eq!(
        bad_length.parse::<usize>().ok(),
        Some(bad.body.len()),
        "{bad:?}"
    );

    for response in [&ok, &not_found, &bad] {
        let dates = response.header_all("date");
        assert_eq!(dates.len(), 1, "one Date header: {response:?}");
        assert_eq!(dates[0].len(), 29, "{response:?}");
        let date = parse_imf_fixdate(dates[0])
            .unwrap_or_else(|| panic!("Date is not an IMF-fixdate: {response:?}"));
        assert!(
            date.abs_diff(unix_now()) <= 5,
            "Date is not now: {response:?}"
        );
    }
}

#[test]
fn a_handler_can_close_the_connection() {
    let server = serve(|b| b.handler(|_| Response::text("bye").with_header("connection", "close")));
    let mut client = server.client();

    let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");

    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header_all("connection"), ["close"], "{response:?}");
    client.assert_closed();
}

#[test]
fn a_connection_that_never_sends_is_closed_after_the_header_read_timeout() {
    let timeout = Duration::from_millis(300);
    let server = serve(|b| {
        b.header_read_timeout(timeout)
            .keep_alive_timeout(Duration::from_secs(60))
            .handler(support::echo_path)
    });
    // Before connecting: the idle server's clock for this connection starts
    // when it wakes to accept it, after the handshake, so after this.
    let connecting = Instant::now();
    let mut client = server.client();

    // Fails unless EOF comes within IO_TIMEOUT: that is the upper bound.
    client.assert_closed();
    let waited = connecting.elapsed();

    assert!(waited >= timeout, "closed after only {waited:?}");
}

/// An EOF that arrives with the request's last bytes brings no new
/// readiness edge; the server must still see it and close once it answered,
/// not hold the slot until the keep-alive timeout.
#[test]
fn a_client_that_half_closes_is_closed_once_answered() {
    let server = serve(|b| b.handler(|_| Response::text("hi")));
    let mut client = server.client();
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    client
        .stream()
        .shutdown(std::net::Shutdown::Write)
        .expect("half-close");

    let response = client.response();
    assert_eq!(response.status, 200, "{response:?}");
    // Well before the 60 s keep-alive timeout: within the read timeout.
    client.assert_closed();
}

/// The loop parses new heads into requests served before (their memory is
/// reused): nothing of an earlier request, on this connection or another,
/// may show through in a later one.
#[test]
fn a_request_carries_nothing_of_the_requests_before_it() {
    fn describe(req: &Request) -> Response {
        let mut names: Vec<&str> = req.headers().keys().map(|name| name.as_str()).collect();
        names.sort_unstable();
        Response::text(format!(
            "{} {:?} [{}] {:?}",
            req.path(),
            req.query(),
            names.join(","),
            String::from_utf8_lossy(req.body()),
        ))
    }
    let server = serve(|b| b.handler(describe));
    let mut first = server.client();
    let mut second = server.client();
    let rich = b"POST /a?x=1 HTTP/1.1\r\nHost: h\r\nX-One: 1\r\nCookie: c=1\r\nContent-Length: 5\r\n\r\nhello";
    let plain = b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    let other = b"GET /c?y HTTP/1.1\r\nHost: h\r\nX-Two: 2\r\n\r\n";
    let expected = [
        (
            &rich[..],
            r#"/a Some("x=1") [content-length,cookie,host,x-one] "hello""#,
        ),
        (&plain[..], r#"/b None [host] """#),
        (&other[..], r#"/c Some("y") [host,x-two] """#),
    ];
    for round in 0..3 {
        // One at a time on alternating connections, then pipelined on one.
        for (i, (request, answer)) in expected.iter().enumerate() {
            let client = if (round + i) % 2 == 0 {
                &mut first
            } else {
                &mut second
            };
            assert_eq!(client.request(request).text(), *answer, "round {round}");
        }
        let batch: Vec<u8> = expected
            .iter()
            .flat_map(|(r, _)| r.iter().copied())
            .collect();
        first.send(&batch);
        for (_, answer) in &expected {
            assert_eq!(first.response().text(), *answer, "round {round}, pipelined");
        }
    }
}

/// A worker builds responses into the header maps of the responses it sent
/// before (their memory is reused): nothing a handler set on one response
/// may show through in a later one. One worker, so every response reuses
/// the same maps.
#[test]
fn a_response_carries_nothing_of_the_responses_before_it() {
    fn answer(req: &Request) -> Response {
        match req.path() {
            "/rich" => Response::text("rich")
                .with_header("x-one", "1")
                .with_header("cache-control", "no-store")
                .append_header("set-cookie", "a=1")
                .append_header("set-cookie", "b=2"),
            "/json" => Response::json("{}"),
            _ => Response::text("plain"),
        }
    }
    let server = serve(|b| b.workers(1).handler(answer));
    let mut client = server.client();
    for round in 0..3 {
        let rich = client.request(b"GET /rich HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(rich.header("x-one"), Some("1"), "round {round}: {rich:?}");
        assert_eq!(
            rich.header_all("set-cookie"),
            ["a=1", "b=2"],
            "round {round}"
        );
        for (path, body, content_type) in [
            ("/plain", "plain", "text/plain; charset=utf-8"),
            ("/json", "{}", "application/json"),
        ] {
            let request = format!("GET {path} HTTP/1.1\r\nHost: h\r\n\r\n");
            let reply = client.request(request.as_bytes());
            assert_eq!(reply.text(), body, "round {round}");
            assert_eq!(
                reply.header("content-type"),
                Some(content_type),
                "round {round}"
            );
            for stale in ["x-one", "cache-control", "set-cookie"] {
                assert_eq!(
                    reply.header(stale),
                    None,
                    "round {round}, {path}: {reply:?}"
                );
            }
        }
    }
}
