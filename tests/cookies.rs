//! Cookies and sessions (issue "What a browser-facing service expects"):
//! signed and private jars keyed from the server's state, their defaults,
//! and sessions in a private cookie, through the `TestClient` and on real
//! connections.

#[allow(dead_code)]
mod support;

use std::time::Duration;

use pool_server::cookies::{Cookie, CookieJar, Key, PrivateCookieJar, SignedCookieJar};
use pool_server::sessions::{Session, Sessions};
use pool_server::test::TestClient;
use pool_server::{header, route, routes, Builder, Response, Server, StatusCode};

use support::{serve, RawResponse};

#[route("POST /login/{user}")]
fn login(user: String, jar: SignedCookieJar) -> (SignedCookieJar, Response) {
    let redirect = Response::status_only(StatusCode::SEE_OTHER).with_header(header::LOCATION, "/");
    (jar.add(Cookie::new("user", user)), redirect)
}

#[route("GET /me")]
fn me(jar: SignedCookieJar) -> Result<String, (StatusCode, &'static str)> {
    match jar.get("user") {
        Some(user) => Ok(format!("hello {}", user.value())),
        None => Err((StatusCode::UNAUTHORIZED, "who are you?")),
    }
}

#[route("PUT /secret/{text}")]
fn hide(text: String, jar: PrivateCookieJar) -> PrivateCookieJar {
    jar.add(Cookie::new("secret", text))
}

#[route("GET /secret")]
fn reveal(jar: PrivateCookieJar) -> Option<String> {
    Some(jar.get("secret")?.value().to_owned())
}

#[route("GET /theme")]
fn theme(jar: CookieJar) -> (CookieJar, String) {
    let theme = jar.get("theme").map_or("light", |c| c.value()).to_owned();
    (jar.add(("theme", "dark")), theme)
}

#[route("POST /visit")]
fn visit(session: Session) -> String {
    let visits = session.get::<u32>("visits").unwrap_or(0) + 1;
    session.insert("visits", visits).unwrap();
    visits.to_string()
}

#[route("GET /visits")]
fn visits(session: Session) -> String {
    session.get::<u32>("visits").unwrap_or(0).to_string()
}

#[route("POST /logout")]
fn logout(session: Session) -> StatusCode {
    session.destroy();
    StatusCode::NO_CONTENT
}

/// Every route above, on `builder`, with a key for the jars and sessions.
fn app(builder: Builder, key: Key) -> Builder {
    builder
        .state(key.clone())
        .wrap(Sessions::new(key))
        .routes(routes![
            login, me, hide, reveal, theme, visit, visits, logout
        ])
}

/// `name=value` of the response's first `Set-Cookie`, as a browser sends
/// it back.
fn cookie_pair(response: &RawResponse) -> String {
    let field = response
        .header("set-cookie")
        .unwrap_or_else(|| panic!("no Set-Cookie in {response:?}"));
    field.split(';').next().unwrap().to_owned()
}

fn get(path: &str, cookie: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n").into_bytes()
}

fn post(path: &str, cookie: &str) -> Vec<u8> {
    let cookie = match cookie {
        "" => String::new(),
        cookie => format!("Cookie: {cookie}\r\n"),
    };
    format!("POST {path} HTTP/1.1\r\nHost: x\r\n{cookie}Content-Length: 0\r\n\r\n").into_bytes()
}

#[test]
fn a_route_with_a_keyed_jar_needs_a_key_to_build() {
    for (routes, route) in [(routes![me], "GET /me"), (routes![reveal], "GET /secret")] {
        let err = TestClient::new(Server::builder().routes(routes)).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&format!("({route}) needs state `Key`")),
            "{message}"
        );
    }
    let with_key = Server::builder()
        .state(Key::generate())
        .routes(routes![me, reveal]);
    assert!(TestClient::new(with_key).is_ok());
}

#[test]
fn a_session_route_without_the_middleware_answers_500() {
    let client = TestClient::new(Server::builder().routes(routes![visits])).unwrap();
    let response = client.get("/visits").send();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        response.text().contains("`Sessions` middleware"),
        "{response:?}"
    );
}

#[test]
fn jars_answer_with_the_routes_response_and_their_cookies() {
    let client = TestClient::new(app(Server::builder(), Key::generate())).unwrap();
    let login = client.post("/login/alice").send();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert_eq!(login.header(header::LOCATION), Some("/"));
    let fields: Vec<_> = login.headers().get_all(header::SET_COOKIE).iter().collect();
    assert_eq!(
        fields.len(),
        1,
        "no session cookie: the session was not touched"
    );
    assert!(fields[0]
        .to_str()
        .unwrap()
        .ends_with("alice; HttpOnly; SameSite=Lax; Path=/"));

    let theme = client
        .get("/theme")
        .header(header::COOKIE, "theme=solarized")
        .send();
    assert_eq!(theme.text(), "solarized");
    assert_eq!(
        theme.header(header::SET_COOKIE),
        Some("theme=dark; HttpOnly; SameSite=Lax; Path=/")
    );
}

/// Bad client input is an absent cookie, never an error.
#[test]
fn garbled_cookie_fields_are_absent_cookies() {
    let server = serve(|b| b.state(Key::generate()).routes(routes![me, reveal]));
    let mut client = server.client();
    for cookie in [
        "user",
        "=alice",
        "user=",
        "user=%",
        "user=%FF%FE",
        "user=é",
        ";;;",
        "user=aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8=alice",
    ] {
        let response = client.request(&get("/me", cookie));
        assert_eq!(response.status, 401, "{cookie}: {response:?}");
        let response = client.request(&get("/secret", &cookie.replace("user", "secret")));
        assert_eq!(response.status, 404, "{cookie}: {response:?}");
    }
}

#[test]
fn a_tampered_signed_cookie_is_absent() {
    let server = serve(|b| b.state(Key::generate()).routes(routes![login, me]));
    let mut client = server.client();
    let login = client.request(&post("/login/alice", ""));
    let cookie = cookie_pair(&login);
    // Readable by the client: the value follows its signature.
    assert!(cookie.ends_with("alice"), "{cookie}");

    let me = client.request(&get("/me", &cookie));
    assert_eq!(me.text(), "hello alice");
    for tampered in [
        cookie.replace("alice", "admin"),
        cookie.replace("alice", "alicf"),
        format!("{cookie}x"),
        "user=alice".to_owned(),
    ] {
        let me = client.request(&get("/me", &tampered));
        assert_eq!(me.status, 401, "{tampered} was believed: {me:?}");
    }
    // Signed with another key, by another server: absent too.
    let other = serve(|b| b.state(Key::generate()).routes(routes![me]));
    let me = other.client().request(&get("/me", &cookie));
    assert_eq!(me.status, 401);
}

#[test]
fn a_private_cookie_is_unreadable_on_the_wire() {
    let server = serve(|b| b.state(Key::generate()).routes(routes![hide, reveal]));
    let mut client = server.client();
    let text = "the-plaintext-42";
    let hidden =
        client.request(format!("PUT /secret/{text} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    assert_eq!(hidden.status, 200);
    let set_cookie = hidden.header("set-cookie").unwrap();
    assert!(set_cookie.starts_with("secret="), "{set_cookie}");
    let head = String::from_utf8_lossy(&hidden.head);
    // Nothing of the value shows (the head's Date has digits of its own,
    // and a ciphertext's base64 may hold any short run of letters).
    assert!(!head.contains("plaintext"), "{head}");

    let cookie = cookie_pair(&hidden);
    let revealed = client.request(&get("/secret", &cookie));
    assert_eq!(revealed.text(), text);
    // Changed by one character, it is gone.
    let value_start = "secret=".len();
    let mut flipped = cookie.into_bytes();
    flipped[value_start] = if flipped[value_start] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let flipped = String::from_utf8(flipped).unwrap();
    assert_eq!(client.request(&get("/secret", &flipped)).status, 404);
}

#[test]
fn a_session_survives_across_requests_on_one_connection() {
    let server = serve(|b| app(b, Key::generate()));
    let mut client = server.client();
    let first = client.request(&post("/visit", ""));
    assert_eq!(first.text(), "1");
    let mut cookie = cookie_pair(&first);
    assert!(cookie.starts_with("session="), "{cookie}");
    assert!(!first.header("set-cookie").unwrap().contains("visits"));

    for expected in ["2", "3"] {
        let next = client.request(&post("/visit", &cookie));
        assert_eq!(next.text(), expected);
        cookie = cookie_pair(&next);
    }
    let read = client.request(&get("/visits", &cookie));
    assert_eq!(read.text(), "3");
    assert_eq!(read.header("set-cookie"), None, "unchanged, not sent");

    let logout = client.request(&post("/logout", &cookie));
    assert_eq!(logout.status, 204);
    let removal = logout.header("set-cookie").unwrap();
    assert!(
        removal.starts_with("session=;") && removal.contains("Max-Age=0"),
        "{removal}"
    );
    // A fresh session from here on.
    let after = client.request(&post("/visit", ""));
    assert_eq!(after.text(), "1");
}

#[test]
fn an_expired_session_replayed_is_empty() {
    let server = serve(|b| {
        let key = Key::generate();
        b.wrap(Sessions::new(key).max_age(Duration::ZERO))
            .routes(routes![visit, visits])
    });
    let mut client = server.client();
    let first = client.request(&post("/visit", ""));
    assert_eq!(first.text(), "1");
    assert!(first.header("set-cookie").unwrap().contains("Max-Age=0"));
    // A client that ignores Max-Age and sends the cookie again gets an
    // empty session: the expiry is inside the encrypted cookie.
    let cookie = cookie_pair(&first);
    assert_eq!(client.request(&get("/visits", &cookie)).text(), "0");
    assert_eq!(client.request(&post("/visit", &cookie)).text(), "1");
}

#[test]
fn cookies_are_secure_only_when_a_trusted_proxy_says_https() {
    let set_cookies = |server: &support::Serve, proto: Option<&str>| {
        let proto = proto.map_or(String::new(), |p| format!("X-Forwarded-Proto: {p}\r\n"));
        let request =
            format!("POST /visit HTTP/1.1\r\nHost: x\r\n{proto}Content-Length: 0\r\n\r\n");
        let response = server.client().request(request.as_bytes());
        let mut fields = vec![response.header("set-cookie").unwrap().to_owned()];
        let theme = format!("GET /theme HTTP/1.1\r\nHost: x\r\n{proto}\r\n");
        let response = server.client().request(theme.as_bytes());
        fields.push(response.header("set-cookie").unwrap().to_owned());
        fields
    };
    let behind = serve(|b| app(b.trusted_proxies(["127.0.0.1"]), Key::generate()));
    for field in set_cookies(&behind, Some("https")) {
        assert!(field.contains("; Secure"), "{field}");
    }
    for field in set_cookies(&behind, Some("http"))
        .into_iter()
        .chain(set_cookies(&behind, None))
    {
        assert!(!field.contains("Secure"), "{field}");
    }
    // Nobody trusted: the client's own header is not believed.
    let direct = serve(|b| app(b, Key::generate()));
    for field in set_cookies(&direct, Some("https")) {
        assert!(!field.contains("Secure"), "{field}");
    }
}
