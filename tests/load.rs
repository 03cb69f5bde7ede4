//! Behaviour under load: a full queue is shed with 503, and idle, slow-sending
//! and slow-reading clients hold no worker, so they never block other clients.

#[allow(dead_code)]
mod support;

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use pool_server::{Request, Response};

use support::{connect, serve, Client, Gate, IO_TIMEOUT};

/// `/big` is 4 MiB, anything else answers at once.
fn big_or_small(req: &Request) -> Response {
    match req.path() {
        "/big" => Response::bytes(vec![b'x'; 4 * 1024 * 1024]),
        _ => Response::text("ok"),
    }
}

/// Sends `GET /` on `client` and checks the answer. It fails after
/// [`IO_TIMEOUT`]: the tests below make every bug they look for hold the
/// answer far longer than that, so they need no clock of their own.
#[track_caller]
fn assert_get_ok(client: &mut Client) {
    let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), "ok");
}

/// Raises this process's soft limit on open files to at least `needed`,
/// above the common default of 1,024.
fn raise_descriptor_limit(needed: u64) {
    let soft = rlimit::increase_nofile_limit(needed).expect("the descriptor limit can be read");
    assert!(
        soft >= needed,
        "this test needs {needed} descriptors; the hard limit allows {soft}"
    );
}

/// README, Architecture: when the queue is full the loop answers 503 itself
/// and closes the connection.
#[test]
fn requests_past_the_queue_capacity_get_503_with_retry_after_then_eof() {
    let gate = Gate::new();
    let server = serve(|b| {
        let held = gate.clone();
        b.workers(1).queue_capacity(1).handler(move |req| {
            held.enter();
            Response::text(format!("served {}", req.path()))
        })
    });
    let mut busy = server.client();
    busy.send(b"GET /busy HTTP/1.1\r\nHost: x\r\n\r\n");
    gate.wait_entered(1);

    // The only worker is held: whichever of these is read first fills the
    // queue, the other three find it full. Each pipelines a second request,
    // which a shed connection must never answer.
    let (answers, answered) = mpsc::channel();
    for i in 0..4 {
        let mut client = server.client();
        client.send(
            format!(
                "GET /{i} HTTP/1.1\r\nHost: x\r\n\r\nGET /{i}/again HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            .as_bytes(),
        );
        let answers = answers.clone();
        thread::spawn(move || {
            let response = client.try_response(false);
            let _ = answers.send((client, response));
        });
    }
    let next_answer = || {
        let (client, response) = answered
            .recv_timeout(IO_TIMEOUT)
            .expect("an answer within IO_TIMEOUT");
        let response = response.unwrap_or_else(|err| panic!("{err}\n{client:?}"));
        (client, response)
    };

    for _ in 0..3 {
        let (mut client, response) = next_answer();
        assert_eq!(response.status, 503, "{client:?}");
        assert!(
            response
                .header("retry-after")
                .is_some_and(|s| s.parse::<u64>().is_ok()),
            "503 without a numeric retry-after: {response:?}"
        );
        assert!(response.connection_has("close"), "{response:?}");
        client.assert_closed();
    }
    gate.open();

    assert_eq!(busy.response().text(), "served /busy");
    let (mut queued, response) = next_answer();
    assert_eq!(response.status, 200, "{queued:?}");
    let path = response.text().replace("served ", "");
    assert_eq!(
        queued.response().text(),
        format!("served {path}/again"),
        "{queued:?}"
    );
}

#[test]
fn a_thousand_idle_keep_alive_connections_do_not_delay_a_new_client() {
    // Both ends of each connection are in this process: about 2,000
    // descriptors, plus what the tests running alongside hold.
    raise_descriptor_limit(4096);
    // Were idle connections to hold workers, both would stay held for the
    // keep-alive timeout, far past IO_TIMEOUT.
    let server = serve(|b| {
        b.workers(2)
            .keep_alive_timeout(Duration::from_secs(60))
            .handler(big_or_small)
    });
    let mut idle = Vec::with_capacity(1000);

    for i in 0..1000 {
        let mut client = server.client();
        let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(response.status, 200, "connection {i}: {client:?}");
        idle.push(client);
    }
    assert_get_ok(&mut server.client());

    // The idle connections were kept, not dropped: the first one still works.
    assert_get_ok(&mut idle[0]);
}

#[test]
fn a_slowloris_client_does_not_block_others() {
    // The slow head is not cut off by the server while the test runs.
    let server = serve(|b| {
        b.workers(1)
            .header_read_timeout(Duration::from_secs(60))
            .handler(big_or_small)
    });
    let stop = Arc::new(AtomicBool::new(false));
    let (began_tx, began) = mpsc::channel();
    let mut slow = connect(server.addr());
    let trickle = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            slow.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
            began_tx.send(()).unwrap();
            // A byte every 100 ms, never finishing the head, until told to
            // stop (30 s at most). True when told to stop, still sending.
            for _ in 0..300 {
                if stop.load(Ordering::Relaxed) {
                    return true;
                }
                if slow.write_all(b"o").is_err() {
                    return false;
                }
                thread::sleep(Duration::from_millis(100));
            }
            false
        })
    };

    began.recv_timeout(IO_TIMEOUT).unwrap();
    let mut client = server.client();
    for _ in 0..3 {
        assert_get_ok(&mut client);
        // Spread over a few of the slow client's bytes.
        thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);

    assert!(
        trickle.join().unwrap(),
        "the slow client stopped sending before the others were answered"
    );
}

#[test]
fn a_client_that_does_not_read_its_response_does_not_block_others() {
    // An open gate just counts: it tells when the big response is made.
    let started = Gate::new();
    started.open();
    let server = serve(|b| {
        let started = started.clone();
        // A worker blocked on the unread response would stay blocked for the
        // write timeout, far past IO_TIMEOUT.
        b.workers(1)
            .write_timeout(Duration::from_secs(60))
            .handler(move |req| {
                if req.path() == "/big" {
                    started.enter();
                }
                big_or_small(req)
            })
    });
    let mut slow_reader = server.client();
    slow_reader.send(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    started.wait_entered(1);

    // Queued behind the 4 MiB on the only worker, whatever it is doing now.
    assert_get_ok(&mut server.client());

    // The big response was kept, whole, for its reader.
    let big = slow_reader.response();
    assert_eq!(big.status, 200, "{big:?}");
    assert_eq!(big.body.len(), 4 * 1024 * 1024);
    assert!(big.body.iter().all(|&b| b == b'x'));
}

#[test]
fn past_max_connections_a_new_client_waits_until_one_closes() {
    let server = serve(|b| b.max_connections(2).handler(big_or_small));
    let mut first = server.client();
    let mut second = server.client();
    assert_get_ok(&mut first);
    assert_get_ok(&mut second);

    // The kernel completes the handshake, but the server does not serve it yet.
    let mut third = server.client();
    third.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    third.assert_open(Duration::from_millis(500));

    drop(first);
    let response = third.response();

    assert_eq!(response.status, 200, "{third:?}");
}

/// How a client ends its connection in the test below.
#[derive(Clone, Copy)]
enum End {
    /// Reads the server's answer until the server closes.
    Reads,
    /// Closes its side at once, mid-request or before one.
    Leaves,
    /// Sends nothing more and waits until the server gives up on it.
    TimesOut,
}

/// Every way a connection can end frees its slot: with room for only two
/// connections, a leaked slot would soon stop the server from accepting.
#[test]
fn connections_ending_in_every_way_free_their_slot() {
    let server = serve(|b| {
        b.max_connections(2)
            .header_read_timeout(Duration::from_millis(200))
            .max_body_size(16)
            .handler(|req: &Request| {
                assert_ne!(req.path(), "/panic", "handler panics on purpose");
                Response::text("ok")
            })
    });
    let endings: [(&[u8], End); 9] = [
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            End::Reads,
        ),
        (b"GET / HTTP/1.0\r\n\r\n", End::Reads),
        (b"BAD\r\n\r\n", End::Reads),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n",
            End::Reads,
        ),
        (b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n", End::Reads),
        (b"GET / HTTP/1.1\r\nHo", End::Leaves),
        (b"", End::Leaves),
        // A head begun and never finished gets 408; nothing at all, a silent close.
        (b"GET / HTTP/1.1\r\nHo", End::TimesOut),
        (b"", End::TimesOut),
    ];
    for _round in 0..4 {
        for (bytes, end) in endings {
            let mut client = server.client();
            client.send(bytes);
            match end {
                End::Leaves => drop(client),
                End::Reads => {
                    client.read_until_eof();
                }
                End::TimesOut => {
                    let answer = client.read_until_eof();
                    let expected: &[u8] = match bytes {
                        b"" => b"",
                        _ => b"HTTP/1.1 408 ",
                    };
                    assert!(answer.starts_with(expected), "{client:?}");
                    assert_eq!(answer.is_empty(), bytes.is_empty(), "{client:?}");
                }
            }
        }
    }

    assert_get_ok(&mut server.client());
}

/// The slot of a connection the server closes for its silence goes to the
/// next client, which is served without the first doing anything.
#[test]
fn a_connection_closed_by_its_timeout_lets_a_waiting_client_in() {
    let server = serve(|b| {
        b.max_connections(1)
            .header_read_timeout(Duration::from_millis(300))
            .handler(big_or_small)
    });
    let mut silent = server.client();
    // Listeners of several loops do not accept in connection order: the
    // silent connection must hold the slot before the next one arrives.
    server.wait_stats("the silent connection is accepted", |s| {
        support::open_connections(s) == 1
    });
    // Accepted only once the silent connection's slot is free.
    let mut waiting = server.client();

    assert_get_ok(&mut waiting);
    silent.assert_closed();
}

/// A client that never reads its response is disconnected after
/// `write_timeout`: its slot goes to the next client, and it finds its
/// response cut short.
#[test]
fn a_client_that_never_reads_is_disconnected_after_the_write_timeout() {
    // Far more than the kernel buffers on both ends hold for a client that
    // does not read (about 4 MiB on a default Linux), so the write stalls.
    const SIZE: usize = 32 * 1024 * 1024;
    let server = serve(|b| {
        b.max_connections(1)
            .write_timeout(Duration::from_millis(300))
            .handler(|req: &Request| match req.path() {
                "/huge" => Response::bytes(vec![b'x'; SIZE]),
                _ => Response::text("ok"),
            })
    });
    let mut stalled = server.client();
    stalled.send(b"GET /huge HTTP/1.1\r\nHost: x\r\n\r\n");
    // With several loops, accepts need not follow connection order.
    server.wait_stats("the stalled connection is accepted", |s| {
        support::open_connections(s) == 1
    });
    // Accepted only once the stalled connection is closed.
    let mut next = server.client();

    assert_get_ok(&mut next);
    // What the kernels had buffered arrives, then EOF.
    let err = stalled
        .try_response(false)
        .expect_err("the response is cut short");
    assert!(
        err.kind() == io::ErrorKind::UnexpectedEof || support::is_reset(&err),
        "{err}"
    );
}
