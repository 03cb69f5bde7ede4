//! The request's host: a `Host` that is no valid host is refused with 400
//! (RFC 9112 §3.2), and an absolute-form target's authority is the host a
//! handler sees, whatever `Host` said (RFC 9112 §3.2.2).

#[allow(dead_code)]
mod support;

use pool_server::{Request, Response};

use support::serve;

fn host_and_path(req: &Request) -> Response {
    Response::text(format!(
        "{} {}",
        req.header("host").unwrap_or("-"),
        req.path()
    ))
}

#[test]
fn an_invalid_host_is_400_and_never_reaches_the_handler() {
    let server = serve(|b| b.handler(host_and_path));
    for host in ["evil.com/path?x", "a b", "<script>", "a:80x", "[::1"] {
        let head = format!("GET /ip HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let response = server.client().request(head.as_bytes());
        assert_eq!(response.status, 400, "Host: {host}: {response:?}");
        assert!(response.connection_has("close"), "{response:?}");
    }
    let mut client = server.client();
    for host in [
        "example.com",
        "example.com:8080",
        "[::1]:80",
        "127.0.0.1",
        "",
    ] {
        let head = format!("GET /ip HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let response = client.request(head.as_bytes());
        assert_eq!(response.status, 200, "Host: {host}: {response:?}");
        assert_eq!(response.text(), format!("{host} /ip"));
    }
}

#[test]
fn an_absolute_form_authority_is_the_host() {
    let server = serve(|b| b.handler(host_and_path));
    let mut client = server.client();
    let response =
        client.request(b"GET http://evil.example/ip HTTP/1.1\r\nHost: good.example\r\n\r\n");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), "evil.example /ip");
    // The ignored Host is not checked; the authority is.
    let response = client.request(b"GET http://a.example:8080?q HTTP/1.1\r\nHost: a b\r\n\r\n");
    assert_eq!(response.text(), "a.example:8080 /");
    let response = server
        .client()
        .request(b"GET http://u@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n");
    assert_eq!(response.status, 400, "{response:?}");
}
