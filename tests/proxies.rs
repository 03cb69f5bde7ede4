//! Behind a proxy (issue 8): from a trusted peer, the client address and
//! scheme come from `Forwarded` or `X-Forwarded-*`; from any other, those
//! fields are ignored and the socket's peer is the client.

#[allow(dead_code)]
mod support;

use pool_server::{Request, Response, Server};

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
    let rfc = client.request(
        b"GET / HTTP/1.1\r\nHost: x\r\nForwarded: for=\"[2001:db8::7]:4711\";proto=https\r\n\r\n",
    );
    assert_eq!(rfc.text(), "2001:db8::7 https 127.0.0.1");
    let plain = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(plain.text(), "127.0.0.1 http 127.0.0.1");
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
