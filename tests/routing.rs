//! Routing over real sockets: `#[route]` functions listed with
//! `routes!`, matching precedence, path parameters (percent-encoded and
//! bad), wildcards, 404/405 with `Allow`, `HEAD`, `OPTIONS`, the fallback
//! handler, shared state, query strings, JSON, the `build()` errors,
//! custom extractors and their order, `&HeaderMap`, `&Method`, and literal
//! braces.

#[allow(dead_code)]
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use pool_server::extract::{FromRequest, Query, Rejection, RequestContext};
use pool_server::{
    route, routes, HeaderMap, Json, Method, Request, Response, Routes, Server, State, StatusCode,
};

use support::{serve, RawResponse, Serve};

#[route("GET /")]
fn index() -> &'static str {
    "index"
}

#[route("GET /users/new")]
fn new_user() -> &'static str {
    "new user form"
}

#[route("GET /users/{id}")]
fn user(id: u64) -> String {
    format!("user {id}")
}

#[route("GET /users/{id}/posts")]
fn posts(id: String) -> String {
    format!("posts of {id}")
}

#[route("GET /users/{*rest}")]
fn users_rest(rest: String) -> String {
    format!("users wildcard {rest}")
}

#[route("POST /users")]
fn create_user(req: &Request) -> (StatusCode, Vec<u8>) {
    (StatusCode::CREATED, req.body().to_vec())
}

#[route("DELETE /users/{id}")]
fn delete_user(id: u64) -> StatusCode {
    let _ = id;
    StatusCode::NO_CONTENT
}

#[route("GET /names/{name}")]
fn name(name: String) -> String {
    name
}

#[route("GET /files/{*path}")]
fn file(path: String) -> String {
    format!("file {path}")
}

#[route("GET /maybe/{id}")]
fn maybe(id: u32) -> Option<&'static str> {
    (id == 1).then_some("one")
}

#[route("GET /matched/{id}")]
fn matched(id: String, req: &Request) -> String {
    format!("{id} at {}", req.path())
}

fn table() -> Routes {
    routes![
        index,
        new_user,
        user,
        posts,
        users_rest,
        create_user,
        delete_user,
        name,
        file,
        maybe,
        matched,
    ]
}

fn serve_table() -> Serve {
    serve(|b| b.routes(table()))
}

/// Sends `method target` with `extra` header lines and `body` on a new
/// connection and reads the response.
fn send(server: &Serve, method: &str, target: &str, extra: &str, body: &[u8]) -> RawResponse {
    let mut client = server.client();
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    client.send(&request);
    if method == "HEAD" {
        client.head_response()
    } else {
        client.response()
    }
}

fn get(server: &Serve, target: &str) -> RawResponse {
    send(server, "GET", target, "", b"")
}

#[track_caller]
fn assert_answer(response: &RawResponse, status: u16, body: &str) {
    assert_eq!(
        (response.status, response.text().as_str()),
        (status, body),
        "{response:?}"
    );
}

#[test]
fn static_segments_beat_params_which_beat_wildcards() {
    let server = serve_table();
    let cases = [
        ("/", "index"),
        ("/users/new", "new user form"),
        ("/users/42", "user 42"),
        ("/users/42/posts", "posts of 42"),
        // `/users/new` has no `posts` child: the lookup falls back to `{id}`.
        ("/users/new/posts", "posts of new"),
        ("/users/42/x/y", "users wildcard 42/x/y"),
    ];
    for (target, body) in cases {
        assert_answer(&get(&server, target), 200, body);
    }
}

#[test]
fn path_params_are_percent_decoded_then_parsed() {
    let server = serve_table();
    let cases = [
        ("/users/007", 200, "user 7"),
        ("/users/4%32", 200, "user 42"),
        ("/names/caf%C3%A9", 200, "café"),
        ("/names/a%20b%2Fc", 200, "a b/c"),
        ("/names/100%", 200, "100%"),
        ("/users/42?ignored=query", 200, "user 42"),
        (
            "/users/abc",
            400,
            "invalid path parameter `id`: expected u64",
        ),
        (
            "/users/18446744073709551616",
            400,
            "invalid path parameter `id`: expected u64",
        ),
        (
            "/names/%FF",
            400,
            "invalid path parameter `name`: not UTF-8 once percent-decoded",
        ),
    ];
    for (target, status, body) in cases {
        assert_answer(&get(&server, target), status, body);
    }
}

#[test]
fn wildcards_take_the_rest_of_the_path() {
    let server = serve_table();
    assert_answer(&get(&server, "/files/a/b/c.txt"), 200, "file a/b/c.txt");
    assert_answer(&get(&server, "/files/dir/"), 200, "file dir/");
    // A wildcard matches at least one byte.
    assert_answer(&get(&server, "/files/"), 404, "");
    assert_answer(&get(&server, "/files"), 404, "");
}

#[test]
fn unknown_paths_are_404_and_other_methods_405_with_allow() {
    let server = serve_table();
    assert_answer(&get(&server, "/nowhere"), 404, "");
    assert_answer(
        &get(&server, "/users/new/x/y"),
        200,
        "users wildcard new/x/y",
    );

    let response = send(&server, "PUT", "/users/7", "", b"x");
    assert_eq!(response.status, 405, "{response:?}");
    assert_eq!(response.header("allow"), Some("GET, HEAD, DELETE, OPTIONS"));

    // `/users` is known (for POST), so any other method is 405.
    let response = send(&server, "GET", "/users", "", b"");
    assert_eq!(response.status, 405, "{response:?}");
    assert_eq!(response.header("allow"), Some("POST, OPTIONS"));
    let response = send(&server, "DELETE", "/users", "", b"");
    assert_eq!(response.status, 405, "{response:?}");
    assert_eq!(response.header("allow"), Some("POST, OPTIONS"));
}

#[test]
fn head_is_answered_by_the_get_route_without_a_body() {
    let server = serve_table();
    let get = get(&server, "/users/12345");
    let head = send(&server, "HEAD", "/users/12345", "", b"");
    assert_eq!(head.status, 200, "{head:?}");
    assert!(head.body.is_empty(), "{head:?}");
    assert_eq!(head.header("content-length"), get.header("content-length"));
    assert_eq!(
        head.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[test]
fn options_is_204_with_allow() {
    let server = serve_table();
    let response = send(&server, "OPTIONS", "/users/7", "", b"");
    assert_eq!(response.status, 204, "{response:?}");
    assert_eq!(response.header("allow"), Some("GET, HEAD, DELETE, OPTIONS"));
    assert!(response.body.is_empty());

    let response = send(&server, "OPTIONS", "*", "", b"");
    assert_eq!(response.status, 204, "{response:?}");
    assert_eq!(
        response.header("allow"),
        Some("GET, HEAD, POST, DELETE, OPTIONS")
    );

    let response = send(&server, "OPTIONS", "/nowhere", "", b"");
    assert_eq!(response.status, 404, "{response:?}");
}

#[test]
fn return_forms_reach_the_wire() {
    let server = serve_table();
    let created = send(&server, "POST", "/users", "", b"ann");
    assert_answer(&created, 201, "ann");
    assert_eq!(
        created.header("content-type"),
        Some("application/octet-stream")
    );
    assert_answer(&send(&server, "DELETE", "/users/3", "", b""), 204, "");
    assert_answer(&get(&server, "/maybe/1"), 200, "one");
    assert_answer(&get(&server, "/maybe/2"), 404, "");
    assert_answer(
        &get(&server, "/matched/x%20y"),
        200,
        "x y at /matched/x%20y",
    );
}

#[test]
fn unmatched_paths_go_to_the_fallback_handler() {
    let server = serve(|b| {
        b.routes(table())
            .handler(|req: &Request| Response::text(format!("fallback for {}", req.path())))
    });
    assert_answer(&get(&server, "/users/1"), 200, "user 1");
    assert_answer(&get(&server, "/elsewhere"), 200, "fallback for /elsewhere");
    // A known path with another method is the router's 405, not the fallback.
    assert_eq!(send(&server, "PUT", "/users/1", "", b"").status, 405);
}

#[route("POST /hits")]
fn hit(hits: State<AtomicU64>) -> String {
    (hits.fetch_add(1, Ordering::SeqCst) + 1).to_string()
}

#[route("GET /hits")]
fn hit_count(hits: State<AtomicU64>, greeting: Option<State<String>>) -> String {
    let greeting = greeting.map_or_else(|| "no greeting".to_owned(), |g| g.to_string());
    format!("{} hits, {greeting}", hits.load(Ordering::SeqCst))
}

#[test]
fn state_is_shared_by_every_request() {
    let server = serve(|b| b.state(AtomicU64::new(0)).routes(routes![hit, hit_count]));
    for expected in ["1", "2", "3"] {
        assert_answer(&send(&server, "POST", "/hits", "", b""), 200, expected);
    }
    assert_answer(&get(&server, "/hits"), 200, "3 hits, no greeting");

    let server = serve(|b| {
        b.state(AtomicU64::new(10))
            .state(String::from("hello"))
            .routes(routes![hit_count])
    });
    assert_answer(&get(&server, "/hits"), 200, "10 hits, hello");
}

#[test]
fn missing_state_is_a_build_error() {
    let err = Server::builder()
        .bind("127.0.0.1:0")
        .routes(routes![hit])
        .build()
        .unwrap_err();
    assert!(err.is_config(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("`routing::hit` (POST /hits) needs state `AtomicU64`"),
        "{message}"
    );
}

#[test]
fn clashing_routes_across_lists_are_a_build_error() {
    #[route("GET /users/{name}")]
    fn user_by_name(name: String) -> String {
        name
    }

    let err = Server::builder()
        .bind("127.0.0.1:0")
        .routes(table())
        .routes(routes![user_by_name])
        .build()
        .unwrap_err();
    assert!(err.is_config(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("`routing::user` (GET /users/{id}) and `")
            && message.contains("::user_by_name` (GET /users/{name}) have the same method"),
        "{message}"
    );
}

#[route("GET /search")]
fn search(query: Query<HashMap<String, String>>) -> String {
    let mut pairs: Vec<_> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    pairs.join("&")
}

#[route("GET /pages")]
fn pages(query: Query<HashMap<String, u32>>) -> String {
    format!("page {}", query.get("page").copied().unwrap_or(1))
}

#[route("POST /sum")]
fn sum(Json(numbers): Json<Vec<i64>>) -> (StatusCode, Json<HashMap<&'static str, i64>>) {
    let total = numbers.iter().sum();
    (StatusCode::OK, Json(HashMap::from([("sum", total)])))
}

#[test]
fn query_strings_and_json_bodies() {
    let server = serve(|b| b.routes(routes![search, pages, sum]));
    assert_answer(
        &get(&server, "/search?q=rust+http&page=2"),
        200,
        "page=2&q=rust http",
    );
    assert_answer(&get(&server, "/search"), 200, "");
    assert_answer(&get(&server, "/pages?page=3"), 200, "page 3");
    assert_answer(&get(&server, "/pages"), 200, "page 1");
    assert_answer(
        &get(&server, "/pages?page=three"),
        400,
        "invalid query string: field `page`: invalid digit found in string",
    );

    let json = "Content-Type: application/json\r\n";
    let response = send(&server, "POST", "/sum", json, b"[1, 2, 39]");
    assert_answer(&response, 200, r#"{"sum":42}"#);
    assert_eq!(response.header("content-type"), Some("application/json"));

    let response = send(&server, "POST", "/sum", "", b"[1]");
    assert_answer(
        &response,
        415,
        "expected a request with `Content-Type: application/json`",
    );
    let response = send(&server, "POST", "/sum", json, b"[1,");
    assert_eq!(response.status, 400, "{response:?}");
    assert!(
        response.text().starts_with("invalid JSON body: "),
        "{response:?}"
    );
    assert!(
        response.text().starts_with("invalid JSON body: "),
        "{response:?}"
    );
    let response = send(&server, "POST", "/sum", json, br#"{"a": 1}"#);
    assert_eq!(response.status, 422, "{response:?}");
    assert!(
        response.text().starts_with("invalid JSON body: "),
        "{response:?}"
    );
}

/// A user-defined extractor with its own rejection, as in
/// `pool-server-macros/tests/ui/pass/extractors.rs`.
struct Admin;

impl FromRequest<'_> for Admin {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'_>) -> Result<Self, Rejection> {
        match cx.request().header("x-admin") {
            Some("yes") => Ok(Admin),
            _ => Err(Rejection::new(StatusCode::FORBIDDEN, "admins only")),
        }
    }
}

#[route("DELETE /items/{id}")]
fn delete_item(_admin: Admin, id: u64) -> String {
    format!("deleted {id}")
}

#[route("GET /agent")]
fn agent(headers: &HeaderMap) -> String {
    let tags: Vec<_> = headers
        .get_all("x-tag")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    format!(
        "{:?} tags {tags:?}",
        headers.get("user-agent").map(|v| v.to_str().unwrap())
    )
}

#[route("GET /method")]
fn method(method: &Method) -> String {
    method.to_string()
}

#[route("GET /literal/{{braces}}")]
fn braces() -> &'static str {
    "{braces}"
}

#[test]
fn a_custom_extractor_rejects_with_its_own_response() {
    let server = serve(|b| b.routes(routes![delete_item]));
    let refused = send(&server, "DELETE", "/items/7", "", b"");
    assert_answer(&refused, 403, "admins only");
    assert_eq!(
        refused.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_answer(
        &send(&server, "DELETE", "/items/7", "X-Admin: no\r\n", b""),
        403,
        "admins only",
    );
    assert_answer(
        &send(&server, "DELETE", "/items/7", "X-Admin: yes\r\n", b""),
        200,
        "deleted 7",
    );
}

#[test]
fn header_map_and_method_extractors_see_the_request() {
    let server = serve(|b| b.routes(routes![agent, method]));
    assert_answer(
        &send(
            &server,
            "GET",
            "/agent",
            "user-AGENT: probe/1.0\r\nX-Tag: a\r\nx-tag: b\r\n",
            b"",
        ),
        200,
        r#"Some("probe/1.0") tags ["a", "b"]"#,
    );
    assert_answer(&get(&server, "/agent"), 200, "None tags []");
    assert_answer(&get(&server, "/method"), 200, "GET");
}

#[test]
fn doubled_braces_in_a_route_match_literal_braces() {
    let server = serve(|b| b.routes(routes![braces]));
    assert_answer(&get(&server, "/literal/{braces}"), 200, "{braces}");
    // Text segments match the path as sent, not percent-decoded.
    assert_answer(&get(&server, "/literal/%7Bbraces%7D"), 404, "");
    assert_answer(&get(&server, "/literal/braces"), 404, "");
}

/// Rejects with 401 unless `X-First: ok`.
struct First;

impl FromRequest<'_> for First {
    type Rejection = (StatusCode, &'static str);

    fn from_request(cx: &RequestContext<'_>) -> Result<Self, Self::Rejection> {
        match cx.request().header("x-first") {
            Some("ok") => Ok(First),
            _ => Err((StatusCode::UNAUTHORIZED, "first refused")),
        }
    }
}

/// Rejects with 403 unless `X-Second: ok`.
struct Second;

impl FromRequest<'_> for Second {
    type Rejection = (StatusCode, &'static str);

    fn from_request(cx: &RequestContext<'_>) -> Result<Self, Self::Rejection> {
        match cx.request().header("x-second") {
            Some("ok") => Ok(Second),
            _ => Err((StatusCode::FORBIDDEN, "second refused")),
        }
    }
}

/// Calls of the two functions below; only this test uses them.
static ORDERED_CALLS: AtomicU64 = AtomicU64::new(0);

#[route("GET /first-then-second")]
fn first_then_second(_first: First, _second: Second) -> &'static str {
    ORDERED_CALLS.fetch_add(1, Ordering::SeqCst);
    "both passed"
}

#[route("GET /second-then-first")]
fn second_then_first(_second: Second, _first: First) -> &'static str {
    ORDERED_CALLS.fetch_add(1, Ordering::SeqCst);
    "both passed"
}

#[test]
fn extractors_run_in_argument_order_and_the_first_rejection_wins() {
    let server = serve(|b| b.routes(routes![first_then_second, second_then_first]));
    let cases = [
        // headers, answer of /first-then-second, answer of /second-then-first
        ("", (401, "first refused"), (403, "second refused")),
        (
            "X-First: ok\r\n",
            (403, "second refused"),
            (403, "second refused"),
        ),
        (
            "X-Second: ok\r\n",
            (401, "first refused"),
            (401, "first refused"),
        ),
    ];
    for (headers, first_then_second, second_then_first) in cases {
        let response = send(&server, "GET", "/first-then-second", headers, b"");
        assert_answer(&response, first_then_second.0, first_then_second.1);
        let response = send(&server, "GET", "/second-then-first", headers, b"");
        assert_answer(&response, second_then_first.0, second_then_first.1);
    }
    // A rejected request never reached the function.
    assert_eq!(ORDERED_CALLS.load(Ordering::SeqCst), 0);

    let both = "X-First: ok\r\nX-Second: ok\r\n";
    for target in ["/first-then-second", "/second-then-first"] {
        assert_answer(&send(&server, "GET", target, both, b""), 200, "both passed");
    }
    assert_eq!(ORDERED_CALLS.load(Ordering::SeqCst), 2);
}
