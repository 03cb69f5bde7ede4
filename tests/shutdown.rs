//! Graceful shutdown: in-flight requests finish, the listener closes, idle
//! connections are closed, and a stuck handler cannot hold shutdown past
//! its timeout.

#[allow(dead_code)]
mod support;

use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use pool_server::{Request, Response};

use support::{serve, serve_echo_path, Client, IO_TIMEOUT};

/// `/sleep` answers after 500 ms, anything else at once.
fn sleepy(req: &Request) -> Response {
    if req.path() == "/sleep" {
        thread::sleep(Duration::from_millis(500));
        return Response::text("slept");
    }
    Response::text("ok")
}

#[test]
fn shutdown_lets_an_in_flight_request_finish() {
    let server = serve(|b| b.handler(sleepy));
    let mut client = server.client();
    client.send(b"GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n");
    thread::sleep(Duration::from_millis(100));

    let stopping = thread::spawn(move || server.shutdown());
    let response = client.response();

    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), "slept");
    assert!(response.connection_has("close"), "{response:?}");
    client.assert_closed();
    let result = stopping.join().expect("shutdown does not panic");
    assert!(result.is_ok(), "shutdown returned {result:?}");
}

#[test]
fn after_shutdown_the_port_refuses_connections() {
    let server = serve_echo_path();
    let addr = server.addr();
    let response = server
        .client()
        .request(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(response.status, 200, "{response:?}");

    server.shutdown().expect("shutdown succeeds");

    // Refused, or at worst accepted by nothing and closed: never served, never hung.
    if let Ok(stream) = TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut client = Client::new(stream);
        let _ = client.try_send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        client.assert_closed();
    }
}

#[test]
fn shutdown_closes_idle_keep_alive_connections() {
    let server = serve_echo_path();
    let mut idle = server.client();
    let response = idle.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200, "{response:?}");
    assert!(!response.connection_has("close"), "{response:?}");

    let started = Instant::now();
    server.shutdown().expect("shutdown succeeds");
    let took = started.elapsed();

    assert!(took < Duration::from_secs(1), "shutdown took {took:?}");
    idle.assert_closed();
}

#[test]
fn shutdown_returns_within_its_timeout_when_a_handler_is_stuck() {
    let server = serve(|b| {
        b.shutdown_timeout(Duration::from_millis(300)).handler(|_| {
            thread::sleep(Duration::from_secs(5));
            Response::text("too late")
        })
    });
    let mut client = server.client();
    client.send(b"GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n");
    thread::sleep(Duration::from_millis(100));

    let started = Instant::now();
    let _ = server.shutdown();
    let took = started.elapsed();

    assert!(
        took < Duration::from_secs(2),
        "shutdown took {took:?} with a 300 ms shutdown timeout"
    );
}
