//! Response hygiene: a handler's mistakes never reach the wire
//! as they are. Each case is checked on a raw keep-alive connection, and
//! then the NEXT response on that connection is read and checked too, so a
//! dropped body or a wrong length cannot hide in the bytes after it. Each
//! mistake is logged once per response. In its own test binary: the logger
//! is process-wide.

#[allow(dead_code)]
mod support;

use std::io::Cursor;
use std::sync::{Mutex, Once};

use pool_server::{stream, Response, StatusCode};

use support::{serve, Client, RawResponse, Serve};

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        meta.level() <= log::Level::Warn && meta.target().starts_with("pool_server")
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            LINES.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Warn);
    });
}

/// The captured lines that contain `needle`.
fn logged(needle: &str) -> Vec<String> {
    let lines = LINES.lock().unwrap();
    lines
        .iter()
        .filter(|l| l.contains(needle))
        .cloned()
        .collect()
}

/// One mistake per path; `/next` is the well-behaved response after it.
fn app(req: &pool_server::Request) -> Response {
    let reader = |bytes: &'static [u8]| Response::stream(Cursor::new(bytes));
    match req.path() {
        "/next" => Response::text("next"),
        "/204-full" => Response::text("gone").with_status(StatusCode::NO_CONTENT),
        "/204-length" => Response::status_only(StatusCode::NO_CONTENT)
            .with_header("content-length", "4")
            .with_header("transfer-encoding", "chunked"),
        "/304-full" => Response::text("stale").with_status(StatusCode::NOT_MODIFIED),
        "/204-reader" => reader(b"gone").with_status(StatusCode::NO_CONTENT),
        "/205-full" => Response::text("reset").with_status(StatusCode::RESET_CONTENT),
        "/205-reader" => reader(b"reset").with_status(StatusCode::RESET_CONTENT),
        "/length-above" => Response::text("hello").with_header("content-length", "99"),
        "/length-below" => Response::text("hello").with_header("content-length", "2"),
        "/length-junk" => Response::text("hello").with_header("content-length", "5, 5"),
        "/length-twice" => Response::text("hello")
            .with_header("content-length", "5")
            .append_header("content-length", "6"),
        "/te-chunked" => Response::text("abc").with_header("transfer-encoding", "chunked"),
        "/connection-upgrade" => Response::text("abc").with_header("connection", "upgrade"),
        "/connection-close" => Response::text("abc").with_header("connection", "Close"),
        "/reader-close" => reader(b"abc").with_header("connection", "close"),
        "/te-gzip" => reader(b"abc").with_header("transfer-encoding", "gzip, chunked"),
        "/interim" => Response::text("early").with_status(StatusCode::EARLY_HINTS),
        "/switching" => Response::text("ws").with_status(StatusCode::SWITCHING_PROTOCOLS),
        "/not-http" => Response::text("x").with_status(StatusCode::from_u16(600).unwrap()),
        "/reader-length" => reader(b"abc").with_header("content-length", "3"),
        "/reader-short" => reader(b"abc").with_header("content-length", "10"),
        "/reader-long" => reader(b"abcdefgh").with_header("content-length", "3"),
        "/with-len-length" => reader(b"abc")
            .with_len(3)
            .with_header("content-length", "7"),
        "/stream-length" => {
            let (sender, body) = stream::channel(1024);
            sender.send("abc").unwrap();
            drop(sender);
            Response::from_stream(body).with_header("content-length", "10")
        }
        "/crlf" => Response::text("x").with_header("x-injected", "a\r\nset-cookie: evil=1"),
        "/nul" => Response::text("x").with_header("x-nul", "a\0b"),
        "/bad-name" => Response::text("x").with_header("x bad:name", "v"),
        other => Response::text(format!("unexpected {other}")).with_status(StatusCode::NOT_FOUND),
    }
}

fn server() -> Serve {
    capture_logs();
    serve(|b| b.handler(app))
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

/// Framing fields of a response as received.
fn framing(res: &RawResponse) -> (Vec<&str>, Vec<&str>) {
    (
        res.header_all("content-length"),
        res.header_all("transfer-encoding"),
    )
}

/// Reads the `/next` response on `client`'s connection and checks that it
/// is exactly what it should be: nothing of the previous body is in front
/// of it, and it is framed right.
fn next_is_clean(client: &mut Client) {
    let next = client.request(&get("/next"));
    assert_eq!(next.status, 200, "{client:?}");
    assert_eq!(framing(&next), (vec!["4"], vec![]), "{client:?}");
    assert_eq!(next.body, b"next", "{client:?}");
}

/// `path` was corrected and said so in one log line.
fn logged_once(path: &str) {
    let lines = logged(&format!(" {path} was corrected"));
    assert_eq!(lines.len(), 1, "{path}: {lines:?}");
}

#[test]
fn bodies_on_204_and_304_are_dropped_with_their_framing() {
    let server = server();
    let mut client = server.client();
    for path in ["/204-full", "/204-length", "/304-full", "/204-reader"] {
        let res = client.request(&get(path));
        let status = if path.starts_with("/304") { 304 } else { 204 };
        assert_eq!(res.status, status, "{client:?}");
        assert_eq!(framing(&res), (vec![], vec![]), "{path}: {client:?}");
        assert!(!res.connection_has("close"), "{client:?}");
        // The body would show up as garbage in front of the next response.
        next_is_clean(&mut client);
        logged_once(path);
    }
    let line = &logged(" /204-length was corrected")[0];
    assert!(
        line.contains("Transfer-Encoding") && line.contains("Content-Length 4"),
        "{line}"
    );
}

/// RFC 9110 §15.3.6: no content in a 205; unlike a 204 it needs a length to
/// say so (RFC 9112 §6.3), or an HTTP/1.1 client would read to the close.
#[test]
fn bodies_on_205_are_dropped_and_a_zero_length_sent() {
    let server = server();
    let mut client = server.client();
    for path in ["/205-full", "/205-reader"] {
        let res = client.request(&get(path));
        assert_eq!(res.status, 205, "{client:?}");
        assert_eq!(framing(&res), (vec!["0"], vec![]), "{path}: {client:?}");
        assert!(res.body.is_empty(), "{path}: {client:?}");
        next_is_clean(&mut client);
        logged_once(path);
    }
}

#[test]
fn a_handlers_length_that_disagrees_with_a_body_in_memory_loses() {
    let server = server();
    let mut client = server.client();
    for path in [
        "/length-above",
        "/length-below",
        "/length-junk",
        "/length-twice",
    ] {
        let res = client.request(&get(path));
        assert_eq!(res.status, 200, "{client:?}");
        assert_eq!(framing(&res), (vec!["5"], vec![]), "{path}: {client:?}");
        assert_eq!(res.body, b"hello", "{client:?}");
        next_is_clean(&mut client);
        logged_once(path);
    }
    // HEAD gets the same length, and no body.
    client.send(b"HEAD /length-above HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = client.head_response();
    assert_eq!(framing(&head), (vec!["5"], vec![]), "{client:?}");
    next_is_clean(&mut client);
}

#[test]
fn transfer_encoding_is_the_servers() {
    let server = server();
    let mut client = server.client();
    let res = client.request(&get("/te-chunked"));
    assert_eq!(framing(&res), (vec!["3"], vec![]), "{client:?}");
    assert_eq!(res.body, b"abc");
    next_is_clean(&mut client);
    logged_once("/te-chunked");

    let res = client.request(&get("/te-gzip"));
    assert_eq!(framing(&res), (vec![], vec!["chunked"]), "{client:?}");
    assert_eq!(res.body, b"abc");
    next_is_clean(&mut client);
    logged_once("/te-gzip");
}

/// A handler's `Connection: close` ends the connection, without a log; any
/// other option is dropped and logged, and the connection stays usable.
#[test]
fn a_handlers_connection_header_is_the_servers_but_close_is_honoured() {
    let server = server();
    let mut client = server.client();
    let res = client.request(&get("/connection-upgrade"));
    assert!(res.header("connection").is_none(), "{client:?}");
    next_is_clean(&mut client);
    logged_once("/connection-upgrade");
    let line = &logged(" /connection-upgrade was corrected")[0];
    assert!(line.contains("dropped Connection"), "{line}");

    let res = client.request(&get("/connection-close"));
    assert!(res.connection_has("close"), "{client:?}");
    client.assert_closed();
    assert!(logged(" /connection-close was corrected").is_empty());

    // A body sent as it is read (framed chunked) asks the same, and is
    // still sent whole before the connection ends.
    let mut client = server.client();
    let res = client.request(&get("/reader-close"));
    assert!(res.connection_has("close"), "{client:?}");
    assert_eq!(res.body, b"abc", "{client:?}");
    client.assert_closed();
}

#[test]
fn interim_and_non_http_statuses_become_500() {
    let server = server();
    let mut client = server.client();
    for path in ["/interim", "/switching", "/not-http"] {
        let res = client.request(&get(path));
        assert_eq!(res.status, 500, "{client:?}");
        assert_eq!(framing(&res), (vec!["0"], vec![]), "{client:?}");
        next_is_clean(&mut client);
        let lines = logged(&format!(" {path} returned"));
        assert_eq!(lines.len(), 1, "{path}: {lines:?}");
    }
}

#[test]
fn a_readers_declared_length_frames_it_and_a_wrong_one_ends_the_connection() {
    let server = server();
    let mut client = server.client();
    // Right: sent with that length, and the connection goes on.
    let res = client.request(&get("/reader-length"));
    assert_eq!(framing(&res), (vec!["3"], vec![]), "{client:?}");
    assert_eq!(res.body, b"abc");
    next_is_clean(&mut client);
    assert!(logged(" /reader-length").is_empty());

    // Known already (`with_len`): that length wins.
    let res = client.request(&get("/with-len-length"));
    assert_eq!(framing(&res), (vec!["3"], vec![]), "{client:?}");
    assert_eq!(res.body, b"abc");
    next_is_clean(&mut client);
    logged_once("/with-len-length");

    // Too long for the reader: what came, then the connection ends, so the
    // client sees a truncated body, never a complete-looking one; the
    // request behind it is not answered on this connection.
    let mut client = server.client();
    client.send(&[get("/reader-short"), get("/next")].concat());
    let head = client.head_response();
    assert_eq!(framing(&head), (vec!["10"], vec![]), "{client:?}");
    assert_eq!(client.read_until_eof(), b"abc", "{client:?}");
    let lines = logged("7 bytes short");
    assert_eq!(lines.len(), 1, "{lines:?}");

    // Too short: the declared bytes, then the connection ends, so the rest
    // is never taken for a next response.
    let mut client = server.client();
    client.send(&[get("/reader-long"), get("/next")].concat());
    let res = client.response();
    assert_eq!(framing(&res), (vec!["3"], vec![]), "{client:?}");
    assert_eq!(res.body, b"abc");
    client.assert_closed();
    let lines = logged("longer than its declared length");
    assert_eq!(lines.len(), 1, "{lines:?}");

    let mut client = server.client();
    next_is_clean(&mut client);
}

#[test]
fn a_streams_length_is_not_taken() {
    let server = server();
    let mut client = server.client();
    let res = client.request(&get("/stream-length"));
    assert_eq!(framing(&res), (vec![], vec!["chunked"]), "{client:?}");
    assert_eq!(res.body, b"abc");
    next_is_clean(&mut client);
    logged_once("/stream-length");
}

/// `HeaderValue` refuses CR, LF and NUL (and `HeaderName` any non-token)
/// when a handler builds one; `with_header` turns that into a 500. The
/// encoder's own check, for values made by `unsafe` code, is a unit test
/// in the crate: this workspace forbids `unsafe`.
#[test]
fn header_injection_is_refused() {
    let server = server();
    let mut client = server.client();
    for path in ["/crlf", "/nul", "/bad-name"] {
        let res = client.request(&get(path));
        assert_eq!(res.status, 500, "{client:?}");
        assert!(res.header("set-cookie").is_none(), "{client:?}");
        assert!(res.header("x-injected").is_none() && res.header("x-nul").is_none());
        next_is_clean(&mut client);
    }
    let lines = logged("a handler set an invalid header");
    assert_eq!(lines.len(), 3, "{lines:?}");
}
