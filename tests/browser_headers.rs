//! What browsers ask of a server: CORS (`Cors`), the security headers
//! (`SecurityHeaders`) and request ids (`RequestId`), through `TestClient`
//! and over real sockets; the ids in the access log too, so the logger
//! (process-wide) is this binary's own.
//!
//! Requests "from a client" come from 127.0.0.2, which the servers here do
//! not trust; requests "from the proxy" come from 127.0.0.1, which they do.

#[allow(dead_code)]
mod support;

use std::net::{SocketAddr, TcpStream};
use std::sync::{Mutex, Once};
use std::time::Duration;

use pool_server::access_log::AccessLog;
use pool_server::compression::Compression;
use pool_server::cors::Cors;
use pool_server::request_id::{RequestId, RequestIdValue, Trust};
use pool_server::routing::Scope;
use pool_server::security_headers::SecurityHeaders;
use pool_server::test::{TestClient, TestResponse};
use pool_server::{
    header, route, routes, Builder, Extension, Method, Next, Request, Response, Server, StatusCode,
};

use support::{serve, Client, RawResponse, IO_TIMEOUT};

#[route("GET /items")]
fn items() -> &'static str {
    "[]"
}

#[route("POST /items")]
fn add_item() -> StatusCode {
    StatusCode::CREATED
}

/// Answers with the id the handler sees, as an extension and as its header.
#[route("GET /id")]
fn id(Extension(id): Extension<RequestIdValue>, req: &Request) -> String {
    format!("{id} {}", req.header("x-request-id").unwrap_or("-"))
}

const APP: &str = "https://app.example";

/// The policy of a JSON API that a page at [`APP`] calls with cookies.
fn api_cors() -> Cors {
    Cors::new()
        .allow_origins([APP, "http://localhost:3000"])
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .allow_credentials(true)
        .expose_headers(["x-request-id"])
        .max_age(Duration::from_secs(600))
}

fn api(builder: Builder) -> Builder {
    builder.wrap(api_cors()).routes(routes![items, add_item])
}

/// Every `Vary` value, split at commas.
fn vary(response: &TestResponse) -> Vec<String> {
    response
        .headers()
        .get_all(header::VARY)
        .iter()
        .flat_map(|value| value.to_str().unwrap().split(','))
        .map(|name| name.trim().to_owned())
        .collect()
}

// --- CORS, in process ---------------------------------------------------

/// The middleware answers a preflight before the router could: on a
/// route's path, on a path no route has (404 otherwise) and for a method
/// the path lacks (405 otherwise).
#[test]
fn preflights_are_answered_on_every_path() {
    let client = TestClient::new(api(Server::builder())).unwrap();
    for path in ["/items", "/nowhere", "/items?x=1"] {
        let preflight = client
            .options(path)
            .header("origin", APP)
            .header("access-control-request-method", "DELETE")
            .header("access-control-request-headers", "content-type")
            .send();
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(preflight.header("access-control-allow-origin"), Some(APP));
        assert_eq!(
            preflight.header("access-control-allow-methods"),
            Some("GET, POST, DELETE")
        );
        assert_eq!(
            preflight.header("access-control-allow-headers"),
            Some("content-type, authorization")
        );
        assert_eq!(
            preflight.header("access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(preflight.header("access-control-max-age"), Some("600"));
        assert_eq!(preflight.header("access-control-expose-headers"), None);
        assert_eq!(preflight.header("allow"), None, "not the router's answer");
        assert_eq!(vary(&preflight), ["origin"]);
    }
    // Without them the router answers as before.
    assert_eq!(
        client.get("/nowhere").send().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client.delete("/items").send().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

/// The request after the preflight, errors included: the page may read
/// what it was answered.
#[test]
fn allowed_origins_may_read_every_answer() {
    let client = TestClient::new(api(Server::builder())).unwrap();
    for (method, path, status) in [
        (Method::GET, "/items", StatusCode::OK),
        (Method::POST, "/items", StatusCode::CREATED),
        (Method::GET, "/nowhere", StatusCode::NOT_FOUND),
        (Method::DELETE, "/items", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let response = client
            .request(method.clone(), path)
            .header("origin", "http://localhost:3000")
            .send();
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("http://localhost:3000")
        );
        assert_eq!(
            response.header("access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(
            response.header("access-control-expose-headers"),
            Some("x-request-id")
        );
        assert_eq!(response.header("access-control-allow-methods"), None);
        assert_eq!(vary(&response), ["origin"]);
    }
}

/// Another origin, or none, gets no CORS field, and its request is
/// answered as usual; `Vary: Origin` tells caches the answer depends on it.
#[test]
fn other_origins_get_no_cors_fields() {
    let client = TestClient::new(api(Server::builder())).unwrap();
    let cors_fields = |response: &TestResponse| {
        response
            .headers()
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .count()
    };
    for origin in [
        Some("https://evil.example"),
        Some("https://app.example.evil.example"),
        Some("https://APP.example"),
        Some("null"),
        None,
    ] {
        let mut request = client.get("/items");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send();
        assert_eq!(response.status(), StatusCode::OK, "{origin:?}");
        assert_eq!(response.text(), "[]");
        assert_eq!(cors_fields(&response), 0, "{origin:?}: {response:?}");
        assert_eq!(vary(&response), ["origin"]);
    }
    let preflight = client
        .options("/items")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "DELETE")
        .send();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(cors_fields(&preflight), 0, "{preflight:?}");
}

/// An `OPTIONS` without `Access-Control-Request-Method` is no preflight:
/// the router answers it, and the CORS fields are added as to any answer.
#[test]
fn a_plain_options_goes_to_the_router() {
    let client = TestClient::new(api(Server::builder())).unwrap();
    let response = client.options("/items").header("origin", APP).send();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    assert_eq!(response.header("access-control-allow-origin"), Some(APP));
    assert_eq!(response.header("access-control-allow-methods"), None);
}

#[test]
fn any_origin_is_a_wildcard_and_does_not_vary() {
    let cors = Cors::new()
        .allow_any_origin()
        .allow_any_method()
        .allow_any_header()
        .expose_any_header();
    let client = TestClient::new(Server::builder().wrap(cors).routes(routes![items])).unwrap();
    for origin in ["https://anyone.example", "null"] {
        let response = client.get("/items").header("origin", origin).send();
        assert_eq!(response.header("access-control-allow-origin"), Some("*"));
        assert_eq!(response.header("access-control-expose-headers"), Some("*"));
        assert_eq!(response.header("access-control-allow-credentials"), None);
        assert!(vary(&response).is_empty(), "{response:?}");
        let preflight = client
            .options("/items")
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .send();
        assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
        assert_eq!(preflight.header("access-control-allow-methods"), Some("*"));
        assert_eq!(preflight.header("access-control-allow-headers"), Some("*"));
        assert!(vary(&preflight).is_empty(), "{preflight:?}");
    }
}

/// Mirrored request headers go back as asked, with credentials, and the
/// preflight varies on them; a predicate sees the request.
#[test]
fn mirrored_headers_and_a_predicate() {
    let cors = Cors::new()
        .allow_origin_if(|origin, req| {
            origin.ends_with(".app.example") && req.path().starts_with("/items")
        })
        .mirror_request_headers()
        .allow_credentials(true);
    let client = TestClient::new(Server::builder().wrap(cors).routes(routes![items])).unwrap();
    let preflight = client
        .options("/items")
        .header("origin", "https://eu.app.example")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "x-trace, content-type")
        .send();
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://eu.app.example")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("x-trace, content-type")
    );
    assert_eq!(
        vary(&preflight),
        ["origin", "access-control-request-headers"]
    );
    let elsewhere = client
        .get("/nowhere")
        .header("origin", "https://eu.app.example")
        .send();
    assert_eq!(elsewhere.header("access-control-allow-origin"), None);
    let other = client
        .get("/items")
        .header("origin", "https://eu.app.example.evil")
        .send();
    assert_eq!(other.header("access-control-allow-origin"), None);
}

/// `Vary: Origin` joins what the handler and other middleware vary on.
#[test]
fn vary_is_added_to_not_replaced() {
    let big = || Response::json(format!("[{}]", vec!["1"; 2000].join(",")));
    let app = Server::builder()
        .wrap(api_cors())
        .wrap(Compression::new())
        .handler(move |_| big().with_header(header::VARY, "cookie"));
    let client = TestClient::new(app).unwrap();
    let response = client
        .get("/")
        .header("origin", APP)
        .header("accept-encoding", "gzip")
        .send();
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(vary(&response), ["cookie", "accept-encoding", "origin"]);
}

/// What the Fetch standard forbids fails `build()`, on the server and on
/// a scope, naming the setting.
#[test]
fn forbidden_combinations_fail_build() {
    let cases = [
        (
            Cors::new().allow_any_origin().allow_credentials(true),
            "allow_any_origin",
        ),
        (
            api_cors().allow_any_header(),
            "allow_credentials(true) with allow_any_header()",
        ),
        (api_cors().allow_any_method(), "allow_any_method()"),
        (api_cors().expose_any_header(), "expose_any_header()"),
        (
            Cors::new().allow_origins(["https://app.example/"]),
            "trailing slash",
        ),
        (
            Cors::new().allow_origins(["https://app.example:443"]),
            "default port",
        ),
        (Cors::new().allow_headers(["x y"]), "\"x y\""),
    ];
    for (cors, named) in cases {
        let err =
            TestClient::new(Server::builder().wrap(cors).routes(routes![items])).expect_err(named);
        assert!(err.is_config(), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("invalid server configuration: Cors: "),
            "{err}"
        );
        assert!(err.to_string().contains(named), "{named}: {err}");
    }
    let scoped = Scope::new("/api")
        .routes(routes![items])
        .wrap(Cors::new().allow_any_origin().allow_credentials(true));
    let err = TestClient::new(Server::builder().scope(scoped)).expect_err("a scope's Cors");
    assert!(err.to_string().contains("allow_any_origin"), "{err}");
}

// --- security headers and request ids, in process ----------------------

/// Refuses everything, for the security headers on a refusal.
fn deny(_req: &mut Request, _next: Next<'_>) -> Response {
    Response::from(StatusCode::UNAUTHORIZED)
}

#[test]
fn security_headers_go_on_every_answer_and_never_replace() {
    let framed = |_: &mut Request, _: Next<'_>| {
        Response::text("embed me")
            .with_header("x-frame-options", "SAMEORIGIN")
            .with_header("referrer-policy", "no-referrer")
    };
    let headers = SecurityHeaders::new()
        .remove("x-content-type-options")
        .set("permissions-policy", "camera=()");
    let app = Server::builder()
        .wrap(headers)
        .scope(Scope::new("/widget").routes(routes![items]).wrap(framed))
        .scope(Scope::new("/private").routes(routes![items]).wrap(deny))
        .routes(routes![items]);
    let client = TestClient::new(app).unwrap();
    for (path, status) in [
        ("/items", StatusCode::OK),
        ("/nowhere", StatusCode::NOT_FOUND),
        ("/private/items", StatusCode::UNAUTHORIZED),
    ] {
        let response = client.get(path).send();
        assert_eq!(response.status(), status);
        assert_eq!(response.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            response.header("referrer-policy"),
            Some("strict-origin-when-cross-origin")
        );
        assert_eq!(response.header("permissions-policy"), Some("camera=()"));
        assert_eq!(response.header("x-content-type-options"), None);
    }
    let framed = client.get("/widget/items").send();
    assert_eq!(framed.header("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(framed.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(
        framed.headers().get_all("x-frame-options").iter().count(),
        1
    );

    let err = TestClient::new(Server::builder().wrap(SecurityHeaders::new().set("a b", "c")))
        .expect_err("an invalid name");
    assert!(
        err.to_string()
            .starts_with("invalid server configuration: SecurityHeaders: set: "),
        "{err}"
    );
}

#[test]
fn request_ids_by_trust() {
    let proxy: SocketAddr = "10.0.0.7:40000".parse().unwrap();
    let app = |trust| {
        Server::builder()
            .trusted_proxies(["10.0.0.0/8"])
            .wrap(RequestId::new().trust(trust))
            .routes(routes![id])
    };
    let asked = |client: &TestClient, from: SocketAddr, ids: &[&str]| {
        let mut request = client
            .get("/id")
            .peer_addr(from)
            .header("x-forwarded-for", "203.0.113.9");
        for id in ids {
            // As bytes: a header value may hold non-ASCII (obs-text).
            request = request.header("x-request-id", id.as_bytes());
        }
        let response = request.send();
        let sent = response.header("x-request-id").unwrap().to_owned();
        // The handler sees the same id both ways.
        assert_eq!(response.text(), format!("{sent} {sent}"));
        sent
    };
    let made = |id: &str| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let client_addr: SocketAddr = "192.0.2.1:5000".parse().unwrap();

    let proxies = TestClient::new(app(Trust::Proxies)).unwrap();
    assert_eq!(asked(&proxies, proxy, &["lb-1"]), "lb-1");
    assert!(made(&asked(&proxies, client_addr, &["mine"])));
    assert!(made(&asked(&proxies, proxy, &[])));
    let long = "a".repeat(129);
    for bad in [&["a b"][..], &["lb-1", "lb-2"], &[long.as_str()], &["é"]] {
        assert!(made(&asked(&proxies, proxy, bad)), "{bad:?}");
    }
    assert_eq!(asked(&proxies, proxy, &[&long[..128]]), long[..128]);

    let always = TestClient::new(app(Trust::Always)).unwrap();
    assert_eq!(asked(&always, client_addr, &["mine"]), "mine");
    let never = TestClient::new(app(Trust::Never)).unwrap();
    assert!(made(&asked(&never, proxy, &["lb-1"])));

    let first = asked(&never, proxy, &[]);
    let second = asked(&never, proxy, &[]);
    assert_ne!(first, second);
}

// --- over real sockets ---------------------------------------------------

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        meta.target() == "pool_server::access"
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            LINES.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn capture_access_log() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Info);
    });
}

/// The access-log lines that contain `needle`. A line is logged before its
/// response is sent, so it is there once the response has been read.
fn logged(needle: &str) -> Vec<String> {
    let lines = LINES.lock().unwrap();
    lines
        .iter()
        .filter(|line| line.contains(needle))
        .cloned()
        .collect()
}

/// A connection from `ip`, another loopback address than the server's
/// trusted 127.0.0.1.
fn connect_from(ip: [u8; 4], server: SocketAddr) -> Client {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from((ip, 0)).into())
        .unwrap_or_else(|err| panic!("cannot bind {ip:?}: {err}"));
    socket.connect_timeout(&server.into(), IO_TIMEOUT).unwrap();
    let stream = TcpStream::from(socket);
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    Client::new(stream)
}

fn sorted_vary(response: &RawResponse) -> Vec<String> {
    let mut names: Vec<String> = response
        .header_all("vary")
        .iter()
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    names.sort();
    names
}

#[test]
fn a_preflight_over_the_wire() {
    let server = serve(api);
    let mut client = server.client();
    for path in ["/items", "/no/route/here"] {
        let preflight = client.request(
            format!(
                "OPTIONS {path} HTTP/1.1\r\nHost: api.example\r\nOrigin: {APP}\r\n\
                 Access-Control-Request-Method: POST\r\n\
                 Access-Control-Request-Headers: content-type, authorization\r\n\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(preflight.status, 204, "{path}: {preflight:?}");
        assert_eq!(preflight.header("access-control-allow-origin"), Some(APP));
        assert_eq!(
            preflight.header("access-control-allow-methods"),
            Some("GET, POST, DELETE")
        );
        assert_eq!(
            preflight.header("access-control-allow-headers"),
            Some("content-type, authorization")
        );
        assert_eq!(
            preflight.header("access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(preflight.header("access-control-max-age"), Some("600"));
        assert_eq!(sorted_vary(&preflight), ["origin"]);
        assert_eq!(preflight.header("content-length"), None);
    }
    // Then the request itself, on the same connection.
    let response = client.request(
        format!("POST /items HTTP/1.1\r\nHost: api.example\r\nOrigin: {APP}\r\nContent-Length: 2\r\n\r\n{{}}")
            .as_bytes(),
    );
    assert_eq!(response.status, 201, "{response:?}");
    assert_eq!(response.header("access-control-allow-origin"), Some(APP));
    assert_eq!(
        response.header("access-control-expose-headers"),
        Some("x-request-id")
    );
    let unknown = client.request(
        format!("GET /no/route/here HTTP/1.1\r\nHost: api.example\r\nOrigin: {APP}\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.header("access-control-allow-origin"), Some(APP));
}

#[test]
fn a_disallowed_origin_over_the_wire() {
    let server = serve(api);
    let mut client = server.client();
    let response = client.request(
        b"GET /items HTTP/1.1\r\nHost: api.example\r\nOrigin: https://evil.example\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "[]");
    assert_eq!(response.header("access-control-allow-origin"), None);
    assert_eq!(response.header("access-control-allow-credentials"), None);
    assert_eq!(sorted_vary(&response), ["origin"]);
    let preflight = client.request(
        b"OPTIONS /items HTTP/1.1\r\nHost: api.example\r\nOrigin: https://evil.example\r\n\
          Access-Control-Request-Method: DELETE\r\n\r\n",
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), None);
    assert_eq!(preflight.header("access-control-allow-methods"), None);
}

#[test]
fn credentials_with_any_origin_fail_build() {
    let err = Server::builder()
        .bind("127.0.0.1:0")
        .wrap(Cors::new().allow_any_origin().allow_credentials(true))
        .routes(routes![items])
        .build()
        .expect_err("credentials with `*` are refused");
    assert!(err.is_config(), "{err:?}");
    assert!(err.to_string().contains("allow_any_origin"), "{err}");
}

/// The defaults on every answer; HSTS only when the trusted proxy says the
/// client came over HTTPS, never on a client's own word.
#[test]
fn security_headers_over_the_wire() {
    let server = serve(|b| {
        b.trusted_proxies(["127.0.0.1"])
            .wrap(SecurityHeaders::new())
            .routes(routes![items])
    });
    let https_via_proxy = server.client().request(
        b"GET /items HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n\r\n",
    );
    let http_via_proxy = server
        .client()
        .request(b"GET /nowhere HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n");
    let https_claimed_by_client = connect_from([127, 0, 0, 2], server.addr())
        .request(b"GET /items HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\n\r\n");
    assert_eq!(http_via_proxy.status, 404);
    for response in [&https_via_proxy, &http_via_proxy, &https_claimed_by_client] {
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            response.header("referrer-policy"),
            Some("strict-origin-when-cross-origin")
        );
        assert_eq!(response.header("x-frame-options"), Some("DENY"));
    }
    assert_eq!(
        https_via_proxy.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    assert_eq!(http_via_proxy.header("strict-transport-security"), None);
    assert_eq!(
        https_claimed_by_client.header("strict-transport-security"),
        None
    );
}

/// A client's own id is replaced; the trusted proxy's is kept. Either way
/// the id goes back in the response and ends the access-log line, which
/// names the client (the one the proxy forwarded for).
#[test]
fn request_ids_over_the_wire_and_in_the_log() {
    capture_access_log();
    let server = serve(|b| {
        b.trusted_proxies(["127.0.0.1"])
            .wrap(AccessLog::combined())
            .wrap(RequestId::new())
            .routes(routes![id])
    });
    let from_client = connect_from([127, 0, 0, 2], server.addr()).request(
        b"GET /id?from=client HTTP/1.1\r\nHost: x\r\nX-Request-Id: chosen-by-client\r\n\r\n",
    );
    let made = from_client.header("x-request-id").unwrap();
    assert_eq!(made.len(), 32, "{from_client:?}");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");
    assert_eq!(from_client.text(), format!("{made} {made}"));

    let from_proxy = server.client().request(
        b"GET /id?from=proxy HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\
          X-Request-Id: proxy-7f3a\r\n\r\n",
    );
    assert_eq!(from_proxy.header("x-request-id"), Some("proxy-7f3a"));
    assert_eq!(from_proxy.text(), "proxy-7f3a proxy-7f3a");

    let client_line = logged("/id?from=client");
    assert_eq!(client_line.len(), 1, "{client_line:?}");
    assert!(
        client_line[0].starts_with("127.0.0.2 - - ["),
        "{client_line:?}"
    );
    assert!(
        client_line[0].ends_with(&format!(" {made}")),
        "{client_line:?}"
    );
    assert!(!client_line[0].contains("chosen-by-client"));
    let proxy_line = logged("/id?from=proxy");
    assert_eq!(proxy_line.len(), 1, "{proxy_line:?}");
    assert!(
        proxy_line[0].starts_with("203.0.113.9 - - ["),
        "{proxy_line:?}"
    );
    assert!(proxy_line[0].ends_with(" proxy-7f3a"), "{proxy_line:?}");
}

/// A custom line from the entry's pieces: the date as the combined line
/// has it, the route pattern and the request id.
#[test]
fn a_custom_line_has_the_date_the_route_and_the_id() {
    capture_access_log();
    let server = serve(|b| {
        b.wrap(RequestId::new())
            .wrap(AccessLog::custom(|entry| {
                format!(
                    "custom [{}] {} {} {}",
                    entry.clf_time(),
                    entry.route().unwrap_or("-"),
                    entry.request.path(),
                    entry.request_id().unwrap_or("-"),
                )
            }))
            .routes(routes![id])
    });
    let response = server
        .client()
        .request(b"GET /id HTTP/1.1\r\nHost: x\r\n\r\n");
    let id = response.header("x-request-id").unwrap();
    let lines = logged(&format!(" /id /id {id}"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let date = lines[0]
        .strip_prefix("custom [")
        .and_then(|rest| rest.split_once(']'))
        .map(|(date, _)| date)
        .unwrap_or_else(|| panic!("{lines:?}"));
    // `02/Dec/2026:16:33:25 +0000`
    assert_eq!(date.len(), 26, "{date}");
    assert!(
        date.ends_with(" +0000") && date.as_bytes()[2] == b'/',
        "{date}"
    );
    let missing = server
        .client()
        .request(b"GET /nothing/here HTTP/1.1\r\nHost: x\r\n\r\n");
    let id = missing.header("x-request-id").unwrap();
    assert_eq!(logged(&format!(" - /nothing/here {id}")).len(), 1);
}
