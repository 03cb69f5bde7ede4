//! Two readiness loops: the limits and the shutdown hold across them.
//! (The whole suite also runs with `POOL_SERVER_LOOPS=2`; these tests ask
//! for two loops whatever the environment says.)

#[allow(dead_code)]
mod support;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use pool_server::Response;
use support::{serve, Client, Gate, IO_TIMEOUT};

#[test]
fn max_connections_holds_across_two_loops() {
    const LIMIT: usize = 4;
    const CLIENTS: usize = 12;
    let server = serve(|b| {
        b.loops(2)
            .max_connections(LIMIT)
            .handler(|req| Response::text(req.path().to_owned()))
    });
    let (served_tx, served) = mpsc::channel();
    let mut hang_ups = Vec::new();
    for i in 0..CLIENTS {
        let (hang_up, told) = mpsc::channel::<()>();
        hang_ups.push(hang_up);
        let served_tx = served_tx.clone();
        let addr = server.addr();
        thread::spawn(move || {
            let mut client = Client::connect(addr);
            let path = format!("/{i}");
            client.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
            let response = client.response();
            assert_eq!(response.text(), path);
            served_tx.send(i).unwrap();
            // Holds its slot until told to go.
            let _ = told.recv();
        });
    }
    let mut done = 0;
    while done < CLIENTS {
        // The limit is global: one batch of at most LIMIT at a time.
        let mut batch = Vec::new();
        while batch.len() < LIMIT.min(CLIENTS - done) {
            batch.push(served.recv_timeout(IO_TIMEOUT).expect("a client is served"));
        }
        assert!(
            served.recv_timeout(Duration::from_millis(200)).is_err(),
            "more than {LIMIT} connections open at once over two loops"
        );
        for i in &batch {
            hang_ups[*i].send(()).unwrap();
        }
        done += batch.len();
    }
}

#[test]
fn two_loops_drain_every_request_in_flight_on_shutdown() {
    const CLIENTS: usize = 6;
    let gate = Gate::new();
    let in_handler = gate.clone();
    let server = serve(move |b| {
        b.loops(2).workers(CLIENTS).handler(move |req| {
            if req.path() != "/idle" {
                in_handler.enter();
            }
            Response::text(req.path().to_owned())
        })
    });
    let mut idle = server.client();
    assert_eq!(
        idle.request(b"GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        200
    );
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|i| {
            let mut client = server.client();
            client.send(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
            client
        })
        .collect();
    gate.wait_entered(CLIENTS);
    let stopping = thread::spawn(move || server.shutdown());
    // Draining is server-wide once a loop has begun it, as the idle
    // connection's close shows; the handlers are let go only then.
    idle.assert_closed();
    gate.open();
    for (i, client) in clients.iter_mut().enumerate() {
        let response = client.response();
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), format!("/{i}"));
        assert!(response.connection_has("close"), "{response:?}");
        client.assert_closed();
    }
    stopping.join().unwrap().expect("shutdown succeeds");
}
