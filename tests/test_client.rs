//! The in-process `TestClient`: the real router, middleware,
//! extractors and error answers, with no socket.

use std::sync::atomic::{AtomicU64, Ordering};

use pool_server::test::TestClient;
use pool_server::{
    route, routes, stream, Json, Next, Request, Response, Server, State, StatusCode,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Note {
    text: String,
}

#[route("POST /notes")]
fn create(Json(note): Json<Note>, count: State<AtomicU64>) -> (StatusCode, Json<Note>) {
    count.fetch_add(1, Ordering::SeqCst);
    (StatusCode::CREATED, Json(note))
}

#[route("GET /notes/{id}")]
fn show(id: u64) -> String {
    format!("note {id}")
}

#[route("GET /live")]
fn live() -> Response {
    let (sender, body) = stream::channel(1024);
    std::thread::spawn(move || {
        for word in ["a", "b", "c"] {
            sender.send(word).unwrap();
        }
    });
    Response::from_stream(body)
}

#[route("GET /cut")]
fn cut() -> Response {
    let (sender, body) = stream::channel(1024);
    std::thread::spawn(move || {
        sender.send("half").unwrap();
        sender.abort();
    });
    Response::from_stream(body)
}

#[route("GET /boom")]
fn boom() -> &'static str {
    panic!("boom")
}

fn client() -> TestClient {
    TestClient::new(
        Server::builder()
            .state(AtomicU64::new(0))
            .wrap(|req: &mut Request, next: Next<'_>| next.run(req).with_header("x-seen", "yes"))
            .routes(routes![create, show, live, cut, boom]),
    )
    .unwrap()
}

#[test]
fn routes_extractors_and_json_answer_as_on_the_wire() {
    let client = client();
    let created = client
        .post("/notes")
        .json(&Note { text: "hi".into() })
        .send();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.json::<Note>().unwrap(), Note { text: "hi".into() });
    assert_eq!(created.header("x-seen"), Some("yes"));

    let bad = client
        .post("/notes")
        .header("content-type", "application/json")
        .body("{")
        .send();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    assert_eq!(client.get("/notes/7").send().text(), "note 7");
    assert_eq!(
        client.get("/notes/seven").send().status(),
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn the_router_s_own_answers_and_middleware_show() {
    let client = client();
    let missing = client.get("/nowhere").send();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.header("x-seen"), Some("yes"));
    let wrong = client.delete("/notes/1").send();
    assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong.header("allow").unwrap().contains("GET"));
    assert_eq!(
        client.options("/notes/1").send().status(),
        StatusCode::NO_CONTENT
    );
    let head = client.head("/notes/7").send();
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.bytes().is_empty());
    assert_eq!(
        client.get("/boom").send().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[test]
fn streamed_bodies_are_read_whole() {
    assert_eq!(client().get("/live").send().text(), "abc");
}

/// As a failing reader's: what came before the abort, and an error logged.
#[test]
fn an_aborted_stream_is_what_was_sent_before() {
    assert_eq!(client().get("/cut").send().text(), "half");
}

/// `error_body` gives every framework-made error one form, keeping the
/// headers the error needs; handlers' own answers are left alone.
#[test]
fn error_body_renders_framework_errors_as_json() {
    let client = TestClient::new(
        Server::builder()
            .state(AtomicU64::new(0))
            .error_body(|status, message| {
                Response::json(format!("{{\"error\":{message:?}}}")).with_status(status)
            })
            .routes(routes![create, show, boom]),
    )
    .unwrap();
    let cases = [
        (client.get("/nowhere").send(), 404, "not found"),
        (client.delete("/notes/1").send(), 405, "method not allowed"),
        (
            client.get("/notes/x").send(),
            400,
            "invalid path parameter `id`: expected u64",
        ),
        (client.get("/boom").send(), 500, "internal server error"),
    ];
    for (response, status, message) in cases {
        assert_eq!(response.status().as_u16(), status, "{response:?}");
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.text(), format!("{{\"error\":{message:?}}}"));
    }
    assert!(client.delete("/notes/1").send().header("allow").is_some());
    let bad_json = client
        .post("/notes")
        .header("content-type", "application/json")
        .body("{")
        .send();
    assert!(
        bad_json
            .text()
            .starts_with("{\"error\":\"invalid JSON body"),
        "{bad_json:?}"
    );
    // A syntax error inside an object names no field: the parser's place
    // (`?`) is no field of the value.
    let key_not_a_string = client
        .post("/notes")
        .header("content-type", "application/json")
        .body(r#"{"text": "a", 2: 3}"#)
        .send();
    assert_eq!(key_not_a_string.status(), StatusCode::BAD_REQUEST);
    assert!(
        !key_not_a_string.text().contains("field"),
        "{key_not_a_string:?}"
    );
    assert_eq!(client.get("/notes/7").send().text(), "note 7");
}

/// A `serve_dir` mount's errors get the form `error_body` gives the
/// router's, `Allow` kept on the 405; its files are left alone.
#[test]
fn error_body_renders_a_mount_s_errors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hello.txt"), "hello").unwrap();
    let client = TestClient::new(
        Server::builder()
            .error_body(|status, message| {
                Response::json(format!("{{\"error\":{message:?}}}")).with_status(status)
            })
            .serve_dir("/static", tmp.path()),
    )
    .unwrap();
    let cases = [
        (client.get("/nowhere").send(), 404, "not found"),
        (client.get("/static/missing.txt").send(), 404, "not found"),
        (
            client.post("/static/hello.txt").send(),
            405,
            "method not allowed",
        ),
        (client.get("/static/a%2fb").send(), 400, "invalid path"),
    ];
    for (response, status, message) in cases {
        assert_eq!(response.status().as_u16(), status, "{response:?}");
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.text(), format!("{{\"error\":{message:?}}}"));
    }
    let post = client.post("/static/hello.txt").send();
    assert_eq!(post.header("allow"), Some("GET, HEAD"), "{post:?}");
    let file = client.get("/static/hello.txt").send();
    assert_eq!(file.status(), StatusCode::OK, "{file:?}");
    assert_eq!(file.text(), "hello");
}

#[derive(Deserialize, Debug)]
struct Login {
    user: String,
    age: u8,
}

#[route("POST /login")]
fn login(pool_server::extract::Form(form): pool_server::extract::Form<Login>) -> String {
    format!("{} {}", form.user, form.age)
}

#[route("GET /search")]
fn search(pool_server::extract::Query(q): pool_server::extract::Query<Login>) -> String {
    format!("{} {}", q.user, q.age)
}

#[route("POST /login.json")]
fn login_json(Json(form): Json<Login>) -> String {
    format!("{} {}", form.user, form.age)
}

/// `Form` reads HTML form posts; rejections of `Form`, `Query` and `Json`
/// name the field at fault.
#[test]
fn forms_and_rejections_that_name_the_field() {
    let client =
        TestClient::new(Server::builder().routes(routes![login, search, login_json])).unwrap();
    let form = "application/x-www-form-urlencoded";
    let ok = client
        .post("/login")
        .header("content-type", form)
        .body("user=ann+b&age=7")
        .send();
    assert_eq!(ok.text(), "ann b 7");
    let cases = [
        (
            client
                .post("/login")
                .header("content-type", form)
                .body("user=ann&age=300")
                .send(),
            422,
            "invalid form body: field `age`: ",
        ),
        (
            client.post("/login").body("user=ann&age=3").send(),
            415,
            "expected a request",
        ),
        (
            client.get("/search?user=ann&age=x").send(),
            400,
            "invalid query string: field `age`: ",
        ),
        (
            client.get("/search?age=1").send(),
            400,
            "invalid query string: missing field `user`",
        ),
        (
            client.post("/login.json").json(&serde_json_value()).send(),
            422,
            "invalid JSON body: field `age`: ",
        ),
    ];
    for (response, status, start) in cases {
        assert_eq!(response.status().as_u16(), status, "{response:?}");
        assert!(response.text().starts_with(start), "{response:?}");
    }
}

/// `{"user": "ann", "age": "old"}`, written out so no JSON crate is needed.
fn serde_json_value() -> std::collections::BTreeMap<&'static str, &'static str> {
    [("user", "ann"), ("age", "old")].into_iter().collect()
}

#[route("GET /file")]
fn missing_file() -> std::io::Result<Response> {
    Response::file(std::fs::File::open("/nonexistent/pool-server-file")?)
}

/// A handler can use `?` on I/O: a missing file is 404.
#[test]
fn io_errors_answer_with_their_status() {
    let client = TestClient::new(Server::builder().routes(routes![missing_file])).unwrap();
    assert_eq!(client.get("/file").send().status(), StatusCode::NOT_FOUND);
}

#[route("POST /echo")]
fn echo(req: &Request, body: pool_server::Bytes) -> String {
    // The argument shares the request's buffer: no copy was made.
    let shared = body.as_ptr() == req.body().as_ptr();
    format!("{} {shared}", String::from_utf8_lossy(&body))
}

#[test]
fn a_bytes_argument_shares_the_request_body() {
    let client = TestClient::new(Server::builder().routes(routes![echo])).unwrap();
    assert_eq!(
        client.post("/echo").body("hello").send().text(),
        "hello true"
    );
}

static PRODUCER_SAW_CLIENT_GO: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[route("GET /forever")]
fn forever() -> Response {
    let (sender, body) = stream::channel(1024);
    std::thread::spawn(move || {
        let mut n = 0u64;
        while sender.send(format!("{n};")).is_ok() {
            n += 1;
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        PRODUCER_SAW_CLIENT_GO.store(true, Ordering::SeqCst);
    });
    Response::from_stream(body)
}

/// A stream that never ends is read a piece at a time; dropping it is the
/// client leaving, which the producer sees.
#[test]
fn an_endless_stream_is_read_in_pieces_and_left() {
    let client = TestClient::new(Server::builder().routes(routes![forever, show])).unwrap();
    let mut stream = client.get("/forever").open();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut seen = String::new();
    while !seen.contains("2;") {
        let chunk = stream
            .next_chunk(std::time::Duration::from_secs(5))
            .expect("the producer sends");
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(seen.starts_with("0;1;2;"), "{seen}");
    assert!(!stream.is_finished());
    drop(stream);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !PRODUCER_SAW_CLIENT_GO.load(Ordering::SeqCst) {
        assert!(
            std::time::Instant::now() < deadline,
            "the producer never saw the client go"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // A body that is not a stream comes whole, then the body has ended.
    let mut whole = client.get("/notes/4").open();
    assert_eq!(
        whole.next_chunk(std::time::Duration::ZERO).unwrap(),
        "note 4"
    );
    assert!(whole.is_finished());
}
