//! Router behaviour, table-driven: each `Case` lists routes and the
//! requests to resolve against them.

use std::net::SocketAddr;

use http::{HeaderMap, Method, StatusCode, Version};

use super::route::ConstMessage;
use super::*;
use crate::application::extract::{path_param, RequestContext, Requirements, States};
use crate::application::into_response::IntoResponse;

/// Splits `/a/{b}/{*c}` into segments (leaked: routes hold `'static` data).
fn segments(pattern: &str) -> &'static [Segment] {
    let rest = pattern.strip_prefix('/').expect("patterns start with /");
    let segments: Vec<Segment> = rest
        .split('/')
        .map(|text| {
            if text.starts_with("{*") {
                Segment::Wildcard
            } else if text.starts_with('{') {
                Segment::Param
            } else {
                Segment::Static(Box::leak(text.to_owned().into_boxed_str()))
            }
        })
        .collect();
    Box::leak(segments.into_boxed_slice())
}

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

/// Answers with the matched pattern and the raw parameters.
fn echo(cx: &RequestContext<'_>) -> Response {
    let params: Vec<&str> = (0..cx.params.len())
        .filter_map(|i| cx.params.get(i))
        .collect();
    Response::text(format!("{} {}", cx.matched_path(), params.join(",")))
}

fn no_requirements(_: &mut Requirements) {}

fn route(method: &str, pattern: &str) -> Route {
    route_named(method, pattern, "app::f")
}

fn route_named(method: &str, pattern: &str, name: &str) -> Route {
    Route::new(
        leak(method),
        leak(pattern),
        segments(pattern),
        leak(name),
        echo,
        no_requirements,
    )
}

fn build(
    routes: Vec<Route>,
    states: States,
    mounts: Vec<Mount>,
    fallback: Option<Box<Handler>>,
) -> Result<Router, Error> {
    Router::new(Table {
        routes: routes
            .into_iter()
            .map(|route| Listed {
                route,
                body_limit: None,
            })
            .collect(),
        states,
        mounts,
        fallback,
        ..Table::default()
    })
}

fn router(routes: &[(&str, &str)]) -> Router {
    let routes = routes.iter().map(|(m, p)| route(m, p)).collect();
    build(routes, States::default(), Vec::new(), None).expect("valid routes")
}

fn request(method: Method, target: &str) -> Request {
    Request {
        method,
        target: target.into(),
        query_start: target.find('?'),
        version: Version::HTTP_11,
        headers: HeaderMap::new(),
        body: crate::request::Body::empty(),
        peer_addr: SocketAddr::from(([127, 0, 0, 1], 1)),
        forwarded: None,
        extensions: http::Extensions::new(),
        route_id: None,
        patterns: None,
    }
}

/// Routes and the requests to resolve against them. Each expectation is
/// `"<method> <pattern> <raw params, comma-separated>"` for a match, `"404"`,
/// `"405 <Allow>"` or `"204 <Allow>"`.
struct Case {
    routes: &'static [(&'static str, &'static str)],
    requests: &'static [(Method, &'static str, &'static str)],
}

impl Case {
    fn run(&self) {
        let router = router(self.routes);
        for (method, path, expected) in self.requests {
            let got = outcome(&router, method, path);
            assert_eq!(got, *expected, "{method} {path} in {:?}", self.routes);
        }
    }
}

fn outcome(router: &Router, method: &Method, path: &str) -> String {
    let mut params = Params::new();
    match router.resolve(method, path, &mut params) {
        Resolution::Route(route) => {
            let values: Vec<&str> = (0..params.len()).filter_map(|i| params.get(i)).collect();
            format!("{} {} {}", route.route.method, route.path, values.join(","))
        }
        Resolution::NotFound => "404".to_owned(),
        Resolution::MethodNotAllowed(allow) => format!("405 {}", allow.to_str().unwrap()),
        Resolution::Options(allow) => format!("204 {}", allow.to_str().unwrap()),
    }
}

const GET: Method = Method::GET;

#[test]
fn static_beats_param_beats_wildcard() {
    Case {
        routes: &[
            ("GET", "/users/new"),
            ("GET", "/users/{id}"),
            ("GET", "/users/{*rest}"),
            ("GET", "/users/{id}/posts"),
        ],
        requests: &[
            (GET, "/users/new", "GET /users/new "),
            (GET, "/users/42", "GET /users/{id} 42"),
            (GET, "/users/42/x", "GET /users/{*rest} 42/x"),
            (GET, "/users/42/posts", "GET /users/{id}/posts 42"),
            // The static branch leads nowhere, so the lookup backtracks.
            (GET, "/users/new/posts", "GET /users/{id}/posts new"),
            (GET, "/users/new/other", "GET /users/{*rest} new/other"),
            (GET, "/users", "404"),
            // A parameter matches a non-empty segment only.
            (GET, "/users/", "404"),
        ],
    }
    .run();
}

#[test]
fn root_trailing_slashes_and_wildcards() {
    Case {
        routes: &[
            ("GET", "/"),
            ("GET", "/a"),
            ("GET", "/a/"),
            ("GET", "/files/{*path}"),
            ("GET", "/{*all}"),
        ],
        requests: &[
            (GET, "/", "GET / "),
            (GET, "/a", "GET /a "),
            (GET, "/a/", "GET /a/ "),
            (GET, "/files/x/y/z.txt", "GET /files/{*path} x/y/z.txt"),
            (GET, "/files/dir/", "GET /files/{*path} dir/"),
            // The wildcard needs at least one byte; the root one takes it.
            (GET, "/files/", "GET /{*all} files/"),
            (GET, "/files", "GET /{*all} files"),
            (GET, "/b//c", "GET /{*all} b//c"),
            (GET, "*", "404"),
            (GET, "", "404"),
        ],
    }
    .run();
}

#[test]
fn params_are_raw_and_in_path_order() {
    Case {
        routes: &[
            ("GET", "/a/{x}/b/{y}/c/{z}/d/{w}/e/{v}/{*rest}"),
            ("GET", "/enc/{name}"),
        ],
        requests: &[
            (
                GET,
                "/a/1/b/2/c/3/d/4/e/5/6/7",
                "GET /a/{x}/b/{y}/c/{z}/d/{w}/e/{v}/{*rest} 1,2,3,4,5,6/7",
            ),
            (GET, "/enc/caf%C3%A9", "GET /enc/{name} caf%C3%A9"),
        ],
    }
    .run();
}

#[test]
fn methods_head_and_options() {
    Case {
        routes: &[
            ("GET", "/item"),
            ("POST", "/item"),
            ("DELETE", "/item"),
            ("PUT", "/only-put"),
            ("OPTIONS", "/custom"),
            ("HEAD", "/head"),
            ("GET", "/head"),
        ],
        requests: &[
            (Method::POST, "/item", "POST /item "),
            (Method::HEAD, "/item", "GET /item "),
            (
                Method::PATCH,
                "/item",
                "405 GET, HEAD, POST, DELETE, OPTIONS",
            ),
            (
                Method::OPTIONS,
                "/item",
                "204 GET, HEAD, POST, DELETE, OPTIONS",
            ),
            (Method::HEAD, "/only-put", "405 PUT, OPTIONS"),
            (GET, "/only-put", "405 PUT, OPTIONS"),
            (Method::OPTIONS, "/custom", "OPTIONS /custom "),
            (Method::HEAD, "/head", "HEAD /head "),
            (
                Method::OPTIONS,
                "*",
                "204 GET, HEAD, POST, PUT, DELETE, OPTIONS",
            ),
            (Method::OPTIONS, "/nowhere", "404"),
        ],
    }
    .run();
}

#[test]
fn wide_nodes_are_hashed_and_still_found() {
    let patterns: Vec<(&'static str, &'static str)> = (0..100)
        .map(|i| ("GET", leak(&format!("/r{i}/{{id}}"))))
        .collect();
    let router = router(&patterns);
    for i in [0, 7, 8, 9, 55, 99] {
        let path = format!("/r{i}/x");
        let mut params = Params::new();
        match router.resolve(&GET, &path, &mut params) {
            Resolution::Route(route) => assert_eq!(&*route.path, format!("/r{i}/{{id}}")),
            _ => panic!("{path} not found"),
        }
    }
    let mut params = Params::new();
    assert!(matches!(
        router.resolve(&GET, "/r100/x", &mut params),
        Resolution::NotFound
    ));
}

#[test]
fn clashing_routes_fail_naming_both_functions() {
    let clashes = [
        (("GET", "/u/{a}", "app::a"), ("GET", "/u/{b}", "app::b")),
        (("GET", "/", "app::a"), ("GET", "/", "app::b")),
        (("POST", "/f/{*x}", "app::a"), ("POST", "/f/{*y}", "app::b")),
    ];
    for ((m1, p1, n1), (m2, p2, n2)) in clashes {
        let routes = vec![route_named(m1, p1, n1), route_named(m2, p2, n2)];
        let err = build(routes, States::default(), Vec::new(), None).unwrap_err();
        assert!(err.is_config());
        assert_eq!(
            err.to_string(),
            format!(
                "invalid server configuration: routes `{n1}` ({m1} {p1}) and `{n2}` ({m2} {p2}) have the same method and equivalent paths; remove or change one of them"
            )
        );
    }
    let distinct = [
        (("GET", "/u/{a}"), ("POST", "/u/{b}")),
        (("GET", "/u/{a}"), ("GET", "/u/{*b}")),
        (("GET", "/u/{a}"), ("GET", "/u/a")),
        (("GET", "/u"), ("GET", "/u/")),
    ];
    for ((m1, p1), (m2, p2)) in distinct {
        let routes = vec![route(m1, p1), route(m2, p2)];
        assert!(
            build(routes.clone(), States::default(), Vec::new(), None).is_ok(),
            "{p1} {p2}"
        );
        assert!(!routes[0].clashes_with(&routes[1]));
    }
}

#[test]
#[should_panic(
    expected = "routes `app::a` (GET /u/{a}) and `app::b` (GET /u/{b}) have the same method"
)]
fn assert_distinct_names_both_functions() {
    assert_distinct(&[
        route_named("GET", "/x", "app::x"),
        route_named("GET", "/u/{a}", "app::a"),
        route_named("GET", "/u/{b}", "app::b"),
    ]);
}

#[test]
fn long_clash_messages_are_cut_at_a_character_boundary() {
    let name = leak(&"é".repeat(600));
    let message = ConstMessage::clash(
        &route_named("GET", "/", name),
        &route_named("GET", "/", name),
    );
    assert!(message.as_str().starts_with("routes `éé"));
    assert!(message.as_str().len() <= 1024);
}

fn needs_u32(needs: &mut Requirements) {
    needs.state::<u32>();
}

#[test]
fn state_is_checked_at_build() {
    let with_needs =
        |name: &str| Route::new("GET", "/s", segments("/s"), leak(name), echo, needs_u32);
    let err = build(
        vec![with_needs("app::counter")],
        States::default(),
        Vec::new(),
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid server configuration: route `app::counter` (GET /s) needs state `u32`; register one with `.state(...)`"
    );

    let mut states = States::default();
    states.insert(std::sync::Arc::new(7u32));
    assert!(build(vec![with_needs("app::counter")], states, Vec::new(), None).is_ok());

    let mut twice = States::default();
    twice.insert(std::sync::Arc::new(1u8));
    twice.insert(std::sync::Arc::new(2u8));
    let err = build(Vec::new(), twice, Vec::new(), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid server configuration: state `u8` is registered twice; register each type once"
    );
}

#[test]
fn malformed_hand_made_routes_are_rejected() {
    let bad = [
        Route::new("G T", "/", segments("/"), "app::f", echo, no_requirements),
        Route::new("GET", "", &[], "app::f", echo, no_requirements),
        Route::new(
            "CONNECT",
            "/",
            segments("/"),
            "app::f",
            echo,
            no_requirements,
        ),
        Route::new(
            "GET",
            "/{*a}/b",
            &[Segment::Wildcard, Segment::Static("b")],
            "app::f",
            echo,
            no_requirements,
        ),
        Route::new(
            "GET",
            "//b",
            &[Segment::Static(""), Segment::Static("b")],
            "app::f",
            echo,
            no_requirements,
        ),
    ];
    for route in bad {
        assert!(
            build(vec![route], States::default(), Vec::new(), None).is_err(),
            "{route:?}"
        );
    }
}

fn parse_id(cx: &RequestContext<'_>) -> Response {
    match path_param::<u64>(cx, 0, "id", "u64") {
        Ok(id) => Response::text(format!("id {id}")),
        Err(rejection) => rejection.into_response(),
    }
}

fn parse_name(cx: &RequestContext<'_>) -> Response {
    match path_param::<String>(cx, 0, "name", "String") {
        Ok(name) => Response::text(name),
        Err(rejection) => rejection.into_response(),
    }
}

#[test]
fn dispatch_parses_params_and_answers_errors() {
    let routes = vec![
        Route::new(
            "GET",
            "/id/{id}",
            segments("/id/{id}"),
            "app::id",
            parse_id,
            no_requirements,
        ),
        Route::new(
            "GET",
            "/name/{name}",
            segments("/name/{name}"),
            "app::name",
            parse_name,
            no_requirements,
        ),
    ];
    let router = build(routes, States::default(), Vec::new(), None).unwrap();
    let cases: &[(Method, &str, StatusCode, &str, Option<&str>)] = &[
        (GET, "/id/42", StatusCode::OK, "id 42", None),
        (GET, "/id/4%32", StatusCode::OK, "id 42", None),
        (GET, "/id/42?x=1", StatusCode::OK, "id 42", None),
        (
            GET,
            "/id/x",
            StatusCode::BAD_REQUEST,
            "invalid path parameter `id`: expected u64",
            None,
        ),
        (
            GET,
            "/id/-1",
            StatusCode::BAD_REQUEST,
            "invalid path parameter `id`: expected u64",
            None,
        ),
        (GET, "/name/caf%C3%A9", StatusCode::OK, "café", None),
        (GET, "/name/a%20b", StatusCode::OK, "a b", None),
        (
            GET,
            "/name/%FF",
            StatusCode::BAD_REQUEST,
            "invalid path parameter `name`: not UTF-8 once percent-decoded",
            None,
        ),
        (GET, "/nowhere", StatusCode::NOT_FOUND, "", None),
        (
            Method::POST,
            "/id/1",
            StatusCode::METHOD_NOT_ALLOWED,
            "",
            Some("GET, HEAD, OPTIONS"),
        ),
        (
            Method::OPTIONS,
            "/id/1",
            StatusCode::NO_CONTENT,
            "",
            Some("GET, HEAD, OPTIONS"),
        ),
    ];
    for (method, target, status, body, allow) in cases {
        let response = router.dispatch(&mut request(method.clone(), target));
        assert_eq!(response.status(), *status, "{method} {target}");
        assert_eq!(
            std::str::from_utf8(response.body()).unwrap(),
            *body,
            "{method} {target}"
        );
        assert_eq!(
            response
                .headers()
                .get(http::header::ALLOW)
                .map(|v| v.to_str().unwrap()),
            *allow,
            "{method} {target}"
        );
    }
}

#[test]
fn without_routes_everything_goes_to_the_fallback() {
    let fallback: Box<Handler> =
        Box::new(|req: &mut Request| Response::text(req.method().to_string()));
    let mut states = States::default();
    states.insert(std::sync::Arc::new(1u8));
    let router = build(Vec::new(), states, Vec::new(), Some(fallback)).unwrap();
    for (method, target) in [(Method::OPTIONS, "*"), (GET, "/"), (Method::PUT, "/x")] {
        let response = router.dispatch(&mut request(method.clone(), target));
        assert_eq!(response.body(), method.as_str().as_bytes());
    }
}

#[test]
fn unmatched_paths_go_to_the_fallback() {
    let fallback: Box<Handler> =
        Box::new(|req: &mut Request| Response::text(format!("fallback {}", req.path())));
    let router = build(
        vec![route("GET", "/known")],
        States::default(),
        Vec::new(),
        Some(fallback),
    )
    .unwrap();
    let body = |method: Method, target: &str| {
        let response = router.dispatch(&mut request(method, target));
        (
            response.status(),
            String::from_utf8(response.body().to_vec()).unwrap(),
        )
    };
    assert_eq!(body(GET, "/known"), (StatusCode::OK, "/known ".to_owned()));
    assert_eq!(
        body(GET, "/other"),
        (StatusCode::OK, "fallback /other".to_owned())
    );
    // A known path with another method is the router's answer, not the fallback's.
    assert_eq!(
        body(Method::POST, "/known").0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}
