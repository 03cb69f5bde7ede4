//! Server-sent events: hundreds of open streams held by two
//! workers, one broadcast reaching every one of them, and fresh requests
//! answered meanwhile.

#[allow(dead_code)]
mod support;

use std::io::Read;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pool_server::sse::{self, Event, EventSender, EventStream};
use pool_server::{IntoResponse, Response};

use support::{serve, IO_TIMEOUT};

const STREAMS: usize = 300;

/// Reads from `stream` until `needle` has arrived; returns what came.
fn read_until(stream: &mut TcpStream, needle: &[u8], seen: &mut Vec<u8>) {
    let mut buf = [0u8; 4096];
    while !seen.windows(needle.len()).any(|w| w == needle) {
        let n = stream.read(&mut buf).expect("the event arrives in time");
        assert!(
            n > 0,
            "the stream closed early: {:?}",
            String::from_utf8_lossy(seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn a_broadcast_reaches_hundreds_of_streams_held_by_two_workers() {
    let rlimit = rlimit::increase_nofile_limit(4096).unwrap();
    assert!(rlimit as usize > STREAMS * 2 + 100, "file limit {rlimit}");
    let senders: Arc<Mutex<Vec<EventSender>>> = Arc::default();
    let registry = Arc::clone(&senders);
    let server = serve(move |b| {
        b.handler(move |req| {
            if req.path() != "/events" {
                return Response::text("fresh");
            }
            let (sender, stream) = sse::channel();
            registry.lock().unwrap().push(sender);
            stream.retry(Duration::from_millis(1500)).into_response()
        })
    });

    let mut clients = Vec::new();
    for _ in 0..STREAMS {
        let mut stream = support::connect(server.addr());
        std::io::Write::write_all(&mut stream, b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut seen = Vec::new();
        read_until(&mut stream, b"retry: 1500\n\n", &mut seen);
        let head = String::from_utf8_lossy(&seen).to_lowercase();
        assert!(head.contains("content-type: text/event-stream"), "{head}");
        assert!(head.contains("cache-control: no-cache"), "{head}");
        clients.push((stream, seen));
    }
    assert_eq!(senders.lock().unwrap().len(), STREAMS);

    // Fresh requests are answered while every stream is open.
    let mut fresh = server.client();
    let response = fresh.request(b"GET /fresh HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.text(), "fresh");

    let started = Instant::now();
    let event = Event::data("hello\nall").event("news").id("1");
    for sender in senders.lock().unwrap().iter() {
        sender.send(event.clone()).unwrap();
    }
    for (stream, seen) in &mut clients {
        read_until(
            stream,
            b"event: news\nid: 1\ndata: hello\ndata: all\n\n",
            seen,
        );
    }
    assert!(started.elapsed() < IO_TIMEOUT);

    // A client that leaves makes its sender fail.
    drop(clients.pop());
    let last = senders.lock().unwrap().pop().unwrap();
    let deadline = Instant::now() + IO_TIMEOUT;
    while last.send(Event::data("anyone?")).is_ok() {
        assert!(
            Instant::now() < deadline,
            "a gone client's sender still works"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A server whose every request opens a stream, shaped by `shape`; the
/// senders are kept in the list it returns.
fn stream_server(
    shape: fn(EventStream) -> EventStream,
) -> (support::Serve, Arc<Mutex<Vec<EventSender>>>) {
    let senders: Arc<Mutex<Vec<EventSender>>> = Arc::default();
    let registry = Arc::clone(&senders);
    let server = serve(move |b| {
        b.handler(move |_| {
            let (sender, stream) = sse::channel();
            registry.lock().unwrap().push(sender);
            shape(stream).into_response()
        })
    });
    (server, senders)
}

#[test]
fn a_quiet_event_stream_gets_keep_alive_comments() {
    let (server, _senders) =
        stream_server(|stream| stream.keep_alive(Some(Duration::from_millis(100))));
    let mut stream = support::connect(server.addr());
    std::io::Write::write_all(&mut stream, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut seen = Vec::new();
    read_until(&mut stream, b"\r\n\r\n", &mut seen);
    seen.clear();
    // Two comment lines, each in a chunk of its own.
    read_until(&mut stream, b":\n\n\r\n3\r\n:\n\n", &mut seen);
}

/// At shutdown an open stream is ended cleanly: its last chunk arrives
/// before the connection closes, so the client sees a complete body.
#[test]
fn shutdown_ends_open_streams_with_their_last_chunk() {
    let (server, senders) = stream_server(|stream| stream);
    let mut client = server.client();
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let deadline = Instant::now() + IO_TIMEOUT;
    while senders.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    senders.lock().unwrap()[0]
        .send(Event::data("last"))
        .unwrap();
    server.shutdown().expect("shuts down");
    let response = client.response();
    assert_eq!(response.text(), "data: last\n\n");
    client.assert_closed();
    assert!(senders.lock().unwrap()[0].is_closed());
}
