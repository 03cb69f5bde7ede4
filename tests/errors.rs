//! Requests the server must refuse (RFC 9112 §2–7, RFC 9110 §15): each is
//! answered with its status code and `Connection: close`, then the
//! connection is closed. Includes the request-smuggling case of
//! `Content-Length` with `Transfer-Encoding` (RFC 9112 §6.3).

#[allow(dead_code)]
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pool_server::Response;

use support::{
    echo_body, echo_path, is_reset, is_timeout, serve, serve_echo_path, RawResponse, Serve,
    IO_TIMEOUT,
};

/// Sends `request` on a new connection and asserts that the server answers
/// `status` with `Connection: close`, then closes the connection.
#[track_caller]
fn assert_rejected(server: &Serve, request: &[u8], status: u16) -> RawResponse {
    let mut client = server.client();
    client.send(request);
    let response = client.response();
    assert_eq!(response.status, status, "{client:?}");
    assert!(
        response.connection_has("close"),
        "no `connection: close`\n{client:?}"
    );
    client.assert_closed();
    response
}

/// `name: value` lines that make a head of about `count * 100` bytes.
fn filler_headers(count: usize) -> String {
    (0..count)
        .map(|i| format!("X-Filler-{i:03}: {}\r\n", "v".repeat(84)))
        .collect()
}

#[test]
fn malformed_request_line_is_400() {
    let server = serve_echo_path();
    let requests: [&[u8]; 4] = [
        b"NONSENSE\r\n\r\n",
        b"GET\r\nHost: x\r\n\r\n",
        b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /\r\nHost: x\r\n\r\n",
    ];
    for request in requests {
        assert_rejected(&server, request, 400);
    }
}

#[test]
fn malformed_header_line_is_400() {
    let server = serve_echo_path();
    // RFC 9112 §5.1: whitespace between a field name and the colon MUST be rejected.
    let requests: [&[u8]; 2] = [
        b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Spaced : y\r\n\r\n",
    ];
    for request in requests {
        assert_rejected(&server, request, 400);
    }
}

#[test]
fn request_line_longer_than_max_head_size_is_414() {
    let server = serve(|b| b.max_head_size(1024).handler(echo_path));
    let line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(2000));

    // The whole request, and the line alone before its CRLF has arrived.
    assert_rejected(&server, format!("{line}Host: x\r\n\r\n").as_bytes(), 414);
    assert_rejected(&server, &line.as_bytes()[..1500], 414);
}

#[test]
fn headers_larger_than_max_head_size_are_431() {
    let server = serve(|b| b.max_head_size(1024).handler(echo_path));
    let request = format!("GET / HTTP/1.1\r\nHost: x\r\n{}\r\n", filler_headers(20));

    assert_rejected(&server, request.as_bytes(), 431);
}

#[test]
fn more_headers_than_max_headers_are_431() {
    let server = serve(|b| b.max_headers(10).handler(echo_path));
    let request = format!("GET / HTTP/1.1\r\nHost: x\r\n{}\r\n", filler_headers(20));

    assert_rejected(&server, request.as_bytes(), 431);
}

#[test]
fn exactly_max_headers_headers_are_accepted() {
    let server = serve(|b| b.max_headers(10).handler(echo_path));
    let mut client = server.client();

    // Host plus nine more: ten fields.
    let response = client
        .request(format!("GET /ten HTTP/1.1\r\nHost: x\r\n{}\r\n", filler_headers(9)).as_bytes());

    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), "/ten");
}

#[test]
fn content_length_over_max_body_size_is_413_before_the_body_is_sent() {
    let server = serve(|b| b.max_body_size(1024).handler(echo_path));

    // Only the head is sent: the server must answer from it alone.
    assert_rejected(
        &server,
        b"POST /upload HTTP/1.1\r\n\
          Host: x\r\n\
          Content-Length: 1048576\r\n\
          \r\n",
        413,
    );
}

#[test]
fn chunked_body_over_max_body_size_is_413() {
    let server = serve(|b| b.max_body_size(1024).handler(echo_path));
    let chunk = format!("190\r\n{}\r\n", "c".repeat(400));
    let request = format!(
        "POST /upload HTTP/1.1\r\n\
         Host: x\r\n\
         Transfer-Encoding: chunked\r\n\
         \r\n\
         {chunk}{chunk}{chunk}0\r\n\r\n"
    );

    assert_rejected(&server, request.as_bytes(), 413);
}

#[test]
fn unknown_transfer_coding_is_501() {
    let server = serve_echo_path();

    // RFC 9112 §6.1: "A server that receives a request message with a transfer
    // coding it does not understand SHOULD respond with 501 (Not Implemented)."
    assert_rejected(
        &server,
        b"POST / HTTP/1.1\r\n\
          Host: x\r\n\
          Transfer-Encoding: gzip, chunked\r\n\
          \r\n\
          0\r\n\
          \r\n",
        501,
    );
}

#[test]
fn transfer_encoding_not_ending_in_chunked_is_400() {
    let server = serve_echo_path();

    // RFC 9112 §6.3: "If a Transfer-Encoding header field is present in a
    // request and the chunked transfer coding is not the final encoding, [...]
    // the server MUST respond with the 400 (Bad Request) status code and then
    // close the connection."
    assert_rejected(
        &server,
        b"POST / HTTP/1.1\r\n\
          Host: x\r\n\
          Transfer-Encoding: gzip\r\n\
          \r\n",
        400,
    );
}

#[test]
fn unsupported_http_version_is_505() {
    let server = serve_echo_path();

    assert_rejected(&server, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
    assert_rejected(&server, b"GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505);
}

#[test]
fn http11_request_without_host_is_400() {
    let server = serve_echo_path();

    assert_rejected(&server, b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
}

#[test]
fn two_host_headers_are_400() {
    let server = serve_echo_path();

    assert_rejected(
        &server,
        b"GET / HTTP/1.1\r\n\
          Host: a.example\r\n\
          Host: b.example\r\n\
          \r\n",
        400,
    );
}

#[test]
fn two_different_content_lengths_are_400() {
    let server = serve_echo_path();

    assert_rejected(
        &server,
        b"POST / HTTP/1.1\r\n\
          Host: x\r\n\
          Content-Length: 5\r\n\
          Content-Length: 6\r\n\
          \r\n\
          hello!",
        400,
    );
}

#[test]
fn content_length_that_is_not_a_plain_number_is_400() {
    let server = serve_echo_path();

    for value in ["abc", "-1", "+5"] {
        let request = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {value}\r\n\r\n");
        assert_rejected(&server, request.as_bytes(), 400);
    }
}

#[test]
fn content_length_with_chunked_is_400_and_never_two_requests() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let server = serve(|b| {
        let seen = Arc::clone(&seen);
        b.handler(move |req| {
            seen.lock().unwrap().push(req.path().to_owned());
            Response::text(req.path().to_owned())
        })
    });

    // Exactly one response, a 400, then EOF: `assert_closed` fails on any
    // byte after it, such as an answer to /smuggled.
    assert_rejected(
        &server,
        b"POST / HTTP/1.1\r\n\
          Host: x\r\n\
          Content-Length: 6\r\n\
          Transfer-Encoding: chunked\r\n\
          \r\n\
          0\r\n\
          \r\n\
          GET /smuggled HTTP/1.1\r\n\
          Host: x\r\n\
          \r\n",
        400,
    );

    let seen = seen.lock().unwrap();
    assert!(
        !seen.iter().any(|path| path == "/smuggled"),
        "the handler saw {seen:?}"
    );
}

#[test]
fn incomplete_head_is_answered_408_after_the_header_read_timeout() {
    let timeout = Duration::from_millis(300);
    let server = serve(|b| b.header_read_timeout(timeout).handler(echo_path));
    let mut client = server.client();
    // Before sending: the server's clock starts when the first byte of the
    // head arrives, so after this, and the lower bound is sound.
    let started = Instant::now();

    client.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half");
    // Fails unless the 408 comes within IO_TIMEOUT: that is the upper bound.
    let response = client.response();
    let waited = started.elapsed();

    assert_eq!(response.status, 408, "{client:?}");
    assert!(response.connection_has("close"), "{response:?}");
    assert!(waited >= timeout, "408 after only {waited:?}");
    client.assert_closed();
}

/// How long a dripping client waits for an answer before its next piece.
const PACE: Duration = Duration::from_millis(250);

/// How a drip of `pieces` ended: when each piece the server took was sent,
/// what the server sent back (read to its close) and when that came.
struct Dripped {
    sent: Vec<Instant>,
    answer: Vec<u8>,
    ended: Instant,
}

/// Sends `pieces` one at a time, each once the server has answered nothing
/// for [`PACE`] (the read waiting for an answer paces them), until the
/// server answers or closes.
///
/// # Panics
/// When the server takes every piece and the connection is still open.
fn drip<'a>(stream: &TcpStream, pieces: impl IntoIterator<Item = &'a [u8]>) -> Dripped {
    stream.set_read_timeout(Some(PACE)).unwrap();
    let mut sent = Vec::new();
    let mut buf = [0u8; 4096];
    for piece in pieces {
        if (&*stream).write_all(piece).is_err() {
            break;
        }
        sent.push(Instant::now());
        match (&*stream).read(&mut buf) {
            Err(err) if is_timeout(&err) => {}
            Ok(n) => {
                let ended = Instant::now();
                let mut answer = buf[..n].to_vec();
                stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let _ = (&*stream).read_to_end(&mut answer);
                return Dripped {
                    sent,
                    answer,
                    ended,
                };
            }
            Err(err) if is_reset(&err) => break,
            Err(err) => panic!("reading failed: {err}"),
        }
    }
    let ended = Instant::now();
    assert!(
        ended.duration_since(sent[0]) < IO_TIMEOUT,
        "the server took {} pieces over {:?} and kept the connection open",
        sent.len(),
        ended.duration_since(sent[0])
    );
    Dripped {
        sent,
        answer: Vec::new(),
        ended,
    }
}

/// Empty lines after a response start the header read timeout, like the
/// first byte of a head: a client dripping them gets 408 after one timeout,
/// not the keep-alive timeout's worth of them. Proved by count: the server
/// takes about four of the 24 offered (a 1 s timeout, one every 250 ms).
#[test]
fn empty_lines_between_requests_start_the_header_read_timeout() {
    let timeout = Duration::from_secs(1);
    let server = serve(|b| {
        b.header_read_timeout(timeout)
            .keep_alive_timeout(Duration::from_secs(60))
            .handler(echo_path)
    });
    let mut client = server.client();
    let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200, "{client:?}");

    let dripped = drip(client.stream(), [&b"\r\n"[..]; 24]);
    let answer = String::from_utf8_lossy(&dripped.answer);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "after {} empty lines: {answer:?}",
        dripped.sent.len()
    );
    // The server's clock started when it read the first line, after this.
    let waited = dripped.ended.duration_since(dripped.sent[0]);
    assert!(waited >= timeout, "408 after only {waited:?}");
}

/// The header read timeout runs from the first byte, empty lines before the
/// request line included: a head begun after them does not get a timeout
/// of its own. Without that rule the 408 could not come before a whole
/// timeout had passed since the head's first byte (the server reads that
/// byte after it is sent), so the test fails then whatever the load. With
/// it, the 408 comes one timeout after the first empty line, 1.25 s before
/// that: the server may be that late.
#[test]
fn empty_lines_before_a_head_count_against_its_header_read_timeout() {
    let timeout = Duration::from_secs(2);
    let server = serve(|b| b.header_read_timeout(timeout).handler(echo_path));
    let stream = support::connect(server.addr());
    const BLANK: usize = 5;
    let head = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: {}", "a".repeat(100));
    let pieces = std::iter::repeat_n(&b"\r\n"[..], BLANK).chain(head.as_bytes().chunks(1));

    let dripped = drip(&stream, pieces);
    let answer = String::from_utf8_lossy(&dripped.answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    let waited = dripped.ended.duration_since(dripped.sent[0]);
    assert!(waited >= timeout, "408 after only {waited:?}");
    // A client slowed down enough may not have begun the head: nothing
    // more to check then.
    if let Some(head_began) = dripped.sent.get(BLANK) {
        let since_head = dripped.ended.duration_since(*head_began);
        assert!(
            since_head < timeout,
            "408 {since_head:?} after the head began, {waited:?} after the first empty line"
        );
    }
}

/// RFC 9112 §2.2: empty lines before a request line are ignored, ten of
/// them at most (as Apache does); more are refused.
#[test]
fn a_few_empty_lines_before_a_request_are_ignored_and_more_refused() {
    let server = serve_echo_path();
    let ten = "\r\n".repeat(10);
    let mut client = server.client();
    let first = client.request(
        format!("{ten}GET /a HTTP/1.1\r\nHost: x\r\n\r\n{ten}GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(first.text(), "/a", "{client:?}");
    assert_eq!(client.response().text(), "/b", "{client:?}");

    let eleven = format!("{ten}\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_rejected(&server, eleven.as_bytes(), 400);
}

#[test]
fn panicking_handler_gets_500_and_the_worker_survives() {
    let server = serve(|b| {
        b.workers(1).handler(|req| {
            if req.path() == "/panic" {
                panic!("this handler panics on purpose");
            }
            Response::text("still here")
        })
    });

    for _ in 0..5 {
        assert_rejected(&server, b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n", 500);
    }
    let mut client = server.client();
    let response = client.request(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");

    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), "still here");
}

/// A `Transfer-Encoding` field with no coding is refused, never
/// skipped in favour of the `Content-Length` beside it.
#[test]
fn transfer_encoding_without_a_coding_is_400() {
    let server = serve(|b| b.handler(echo_body));
    for te in ["Transfer-Encoding: ,\r\n", "Transfer-Encoding:\r\n"] {
        let request = format!("POST / HTTP/1.1\r\nHost: x\r\n{te}Content-Length: 5\r\n\r\nhello");
        assert_rejected(&server, request.as_bytes(), 400);
    }
}

/// README: after refusing a request the server keeps reading (and
/// discarding) for a while before it closes, so a client still sending its
/// body reads the refusal instead of losing it to a reset.
#[test]
fn a_client_still_sending_a_refused_body_reads_the_whole_413() {
    // Well under the server's drain limit, far over max_body_size.
    const BODY: usize = 192 * 1024;
    let server = serve(|b| b.max_body_size(1024).handler(echo_path));
    let mut client = server.client();

    client.send(
        format!("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {BODY}\r\n\r\n").as_bytes(),
    );
    // As a client that does not wait for an answer does: the whole body.
    for _ in 0..BODY / 4096 {
        client.send(&[b'b'; 4096]);
    }
    let response = client.response();

    assert_eq!(response.status, 413, "{client:?}");
    assert!(response.connection_has("close"), "{response:?}");
    client.assert_closed();
}

/// The answers the loop makes by itself can have a body and type
/// chosen at build time; the 503 keeps its `Retry-After`.
#[test]
fn refusals_can_have_a_fixed_body() {
    let server = serve(|b| {
        b.max_body_size(10)
            .refusal_body(
                pool_server::StatusCode::PAYLOAD_TOO_LARGE,
                "application/json",
                r#"{"error":"too large"}"#,
            )
            .handler(echo_path)
    });
    let response = assert_rejected(
        &server,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n",
        413,
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.text(), r#"{"error":"too large"}"#);
    // Others keep their plain-text default.
    let other = assert_rejected(&server, b"GET / HTTP/1.1\r\n\r\n", 400);
    assert_eq!(other.text(), "missing Host header\n");

    for status in [
        pool_server::StatusCode::NOT_FOUND,
        pool_server::StatusCode::OK,
    ] {
        let err = pool_server::Server::builder()
            .bind("127.0.0.1:0")
            .refusal_body(status, "text/plain", "x")
            .build()
            .expect_err("the loop never makes that status");
        assert!(err.is_config(), "{err:?}");
    }
}

/// Every refusal's body set in one call, from its status and reason.
#[test]
fn refusal_bodies_are_set_in_one_call() {
    let server = serve(|b| {
        b.max_body_size(10)
            .refusal_bodies("application/json", |status, reason| {
                format!(r#"{{"error":"{reason}","status":{}}}"#, status.as_u16())
            })
            .handler(echo_path)
    });
    for (request, status, reason) in [
        (
            &b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"[..],
            413,
            "Payload Too Large",
        ),
        (&b"GET / HTTP/1.1\r\n\r\n"[..], 400, "Bad Request"),
    ] {
        let response = assert_rejected(&server, request, status);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(
            response.text(),
            format!(r#"{{"error":"{reason}","status":{status}}}"#)
        );
    }
}
