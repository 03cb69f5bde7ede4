//! Clients that read their responses slowly or not at all: the write timeout
//! bounds a pause, not a whole transfer, and a client that pipelines without
//! reading cannot make the server encode answers without limit.

#[allow(dead_code)]
mod support;

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use pool_server::Response;

use support::serve;

const BIG: usize = 16 * 1024 * 1024;

/// Every write that makes progress restarts `write_timeout`, so a
/// client that keeps reading, slowly, gets the whole body even when the
/// transfer lasts several times the timeout.
#[test]
fn a_steady_slow_reader_outlasts_the_write_timeout() {
    let timeout = Duration::from_secs(1);
    let server = serve(|b| {
        b.write_timeout(timeout)
            .handler(|_| Response::bytes(vec![7u8; BIG]))
    });
    let mut client = server.client();
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

    let started = Instant::now();
    let mut stream = client.stream();
    let mut chunk = vec![0; 128 * 1024];
    let mut received = 0;
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => received += n,
            Err(err) => panic!("after {received} bytes and {:?}: {err}", started.elapsed()),
        }
        // Well under the timeout per pause, adding up to several of them.
        thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    assert!(received > BIG, "got {received} bytes in {took:?}");
    assert!(
        took > timeout * 3 / 2,
        "the transfer must outlast the timeout to prove anything: {took:?}"
    );
}

/// With responses of 4 MiB and a client that pipelines 32
/// requests without reading, the server stops answering while a window's
/// worth waits unsent, instead of encoding 128 MiB; once the client reads,
/// every answer arrives, in order.
#[test]
fn pipelined_answers_wait_while_the_client_does_not_read() {
    const SIZE: usize = 4 * 1024 * 1024;
    const REQUESTS: usize = 32;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let server = serve(move |b| {
        b.handler(move |req| {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut body = vec![b'.'; SIZE];
            body[..req.path().len()].copy_from_slice(req.path().as_bytes());
            Response::bytes(body)
        })
    });
    let mut client = server.client();
    let mut pipeline = Vec::new();
    for i in 0..REQUESTS {
        pipeline.extend_from_slice(format!("GET /{i:02} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    client.send(&pipeline);

    let deadline = Instant::now() + Duration::from_secs(5);
    while calls.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    // Time to run ahead if it could; it must stop at what the socket
    // buffers took (a few responses), far from all 32.
    thread::sleep(Duration::from_millis(300));
    let ahead = calls.load(Ordering::SeqCst);
    assert!(
        (1..8).contains(&ahead),
        "{ahead} responses were encoded for a client that reads nothing"
    );

    for i in 0..REQUESTS {
        let response = client.response();
        assert_eq!(response.status, 200);
        let tag = format!("/{i:02}");
        assert_eq!(
            &response.body[..tag.len()],
            tag.as_bytes(),
            "answers in request order"
        );
        assert_eq!(response.body.len(), SIZE);
    }
    assert_eq!(calls.load(Ordering::SeqCst), REQUESTS);
}
