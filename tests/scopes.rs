//! Route groups (`Scope`) and `#[fallback]`, through the
//! `TestClient`: prefixes, which middleware runs for what and in which
//! order, conflicts at `build()`, and `Allow`/405/`OPTIONS` across scopes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pool_server::extract::{FromRequest, Query, RequestContext};
use pool_server::routing::Scope;
use pool_server::test::TestClient;
use pool_server::{
    fallback, route, routes, Middleware, Next, Request, Response, Server, State, StatusCode,
};
use serde::Deserialize;

/// The pattern the router matched, prefix included.
struct Pattern(String);

impl FromRequest<'_> for Pattern {
    type Rejection = StatusCode;

    fn from_request(cx: &RequestContext<'_>) -> Result<Self, StatusCode> {
        Ok(Pattern(cx.matched_path().to_owned()))
    }
}

#[route("GET /")]
fn root(pattern: Pattern) -> String {
    format!("root {}", pattern.0)
}

#[route("GET /items/{id}")]
fn item(id: u64, pattern: Pattern) -> String {
    format!("item {id} {}", pattern.0)
}

#[route("GET /health")]
fn health() -> &'static str {
    "ok"
}

#[derive(Deserialize)]
struct Page {
    #[allow(dead_code)]
    page: u32,
}

#[route("GET /list")]
fn list(_: Query<Page>) -> &'static str {
    "list"
}

#[route("GET /boom")]
fn boom() -> &'static str {
    panic!("boom")
}

/// A middleware that writes `NAME>` before and `<NAME STATUS` after the
/// rest of the chain into a shared log.
#[derive(Clone)]
struct Trace {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
}

impl Middleware for Trace {
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        self.log.lock().unwrap().push(format!("{}>", self.name));
        let response = next.run(req);
        let line = format!("<{} {}", self.name, response.status().as_u16());
        self.log.lock().unwrap().push(line);
        response
    }
}

fn tracer(log: &Arc<Mutex<Vec<String>>>, name: &'static str) -> Trace {
    Trace {
        name,
        log: Arc::clone(log),
    }
}

/// Returns the log so far and empties it.
fn take(log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn scope_routes_answer_under_the_prefix() {
    let client = TestClient::new(
        Server::builder()
            .routes(routes![health])
            .scope(Scope::new("/api/v1").routes(routes![root, item])),
    )
    .unwrap();
    assert_eq!(client.get("/health").send().text(), "ok");
    // A scope's `/` is the prefix itself.
    assert_eq!(client.get("/api/v1").send().text(), "root /api/v1");
    assert_eq!(
        client.get("/api/v1/items/7").send().text(),
        "item 7 /api/v1/items/{id}"
    );
    for path in ["/api/v1/", "/api/v1x", "/items/7", "/api/v1/health", "/"] {
        assert_eq!(
            client.get(path).send().status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[test]
fn the_root_scope_adds_middleware_without_a_prefix() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = TestClient::new(
        Server::builder().routes(routes![health]).scope(
            Scope::new("/")
                .routes(routes![root, item])
                .wrap(tracer(&log, "s")),
        ),
    )
    .unwrap();
    assert_eq!(client.get("/").send().text(), "root /");
    assert_eq!(take(&log), ["s>", "<s 200"]);
    assert_eq!(client.get("/health").send().text(), "ok");
    assert!(take(&log).is_empty());
}

/// Server-wide middleware is outermost; within a chain the first added is
/// outermost; an enclosing scope's middleware runs around a nested one's.
#[test]
fn global_middleware_runs_around_scope_middleware() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = TestClient::new(
        Server::builder()
            .wrap(tracer(&log, "g1"))
            .wrap(tracer(&log, "g2"))
            .routes(routes![health])
            .scope(
                Scope::new("/api")
                    .wrap(tracer(&log, "a1"))
                    .wrap(tracer(&log, "a2"))
                    .routes(routes![item])
                    .scope(
                        Scope::new("/v2")
                            .routes(routes![root])
                            .wrap(tracer(&log, "v2")),
                    ),
            ),
    )
    .unwrap();
    assert_eq!(client.get("/api/items/1").send().status(), StatusCode::OK);
    assert_eq!(
        take(&log),
        ["g1>", "g2>", "a1>", "a2>", "<a2 200", "<a1 200", "<g2 200", "<g1 200"]
    );
    assert_eq!(client.get("/api/v2").send().text(), "root /api/v2");
    assert_eq!(
        take(&log),
        [
            "g1>", "g2>", "a1>", "a2>", "v2>", "<v2 200", "<a2 200", "<a1 200", "<g2 200",
            "<g1 200"
        ]
    );
    assert_eq!(client.get("/health").send().status(), StatusCode::OK);
    assert_eq!(take(&log), ["g1>", "g2>", "<g2 200", "<g1 200"]);
}

/// A scope's middleware runs for its routes (HEAD, rejections and panics
/// included), never for another scope's routes nor for what the router
/// answers by itself under the prefix: 404, 405, automatic OPTIONS.
#[test]
fn scope_middleware_sees_only_requests_routed_to_the_scope() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = TestClient::new(
        Server::builder()
            .wrap(tracer(&log, "g"))
            .routes(routes![health])
            .scope(
                Scope::new("/api")
                    .routes(routes![item, list, boom])
                    .wrap(tracer(&log, "api")),
            )
            .scope(
                Scope::new("/other")
                    .routes(routes![root])
                    .wrap(tracer(&log, "other")),
            ),
    )
    .unwrap();
    let seen = |method: &str, target: &str, status: u16| {
        let method = method.parse().unwrap();
        let response = client.request(method, target).send();
        assert_eq!(response.status().as_u16(), status, "{target}");
        take(&log)
    };
    let inside = |status: u16| {
        vec![
            "g>".to_owned(),
            "api>".to_owned(),
            format!("<api {status}"),
            format!("<g {status}"),
        ]
    };
    let outside = |status: u16| vec!["g>".to_owned(), format!("<g {status}")];

    assert_eq!(seen("GET", "/api/items/1", 200), inside(200));
    assert_eq!(seen("HEAD", "/api/items/1", 200), inside(200));
    assert_eq!(seen("GET", "/api/items/x", 400), inside(400));
    assert_eq!(seen("GET", "/api/list?page=x", 400), inside(400));
    assert_eq!(seen("GET", "/api/boom", 500), inside(500));
    assert_eq!(seen("GET", "/api/nothing", 404), outside(404));
    assert_eq!(seen("GET", "/api", 404), outside(404));
    assert_eq!(seen("DELETE", "/api/items/1", 405), outside(405));
    assert_eq!(seen("OPTIONS", "/api/items/1", 204), outside(204));
    assert_eq!(seen("GET", "/health", 200), outside(200));
    assert_eq!(
        seen("GET", "/other", 200),
        ["g>", "other>", "<other 200", "<g 200"]
    );
}

/// An auth middleware on a scope answers 401 without calling the route,
/// while a scope's panic reaches its middleware as the 500 that closes
/// the connection.
#[test]
fn scope_middleware_can_answer_alone_and_sees_panics_as_500() {
    fn key(req: &mut Request, next: Next<'_>) -> Response {
        match req.header("x-api-key") {
            Some("k") => next.run(req),
            _ => Response::from(StatusCode::UNAUTHORIZED),
        }
    }
    let client = TestClient::new(
        Server::builder().scope(Scope::new("/api").routes(routes![item, boom]).wrap(key)),
    )
    .unwrap();
    assert_eq!(
        client.get("/api/items/1").send().status(),
        StatusCode::UNAUTHORIZED
    );
    let ok = client.get("/api/items/1").header("x-api-key", "k").send();
    assert_eq!(ok.text(), "item 1 /api/items/{id}");
    let panicked = client.get("/api/boom").header("x-api-key", "k").send();
    assert_eq!(panicked.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(panicked.header("connection"), Some("close"));
}

/// Scope middleware sees errors in the form `error_body` gives them, as
/// server-wide middleware does.
#[test]
fn scope_middleware_sees_rendered_errors() {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    let client = TestClient::new(
        Server::builder()
            .error_body(|status, message| {
                Response::json(format!("{{\"error\":{message:?}}}")).with_status(status)
            })
            .scope(Scope::new("/api").routes(routes![item]).wrap(
                move |req: &mut Request, next: Next<'_>| {
                    let response = next.run(req);
                    let content_type = response.headers().get("content-type").cloned();
                    seen.lock().unwrap().push(content_type);
                    response
                },
            )),
    )
    .unwrap();
    let response = client.get("/api/items/x").send();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.text(),
        r#"{"error":"invalid path parameter `id`: expected u64"}"#
    );
    assert_eq!(
        *bodies.lock().unwrap(),
        [Some("application/json".parse().unwrap())]
    );
}

#[route("GET /items")]
fn items_get() -> &'static str {
    "all items"
}

#[route("POST /items")]
fn items_post() -> StatusCode {
    StatusCode::CREATED
}

#[route("DELETE /items")]
fn items_delete() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// One path served by the top level and two scopes (with other methods):
/// each method reaches its own route, and `Allow` lists them all.
#[test]
fn allow_405_and_options_span_scopes_sharing_a_path() {
    let client = TestClient::new(
        Server::builder()
            .routes(routes![health])
            .scope(Scope::new("/api").routes(routes![items_get]))
            .scope(Scope::new("/api").routes(routes![items_post]))
            .scope(Scope::new("/").routes(routes![items_delete])),
    )
    .unwrap();
    assert_eq!(client.get("/api/items").send().text(), "all items");
    assert_eq!(
        client.post("/api/items").send().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        client.delete("/items").send().status(),
        StatusCode::NO_CONTENT
    );

    let wrong = client.request("PUT".parse().unwrap(), "/api/items").send();
    assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    let options = client.options("/api/items").send();
    assert_eq!(options.status(), StatusCode::NO_CONTENT);
    assert_eq!(options.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    assert_eq!(
        client.options("*").send().header("allow"),
        Some("GET, HEAD, POST, DELETE, OPTIONS")
    );
}

fn build_error(builder: pool_server::Builder) -> String {
    let err = TestClient::new(builder).unwrap_err();
    assert!(err.is_config(), "{err}");
    err.to_string()
}

#[route("GET /api/items/{key}")]
fn top_level_item(key: String) -> String {
    key
}

#[test]
fn clashes_across_scopes_fail_build_naming_both_routes() {
    let message = build_error(
        Server::builder()
            .routes(routes![top_level_item])
            .scope(Scope::new("/api").routes(routes![item])),
    );
    assert_eq!(
        message,
        "invalid server configuration: routes `scopes::top_level_item` (GET /api/items/{key}) and \
         `scopes::item` (GET /api/items/{id}, in scope `/api`) have the same method and \
         equivalent paths; remove or change one of them"
    );
    let message = build_error(
        Server::builder()
            .scope(Scope::new("/a").routes(routes![item]))
            .scope(Scope::new("/b").scope(Scope::new("/a").routes(routes![item])))
            .scope(Scope::new("/b/a").routes(routes![item])),
    );
    assert!(
        message.contains(
            "routes `scopes::item` (GET /b/a/items/{id}, in scope `/b/a`) and `scopes::item` \
             (GET /b/a/items/{id}, in scope `/b/a`)"
        ),
        "{message}"
    );
    // A scope's `/` is the prefix, so it clashes with a route there.
    let message = build_error(
        Server::builder()
            .routes(routes![items_get])
            .scope(Scope::new("/items").routes(routes![root])),
    );
    assert!(
        message.contains("(GET /items, in scope `/items`)"),
        "{message}"
    );
}

#[test]
fn bad_prefixes_fail_build() {
    let cases = [
        ("api", "the prefix must start with `/`: write `/api`"),
        ("", "the prefix must start with `/`"),
        ("/api/", "the prefix cannot end with `/`: write `/api`"),
        ("/a//b", "empty segment"),
        ("/users/{id}", "cannot hold parameters"),
        ("/a?b", "query or a fragment"),
        ("/a b", "cannot hold ` `"),
        ("/caf\u{e9}", "percent-encode it"),
    ];
    for (prefix, expected) in cases {
        let message =
            build_error(Server::builder().scope(Scope::new(prefix).routes(routes![item])));
        assert!(
            message.contains(&format!("scope `{prefix}`: ")) && message.contains(expected),
            "{prefix}: {message}"
        );
    }
}

#[test]
fn scope_routes_need_their_state() {
    #[route("GET /hits")]
    fn hits(counter: State<AtomicU64>) -> String {
        counter.load(Ordering::SeqCst).to_string()
    }
    let message = build_error(Server::builder().scope(Scope::new("/api").routes(routes![hits])));
    assert!(
        message.contains(
            "route `scopes::hits` (GET /api/hits, in scope `/api`) \
             needs state `AtomicU64`"
        ),
        "{message}"
    );
}

#[fallback]
fn not_found(req: &Request, misses: State<AtomicU64>, pattern: Pattern) -> (StatusCode, String) {
    let n = misses.fetch_add(1, Ordering::SeqCst) + 1;
    let text = format!("no {} ({n}, pattern {:?})", req.path(), pattern.0);
    (StatusCode::NOT_FOUND, text)
}

#[fallback]
fn api_not_found(req: &Request) -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, format!("no API at {}", req.path()))
}

#[test]
fn the_fallback_takes_extractors() {
    let client = TestClient::new(
        Server::builder()
            .state(AtomicU64::new(0))
            .routes(routes![health, not_found]),
    )
    .unwrap();
    assert_eq!(client.get("/health").send().text(), "ok");
    let missing = client.get("/nope?x=1").send();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.text(), "no /nope (1, pattern \"\")");
    assert_eq!(
        client.get("/again").send().text(),
        "no /again (2, pattern \"\")"
    );
    // A known path with another method is still the router's 405.
    assert_eq!(
        client.delete("/health").send().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );

    // Alone, it answers everything.
    let alone = TestClient::new(Server::builder().routes(routes![api_not_found])).unwrap();
    assert_eq!(alone.get("/x").send().text(), "no API at /x");
}

#[test]
fn fallback_mistakes_fail_build() {
    let message = build_error(Server::builder().routes(routes![health, not_found]));
    assert!(
        message.contains("route `scopes::not_found` (fallback) needs state `AtomicU64`"),
        "{message}"
    );
    let message = build_error(
        Server::builder()
            .state(AtomicU64::new(0))
            .handler(|_| Response::text("closure"))
            .routes(routes![not_found]),
    );
    assert!(
        message.contains(
            "`Builder::handler` and `scopes::not_found` (#[fallback]) both answer the paths no route knows"
        ),
        "{message}"
    );
    let message = build_error(
        Server::builder()
            .routes(routes![api_not_found])
            .scope(Scope::new("/api").routes(routes![item, api_not_found]))
            .scope(Scope::new("/api").routes(routes![api_not_found])),
    );
    assert!(
        message.contains(
            "`scopes::api_not_found` and `scopes::api_not_found` (#[fallback]) both answer the paths under `/api`"
        ),
        "{message}"
    );
}

/// A scope's fallback answers the unknown paths under its prefix, inside
/// its middleware; the longest prefix wins, between scopes and mounts.
#[test]
fn a_scope_fallback_answers_under_its_prefix_inside_its_middleware() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "file a").unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = TestClient::new(
        Server::builder()
            .state(AtomicU64::new(0))
            .routes(routes![not_found])
            .serve_dir("/", dir.path())
            .serve_dir("/api/files", dir.path())
            .scope(
                Scope::new("/api")
                    .routes(routes![item, api_not_found])
                    .wrap(tracer(&log, "api")),
            ),
    )
    .unwrap();
    let missing = client.get("/api/nothing").send();
    assert_eq!(missing.text(), "no API at /api/nothing");
    assert_eq!(take(&log), ["api>", "<api 404"]);
    assert_eq!(client.get("/api").send().text(), "no API at /api");
    assert_eq!(take(&log), ["api>", "<api 404"]);
    // The longer mount wins under /api/files; the root mount loses to /api.
    assert_eq!(client.get("/api/files/a.txt").send().text(), "file a");
    assert_eq!(client.get("/a.txt").send().text(), "file a");
    assert!(take(&log).is_empty());
    // 405 and OPTIONS under the prefix are still the router's.
    assert_eq!(
        client.delete("/api/items/1").send().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert!(take(&log).is_empty());
}

#[test]
fn without_mounts_the_server_fallback_takes_what_no_scope_covers() {
    let client = TestClient::new(
        Server::builder()
            .state(AtomicU64::new(0))
            .routes(routes![not_found])
            .scope(Scope::new("/api").routes(routes![item, api_not_found])),
    )
    .unwrap();
    assert_eq!(client.get("/api/x").send().text(), "no API at /api/x");
    assert_eq!(
        client.get("/apix").send().text(),
        "no /apix (1, pattern \"\")"
    );
}
