//! What the engine (the readiness loop, the queue and the workers around
//! it) must guarantee whatever its shape: the loop keeps watching every
//! socket, timing out slow heads and shedding the excess while every
//! worker is held in a handler; a slow handler holds only its own worker
//! and connection; and shutdown returns even when a handler never does.
//! Nothing here assumes which thread runs the loop: handlers are held at a
//! [`Gate`] or a channel the test controls, and every wait is on something
//! the test can observe, with a timeout only as the failure bound.

#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use pool_server::{Request, Response, Server};

use support::{within, Client, Gate, Serve, IO_TIMEOUT};

/// How long the test waits for something the server must do before it
/// fails: a failure bound, never a measure.
const FAILURE_BOUND: Duration = Duration::from_secs(10);

/// Answers `/park…` only once the gate opens; any other path at once, with
/// the path as the body.
fn held_at(gate: Gate) -> impl Fn(&Request) -> Response + Send + Sync + 'static {
    move |req: &Request| {
        if req.path().starts_with("/park") {
            gate.enter();
        }
        Response::text(req.path().to_owned())
    }
}

/// Waits until `n` handlers have entered `gate`.
///
/// # Panics
/// When fewer have after [`FAILURE_BOUND`], with the server's metrics then;
/// the gate is opened first, so the held handlers do not outlast the test.
#[track_caller]
fn wait_entered(server: &Serve, gate: &Gate, n: usize) {
    let deadline = Instant::now() + FAILURE_BOUND;
    while gate.entered() < n {
        if Instant::now() >= deadline {
            let stats = server.stats();
            gate.open();
            panic!(
                "only {} of {n} handlers entered within {FAILURE_BOUND:?}; stats then: {stats:?}",
                gate.entered()
            );
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// `GET path` on a keep-alive connection.
fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

/// Sends `GET path` on a new connection and returns it, unanswered.
fn send_on_new_connection(server: &Serve, path: &str) -> Client {
    let mut client = server.client();
    client.send(&get(path));
    client
}

/// With every worker held in a handler, the loop still times out a head that
/// stops halfway (408) and sheds the requests the queue has no room for (503
/// with `Retry-After`, before any worker is free); the requests it queued are
/// answered, by the application, only once the workers are let go, and none
/// is lost.
#[test]
fn every_worker_in_a_handler_still_times_out_slow_heads_and_sheds() {
    const WORKERS: usize = 2;
    const QUEUE: usize = 1;
    /// Complete requests sent while both workers are held: more than the queue holds.
    const EXTRA: usize = 4;
    let gate = Gate::new();
    let server = support::serve(|b| {
        b.workers(WORKERS)
            .queue_capacity(QUEUE)
            .header_read_timeout(Duration::from_secs(1))
            .handler(held_at(gate.clone()))
    });
    // One at a time, each in its handler before the next is sent: with room
    // for one job, a burst can find the queue full before an idle worker
    // has taken the first, and be shed.
    let mut parked: Vec<Client> = Vec::new();
    for i in 0..WORKERS {
        parked.push(send_on_new_connection(&server, &format!("/park/{i}")));
        wait_entered(&server, &gate, i + 1);
    }

    // (a) Half a head: 408 from the loop while no worker is free.
    let mut slow = server.client();
    slow.send(b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Half");
    let timed_out = slow.response();
    assert_eq!(timed_out.status, 408, "{slow:?}");
    assert!(timed_out.connection_has("close"), "{timed_out:?}");
    slow.assert_closed();

    // (b) Complete requests past the queue's room. Each is read on its own
    // thread, which notes whether the workers had been let go by then.
    let released = Arc::new(AtomicBool::new(false));
    let (answered_tx, answered) = mpsc::channel();
    let addr = server.addr();
    for i in 0..EXTRA {
        let (answered_tx, released) = (answered_tx.clone(), Arc::clone(&released));
        thread::spawn(move || {
            let mut client = Client::connect(addr);
            // A queued one is answered only after the release, which waits
            // for the others' 503s: past FAILURE_BOUND the main thread fails.
            let wait = FAILURE_BOUND * 3;
            client.stream().set_read_timeout(Some(wait)).unwrap();
            client.send(&get(&format!("/extra/{i}")));
            let response = client.try_response(false);
            let after_release = released.load(Ordering::SeqCst);
            let _ = answered_tx.send((i, response, after_release, client));
        });
    }
    drop(answered_tx);
    let next_answer = |what: &str| {
        answered
            .recv_timeout(FAILURE_BOUND)
            .unwrap_or_else(|_| panic!("{what}: no answer within {FAILURE_BOUND:?}"))
    };

    // At most QUEUE of them can wait for the held workers: the others must
    // be refused while the gate is still closed.
    let mut refused = 0;
    for _ in 0..EXTRA - QUEUE {
        let (i, response, after_release, mut client) = next_answer("a request past the queue");
        let response = response.unwrap_or_else(|err| panic!("/extra/{i}: {err}\n{client:?}"));
        assert!(!after_release, "answered after the release: {client:?}");
        assert_eq!(
            response.status, 503,
            "/extra/{i} with both workers held: {client:?}"
        );
        assert!(
            response.header("retry-after").is_some(),
            "503 without Retry-After: {response:?}"
        );
        assert!(response.connection_has("close"), "{response:?}");
        client.assert_closed();
        refused += 1;
    }
    assert_eq!(
        gate.entered(),
        WORKERS,
        "a handler ran while both were held"
    );

    released.store(true, Ordering::SeqCst);
    gate.open();

    // The rest: queued ones now get 200 from the application; one the loop
    // refused but whose answer was read late may still be a 503.
    let mut served = 0;
    for _ in 0..QUEUE {
        let (i, response, after_release, mut client) = next_answer("a queued request");
        let response = response.unwrap_or_else(|err| panic!("/extra/{i}: {err}\n{client:?}"));
        match response.status {
            200 => {
                assert!(
                    after_release,
                    "served while both workers were held: {client:?}"
                );
                assert_eq!(response.text(), format!("/extra/{i}"), "{client:?}");
                served += 1;
            }
            503 => {
                client.assert_closed();
                refused += 1;
            }
            _ => panic!("/extra/{i}: {client:?}"),
        }
    }
    assert_eq!(served + refused, EXTRA, "a request was lost");
    assert!(served <= QUEUE, "{served} queued with room for {QUEUE}");

    for (i, client) in parked.iter_mut().enumerate() {
        let response = client.response();
        assert_eq!(response.status, 200, "{client:?}");
        assert_eq!(response.text(), format!("/park/{i}"), "{client:?}");
    }
    // The server's counts agree (they may trail the bytes on the wire).
    server.wait_stats("the shed and the served requests counted", |s| {
        s.shed == refused as u64
            && s.responses[1] == (WORKERS + served) as u64
            && s.queue_depth == 0
    });
}

/// While all but one worker are held in slow handlers, every other
/// connection (a keep-alive one, fresh ones, a pipelined one) is read and
/// answered by the free worker before any slow handler returns; the slow
/// ones are answered once let go.
#[test]
fn a_slow_handler_does_not_hold_up_another_connection() {
    for workers in [2, 4] {
        slow_handlers_leave_the_last_worker_serving(workers);
    }
}

fn slow_handlers_leave_the_last_worker_serving(workers: usize) {
    const ROUNDS: usize = 20;
    let gate = Gate::new();
    let server = support::serve(|b| b.workers(workers).handler(held_at(gate.clone())));
    let held = workers - 1;
    let mut slow: Vec<Client> = (0..held)
        .map(|i| send_on_new_connection(&server, &format!("/park/{i}")))
        .collect();
    wait_entered(&server, &gate, held);

    // Each read fails the test after IO_TIMEOUT; the gate stays closed
    // throughout, so every answer below came before the slow ones returned.
    let mut keep_alive = server.client();
    for i in 0..ROUNDS {
        let response = keep_alive.request(&get(&format!("/fast/{i}")));
        assert_eq!(response.status, 200, "{workers} workers: {keep_alive:?}");
        assert_eq!(response.text(), format!("/fast/{i}"), "{keep_alive:?}");
        assert!(!response.connection_has("close"), "{response:?}");
    }
    for i in 0..ROUNDS {
        let mut fresh = server.client();
        let response = fresh.request(
            format!("GET /fresh/{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(response.status, 200, "{workers} workers: {fresh:?}");
        assert_eq!(response.text(), format!("/fresh/{i}"), "{fresh:?}");
        fresh.assert_closed();
    }
    let mut pipelined = server.client();
    let burst: Vec<u8> = (0..ROUNDS)
        .flat_map(|i| get(&format!("/pipelined/{i}")))
        .collect();
    pipelined.send(&burst);
    for i in 0..ROUNDS {
        let response = pipelined.response();
        assert_eq!(response.status, 200, "{workers} workers: {pipelined:?}");
        assert_eq!(response.text(), format!("/pipelined/{i}"), "{pipelined:?}");
    }
    assert_eq!(gate.entered(), held, "{workers} workers");

    gate.open();
    for (i, client) in slow.iter_mut().enumerate() {
        let response = client.response();
        assert_eq!(response.status, 200, "{workers} workers: {client:?}");
        assert_eq!(response.text(), format!("/park/{i}"), "{client:?}");
    }
    // The connections used while the others were held are still served.
    let again = keep_alive.request(&get("/again"));
    assert_eq!(again.status, 200, "{keep_alive:?}");
    let again = pipelined.request(&get("/again"));
    assert_eq!(again.status, 200, "{pipelined:?}");
}

/// `ServerHandle::shutdown` returns (bounded by [`FAILURE_BOUND`], far past
/// its 500 ms timeout) while a handler has not returned: by then the listener and the idle
/// connections are closed, and the stuck request's connection is left to its
/// handler (no 503 for a request whose handler started), answered and
/// closed once that handler ends, as `Server::run` documents.
#[test]
fn shutdown_finishes_with_a_handler_that_never_returns() {
    let (entered_tx, entered) = mpsc::channel();
    // The handler waits for this sender, which the test keeps past shutdown
    // (dropped on a panic too, so a failure does not leave it waiting).
    let (release, released) = mpsc::channel::<()>();
    let (entered_tx, released) = (Mutex::new(entered_tx), Mutex::new(released));
    let handle = Server::builder()
        .bind("127.0.0.1:0")
        .workers(2)
        .shutdown_timeout(Duration::from_millis(500))
        .handler(move |req| {
            if req.path() == "/stuck" {
                let _ = entered_tx.lock().unwrap().send(());
                let _ = released.lock().unwrap().recv();
                return Response::text("late");
            }
            Response::text("ok")
        })
        .build()
        .expect("the test server builds")
        .spawn()
        .expect("the test server spawns");
    let addr = handle.local_addr();

    let mut idle = Client::connect(addr);
    let first = idle.request(&get("/"));
    assert_eq!(first.status, 200, "{idle:?}");
    assert!(!first.connection_has("close"), "{first:?}");
    let mut stuck = Client::connect(addr);
    stuck.send(&get("/stuck"));
    entered
        .recv_timeout(FAILURE_BOUND)
        .expect("the stuck handler runs");

    let result = within(FAILURE_BOUND, move || handle.shutdown()).unwrap_or_else(|| {
        panic!("ServerHandle::shutdown did not return within {FAILURE_BOUND:?}")
    });
    assert!(result.is_ok(), "shutdown returned {result:?}");

    idle.assert_closed();
    // Refused, or accepted by nothing and closed: never served.
    if let Ok(stream) = std::net::TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut late = Client::new(stream);
        let _ = late.try_send(&get("/"));
        late.assert_closed();
    }
    // Its handler still runs: nothing sent yet, not even a 503.
    stuck.assert_open(Duration::from_millis(200));

    release
        .send(())
        .expect("the stuck handler is still waiting");
    let response = stuck.response();
    assert_eq!(response.status, 200, "{stuck:?}");
    assert_eq!(response.text(), "late", "{stuck:?}");
    assert!(response.connection_has("close"), "{response:?}");
    stuck.assert_closed();
}

/// With every worker held, requests on many connections wait in the queue
/// (none shed while it has room, none answered early), and each is served
/// once the workers are free, its connection kept alive for the next one.
#[test]
fn many_connections_wait_for_a_worker_while_every_worker_is_held() {
    const WORKERS: usize = 4;
    const WAITING: usize = 50;
    let gate = Gate::new();
    let server = support::serve(|b| b.workers(WORKERS).handler(held_at(gate.clone())));
    let mut parked: Vec<Client> = (0..WORKERS)
        .map(|i| send_on_new_connection(&server, &format!("/park/{i}")))
        .collect();
    wait_entered(&server, &gate, WORKERS);

    let mut waiting: Vec<Client> = (0..WAITING)
        .map(|i| send_on_new_connection(&server, &format!("/wait/{i}")))
        .collect();
    // Every request read and queued, none answered, while the gate is closed.
    let stats = server.wait_stats("every request queued", |s| s.queue_depth == WAITING);
    assert_eq!(stats.shed, 0, "{stats:?}");
    assert_eq!(stats.busy_workers, WORKERS, "{stats:?}");
    for client in &waiting {
        client.stream().set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        match client.stream().peek(&mut byte) {
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("answered while every worker was held: {other:?}\n{client:?}"),
        }
        client.stream().set_nonblocking(false).unwrap();
    }

    gate.open();
    for (i, client) in waiting.iter_mut().enumerate() {
        let response = client.response();
        assert_eq!(response.status, 200, "{client:?}");
        assert_eq!(response.text(), format!("/wait/{i}"), "{client:?}");
        assert!(!response.connection_has("close"), "{response:?}");
    }
    for (i, client) in parked.iter_mut().enumerate() {
        let response = client.response();
        assert_eq!(response.status, 200, "{client:?}");
        assert_eq!(response.text(), format!("/park/{i}"), "{client:?}");
    }
    for (i, client) in waiting.iter_mut().enumerate() {
        let response = client.request(&get(&format!("/again/{i}")));
        assert_eq!(response.status, 200, "{client:?}");
        assert_eq!(response.text(), format!("/again/{i}"), "{client:?}");
    }
}
