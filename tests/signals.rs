//! `Server::run` serves until SIGTERM or SIGINT, then shuts down gracefully.
//! In its own test binary: the signal handlers it installs are process-wide.

#[allow(dead_code)]
mod support;

use std::thread;
use std::time::Duration;

use pool_server::{Response, Server};
use signal_hook::consts::SIGTERM;

use support::{within, Client, Gate};

#[test]
fn run_returns_after_sigterm_once_in_flight_requests_are_answered() {
    let gate = Gate::new();
    let held = gate.clone();
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(2)
        .handler(move |req| {
            if req.path() == "/held" {
                held.enter();
            }
            Response::text("done")
        })
        .build()
        .unwrap();
    let addr = server.local_addr();
    let running = thread::spawn(move || server.run());

    // An answer proves the loop runs, so its signal handlers are installed.
    let mut idle = Client::connect(addr);
    assert_eq!(
        idle.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").status,
        200
    );
    let mut in_flight = Client::connect(addr);
    in_flight.send(b"GET /held HTTP/1.1\r\nHost: x\r\n\r\n");
    gate.wait_entered(1);

    signal_hook::low_level::raise(SIGTERM).unwrap();
    // The idle connection is closed once the loop has begun draining; only
    // then is the held handler let go, so its answer must say close.
    idle.assert_closed();
    gate.open();

    let response = in_flight.response();
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), "done");
    assert!(response.connection_has("close"), "{response:?}");
    in_flight.assert_closed();
    // Well under the default 30 s shutdown timeout: `run` returns once the
    // in-flight request is answered, it does not wait the timeout out.
    let result = within(Duration::from_secs(10), move || running.join())
        .expect("run() returns within 10 s of the last answer")
        .expect("run() does not panic");
    assert!(result.is_ok(), "{result:?}");
}
