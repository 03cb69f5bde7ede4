//! What a handler's `Response` becomes on the wire: header fields set with
//! `with_header` and `append_header` (invalid ones become a 500 without a
//! panic), 1xx statuses refused, `Content-Length` in answers to `HEAD`, and
//! `CONNECT`, which the server does not implement.

#[allow(dead_code)]
mod support;

use pool_server::{header, route, routes, Request, Response, StatusCode};

use support::{serve, Serve};

#[route("GET /cookies")]
fn cookies() -> Response {
    Response::text("welcome")
        .with_header(header::CACHE_CONTROL, "no-store")
        .append_header(header::SET_COOKIE, "session=abc; HttpOnly")
        .append_header(header::SET_COOKIE, "theme=dark")
}

#[route("GET /bad-header")]
fn bad_header() -> Response {
    Response::text("never sent").with_header("x-note", "two\nlines")
}

#[route("GET /interim/continue")]
fn interim_continue() -> Response {
    Response::status_only(StatusCode::CONTINUE)
}

#[route("GET /interim/switching")]
fn interim_switching() -> Response {
    Response::text("upgrade?").with_status(StatusCode::SWITCHING_PROTOCOLS)
}

#[route("GET /interim/status")]
fn interim_status() -> StatusCode {
    StatusCode::CONTINUE
}

#[route("POST /echo")]
fn echo(req: &Request) -> Vec<u8> {
    req.body().to_vec()
}

/// A file whose size the HEAD route knows without reading it.
const FILE: &str = "0123456789abcdef";

#[route("GET /file")]
fn file() -> &'static str {
    FILE
}

#[route("HEAD /file")]
fn file_head() -> Response {
    Response::status_only(StatusCode::OK).with_header(header::CONTENT_LENGTH, FILE.len())
}

#[route("HEAD /made")]
fn made_head() -> Response {
    Response::text("made in full").with_header(header::CONTENT_LENGTH, "999")
}

fn serve_routes() -> Serve {
    serve(|b| {
        b.routes(routes![
            cookies,
            bad_header,
            interim_continue,
            interim_switching,
            interim_status,
            echo,
            file,
            file_head,
            made_head,
        ])
        .handler(|_: &Request| Response::status_only(StatusCode::from_u16(103).unwrap()))
    })
}

#[test]
fn header_constants_and_repeated_fields_reach_the_client() {
    let server = serve_routes();
    let mut client = server.client();
    let res = client.request(b"GET /cookies HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(res.status, 200, "{client:?}");
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(
        res.header_all("set-cookie"),
        ["session=abc; HttpOnly", "theme=dark"]
    );
}

/// An invalid header is the handler's bug, not a crash: the client gets an
/// empty 500 and the connection stays usable (a panic would close it).
#[test]
fn an_invalid_header_value_is_a_500_on_a_kept_connection() {
    let server = serve_routes();
    let mut client = server.client();
    let res = client.request(b"GET /bad-header HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(res.status, 500, "{client:?}");
    assert!(
        res.body.is_empty() && !res.connection_has("close"),
        "{client:?}"
    );
    let res = client.request(b"GET /cookies HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(res.status, 200, "{client:?}");
}

/// A 1xx from a handler would leave the client waiting for a final response
/// (or, for 101, speaking another protocol): every way of returning one
/// gets 500, and the connection stays in step for the next request.
#[test]
fn interim_statuses_from_handlers_become_500() {
    let server = serve_routes();
    let mut client = server.client();
    for path in [
        "/interim/continue",
        "/interim/switching",
        "/interim/status",
        "/fallback",
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let res = client.request(request.as_bytes());
        assert_eq!(res.status, 500, "{path}\n{client:?}");
        assert_eq!(res.header("content-length"), Some("0"), "{client:?}");
    }
    // The server's own interim response still goes out.
    client.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    );
    assert_eq!(client.response().status, 100, "{client:?}");
    client.send(b"hi");
    let res = client.response();
    assert_eq!((res.status, res.text().as_str()), (200, "hi"), "{client:?}");
}

/// A HEAD route that knows the size sends it; one that makes the body sends
/// the body's length. Neither sends body bytes: the GET after each one on the
/// same connection parses.
#[test]
fn head_routes_send_the_length_their_response_gives() {
    let server = serve_routes();
    let mut client = server.client();
    let expected = [("/file", FILE.len()), ("/made", "made in full".len())];
    for (path, length) in expected {
        let head = format!("HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        client.send(format!("{head}GET /file HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let res = client.head_response();
        assert_eq!(res.status, 200, "{client:?}");
        let length = length.to_string();
        assert_eq!(
            res.header("content-length"),
            Some(length.as_str()),
            "{client:?}"
        );
        let res = client.response();
        assert_eq!((res.status, res.text().as_str()), (200, FILE), "{client:?}");
    }
}

/// CONNECT asks for a tunnel, which the server does not open, so no route
/// can take it: a well-formed one (authority form, RFC 9112 §3.2.3) is 501,
/// any other CONNECT target is 400, as is the authority form with any other
/// method. Each refusal closes the connection.
#[test]
fn connect_is_not_implemented_and_bad_targets_are_400() {
    let server = serve_routes();
    let cases: [(&[u8], u16); 4] = [
        (
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            501,
        ),
        (b"CONNECT /echo HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"CONNECT example.com HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ];
    for (request, status) in cases {
        let mut client = server.client();
        let res = client.request(request);
        assert_eq!(res.status, status, "{client:?}");
        assert!(res.connection_has("close"), "{client:?}");
        client.assert_closed();
    }
}
