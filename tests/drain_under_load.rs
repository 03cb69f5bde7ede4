//! Shutdown under load: SIGTERM while clients keep sending.
//! Every request the server read is answered in full, every other one is
//! refused cleanly, `run` returns, and no thread is left. In its own test
//! binary: it counts the process's threads and raises a process-wide signal.

#[allow(dead_code)]
mod support;

use std::io;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use pool_server::{Response, Server};
use signal_hook::consts::SIGTERM;

use support::{within, Client, IO_TIMEOUT};

const CLIENTS: usize = 16;
const BODY: usize = 64 * 1024;
/// Requests answered before the signal is raised.
const BEFORE_SIGNAL: usize = 200;
/// Every request has this length, so the bytes the server read count the
/// requests it read.
const REQUEST: &[u8] = b"GET /load HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// How one request ended, as its client saw it.
#[derive(Default, Debug)]
struct Outcomes {
    /// The whole 64 KiB body.
    answered: usize,
    /// 503 with `Connection: close`, then EOF.
    refused: usize,
    /// The connection itself was refused: the listener is closed.
    connect_refused: usize,
    /// Connected (in the kernel's backlog) but closed or reset before any
    /// byte of an answer: the server never read the request.
    closed_unanswered: usize,
}

fn one_request(addr: std::net::SocketAddr, outcomes: &mut Outcomes) -> bool {
    let stream = match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
        Ok(stream) => stream,
        Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
            outcomes.connect_refused += 1;
            return false;
        }
        Err(err) => panic!("connect failed: {err}"),
    };
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut client = Client::new(stream);
    if let Err(err) = client.try_send(REQUEST) {
        assert!(support::is_reset(&err), "{err}: {client:?}");
        outcomes.closed_unanswered += 1;
        return true;
    }
    match client.try_response(false) {
        Ok(response) if response.status == 200 => {
            assert_eq!(response.body.len(), BODY, "{response:?}");
            assert!(response.body.iter().all(|&b| b == b'z'), "{response:?}");
            client.assert_closed();
            outcomes.answered += 1;
        }
        Ok(response) if response.status == 503 => {
            assert!(response.connection_has("close"), "{response:?}");
            client.assert_closed();
            outcomes.refused += 1;
        }
        Ok(response) => panic!("unexpected {response:?}"),
        Err(err) => {
            let nothing = client.transcript().contains("--- received (0 bytes)");
            let closed = err.kind() == io::ErrorKind::UnexpectedEof || support::is_reset(&err);
            assert!(closed && nothing, "an answer cut short: {err}\n{client:?}");
            outcomes.closed_unanswered += 1;
        }
    }
    true
}

#[test]
fn sigterm_under_load_answers_what_was_read_refuses_the_rest_and_leaves_no_thread() {
    let threads_before = threads();
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(2)
        .queue_capacity(64)
        .handler(|_| {
            thread::sleep(Duration::from_millis(2));
            Response::bytes(vec![b'z'; BODY])
        })
        .build()
        .unwrap();
    let addr = server.local_addr();
    let stats = server.stats_handle();
    let running = thread::spawn(move || server.run());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut outcomes = Outcomes::default();
                // Until the listener is gone (or, if the test failed, told to stop).
                while !stop.load(Ordering::Relaxed) && one_request(addr, &mut outcomes) {}
                outcomes
            })
        })
        .collect();
    let deadline = Instant::now() + IO_TIMEOUT;
    while stats.stats().responses[1] < BEFORE_SIGNAL as u64 {
        if Instant::now() > deadline {
            stop.store(true, Ordering::Relaxed);
            panic!("not {BEFORE_SIGNAL} answers in time: {:?}", stats.stats());
        }
        thread::sleep(Duration::from_millis(5));
    }

    signal_hook::low_level::raise(SIGTERM).unwrap();
    let result = within(Duration::from_secs(10), move || running.join())
        .expect("run() returns")
        .expect("run() does not panic");
    assert!(result.is_ok(), "{result:?}");
    let mut all = Outcomes::default();
    for client in clients {
        let outcomes = within(Duration::from_secs(10), move || client.join())
            .expect("each client ends once connections are refused")
            .expect("no client saw a broken answer");
        all.answered += outcomes.answered;
        all.refused += outcomes.refused;
        all.connect_refused += outcomes.connect_refused;
        all.closed_unanswered += outcomes.closed_unanswered;
    }

    let end = stats.stats();
    eprintln!("drain under load: {all:?}; server: {end:?}");
    // Each client ends on a refused connection: the listener is closed.
    assert_eq!(all.connect_refused, CLIENTS, "{all:?}");
    // Every request the server read was answered, and every answer arrived whole.
    let read = end.bytes_read / REQUEST.len() as u64;
    let loop_503 = end
        .refused
        .iter()
        .find(|(s, _)| *s == 503)
        .map_or(0, |r| r.1);
    assert_eq!(end.bytes_read % REQUEST.len() as u64, 0, "{end:?}");
    assert_eq!(read, end.responses[1] + loop_503, "{end:?}");
    assert_eq!(end.responses[1], all.answered as u64, "{all:?} {end:?}");
    assert_eq!(loop_503, all.refused as u64, "{all:?} {end:?}");
    assert!(all.answered >= BEFORE_SIGNAL, "{all:?}");

    let deadline = Instant::now() + IO_TIMEOUT;
    while threads() > threads_before {
        assert!(
            Instant::now() < deadline,
            "{} threads left, {threads_before} before the server",
            threads()
        );
        thread::sleep(Duration::from_millis(5));
    }
}
