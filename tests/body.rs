//! Request bodies (RFC 9112 §6–7): `Content-Length` and chunked framing,
//! `Expect: 100-continue`, empty bodies, and HEAD responses without a body.

#[allow(dead_code)]
mod support;

use std::thread;
use std::time::Duration;

use pool_server::Response;

use support::{echo_body, serve};

#[test]
fn content_length_body_is_received_whole() {
    let server = serve(|b| b.handler(echo_body));
    let mut client = server.client();

    let response = client.request(
        b"POST /echo HTTP/1.1\r\n\
          Host: x\r\n\
          Content-Length: 11\r\n\
          \r\n\
          hello world",
    );

    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, b"hello world", "{client:?}");
}

#[test]
fn chunked_body_with_extensions_and_trailers_is_decoded() {
    let server = serve(|b| b.handler(echo_body));
    let mut client = server.client();

    let response = client.request(
        b"POST /echo HTTP/1.1\r\n\
          Host: x\r\n\
          Transfer-Encoding: chunked\r\n\
          \r\n\
          5;ext=1\r\n\
          hello\r\n\
          6;name=\"quoted value\"\r\n \
          world\r\n\
          a\r\n\
          0123456789\r\n\
          0\r\n\
          X-Trailer: a\r\n\
          \r\n",
    );
    // The trailers were consumed: the next request is read from the right place.
    let next = client.request(
        b"POST /echo HTTP/1.1\r\n\
          Host: x\r\n\
          Content-Length: 4\r\n\
          \r\n\
          next",
    );

    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), "hello world0123456789", "{client:?}");
    assert_eq!(next.status, 200, "{next:?}");
    assert_eq!(next.text(), "next", "{client:?}");
}

#[test]
fn chunked_body_split_across_writes_is_decoded() {
    assert_echoed_in_pieces(
        &[
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Enc",
            b"oding: chunked\r\n\r\n5\r",
            b"\nhel",
            b"lo\r\n6\r",
            b"\n world\r",
            b"\n0\r\n",
            b"\r\n",
        ],
        "hello world",
    );
}

/// Sends a request to an echo server in `pieces`, 20 ms apart, and checks
/// that the body comes back whole, once.
#[track_caller]
fn assert_echoed_in_pieces(pieces: &[&[u8]], body: &str) {
    let server = serve(|b| b.handler(echo_body));
    let mut client = server.client();

    for piece in pieces {
        client.send(piece);
        thread::sleep(Duration::from_millis(20));
    }
    let response = client.response();

    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), body, "{client:?}");
}

#[test]
fn expect_100_continue_gets_an_interim_response_before_the_body_is_sent() {
    let server = serve(|b| b.handler(echo_body));
    let mut client = server.client();

    client.send(
        b"POST /upload HTTP/1.1\r\n\
          Host: x\r\n\
          Content-Length: 5\r\n\
          Expect: 100-continue\r\n\
          \r\n",
    );
    let interim = client.response();
    assert_eq!(interim.status, 100, "{client:?}");
    assert_eq!(interim.head, b"HTTP/1.1 100 Continue\r\n\r\n", "{client:?}");
    client.send(b"hello");
    let response = client.response();

    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), "hello", "{client:?}");
}

#[test]
fn unknown_expectation_is_answered_417() {
    let server = serve(|b| b.handler(echo_body));
    let mut client = server.client();

    let response = client.request(
        b"POST /upload HTTP/1.1\r\n\
          Host: x\r\n\
          Content-Length: 5\r\n\
          Expect: the-unexpected\r\n\
          \r\n\
          hello",
    );

    assert_eq!(response.status, 417, "{client:?}");
}

#[test]
fn zero_length_body_is_empty_and_the_connection_continues() {
    let server = serve(|b| b.handler(|req| Response::text(format!("{} bytes", req.body().len()))));
    let mut client = server.client();

    let empty = client.request(
        b"POST /empty HTTP/1.1\r\n\
          Host: x\r\n\
          Content-Length: 0\r\n\
          \r\n",
    );
    let empty_chunked = client.request(
        b"POST /empty HTTP/1.1\r\n\
          Host: x\r\n\
          Transfer-Encoding: chunked\r\n\
          \r\n\
          0\r\n\
          \r\n",
    );
    let after = client.request(
        b"POST /after HTTP/1.1\r\n\
          Host: x\r\n\
          Content-Length: 3\r\n\
          \r\n\
          abc",
    );

    assert_eq!(
        (empty.status, empty.text().as_str()),
        (200, "0 bytes"),
        "{client:?}"
    );
    assert_eq!(
        (empty_chunked.status, empty_chunked.text().as_str()),
        (200, "0 bytes"),
        "{client:?}"
    );
    assert_eq!(
        (after.status, after.text().as_str()),
        (200, "3 bytes"),
        "{client:?}"
    );
}

#[test]
fn head_response_has_the_get_headers_and_no_body() {
    let server = serve(|b| b.handler(|_| Response::text("hello world")));
    let mut client = server.client();

    let get = client.request(b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n");
    client.send(b"HEAD /page HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = client.head_response();
    // Had the HEAD response carried a body, this would read it as garbage.
    let after = client.request(b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n");

    assert_eq!(get.status, 200, "{get:?}");
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.header("content-length"), Some("11"), "{head:?}");
    assert_eq!(
        head.header("content-type"),
        get.header("content-type"),
        "{head:?}"
    );
    assert_eq!(after.status, 200, "{client:?}");
    assert_eq!(after.text(), "hello world", "{client:?}");
    client.assert_open(Duration::from_millis(100));
}

#[test]
fn content_length_body_split_across_writes_is_received_once() {
    assert_echoed_in_pieces(
        &[
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhe",
            b"llo",
            b" wor",
            b"ld",
        ],
        "hello world",
    );
}

#[test]
fn pipelined_requests_with_bodies_are_each_answered_with_their_own_body() {
    let server = serve(|b| b.handler(echo_body));
    let mut client = server.client();

    client.send(
        b"POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none\
          POST /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n\
          POST /3 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nthree",
    );

    for want in ["one", "two", "three"] {
        let response = client.response();
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.text(), want, "{client:?}");
    }
    client.assert_open(Duration::from_millis(100));
}

#[test]
fn a_body_that_stops_arriving_is_answered_408() {
    let server = serve(|b| {
        b.handler(echo_body)
            .body_read_timeout(Duration::from_millis(300))
    });
    let mut client = server.client();

    client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf");
    let response = client.response();

    assert_eq!(response.status, 408, "{response:?}");
    assert!(response.connection_has("close"), "{response:?}");
    client.assert_closed();
}
