//! Pipelining (RFC 9112 §9.3.2): requests sent back to back on one
//! connection are answered in order, however the bytes are split, and a
//! malformed request ends the pipeline after the answers before it.

#[allow(dead_code)]
mod support;

use std::thread;
use std::time::{Duration, Instant};

use support::serve_echo_path;

/// Four requests, one with a body, the last one closing the connection.
const PIPELINE: &[u8] = b"GET /1 HTTP/1.1\r\n\
                          Host: x\r\n\
                          \r\n\
                          POST /2 HTTP/1.1\r\n\
                          Host: x\r\n\
                          Content-Length: 5\r\n\
                          \r\n\
                          hello\
                          GET /3 HTTP/1.1\r\n\
                          Host: x\r\n\
                          \r\n\
                          GET /4 HTTP/1.1\r\n\
                          Host: x\r\n\
                          Connection: close\r\n\
                          \r\n";

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = serve_echo_path();
    let mut client = server.client();

    client.send(PIPELINE);

    for path in ["/1", "/2", "/3", "/4"] {
        let response = client.response();
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.text(), path, "{client:?}");
    }
    client.assert_closed();
}

#[test]
fn pipelined_requests_sent_one_byte_at_a_time_are_answered_in_order() {
    let server = serve_echo_path();
    let mut client = server.client();
    let started = Instant::now();

    for byte in PIPELINE.chunks(1) {
        client.send(byte);
        thread::sleep(Duration::from_micros(300));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "sending took too long"
        );
    }

    for path in ["/1", "/2", "/3", "/4"] {
        let response = client.response();
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.text(), path, "{client:?}");
    }
    client.assert_closed();
}

#[test]
fn malformed_request_in_a_pipeline_is_answered_400_after_the_earlier_ones_then_closed() {
    let server = serve_echo_path();
    let mut client = server.client();

    client.send(
        b"GET /1 HTTP/1.1\r\n\
          Host: x\r\n\
          \r\n\
          GET /2 HTTP/1.1\r\n\
          Host: x\r\n\
          \r\n\
          NONSENSE\r\n\
          \r\n\
          GET /4 HTTP/1.1\r\n\
          Host: x\r\n\
          \r\n",
    );

    let first = client.response();
    let second = client.response();
    let third = client.response();
    assert_eq!(
        (first.status, first.text().as_str()),
        (200, "/1"),
        "{client:?}"
    );
    assert_eq!(
        (second.status, second.text().as_str()),
        (200, "/2"),
        "{client:?}"
    );
    assert_eq!(third.status, 400, "{client:?}");
    assert!(third.connection_has("close"), "{third:?}");
    client.assert_closed();
}
