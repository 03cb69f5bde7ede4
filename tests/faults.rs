//! Faults in the middle of an exchange: a client that resets its
//! connection (`SO_LINGER` 0) mid-head, mid-body, mid-response, mid-stream
//! or mid-upload frees its slot, its worker, its body memory and any
//! temporary file, and the next client is served; handlers that panic on
//! half the requests under concurrent load cost no worker and no answer.
//!
//! Each server has room for one connection and one worker, so a leaked slot
//! or a held worker would keep the next client from being served at all.
//! The metrics are the condition waited on: open connections back to 0.

#[allow(dead_code)]
mod support;

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;

use pool_server::sse::{self, EventSender};
use pool_server::{stream, Builder, IntoResponse, Request, Response};

use support::{open_connections, open_in, serve, Client, Gate, Serve};

const BIG: usize = 32 * 1024 * 1024;

/// The producers' ends of the streams the server has opened.
#[derive(Clone, Default)]
struct Producers {
    bodies: Arc<Mutex<Vec<stream::Sender>>>,
    events: Arc<Mutex<Vec<EventSender>>>,
}

/// Routes for every kind of response a client can walk away from.
fn handler(producers: Producers, spool_dir: Option<PathBuf>) -> impl Fn(&Request) -> Response {
    move |req| match req.path() {
        "/big" => Response::bytes(vec![b'x'; BIG]),
        "/reader" => Response::stream(io::repeat(b'x').take(BIG as u64)).with_len(BIG as u64),
        "/stream" => {
            let (sender, body) = stream::channel(64 * 1024);
            sender.send("first\n").unwrap();
            producers.bodies.lock().unwrap().push(sender);
            Response::from_stream(body)
        }
        "/events" => {
            let (sender, events) = sse::channel();
            producers.events.lock().unwrap().push(sender);
            events
                .retry(std::time::Duration::from_millis(1500))
                .into_response()
        }
        _ => {
            let spooled = spool_dir.as_deref().map_or(0, open_in);
            Response::text(format!("{} bytes spooled={spooled}", req.body_len()))
        }
    }
}

/// One connection, one worker: whatever a reset leaks shows.
fn tight(b: Builder) -> Builder {
    b.max_connections(1).workers(1)
}

/// The connection is gone from the server, no worker is busy, nothing is
/// queued, and a new client (which needs the only slot and the only worker)
/// is served.
#[track_caller]
fn assert_all_freed(server: &Serve) {
    server.wait_stats("the reset connection is closed and its worker free", |s| {
        open_connections(s) == 0 && s.busy_workers == 0 && s.queue_depth == 0
    });
    let mut next = server.client();
    let response = next.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200, "{next:?}");
    assert_eq!(response.text(), "0 bytes spooled=0");
}

/// Reads from `client` until `needle` has arrived.
fn read_until(client: &Client, needle: &[u8]) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(needle.len()).any(|w| w == needle) {
        let n = (&mut client.stream()).read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn a_reset_mid_head_frees_the_slot() {
    let server = serve(|b| tight(b).handler(handler(Producers::default(), None)));
    for _ in 0..3 {
        let before = server.stats().bytes_read;
        let mut client = server.client();
        let half = b"GET / HTTP/1.1\r\nHost: x\r\nX-Half: ";
        client.send(half);
        server.wait_stats("the half head is read", |s| {
            s.bytes_read == before + half.len() as u64
        });
        client.reset();
        assert_all_freed(&server);
    }
}

#[test]
fn a_reset_mid_body_frees_the_slot_and_its_body_memory() {
    // Room for one body in memory server-wide: a charge left behind by a
    // reset body would send the next one to disk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let server = serve(|b| {
        tight(b)
            .body_buffer_size(64 * 1024)
            .body_memory_limit(64 * 1024)
            .temp_dir(path.clone())
            .handler(handler(Producers::default(), Some(path)))
    });
    for _ in 0..4 {
        let before = server.stats().bytes_read;
        let mut client = server.client();
        let head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n";
        client.send(head);
        client.send(&[b'b'; 50_000]);
        server.wait_stats("the head and part of the body are read", |s| {
            s.bytes_read == before + head.len() as u64 + 50_000
        });
        client.reset();
        assert_all_freed(&server);
    }
    let mut client = server.client();
    client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n");
    client.send(&[b'b'; 50_000]);
    assert_eq!(client.response().text(), "50000 bytes spooled=0");
}

#[test]
fn a_reset_mid_response_frees_the_slot_and_the_worker() {
    let server = serve(|b| tight(b).handler(handler(Producers::default(), None)));
    // In memory, and read from a `Read` a window at a time.
    for path in ["/big", "/reader", "/big", "/reader"] {
        let mut client = server.client();
        client.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let mut taken = 0;
        let mut buf = vec![0u8; 64 * 1024];
        while taken < 256 * 1024 {
            let n = (&mut client.stream()).read(&mut buf).unwrap();
            assert!(n > 0, "{path}: closed after {taken} bytes");
            taken += n;
        }
        client.reset();
        assert_all_freed(&server);
    }
}

#[test]
fn a_reset_mid_stream_closes_the_stream_and_frees_the_slot() {
    let producers = Producers::default();
    let server = serve(|b| tight(b).handler(handler(producers.clone(), None)));
    for (path, first) in [
        ("/stream", &b"first\n"[..]),
        ("/events", &b"retry: 1500\n\n"[..]),
    ] {
        let mut client = server.client();
        client.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        read_until(&client, first);
        client.reset();
        assert_all_freed(&server);
    }
    // The producers learn that nobody listens any more.
    let body = producers.bodies.lock().unwrap().pop().unwrap();
    assert!(body.is_closed());
    assert!(body.send("anyone?").is_err());
    let events = producers.events.lock().unwrap().pop().unwrap();
    assert!(events.is_closed());
}

#[test]
fn a_reset_mid_upload_removes_its_file_and_frees_the_slot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let server = serve(|b| {
        tight(b)
            .max_body_size(64 * 1024 * 1024)
            .body_buffer_size(16 * 1024)
            .temp_dir(path.clone())
            .handler(handler(Producers::default(), Some(path)))
    });
    for _ in 0..3 {
        let mut client = server.client();
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
        client.send(&vec![b'u'; 1_000_000]);
        support::wait_stats(
            || server.stats(),
            "the upload is spooling",
            |_| open_in(dir.path()) == 1,
        );
        client.reset();
        assert_all_freed(&server);
        assert_eq!(open_in(dir.path()), 0, "a spool file is still open");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
    // A whole upload still spools, and its file goes too.
    let mut client = server.client();
    client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    client.send(&[b'u'; 100_000]);
    assert_eq!(client.response().text(), "100000 bytes spooled=1");
    drop(client);
    server.wait_stats("the upload's connection is closed", |s| {
        open_connections(s) == 0
    });
    assert_eq!(open_in(dir.path()), 0);
}

const CLIENTS: usize = 8;
const PER_CLIENT: usize = 40;

#[test]
fn handlers_that_panic_on_half_the_requests_cost_no_answer_and_no_worker() {
    let gate = Gate::new();
    let server = serve(|b| {
        let gate = gate.clone();
        b.workers(2).handler(move |req| {
            if req.path() == "/gate" {
                gate.enter();
                return Response::text("through");
            }
            let n: usize = req.path()[1..].parse().unwrap();
            assert_ne!(n % 2, 1, "request {n} panics on purpose");
            Response::text(n.to_string())
        })
    });
    let addr = server.addr();
    let load: Vec<_> = (0..CLIENTS)
        .map(|c| {
            thread::spawn(move || {
                let (mut ok, mut failed) = (0, 0);
                let mut client = Client::connect(addr);
                for i in 0..PER_CLIENT {
                    let n = c * PER_CLIENT + i;
                    let response =
                        client.request(format!("GET /{n} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
                    match response.status {
                        200 => {
                            assert_eq!(response.text(), n.to_string());
                            ok += 1;
                        }
                        500 => {
                            assert_eq!(n % 2, 1, "{client:?}");
                            // A panic closes its connection: the state it
                            // left cannot be trusted.
                            assert!(response.connection_has("close"), "{response:?}");
                            client.assert_closed();
                            client = Client::connect(addr);
                            failed += 1;
                        }
                        other => panic!("status {other}: {client:?}"),
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    let (mut ok, mut failed) = (0, 0);
    for client in load {
        let (o, f) = client.join().unwrap();
        ok += o;
        failed += f;
    }
    let half = CLIENTS * PER_CLIENT / 2;
    assert_eq!((ok, failed), (half, half));

    // Both workers are alive: two held requests are in handlers at once.
    let mut held: Vec<Client> = (0..2).map(|_| server.client()).collect();
    for client in &mut held {
        client.send(b"GET /gate HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    gate.wait_entered(2);
    gate.open();
    for client in &mut held {
        assert_eq!(client.response().text(), "through");
    }
    drop(held);

    let stats = server.wait_stats("every connection closed", |s| {
        open_connections(s) == 0 && s.responses[1] == half as u64 + 2
    });
    assert_eq!(stats.responses, [0, half as u64 + 2, 0, 0, half as u64]);
    assert_eq!((stats.workers, stats.busy_workers), (2, 0), "{stats:?}");
    assert_eq!(stats.queue_depth, 0, "{stats:?}");
}
