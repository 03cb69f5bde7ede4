//! `Server::run` serves until SIGTERM or SIGINT, then shuts down gracefully.
//! In its own test binary: the signal handlers it installs are process-wide.

#[allow(dead_code)]
mod support;

use std::thread;
use std::time::{Duration, Instant};

use pool_server::{Response, Server};
use signal_hook::consts::SIGTERM;

use support::Client;

#[test]
fn run_returns_after_sigterm_once_in_flight_requests_are_answered() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(2)
        .handler(|req| {
            if req.path() == "/sleep" {
                thread::sleep(Duration::from_millis(300));
            }
            Response::text("done")
        })
        .build()
        .unwrap();
    let addr = server.local_addr();
    let running = thread::spawn(move || server.run());

    // An answer proves the loop runs, so its signal handlers are installed.
    let mut client = Client::connect(addr);
    assert_eq!(
        client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").status,
        200
    );
    let mut sleeper = Client::connect(addr);
    sleeper.send(b"GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n");
    thread::sleep(Duration::from_millis(50));

    let signalled = Instant::now();
    signal_hook::low_level::raise(SIGTERM).unwrap();

    let response = sleeper.response();
    assert_eq!(response.status, 200, "{response:?}");
    assert!(response.connection_has("close"), "{response:?}");
    client.assert_closed();
    let result = running.join().expect("run() does not panic");
    assert!(result.is_ok(), "{result:?}");
    assert!(signalled.elapsed() < Duration::from_secs(2));
}
