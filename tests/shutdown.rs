//! Graceful shutdown: in-flight requests finish, the listener closes, idle
//! connections are closed, and a stuck handler cannot hold shutdown past
//! its timeout.

#[allow(dead_code)]
mod support;

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use pool_server::Response;

use support::{serve, serve_echo_path, Client, Gate, IO_TIMEOUT};

#[test]
fn shutdown_lets_an_in_flight_request_finish() {
    let gate = Gate::new();
    let held = gate.clone();
    let server = serve(|b| {
        b.handler(move |req| {
            if req.path() == "/held" {
                held.enter();
                return Response::text("finished");
            }
            Response::text("ok")
        })
    });
    let mut idle = server.client();
    assert_eq!(
        idle.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").status,
        200
    );
    let mut client = server.client();
    client.send(b"GET /held HTTP/1.1\r\nHost: x\r\n\r\n");
    gate.wait_entered(1);

    let stopping = thread::spawn(move || server.shutdown());
    // Shutdown has begun once it closes the idle connection; the held
    // handler is let go only then.
    idle.assert_closed();
    gate.open();
    let response = client.response();

    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), "finished");
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
    // With a shutdown timeout far past SHUTDOWN_LIMIT, `shutdown()` returning
    // at all proves it did not wait for the idle connection.
    let server = serve(|b| {
        b.shutdown_timeout(Duration::from_secs(60))
            .handler(support::echo_path)
    });
    let mut idle = server.client();
    let response = idle.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200, "{response:?}");
    assert!(!response.connection_has("close"), "{response:?}");

    server.shutdown().expect("shutdown succeeds");

    idle.assert_closed();
}

#[test]
fn shutdown_returns_within_its_timeout_when_a_handler_is_stuck() {
    let timeout = Duration::from_millis(500);
    let gate = Gate::new();
    let stuck = gate.clone();
    let server = serve(|b| {
        b.shutdown_timeout(timeout).handler(move |_| {
            // Held until the test ends, far past the shutdown timeout.
            stuck.enter();
            Response::text("too late")
        })
    });
    let mut client = server.client();
    client.send(b"GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n");
    gate.wait_entered(1);

    let started = Instant::now();
    // `Serve::shutdown` fails the test past SHUTDOWN_LIMIT (5 s): the stuck
    // handler is not waited for.
    let _ = server.shutdown();
    let took = started.elapsed();
    gate.open();

    // It did wait for the handler. Only half the timeout: the loop may date
    // its drain deadline from the instant it last woke, just before the
    // shutdown request.
    assert!(
        took >= timeout / 2,
        "shutdown returned after {took:?}, long before its {timeout:?} timeout"
    );
}

/// A client waiting in the listen backlog (here behind
/// `max_connections(1)`) had sent its request before the stop; closing the
/// listener would reset it. It gets an answer instead.
#[test]
fn shutdown_answers_a_request_waiting_in_the_backlog() {
    let server = serve(|b| b.max_connections(1).handler(|_| Response::text("ok")));
    let mut holder = server.client();
    let first = holder.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(first.status, 200, "{first:?}");

    // Accepted by the kernel, not by the server, which is at its limit.
    let mut waiting = server.client();
    waiting.send(b"GET /waiting HTTP/1.1\r\nHost: x\r\n\r\n");

    server.shutdown().expect("shutdown succeeds");

    let response = waiting.response();
    assert!(
        [200, 503].contains(&response.status),
        "answered or refused cleanly: {response:?}"
    );
    assert!(response.connection_has("close"), "{response:?}");
    waiting.assert_closed();
    holder.assert_closed();
}

/// Jobs no worker started by the shutdown deadline never start:
/// their clients get 503 before `shutdown` returns, and their handler does
/// not run later when the stuck worker frees up.
#[test]
fn a_request_still_queued_at_the_deadline_is_refused_and_never_run() {
    let (started_tx, started) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let started_tx = Mutex::new(started_tx);
    let released = Mutex::new(released);
    let queued_runs = Arc::new(AtomicUsize::new(0));
    let runs = Arc::clone(&queued_runs);
    let server = serve(move |b| {
        b.workers(1)
            .shutdown_timeout(Duration::from_millis(300))
            .handler(move |req| {
                if req.path() == "/stuck" {
                    started_tx.lock().unwrap().send(()).unwrap();
                    let _ = released.lock().unwrap().recv_timeout(IO_TIMEOUT);
                } else {
                    runs.fetch_add(1, Ordering::SeqCst);
                }
                Response::text("done")
            })
    });
    let mut stuck = server.client();
    stuck.send(b"GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n");
    started
        .recv_timeout(IO_TIMEOUT)
        .expect("the stuck handler runs");
    let mut queued = server.client();
    queued.send(b"GET /queued HTTP/1.1\r\nHost: x\r\n\r\n");

    // Returns at the deadline with the one worker still busy.
    let _ = server.shutdown();

    let refused = queued.response();
    assert_eq!(refused.status, 503, "{refused:?}");
    assert!(refused.connection_has("close"), "{refused:?}");
    queued.assert_closed();

    // Free the worker: it finishes its handler, and its connection closes.
    release.send(()).unwrap();
    let _ = stuck.read_until_eof();
    // The worker would take the queued job right after giving that one back.
    thread::sleep(Duration::from_millis(200));
    assert_eq!(
        queued_runs.load(Ordering::SeqCst),
        0,
        "a handler ran after shutdown returned"
    );
}
