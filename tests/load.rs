//! Behaviour under load: a full queue is shed with 503, and idle, slow-sending
//! and slow-reading clients hold no worker, so they never block other clients.

#[allow(dead_code)]
mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use pool_server::{Request, Response};

use support::{connect, serve, Client};

/// `/sleep` takes 500 ms, `/big` is 4 MiB, anything else answers at once.
fn slow_or_big(req: &Request) -> Response {
    match req.path() {
        "/sleep" => {
            thread::sleep(Duration::from_millis(500));
            Response::text("slept")
        }
        "/big" => Response::bytes(vec![b'x'; 4 * 1024 * 1024]),
        _ => Response::text("ok"),
    }
}

/// Sends `GET /` on `client` and returns how long the answer took.
#[track_caller]
fn timed_get(client: &mut Client) -> Duration {
    let started = Instant::now();
    let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let took = started.elapsed();
    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), "ok");
    took
}

#[test]
fn requests_past_the_queue_capacity_get_503_with_retry_after() {
    let server = serve(|b| b.workers(1).queue_capacity(1).handler(slow_or_big));
    let mut clients: Vec<Client> = (0..5).map(|_| server.client()).collect();

    for client in &mut clients {
        client.send(b"GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    let responses: Vec<_> = clients.iter_mut().map(Client::response).collect();

    let shed: Vec<_> = responses.iter().filter(|r| r.status == 503).collect();
    let served: Vec<_> = responses.iter().filter(|r| r.status == 200).collect();
    assert!(!shed.is_empty(), "no 503 among {responses:#?}");
    assert!(!served.is_empty(), "no 200 among {responses:#?}");
    assert_eq!(shed.len() + served.len(), 5, "{responses:#?}");
    for response in shed {
        let retry_after = response.header("retry-after");
        assert!(
            retry_after.is_some_and(|s| s.parse::<u64>().is_ok()),
            "503 without a numeric retry-after: {response:?}"
        );
    }
    for response in served {
        assert_eq!(response.text(), "slept");
    }
}

#[test]
fn a_thousand_idle_keep_alive_connections_do_not_delay_a_new_client() {
    let server = serve(|b| b.workers(2).handler(slow_or_big));
    let started = Instant::now();
    let mut idle = Vec::with_capacity(1000);

    for i in 0..1000 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "only {i} connections served in 10 s"
        );
        let mut client = server.client();
        let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(response.status, 200, "connection {i}: {client:?}");
        idle.push(client);
    }
    let took = timed_get(&mut server.client());

    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    // The idle connections were kept, not dropped: the first one still works.
    assert!(timed_get(&mut idle[0]) < Duration::from_secs(1));
}

#[test]
fn a_slowloris_client_does_not_block_others() {
    let server = serve(|b| b.workers(1).handler(slow_or_big));
    let stop = Arc::new(AtomicBool::new(false));
    let mut slow = connect(server.addr());
    let trickle = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            slow.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
            // A byte every 100 ms, never finishing the head; at most 3 s.
            for _ in 0..30 {
                if stop.load(Ordering::Relaxed) || slow.write_all(b"o").is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            slow
        })
    };

    thread::sleep(Duration::from_millis(250));
    let mut client = server.client();
    let took: Vec<Duration> = (0..3)
        .map(|_| {
            let took = timed_get(&mut client);
            thread::sleep(Duration::from_millis(100));
            took
        })
        .collect();
    stop.store(true, Ordering::Relaxed);
    let _slow: TcpStream = trickle.join().unwrap();

    assert!(
        took.iter().all(|t| *t < Duration::from_millis(500)),
        "answers took {took:?} while a slowloris client was connected"
    );
}

#[test]
fn a_client_that_does_not_read_its_response_does_not_block_others() {
    let server = serve(|b| b.workers(1).handler(slow_or_big));
    let mut slow_reader = server.client();
    slow_reader.send(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    // Let the worker start writing 4 MiB that nobody reads.
    thread::sleep(Duration::from_millis(200));

    let took = timed_get(&mut server.client());

    assert!(
        took < Duration::from_secs(1),
        "answered after {took:?} while a 4 MiB response was unread"
    );
    // The big response was kept, whole, for its reader.
    let big = slow_reader.response();
    assert_eq!(big.status, 200, "{big:?}");
    assert_eq!(big.body.len(), 4 * 1024 * 1024);
    assert!(big.body.iter().all(|&b| b == b'x'));
}

#[test]
fn past_max_connections_a_new_client_waits_until_one_closes() {
    let server = serve(|b| b.max_connections(2).handler(slow_or_big));
    let mut first = server.client();
    let mut second = server.client();
    timed_get(&mut first);
    timed_get(&mut second);

    // The kernel completes the handshake, but the server does not serve it yet.
    let mut third = server.client();
    third.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    third.assert_open(Duration::from_millis(500));

    drop(first);
    let started = Instant::now();
    let response = third.response();
    let took = started.elapsed();

    assert_eq!(response.status, 200, "{third:?}");
    assert!(
        took < Duration::from_secs(2),
        "served {took:?} after a slot freed"
    );
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
    let endings: [&[u8]; 7] = [
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"BAD\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n",
        b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHo",
        b"",
    ];
    let deadline = Instant::now() + Duration::from_secs(20);
    for round in 0..4 {
        for ending in endings {
            assert!(Instant::now() < deadline, "round {round} took too long");
            let mut client = server.client();
            client.send(ending);
            if ending.is_empty() || !ending.ends_with(b"\r\n\r\n") {
                // Abandoned mid-request or before it: the client just leaves.
                drop(client);
            } else {
                client.read_until_eof();
            }
        }
    }

    let mut client = server.client();
    let took = timed_get(&mut client);
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
}
