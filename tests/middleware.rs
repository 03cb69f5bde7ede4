//! Middleware: the first added is the outermost, it can answer
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
) -> impl Fn(&mut Request, Next<'_>) -> Response + Send + Sync {
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
            |req: &mut Request, next: Next<'_>| match req.header("x-api-key") {
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

#[derive(Clone)]
struct User(String);

#[route("GET /me")]
fn me(pool_server::Extension(user): pool_server::Extension<User>) -> String {
    format!("hello {}", user.0)
}

#[route("GET /maybe")]
fn maybe(user: Option<pool_server::Extension<User>>) -> String {
    user.map_or_else(|| "nobody".to_owned(), |u| u.0 .0.clone())
}

/// Middleware leaves a value in the request's extensions; the route takes
/// it with `Extension<T>`, and without it the route is a 500 (a mistake of
/// the service) unless it takes `Option<Extension<T>>`.
#[test]
fn middleware_hands_values_to_the_handler_through_extensions() {
    let login = |req: &mut Request, next: Next<'_>| {
        if let Some(name) = req.header("x-user") {
            let user = User(name.to_owned());
            req.extensions_mut().insert(user);
        }
        next.run(req)
    };
    let server = serve(move |b| b.wrap(login).routes(routes![me, maybe]));
    let mut client = server.client();
    let response = client.request(b"GET /me HTTP/1.1\r\nHost: x\r\nX-User: ada\r\n\r\n");
    assert_eq!(response.text(), "hello ada");
    let response = client.request(b"GET /maybe HTTP/1.1\r\nHost: x\r\nX-User: bob\r\n\r\n");
    assert_eq!(response.text(), "bob");
    let response = client.request(b"GET /maybe HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        response.text(),
        "nobody",
        "nothing carried over from the last request"
    );
    let response = client.request(b"GET /me HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 500, "{response:?}");
    assert!(response.text().contains("User"), "{response:?}");
}

/// Middleware sees the pattern of the route that will answer, never the
/// raw path, so metrics labelled by it stay bounded.
#[test]
fn middleware_sees_the_matched_route_pattern() {
    let label = |req: &mut Request, next: Next<'_>| {
        let pattern = req.matched_path().unwrap_or("(none)").to_owned();
        next.run(req).with_header("x-route", pattern)
    };
    let scope = pool_server::routing::Scope::new("/api").routes(routes![item]);
    let server = serve(move |b| b.wrap(label).routes(routes![hello]).scope(scope));
    let mut client = server.client();
    for (target, want) in [
        ("/api/items/42", "/api/items/{id}"),
        ("/hello", "/hello"),
        ("/nowhere", "(none)"),
    ] {
        let head = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        let response = client.request(head.as_bytes());
        assert_eq!(
            response.header("x-route"),
            Some(want),
            "{target}: {response:?}"
        );
    }
}

/// `from_fn` takes a closure without written-out parameter types, returning
/// any `IntoResponse`.
#[test]
fn from_fn_infers_a_closures_types_and_takes_any_response() {
    let key = pool_server::middleware::from_fn(|req, next| {
        if req.header("x-api-key") != Some("secret") {
            return Err((StatusCode::UNAUTHORIZED, "an API key, please"));
        }
        Ok(next.run(req))
    });
    let server = serve(move |b| b.wrap(key).routes(routes![hello]));
    let mut client = server.client();
    let refused = client.request(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(refused.status, 401);
    assert_eq!(refused.text(), "an API key, please");
    let allowed = client.request(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-API-Key: secret\r\n\r\n");
    assert_eq!(allowed.text(), "hello");
}
