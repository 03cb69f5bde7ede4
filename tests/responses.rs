//! What a handler's `Response` becomes on the wire: header fields set with
//! `with_header` and `append_header` (invalid ones become a 500 without a
//! panic), 1xx statuses refused, `Content-Length` in answers to `HEAD`, and
//! `CONNECT`, which the server does not implement.

#[allow(dead_code)]
mod support;

use pool_server::{header, route, routes, Response};

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

fn serve_routes() -> Serve {
    serve(|b| b.routes(routes![cookies, bad_header]))
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
