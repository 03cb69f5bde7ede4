//! Middleware (issue 8): the first added is the outermost, it can answer
//! without the handler, and it sees every response the application makes:
//! 404s, 405s, `OPTIONS` answers, extractor rejections and panics as 500s.

#[allow(dead_code)]
mod support;

use std::sync::{Arc, Mutex};

use pool_server::{route, routes, Next, Request, Response, StatusCode};

use support::serve;

#[route("GET /hello")]
fn hello() -> &'static str {
    "hello"
}

#[route("GET /items/{id}")]
fn item(id: u64) -> String {
    format!("item {id}")
}

#[route("GET /panic")]
fn panics() -> &'static str {
    panic!("on purpose")
}

/// Appends `name` to the `x-trace` header on the way out, and to the log
/// on the way in, so the order of both is visible.
fn tracer(
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
) -> impl Fn(&Request, Next<'_>) -> Response + Send + Sync {
    move |req, next| {
        log.lock().unwrap().push(format!("{name} in"));
        let response = next.run(req);
        log.lock()
            .unwrap()
            .push(format!("{name} out {}", response.status().as_u16()));
        let trace = match response.headers().get("x-trace") {
            Some(v) => format!("{},{name}", v.to_str().unwrap()),
            None => name.to_owned(),
        };
        response.with_header("x-trace", trace)
    }
}

#[test]
fn the_first_middleware_added_is_the_outermost() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (a, b) = (tracer("a", Arc::clone(&log)), tracer("b", Arc::clone(&log)));
    let server = serve(move |builder| builder.wrap(a).wrap(b).routes(routes![hello]));
    let response = server
        .client()
        .request(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.text(), "hello");
    // b is inner: it stamps first.
    assert_eq!(response.header("x-trace"), Some("b,a"));
    assert_eq!(
        *log.lock().unwrap(),
        ["a in", "b in", "b out 200", "a out 200"]
    );
}

#[test]
fn middleware_sees_what_no_route_answers() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = tracer("seen", Arc::clone(&log));
    let server = serve(move |b| b.wrap(seen).routes(routes![hello, item, panics]));
    let cases: [(&[u8], u16); 5] = [
        (b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        (
            b"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            405,
        ),
        (b"OPTIONS /hello HTTP/1.1\r\nHost: x\r\n\r\n", 204),
        (b"GET /items/abc HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n", 500),
    ];
    for (request, status) in cases {
        let mut client = server.client();
        let response = client.request(request);
        assert_eq!(response.status, status, "{response:?}");
        assert_eq!(response.header("x-trace"), Some("seen"), "{response:?}");
        if status == 500 {
            // A panic still closes its connection.
            assert!(response.connection_has("close"), "{response:?}");
            client.assert_closed();
        }
    }
    let outs: Vec<_> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("out"))
        .cloned()
        .collect();
    assert_eq!(
        outs,
        [
            "seen out 404",
            "seen out 405",
            "seen out 204",
            "seen out 400",
            "seen out 500"
        ]
    );
}

#[test]
fn middleware_can_answer_without_the_handler() {
    let calls = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&calls);
    let server = serve(move |b| {
        b.wrap(
            |req: &Request, next: Next<'_>| match req.header("x-api-key") {
                Some("secret") => next.run(req),
                _ => Response::text("no key\n").with_status(StatusCode::UNAUTHORIZED),
            },
        )
        .handler(move |_| {
            *counted.lock().unwrap() += 1;
            Response::text("in")
        })
    });
    let mut client = server.client();
    let refused = client.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(refused.status, 401);
    let allowed = client.request(b"GET / HTTP/1.1\r\nHost: x\r\nX-Api-Key: secret\r\n\r\n");
    assert_eq!(allowed.text(), "in");
    assert_eq!(*calls.lock().unwrap(), 1);
}
