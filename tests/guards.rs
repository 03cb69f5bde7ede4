//! Deciding at the head: guards refuse a request before its body is read
//! (no `100 Continue`, nothing spooled), body limits per route and scope
//! answer 413 from the head, and a body no route takes is not read.

#[allow(dead_code)]
mod support;

use std::io::{Read, Write};
use std::thread;

use pool_server::routing::Scope;
use pool_server::test::TestClient;
use pool_server::{route, routes, Extension, Next, Request, Routes, Server, StatusCode};

use support::{open_connections, open_in, serve, wait_stats, Client, Serve};

#[derive(Clone)]
struct UserId(u64);

#[route("POST /upload")]
fn upload(Extension(UserId(user)): Extension<UserId>, req: &Request) -> String {
    format!(
        "{} bytes from user {user} via {}",
        req.body_len(),
        req.matched_path().unwrap_or("-")
    )
}

#[route("GET /whoami")]
fn whoami(Extension(UserId(user)): Extension<UserId>) -> String {
    format!("user {user}")
}

#[route("POST /notes")]
fn note(req: &Request) -> String {
    format!("note of {} bytes", req.body_len())
}

/// The key check of the service: a user id for the handler, or 401. It
/// records the route it saw, which is known before the body.
fn api_key(req: &mut Request) -> Result<(), (StatusCode, &'static str)> {
    match req.header("x-api-key") {
        Some("secret") => {
            assert_eq!(req.body_len(), 0, "a guard runs before the body");
            req.extensions_mut().insert(UserId(7));
            Ok(())
        }
        _ => Err((StatusCode::UNAUTHORIZED, "an API key, please")),
    }
}

fn api(spool: &std::path::Path) -> Serve {
    let spool = spool.to_owned();
    serve(move |b| {
        b.temp_dir(spool)
            .body_buffer_size(64 * 1024)
            .wrap(|req: &mut Request, next: Next<'_>| next.run(req).with_header("x-seen", "yes"))
            .scope(
                Scope::new("/api")
                    .guard(api_key)
                    .routes(routes![upload, whoami].max_body_size(200 << 20)),
            )
            .routes(routes![note])
    })
}

const HUNDRED_MB: usize = 100 << 20;

#[test]
fn a_refused_upload_gets_no_100_and_is_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = api(dir.path());
    let mut client = server.client();
    let head = format!(
        "POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {HUNDRED_MB}\r\nExpect: 100-continue\r\n\r\n"
    );
    let response = client.request(head.as_bytes());
    // The first thing back is the refusal, not `100 Continue`.
    assert_eq!(response.status, 401, "{response:?}");
    assert_eq!(response.text(), "an API key, please");
    assert_eq!(response.header("x-seen"), Some("yes"), "middleware sees it");
    assert!(response.connection_has("close"), "{response:?}");
    assert_eq!(open_in(dir.path()), 0, "nothing is spooled");
    drop(client);
    wait_stats(
        || server.stats(),
        "the connection closes",
        |s| open_connections(s) == 0,
    );
    let read = server.stats().bytes_read;
    assert!(read < 1 << 20, "the server read {read} bytes");
}

/// A client that sends its body without waiting: the server answers 401
/// from the head and reads no more than a bounded discard of it.
#[test]
fn a_body_sent_anyway_to_a_refused_route_is_read_only_within_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let server = api(dir.path());
    let stream = support::connect(server.addr());
    let mut writer = stream.try_clone().unwrap();
    let head =
        format!("POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {HUNDRED_MB}\r\n\r\n");
    let sender = thread::spawn(move || {
        writer.write_all(head.as_bytes()).unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        // Stops at the first failed write: the server closed the connection.
        while sent < HUNDRED_MB && writer.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
        sent
    });
    let mut client = Client::new(stream);
    let response = client.response();
    assert_eq!(response.status, 401, "{response:?}");
    let sent = sender.join().unwrap();
    assert!(sent < HUNDRED_MB, "the server read the whole body");
    wait_stats(
        || server.stats(),
        "the connection closes",
        |s| open_connections(s) == 0,
    );
    let read = server.stats().bytes_read;
    assert!(
        read < 1 << 20,
        "the server read {read} bytes of {sent} sent"
    );
    assert_eq!(open_in(dir.path()), 0, "nothing is spooled");
}

#[test]
fn a_passed_guard_sends_100_then_reads_the_body_for_the_handler() {
    let dir = tempfile::tempdir().unwrap();
    let server = api(dir.path());
    let mut client = server.client();
    let body = vec![b'y'; 3 << 20];
    let head = format!(
        "POST /api/upload HTTP/1.1\r\nHost: x\r\nX-API-Key: secret\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    client.send(head.as_bytes());
    let interim = client.response();
    assert_eq!(interim.status, 100, "{interim:?}");
    client.send(&body);
    let response = client.response();
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.text(),
        "3145728 bytes from user 7 via /api/upload",
        "the guard's value and the route reach the handler"
    );
    // Body-less requests are guarded too, and stay on the connection.
    let refused = client.request(b"GET /api/whoami HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(refused.status, 401);
    assert!(!refused.connection_has("close"), "{refused:?}");
    let allowed =
        client.request(b"GET /api/whoami HTTP/1.1\r\nHost: x\r\nX-API-Key: secret\r\n\r\n");
    assert_eq!(allowed.text(), "user 7");
}

#[route("POST /small")]
fn small(req: &Request) -> String {
    format!("small {}", req.body_len())
}

#[route("POST /big")]
fn big(req: &Request) -> String {
    format!("big {}", req.body_len())
}

#[route("POST /plain")]
fn plain(req: &Request) -> String {
    format!("plain {}", req.body_len())
}

/// Server 1 MiB; a scope at 1 KiB; a table in it at 16 KiB; a JSON-ish
/// route at 64 KiB beside an upload route at 256 MiB.
fn limited() -> pool_server::Builder {
    Server::builder()
        .max_body_size(1 << 20)
        .routes(routes![note].max_body_size(64 * 1024))
        .routes(routes![plain])
        .scope(
            Scope::new("/s")
                .max_body_size(1024)
                .routes(routes![small])
                .routes(routes![big].max_body_size(16 * 1024)),
        )
        .scope(
            Scope::new("/u").routes(
                Routes::new()
                    .merge(routes![upload])
                    .max_body_size(256 << 20),
            ),
        )
}

fn post_status(server: &Serve, path: &str, len: usize) -> (u16, String) {
    let mut client = server.client();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\nExpect: 100-continue\r\n\r\n"
    );
    client.send(head.as_bytes());
    let first = client.response();
    if first.status != 100 {
        return (first.status, first.text());
    }
    client.send(&vec![b'z'; len]);
    let response = client.response();
    (response.status, response.text())
}

#[test]
fn body_limits_follow_the_most_specific_setting_and_answer_413_at_the_head() {
    let server = serve(|_| limited().bind("127.0.0.1:0").workers(2));
    let cases = [
        ("/notes", 64 * 1024, 200),
        ("/notes", 64 * 1024 + 1, 413),
        ("/plain", 1 << 20, 200),
        ("/plain", (1 << 20) + 1, 413),
        ("/s/small", 1024, 200),
        ("/s/small", 1025, 413),
        ("/s/big", 16 * 1024, 200),
        ("/s/big", 16 * 1024 + 1, 413),
    ];
    for (path, len, want) in cases {
        let (status, text) = post_status(&server, path, len);
        assert_eq!(status, want, "POST {path} of {len} bytes: {text}");
    }
}

/// Far over the server's limit on the route that allows it (spooled to
/// disk), refused on the one that does not.
#[test]
fn an_upload_route_takes_what_the_json_route_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().to_owned();
    let server = serve(move |_| {
        limited()
            .bind("127.0.0.1:0")
            .workers(2)
            .temp_dir(spool)
            .guard(|req: &mut Request| {
                req.extensions_mut().insert(UserId(1));
                Ok::<(), StatusCode>(())
            })
    });
    let (status, text) = post_status(&server, "/u/upload", 64 << 20);
    assert_eq!(
        (status, text.as_str()),
        (200, "67108864 bytes from user 1 via /u/upload")
    );
    let (status, _) = post_status(&server, "/notes", 64 << 20);
    assert_eq!(status, 413);
}

#[test]
fn a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() {
    let server = serve(|_| limited().bind("127.0.0.1:0").workers(2));
    let mut client = server.client();
    client.send(b"POST /s/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    // 2 KiB announced in one chunk: over the scope's 1 KiB before its data.
    client.send(b"800\r\n");
    let response = client.response();
    assert_eq!(response.status, 413, "{response:?}");
}

/// A body to a path no route has, or with a method the path does not
/// take, is answered without being read; the connection then closes.
#[test]
fn a_body_no_route_takes_is_not_read() {
    let server = serve(|b| b.routes(routes![note]));
    for (request, want) in [
        ("POST /nowhere", 404),
        ("PUT /notes", 405),
        ("OPTIONS /notes", 204),
    ] {
        let mut client = server.client();
        let head = format!(
            "{request} HTTP/1.1\r\nHost: x\r\nContent-Length: {HUNDRED_MB}\r\nExpect: 100-continue\r\n\r\n"
        );
        let response = client.request(head.as_bytes());
        assert_eq!(response.status, want, "{request}: {response:?}");
        assert!(response.connection_has("close"), "{response:?}");
        // The server closes after a bounded discard; it never sent 100.
        let mut rest = Vec::new();
        let _ = client_stream(client).read_to_end(&mut rest);
        assert!(!String::from_utf8_lossy(&rest).contains("100 Continue"));
    }
    wait_stats(
        || server.stats(),
        "the connections close",
        |s| open_connections(s) == 0,
    );
    assert!(server.stats().bytes_read < 1 << 20);
}

fn client_stream(client: Client) -> std::net::TcpStream {
    client.stream().try_clone().unwrap()
}

#[test]
fn test_client_applies_limits_and_guards_as_the_wire_does() {
    let app = limited().guard(|req: &mut Request| match req.header("x-api-key") {
        Some(_) => {
            req.extensions_mut().insert(UserId(3));
            Ok(())
        }
        None => Err(StatusCode::FORBIDDEN),
    });
    let client = TestClient::new(app).unwrap();
    let refused = client.post("/u/upload").body(vec![0; 10]).send();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let taken = client
        .post("/u/upload")
        .header("x-api-key", "k")
        .body(vec![0; 10])
        .send();
    assert_eq!(taken.text(), "10 bytes from user 3 via /u/upload");
    let too_big = client
        .post("/notes")
        .header("x-api-key", "k")
        .body(vec![0; 64 * 1024 + 1])
        .send();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// A scope's guard covers its whole prefix: an unknown path or another
/// method there is refused as a known one is, and learned only with a key.
#[test]
fn a_scope_guard_covers_the_router_s_own_answers_under_its_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let server = api(dir.path());
    let mut client = server.client();
    for (request, with_key) in [
        ("GET /api/nowhere", 404),
        ("DELETE /api/whoami", 405),
        ("GET /api/whoami", 200),
    ] {
        let head = format!("{request} HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(client.request(head.as_bytes()).status, 401, "{request}");
        let head = format!("{request} HTTP/1.1\r\nHost: x\r\nX-API-Key: secret\r\n\r\n");
        assert_eq!(
            client.request(head.as_bytes()).status,
            with_key,
            "{request}"
        );
    }
    // Outside the prefix, nothing is guarded.
    let response = client.request(b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 404);
}

/// A client may send its whole request and close its side at once: the
/// body waits while the guards run, and is read once they pass.
#[test]
fn a_guarded_upload_sent_whole_before_a_half_close_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = api(dir.path());
    let mut client = server.client();
    client.send(
        b"POST /api/upload HTTP/1.1\r\nHost: x\r\nX-API-Key: secret\r\nContent-Length: 5\r\n\r\nhello",
    );
    client
        .stream()
        .shutdown(std::net::Shutdown::Write)
        .expect("half-close");
    let response = client.response();
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), "5 bytes from user 7 via /api/upload");
    client.assert_closed();
}
