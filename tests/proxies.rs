//! Behind a proxy: from a trusted peer, the client address and scheme come
//! from the one field the server is told to read (`X-Forwarded-*` by
//! default, or `Forwarded`); from any other peer, and for the fields not
//! named, nothing is believed and the socket's peer is the client.

#[allow(dead_code)]
mod support;

use pool_server::{header::HeaderName, ProxyHeader, Request, Response, Server};

use support::serve;

fn who(req: &Request) -> Response {
    Response::text(format!(
        "{} {} {}",
        req.client_addr(),
        req.scheme(),
        req.peer_addr().ip()
    ))
}

#[test]
fn a_trusted_proxy_names_the_client() {
    let server = serve(|b| b.trusted_proxies(["127.0.0.0/8"]).handler(who));
    let mut client = server.client();
    let forwarded = client.request(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.9\r\nX-Forwarded-Proto: https\r\n\r\n",
    );
    // The rightmost untrusted hop; the spoofed entry left of it is ignored.
    assert_eq!(forwarded.text(), "203.0.113.9 https 127.0.0.1");
    let plain = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(plain.text(), "127.0.0.1 http 127.0.0.1");
}

/// What nginx or HAProxy in front sends when a client adds its own
/// `Forwarded`: the proxy's X-Forwarded-For, and the client's Forwarded
/// passed through. Only the field the server was told to read counts.
#[test]
fn a_clients_forwarded_field_is_not_believed_by_default() {
    let server = serve(|b| b.trusted_proxies(["127.0.0.0/8"]).handler(who));
    let mut client = server.client();
    let spoofed = client.request(
        b"GET / HTTP/1.1\r\nHost: x\r\nForwarded: for=6.6.6.6;proto=https\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n",
    );
    assert_eq!(spoofed.text(), "203.0.113.9 http 127.0.0.1");
    let alone =
        client.request(b"GET / HTTP/1.1\r\nHost: x\r\nForwarded: for=6.6.6.6;proto=https\r\n\r\n");
    assert_eq!(alone.text(), "127.0.0.1 http 127.0.0.1");
}

#[test]
fn forwarded_is_read_when_named_and_x_forwarded_for_is_not() {
    let server = serve(|b| {
        b.trusted_proxies(["127.0.0.0/8"])
            .proxy_header(ProxyHeader::Forwarded)
            .handler(who)
    });
    let mut client = server.client();
    let rfc = client.request(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=\"[2001:db8::7]:4711\";proto=https\r\n\r\n",
    );
    assert_eq!(rfc.text(), "2001:db8::7 https 127.0.0.1");
    let spoofed = client.request(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n\r\n",
    );
    assert_eq!(spoofed.text(), "127.0.0.1 http 127.0.0.1");
    // A malformed element (an unterminated quote) vouches for nothing.
    let broken = client
        .request(b"GET / HTTP/1.1\r\nHost: x\r\nForwarded: for=\"6.6.6.6, for=203.0.113.9\r\n\r\n");
    assert_eq!(broken.text(), "127.0.0.1 http 127.0.0.1");
}

/// A TLS terminator may say only the scheme.
#[test]
fn a_proxy_may_say_only_the_scheme() {
    let server = serve(|b| b.trusted_proxies(["127.0.0.0/8"]).handler(who));
    let response = server
        .client()
        .request(b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\n\r\n");
    assert_eq!(response.text(), "127.0.0.1 https 127.0.0.1");
}

#[test]
fn another_named_field_is_read_as_an_address_list() {
    let server = serve(|b| {
        b.trusted_proxies(["127.0.0.0/8"])
            .proxy_header(ProxyHeader::Other(HeaderName::from_static("x-real-ip")))
            .handler(who)
    });
    let response = server.client().request(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 203.0.113.9\r\n\r\n",
    );
    assert_eq!(response.text(), "203.0.113.9 http 127.0.0.1");
}

#[test]
fn an_untrusted_peer_cannot_choose_its_address() {
    let server = serve(|b| b.trusted_proxies(["10.0.0.0/8"]).handler(who));
    let response = server.client().request(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n\r\n",
    );
    assert_eq!(response.text(), "127.0.0.1 http 127.0.0.1");
}

#[test]
fn a_proxy_entry_that_does_not_parse_fails_build() {
    let err = Server::builder()
        .bind("127.0.0.1:0")
        .trusted_proxies(["10.0.0.0/40"])
        .handler(who)
        .build()
        .expect_err("an invalid network is refused");
    assert!(err.is_config(), "{err:?}");
    assert!(err.to_string().contains("10.0.0.0/40"), "{err}");
}
