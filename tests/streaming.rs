//! Response bodies that are not in memory: readers sent a window
//! at a time, files, and streams fed from other threads. A slow reader of a
//! large body holds no worker; a broken source (a failing reader, a stream
//! whose producer panics or aborts) never looks complete, compressed or
//! not, chunked or framed by the close.

#[allow(dead_code)]
mod support;

use std::io::{self, Read, Write};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use pool_server::compression::Compression;
use pool_server::{stream, Request, Response};

use support::{is_reset, serve, IO_TIMEOUT};

/// `len` bytes of a repeating pattern, so a lost or repeated window shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A reader of the pattern that fails with an error after `fail_at` bytes.
struct Failing {
    pos: usize,
    fail_at: usize,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.fail_at {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.fail_at - self.pos).min(1000);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = ((self.pos + i) % 251) as u8;
        }
        self.pos += n;
        Ok(n)
    }
}

fn streaming_server() -> support::Serve {
    serve(|b| {
        b.handler(|req| match req.path() {
            "/stream" => Response::stream(io::Cursor::new(pattern(1_000_000))),
            "/sized" => Response::stream(io::Cursor::new(pattern(300_000))).with_len(300_000),
            "/short" => Response::stream(io::Cursor::new(pattern(1000))).with_len(5000),
            "/long" => Response::stream(io::Cursor::new(pattern(5000))).with_len(1000),
            "/failing" => Response::stream(Failing {
                pos: 0,
                fail_at: 200_000,
            }),
            "/panic" | "/abort" => broken_stream(req),
            _ => Response::text("small"),
        })
    })
}

/// A stream whose producer sends 5,000 bytes, then gives up: it panics
/// (`/panic`) or aborts the stream (`/abort`).
fn broken_stream(req: &Request) -> Response {
    let (sender, body) = stream::channel(64 * 1024);
    let panics = req.path() == "/panic";
    thread::spawn(move || {
        sender.send(pattern(5000)).unwrap();
        if panics {
            panic!("a stream's producer panics on purpose");
        }
        sender.abort();
    });
    Response::from_stream(body).with_header("content-type", "text/plain")
}

/// Splits what a client received into the head and the chunked body's
/// data, and says whether the body was complete (its last chunk came).
fn dechunk(received: &[u8]) -> (String, Vec<u8>, bool) {
    let end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole head")
        + 4;
    let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
    let mut rest = &received[end..];
    let mut data = Vec::new();
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..line_end]).unwrap();
        let size = usize::from_str_radix(size, 16).expect("a chunk size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return (head, data, rest == b"\r\n");
        }
        let take = size.min(rest.len());
        data.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        rest = rest.strip_prefix(b"\r\n").unwrap_or(&[]);
    }
    (head, data, false)
}

/// Sends `request` on a new connection and reads until the server ends
/// it, or until what came ends with a last chunk (`0\r\n\r\n`), so a
/// body that looks complete fails a test at once, not at the read timeout.
/// Returns what came and how reading ended: `Ok` at a clean EOF or the
/// last chunk, the error that ended the connection otherwise.
fn read_until_end(server: &support::Serve, request: &str) -> (Vec<u8>, io::Result<()>) {
    let stream = support::connect(server.addr());
    (&stream).write_all(request.as_bytes()).unwrap();
    let mut all = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if all.ends_with(b"0\r\n\r\n") {
            return (all, Ok(()));
        }
        match (&stream).read(&mut buf) {
            Ok(0) => return (all, Ok(())),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return (all, Err(err)),
        }
    }
}

#[test]
fn a_stream_of_unknown_length_is_chunked_and_keeps_the_connection() {
    let server = streaming_server();
    let mut client = server.client();
    let response = client.request(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.header("content-length"), None);
    assert!(
        response.body == pattern(1_000_000),
        "the body arrives intact"
    );
    let next = client.request(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(next.text(), "small");
}

#[test]
fn an_http10_client_gets_the_stream_until_the_connection_closes() {
    let server = streaming_server();
    let mut client = server.client();
    client.send(b"GET /stream HTTP/1.0\r\n\r\n");
    let response = client.response();
    assert_eq!(response.header("transfer-encoding"), None);
    assert!(response.connection_has("close"), "{response:?}");
    assert!(response.body == pattern(1_000_000));
}

#[test]
fn a_declared_length_is_sent_as_content_length() {
    let server = streaming_server();
    let mut client = server.client();
    let response = client.request(b"GET /sized HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.header("content-length"), Some("300000"));
    assert!(response.body == pattern(300_000));
    // HEAD: the same length, no body, and the connection goes on.
    client.send(b"HEAD /sized HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = client.head_response();
    assert_eq!(head.header("content-length"), Some("300000"));
    assert_eq!(
        client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").text(),
        "small"
    );
}

#[test]
fn a_reader_shorter_than_its_length_ends_the_connection_early() {
    let server = streaming_server();
    let mut client = server.client();
    client.send(b"GET /short HTTP/1.1\r\nHost: x\r\n\r\n");
    let rest = client.read_until_eof();
    let text = String::from_utf8_lossy(&rest);
    assert!(text.contains("content-length: 5000"), "{text}");
    let body = &rest[rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    assert_eq!(
        body,
        &pattern(1000)[..],
        "the 1000 bytes there were, then EOF"
    );
}

#[test]
fn a_reader_longer_than_its_length_is_cut_and_the_connection_closed() {
    let server = streaming_server();
    let mut client = server.client();
    let response = client.request(b"GET /long HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.body, pattern(1000));
    client.assert_closed();
}

#[test]
fn a_failing_reader_ends_the_connection_without_the_last_chunk() {
    let server = streaming_server();
    let mut client = server.client();
    client.send(b"GET /failing HTTP/1.1\r\nHost: x\r\n\r\n");
    let all = client.read_until_eof();
    assert!(
        !all.ends_with(b"0\r\n\r\n"),
        "a truncated body must not look complete"
    );
    assert!(
        all.len() > 100_000,
        "what was read before the error was sent"
    );
}

/// A producer that panics, or aborts, after 5,000 bytes: those bytes
/// arrive, then the connection closes without the last chunk.
#[test]
fn a_stream_whose_producer_panics_or_aborts_ends_without_the_last_chunk() {
    let server = streaming_server();
    for path in ["/panic", "/abort"] {
        let (all, end) =
            read_until_end(&server, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
        let (head, data, complete) = dechunk(&all);
        assert!(
            head.contains("transfer-encoding: chunked"),
            "{path}: {head}"
        );
        assert!(!complete, "{path}: the body must not look complete");
        assert!(data == pattern(5000), "{path}: what was sent before");
        // Chunked framing says the body is cut: a FIN is enough.
        end.unwrap_or_else(|err| panic!("{path}: expected EOF, got {err}"));
    }
}

/// Compressed, the cut body must not decode as a whole either: the
/// compressor's last bytes (gzip's trailer) are not sent.
#[test]
fn a_compressed_stream_whose_producer_panics_does_not_decode_as_complete() {
    let server = serve(|b| b.wrap(Compression::new()).handler(broken_stream));
    for path in ["/panic", "/abort"] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
        let (all, _) = read_until_end(&server, &request);
        let (head, data, complete) = dechunk(&all);
        assert!(head.contains("content-encoding: gzip"), "{path}: {head}");
        assert!(!complete, "{path}: the body must not look complete");
        let mut plain = Vec::new();
        let err = flate2::read::GzDecoder::new(&data[..])
            .read_to_end(&mut plain)
            .expect_err("a truncated gzip stream");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{path}: {err}");
    }
}

/// An HTTP/1.0 body is framed by the close, so a FIN would say it is
/// complete: a body that breaks off ends with a reset instead.
#[test]
fn an_http10_body_that_breaks_off_ends_with_a_reset() {
    let server = streaming_server();
    for path in ["/failing", "/abort"] {
        let (all, end) = read_until_end(&server, &format!("GET {path} HTTP/1.0\r\n\r\n"));
        let text = String::from_utf8_lossy(&all[..all.len().min(200)]).into_owned();
        assert!(text.starts_with("HTTP/1.1 200"), "{path}: {text}");
        match end {
            Err(err) if is_reset(&err) => {}
            Err(err) => panic!("{path}: expected a reset, got {err}"),
            Ok(()) => panic!(
                "{path}: a clean EOF after {} bytes: the client takes the body for complete",
                all.len()
            ),
        }
    }
}

/// The promise of the issue: with one worker, a client that reads a large
/// stream slowly holds no worker, so another client is answered meanwhile.
#[test]
fn a_slow_reader_of_a_large_stream_holds_no_worker() {
    let server = serve(|b| {
        b.workers(1).handler(|req| match req.path() {
            "/big" => Response::stream(io::repeat(b'x').take(256 * 1024 * 1024)),
            _ => Response::text("quick"),
        })
    });
    let slow = support::connect(server.addr());
    (&slow)
        .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 4096];
    let n = (&slow).read(&mut first).unwrap();
    assert!(
        n > 0 && first.starts_with(b"HTTP/1.1 200"),
        "the stream has begun"
    );

    // The slow client reads nothing more; its socket buffers fill.
    for _ in 0..5 {
        let mut other = server.client();
        let response = other.request(b"GET /quick HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(response.text(), "quick");
    }

    // And it can still read on, a little at a time.
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < 4 * 1024 * 1024 {
        got += (&slow).read(&mut buf).unwrap();
    }
}

#[test]
fn a_file_body_arrives_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    let data = pattern(3 * 1024 * 1024 + 17);
    std::fs::write(&path, &data).unwrap();
    let server = serve(move |b| {
        b.handler(move |_| Response::file(std::fs::File::open(&path).unwrap()).unwrap())
    });
    let mut client = server.client();
    for _ in 0..2 {
        let response = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(response.header("content-length"), Some("3145745"));
        assert!(response.header("last-modified").is_some());
        assert!(response.body == data);
    }
}

/// A stream fed from another thread: chunks arrive as they are sent, and
/// dropping the sender ends the body.
#[test]
fn a_stream_fed_from_another_thread_arrives_and_ends() {
    let (tx, rx) = mpsc::channel::<stream::Sender>();
    let tx = Mutex::new(tx);
    let server = serve(move |b| {
        b.handler(move |_| {
            let (sender, body) = stream::channel(1024);
            tx.lock().unwrap().send(sender).unwrap();
            Response::from_stream(body).with_header("content-type", "text/plain")
        })
    });
    let mut client = server.client();
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let sender = rx.recv_timeout(IO_TIMEOUT).unwrap();
    for word in ["one ", "two ", "three"] {
        sender.send(word).unwrap();
    }
    drop(sender);
    let response = client.response();
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.text(), "one two three");
    // The connection goes on to the next request, and its own stream; the
    // sender is dropped at the end of the statement, ending that body.
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    rx.recv_timeout(IO_TIMEOUT).unwrap().send("again").unwrap();
    assert_eq!(client.response().text(), "again");
}

/// A client that goes away makes the producer's sends fail, and one that
/// stops reading is disconnected once its queue is full.
#[test]
fn sends_fail_once_the_client_is_gone_or_behind() {
    let (tx, rx) = mpsc::channel::<stream::Sender>();
    let tx = Mutex::new(tx);
    let server = serve(move |b| {
        b.handler(move |_| {
            let (sender, body) = stream::channel(64 * 1024);
            tx.lock().unwrap().send(sender).unwrap();
            Response::from_stream(body)
        })
    });

    let mut gone = server.client();
    gone.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let sender = rx.recv_timeout(IO_TIMEOUT).unwrap();
    sender.send("hello").unwrap();
    drop(gone);
    let deadline = Instant::now() + IO_TIMEOUT;
    while sender.send("more").is_ok() {
        assert!(
            Instant::now() < deadline,
            "sends go on after the client left"
        );
        thread::sleep(Duration::from_millis(10));
    }

    let behind = server.client();
    behind
        .stream()
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let sender = rx.recv_timeout(IO_TIMEOUT).unwrap();
    let chunk = vec![b'z'; 16 * 1024];
    let mut sent = 0usize;
    let deadline = Instant::now() + IO_TIMEOUT;
    while sender.send(chunk.clone()).is_ok() {
        sent += chunk.len();
        assert!(
            Instant::now() < deadline,
            "{sent} bytes queued for a client that reads nothing"
        );
        if sent.is_multiple_of(1024 * 1024) {
            thread::sleep(Duration::from_millis(1));
        }
    }
    // The socket buffers took some; the queue itself held at most 64 KiB.
    assert!(sender.is_closed());
}

#[test]
fn a_quiet_stream_gets_its_heartbeat() {
    let senders = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&senders);
    let server = serve(move |b| {
        b.handler(move |_| {
            let (sender, body) = stream::channel(1024);
            keep.lock().unwrap().push(sender);
            Response::from_stream(body.heartbeat(Duration::from_millis(100), ": ping\n"))
        })
    });
    let mut client = server.client();
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let stream = client.stream();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while seen.windows(6).filter(|w| w == b": ping").count() < 2 {
        let n = (&*stream)
            .read(&mut buf)
            .expect("heartbeats arrive before the read timeout");
        assert!(n > 0, "the stream stays open");
        seen.extend_from_slice(&buf[..n]);
    }
    drop(senders);
}

/// A file the client stops reading is not sent forever: once the socket
/// has taken nothing for `write_timeout`, the connection closes and frees
/// its slot (here the only one).
#[test]
fn a_file_whose_client_stops_reading_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    std::fs::write(&path, vec![1u8; 64 * 1024 * 1024]).unwrap();
    let server = serve(move |b| {
        b.max_connections(1)
            .write_timeout(Duration::from_millis(300))
            .handler(move |req| match req.path() {
                "/big" => Response::file(std::fs::File::open(&path).unwrap()).unwrap(),
                _ => Response::text("next"),
            })
    });
    let stalled = support::connect(server.addr());
    (&stalled)
        .write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Served only once the stalled connection is closed.
    let mut next = server.client();
    let response = next.request(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.text(), "next");
    drop(stalled);
}
