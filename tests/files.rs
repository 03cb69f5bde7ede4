//! Static files over real sockets: `Builder::serve_dir` and `ServeFile`
//! in a route, against a temporary directory. Conditional requests and
//! ranges (RFC 9110 §13-14), traversal attempts, index files and
//! redirects, dotfiles, precompressed siblings, and the order of routes,
//! mounts and the fallback.
//!
//! The tests named `..._bodies` (and the Content-Length of a GET) need
//! the event loop to send file bodies; everything else is decided by the
//! response head.

#[allow(dead_code)]
mod support;

use std::fs::{self, File};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pool_server::files::{ServeDir, ServeFile};
use pool_server::{route, routes, Request, Response, Server, State};

use support::{serve, RawResponse, Serve};

/// `Sun, 06 Nov 1994 08:49:37 GMT`, the modification time of every file.
const MTIME: u64 = 784_111_777;
const MTIME_TEXT: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
const BEFORE: &str = "Sun, 06 Nov 1994 08:49:36 GMT";
const AFTER: &str = "Sun, 06 Nov 1994 08:49:38 GMT";
const BODY: &str = "0123456789";
const SECRET: &str = "top secret";

fn write(path: PathBuf, contents: &str) {
    fs::write(&path, contents).unwrap();
    let file = File::options().write(true).open(&path).unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(MTIME))
        .unwrap();
}

/// `base/public` (served) and `base/secret.txt` (never served).
struct Site {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

fn site() -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_owned();
    let root = base.join("public");
    fs::create_dir_all(root.join("docs")).unwrap();
    fs::create_dir_all(root.join("api")).unwrap();
    write(root.join("hello.txt"), BODY);
    write(root.join("index.html"), "<h1>home</h1>");
    write(root.join("docs/index.html"), "<h1>docs</h1>");
    write(root.join("api/data.json"), "{\"from\":\"disk\"}");
    write(root.join(".env"), "SECRET=1");
    write(root.join("app.js"), "console.log(1)");
    write(root.join("app.js.br"), "BR");
    write(root.join("app.js.gz"), "GZIP");
    write(base.join("secret.txt"), SECRET);
    symlink(base.join("secret.txt"), root.join("link-out.txt")).unwrap();
    Site { _tmp: tmp, root }
}

/// The ETag `ServeDir` gives a file of `len` bytes modified at [`MTIME`].
fn etag(len: u64) -> String {
    format!("\"{len:x}-{:x}\"", u128::from(MTIME) * 1_000_000_000)
}

/// Sends `METHOD target` with the extra header lines `fields` on a new
/// connection and reads the answer.
fn send(server: &Serve, method: &str, target: &str, fields: &[(&str, &str)]) -> RawResponse {
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: x\r\n");
    for (name, value) in fields {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    let mut client = server.client();
    client.send(request.as_bytes());
    if method == "HEAD" {
        client.head_response()
    } else {
        client.response()
    }
}

fn get(server: &Serve, target: &str, fields: &[(&str, &str)]) -> RawResponse {
    send(server, "GET", target, fields)
}

fn serve_site(site: &Site, dir: impl FnOnce(ServeDir) -> ServeDir) -> Serve {
    let dir = dir(ServeDir::new(&site.root));
    serve(move |b| b.serve_dir("/static", dir))
}

#[test]
fn a_file_gets_its_type_validators_and_accept_ranges() {
    let site = site();
    let server = serve_site(&site, |d| d.cache_control("max-age=60"));
    let res = get(&server, "/static/hello.txt", &[]);
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(res.header("last-modified"), Some(MTIME_TEXT));
    assert_eq!(res.header("etag"), Some(etag(10).as_str()));
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    assert_eq!(res.header("cache-control"), Some("max-age=60"));
    let head = send(&server, "HEAD", "/static/hello.txt", &[]);
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.header("content-length"), Some("10"), "{head:?}");
    assert_eq!(head.header("etag"), Some(etag(10).as_str()));
}

/// The status and `Content-Range` of each conditional or range request.
#[test]
fn conditions_and_ranges_choose_the_status() {
    let site = site();
    let server = serve_site(&site, |d| d.cache_control("no-cache"));
    let ours = etag(10);
    let weak = format!("W/{ours}");
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, Option<&'a str>);
    let cases: &[Case<'_>] = &[
        (&[], 200, None),
        (&[("If-Match", &ours)], 200, None),
        (&[("If-Match", "*")], 200, None),
        (&[("If-Match", "\"other\"")], 412, None),
        (&[("If-Match", &weak)], 412, None),
        (&[("If-Unmodified-Since", BEFORE)], 412, None),
        (&[("If-Unmodified-Since", MTIME_TEXT)], 200, None),
        (&[("If-None-Match", &ours)], 304, None),
        (&[("If-None-Match", &weak)], 304, None),
        (&[("If-None-Match", "\"a\", \"b\"")], 200, None),
        (&[("If-None-Match", "*")], 304, None),
        (&[("If-Modified-Since", MTIME_TEXT)], 304, None),
        (&[("If-Modified-Since", BEFORE)], 200, None),
        (
            &[("If-None-Match", "\"other\""), ("If-Modified-Since", AFTER)],
            200,
            None,
        ),
        (&[("Range", "bytes=0-3")], 206, Some("bytes 0-3/10")),
        (&[("Range", "bytes=7-")], 206, Some("bytes 7-9/10")),
        (&[("Range", "bytes=-2")], 206, Some("bytes 8-9/10")),
        (&[("Range", "bytes=10-")], 416, Some("bytes */10")),
        (&[("Range", "bytes=0-1,5-6")], 200, None),
        (&[("Range", "bytes=5-1")], 200, None),
        (&[("Range", "rows=1-2")], 200, None),
        (
            &[("Range", "bytes=0-1"), ("If-Range", &ours)],
            206,
            Some("bytes 0-1/10"),
        ),
        (
            &[("Range", "bytes=0-1"), ("If-Range", MTIME_TEXT)],
            206,
            Some("bytes 0-1/10"),
        ),
        (
            &[("Range", "bytes=0-1"), ("If-Range", "\"old\"")],
            200,
            None,
        ),
        (&[("Range", "bytes=0-1"), ("If-Range", BEFORE)], 200, None),
        (
            &[("Range", "bytes=0-1"), ("If-None-Match", &ours)],
            304,
            None,
        ),
    ];
    for (fields, status, content_range) in cases {
        let res = get(&server, "/static/hello.txt", fields);
        assert_eq!(res.status, *status, "{fields:?}: {res:?}");
        assert_eq!(
            res.header("content-range"),
            *content_range,
            "{fields:?}: {res:?}"
        );
        if res.status == 304 {
            // RFC 9110 §15.4.5: the validators and Cache-Control, no body.
            assert_eq!(res.header("etag"), Some(ours.as_str()), "{res:?}");
            assert_eq!(res.header("last-modified"), Some(MTIME_TEXT), "{res:?}");
            assert_eq!(res.header("cache-control"), Some("no-cache"), "{res:?}");
            assert_eq!(res.header("content-length"), None, "{res:?}");
        }
        if res.status == 412 || res.status == 416 {
            assert_eq!(res.header("content-length"), Some("0"), "{res:?}");
        }
    }
    // HEAD: no range handling (§14.2), the length of the whole file.
    let head = send(
        &server,
        "HEAD",
        "/static/hello.txt",
        &[("Range", "bytes=0-1")],
    );
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.header("content-length"), Some("10"), "{head:?}");
}

/// RFC 9110 §13.1.5 and §8.8.2.2: `If-Range` with the file's
/// `Last-Modified` gets 206 only when that date is at least a second before
/// the response's `Date`; for a file changed in the same second as the
/// answer's `Date` (it could change again unseen) the whole file, 200.
#[test]
fn if_range_with_a_last_modified_of_this_second_gets_the_whole_file() {
    let site = site();
    let server = serve_site(&site, |d| d);
    let path = site.root.join("hello.txt");
    let ranged_at = |time: SystemTime| {
        let file = File::options().write(true).open(&path).unwrap();
        file.set_modified(time).unwrap();
        let head = send(&server, "HEAD", "/static/hello.txt", &[]);
        let last_modified = head.header("last-modified").unwrap().to_owned();
        let fields = [("Range", "bytes=0-1"), ("If-Range", &last_modified)];
        let res = get(&server, "/static/hello.txt", &fields);
        (last_modified, res)
    };

    let (_, old) = ranged_at(SystemTime::now() - Duration::from_secs(3600));
    assert_eq!(old.status, 206, "{old:?}");
    assert_eq!(old.text(), "01", "{old:?}");

    // Only a try whose answer is dated the second the file was modified
    // shows the rule; on a loaded machine the clock may move on first.
    for _ in 0..20 {
        let (last_modified, res) = ranged_at(SystemTime::now());
        if res.header("date") == Some(last_modified.as_str()) {
            assert_eq!(res.status, 200, "{res:?}");
            assert_eq!(res.header("content-range"), None, "{res:?}");
            assert_eq!(res.text(), BODY, "{res:?}");
            return;
        }
    }
    panic!("no answer was dated the second its file was modified in 20 tries");
}

/// Needs the engine to send file bodies.
#[test]
fn whole_files_and_ranges_send_their_bodies() {
    let site = site();
    let server = serve_site(&site, |d| d);
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        ("/static/hello.txt", &[], BODY),
        ("/static/hello.txt", &[("Range", "bytes=0-3")], "0123"),
        ("/static/hello.txt", &[("Range", "bytes=7-")], "789"),
        ("/static/hello.txt", &[("Range", "bytes=-2")], "89"),
        ("/static/hello.txt", &[("Range", "bytes=0-1,5-6")], BODY),
        ("/static/", &[], "<h1>home</h1>"),
        ("/static/docs/", &[], "<h1>docs</h1>"),
    ];
    for (target, fields, body) in cases {
        let res = get(&server, target, fields);
        assert!(res.status == 200 || res.status == 206, "{res:?}");
        let len = body.len().to_string();
        assert_eq!(
            res.header("content-length"),
            Some(len.as_str()),
            "{target} {fields:?}: {res:?}"
        );
        assert_eq!(res.text(), *body, "{target} {fields:?}: {res:?}");
    }
}

#[test]
fn other_methods_get_405_and_options_204_with_allow() {
    let site = site();
    let server = serve_site(&site, |d| d);
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let res = send(
            &server,
            method,
            "/static/hello.txt",
            &[("Content-Length", "0")],
        );
        assert_eq!(res.status, 405, "{method}: {res:?}");
        assert_eq!(res.header("allow"), Some("GET, HEAD"), "{method}");
    }
    let res = send(&server, "OPTIONS", "/static/hello.txt", &[]);
    assert_eq!(res.status, 204, "{res:?}");
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
}

/// With `error_body`, a mount's errors (404, 405, 400) get the body it
/// renders, as the router's 404 does, and the 405 keeps its `Allow`.
#[test]
fn error_body_renders_a_mount_s_errors() {
    let site = site();
    let root = site.root.clone();
    let server = serve(move |b| {
        b.error_body(|status, message| {
            Response::json(format!("{{\"error\":{message:?}}}")).with_status(status)
        })
        .serve_dir("/static", root)
    });
    let cases = [
        ("GET", "/nowhere", 404, "not found"),
        ("GET", "/static/missing.txt", 404, "not found"),
        ("GET", "/static/../secret.txt", 404, "not found"),
        ("POST", "/static/hello.txt", 405, "method not allowed"),
        ("GET", "/static/a%2fb", 400, "invalid path"),
    ];
    for (method, target, status, message) in cases {
        let res = send(&server, method, target, &[("Content-Length", "0")]);
        assert_eq!(res.status, status, "{method} {target}: {res:?}");
        assert_eq!(res.header("content-type"), Some("application/json"));
        assert_eq!(res.text(), format!("{{\"error\":{message:?}}}"));
        if status == 405 {
            assert_eq!(res.header("allow"), Some("GET, HEAD"), "{res:?}");
        }
    }
    assert_eq!(get(&server, "/static/hello.txt", &[]).text(), BODY);
}

/// Every way out of the directory is refused, and the secret beside it
/// never appears in an answer.
#[test]
fn traversal_attempts_are_refused() {
    let site = site();
    let server = serve_site(&site, |d| d);
    let targets = [
        "/static/../secret.txt",
        "/static/docs/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/.%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%2Fsecret.txt",
        "/static/docs%2f..%2f..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/..\\secret.txt",
        "/static/hello.txt%00.png",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/C:/Windows/win.ini",
        "/static/c%3a%5cWindows",
        "/static/link-out.txt",
        "/static/%ff",
    ];
    for target in targets {
        let res = get(&server, target, &[]);
        assert!(res.status == 400 || res.status == 404, "{target}: {res:?}");
        assert!(!res.text().contains(SECRET), "{target}: {res:?}");
    }
    // Followed only when asked.
    let open = serve_site(&site, |d| d.follow_symlinks_outside(true));
    let res = send(&open, "HEAD", "/static/link-out.txt", &[]);
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("content-length"), Some("10"), "{res:?}");
}

#[test]
fn directories_serve_their_index_or_redirect_to_the_slash() {
    let site = site();
    let server = serve_site(&site, |d| d);
    let cases: &[(&str, u16, Option<&str>)] = &[
        ("/static/", 200, None),
        ("/static/docs/", 200, None),
        ("/static", 308, Some("/static/")),
        ("/static/docs", 308, Some("/static/docs/")),
        ("/static/docs?page=2&x", 308, Some("/static/docs/?page=2&x")),
        ("/static/api/", 404, None),
        ("/static/hello.txt/", 404, None),
        ("/static/missing.txt", 404, None),
    ];
    for (target, status, location) in cases {
        let res = get(&server, target, &[]);
        assert_eq!(res.status, *status, "{target}: {res:?}");
        assert_eq!(res.header("location"), *location, "{target}: {res:?}");
        if *status == 200 {
            let content_type = res.header("content-type");
            assert_eq!(content_type, Some("text/html; charset=utf-8"), "{res:?}");
        }
    }
    let custom = serve_site(&site, |d| d.index("hello.txt"));
    let res = send(&custom, "HEAD", "/static/", &[]);
    assert_eq!(
        (res.status, res.header("content-length")),
        (200, Some("10"))
    );
    let none = serve_site(&site, ServeDir::no_index);
    assert_eq!(get(&none, "/static/", &[]).status, 404);
}

#[test]
fn dotfiles_are_404_unless_enabled() {
    let site = site();
    let hidden = serve_site(&site, |d| d);
    assert_eq!(get(&hidden, "/static/.env", &[]).status, 404);
    assert_eq!(get(&hidden, "/static/%2eenv", &[]).status, 404);
    let shown = serve_site(&site, |d| d.dotfiles(true));
    let res = send(&shown, "HEAD", "/static/.env", &[]);
    assert_eq!((res.status, res.header("content-length")), (200, Some("8")));
}

#[test]
fn precompressed_siblings_follow_accept_encoding() {
    let site = site();
    let server = serve_site(&site, |d| d.precompressed(true));
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("", None, "14"),
        ("gzip, deflate, br", Some("br"), "2"),
        ("gzip", Some("gzip"), "4"),
        ("br;q=0, gzip", Some("gzip"), "4"),
        ("gzip;q=1, br;q=0.8", Some("gzip"), "4"),
        ("*", Some("br"), "2"),
        ("*;q=0", None, "14"),
        ("identity", None, "14"),
    ];
    for (accept, coding, len) in cases {
        let fields: &[(&str, &str)] = if accept.is_empty() {
            &[]
        } else {
            &[("Accept-Encoding", accept)]
        };
        let res = send(&server, "HEAD", "/static/app.js", fields);
        assert_eq!(res.status, 200, "{accept:?}: {res:?}");
        assert_eq!(
            res.header("content-encoding"),
            *coding,
            "{accept:?}: {res:?}"
        );
        assert_eq!(
            res.header("content-length"),
            Some(*len),
            "{accept:?}: {res:?}"
        );
        assert_eq!(res.header("vary"), Some("accept-encoding"), "{res:?}");
        let content_type = res.header("content-type");
        assert_eq!(
            content_type,
            Some("text/javascript; charset=utf-8"),
            "{res:?}"
        );
    }
}

/// Needs the engine to send file bodies.
#[test]
fn precompressed_bodies_are_the_sibling_files() {
    let site = site();
    let server = serve_site(&site, |d| d.precompressed(true));
    let br = get(&server, "/static/app.js", &[("Accept-Encoding", "br")]);
    assert_eq!(br.text(), "BR", "{br:?}");
    let gz = get(&server, "/static/app.js", &[("Accept-Encoding", "gzip")]);
    assert_eq!(gz.text(), "GZIP", "{gz:?}");
}

#[route("GET /static/api/data.json")]
fn data() -> &'static str {
    "from the route"
}

#[route("POST /static/upload")]
fn upload() -> &'static str {
    "uploaded"
}

#[route("GET /favicon.ico")]
fn favicon(req: &Request, file: State<ServeFile>) -> Response {
    file.respond(req)
}

#[test]
fn routes_win_over_mounts_and_mounts_over_the_fallback() {
    let site = site();
    let root = site.root.clone();
    let server = serve(move |b| {
        b.routes(routes![data, upload])
            .serve_dir("/static", ServeDir::new(&root))
            .serve_dir(
                "/static/docs",
                ServeDir::new(root.join("docs")).cache_control("max-age=1"),
            )
            .handler(|_: &Request| Response::text("fallback"))
    });
    let route = get(&server, "/static/api/data.json", &[]);
    assert_eq!(
        (route.status, route.text().as_str()),
        (200, "from the route")
    );
    // The route's path with another method: the routes' 405.
    let res = send(&server, "PUT", "/static/upload", &[("Content-Length", "0")]);
    assert_eq!(
        (res.status, res.header("allow")),
        (405, Some("POST, OPTIONS")),
        "{res:?}"
    );
    let posted = send(
        &server,
        "POST",
        "/static/upload",
        &[("Content-Length", "0")],
    );
    assert_eq!(posted.text(), "uploaded");
    // Longest prefix first: /static/docs has its own Cache-Control.
    let docs = get(&server, "/static/docs/index.html", &[]);
    assert_eq!(docs.status, 200, "{docs:?}");
    assert_eq!(docs.header("cache-control"), Some("max-age=1"));
    let file = get(&server, "/static/hello.txt", &[]);
    assert_eq!((file.status, file.header("cache-control")), (200, None));
    // A mount answers its whole subtree, 404 included; the rest is the fallback's.
    assert_eq!(get(&server, "/static/missing", &[]).status, 404);
    assert_eq!(get(&server, "/staticx", &[]).text(), "fallback");
    assert_eq!(get(&server, "/other", &[]).text(), "fallback");
}

#[test]
fn serve_file_answers_from_a_route() {
    let site = site();
    let file = ServeFile::new(site.root.join("hello.txt"));
    let server = serve(|b| b.state(file).routes(routes![favicon]));
    let res = send(&server, "HEAD", "/favicon.ico", &[]);
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("content-length"), Some("10"));
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let ranged = get(&server, "/favicon.ico", &[("Range", "bytes=2-3")]);
    assert_eq!(
        ranged.header("content-range"),
        Some("bytes 2-3/10"),
        "{ranged:?}"
    );
}

#[test]
fn build_checks_every_mount() {
    let site = site();
    let bad: Vec<(&str, ServeDir, &str)> = vec![
        ("static", ServeDir::new(&site.root), "must start with `/`"),
        ("", ServeDir::new(&site.root), "must start with `/`"),
        ("/a?b", ServeDir::new(&site.root), "query"),
        ("/a//b", ServeDir::new(&site.root), "empty segment"),
        (
            "/s",
            ServeDir::new(site.root.join("nope")),
            "not a directory",
        ),
        (
            "/s",
            ServeDir::new(site.root.join("hello.txt")),
            "not a directory",
        ),
        (
            "/s",
            ServeDir::new(&site.root).cache_control("a\nb"),
            "cache_control",
        ),
        (
            "/s",
            ServeDir::new(&site.root).index("a/b"),
            "plain file name",
        ),
    ];
    for (prefix, dir, why) in bad {
        let err = Server::builder()
            .bind("127.0.0.1:0")
            .serve_dir(prefix, dir)
            .build()
            .unwrap_err();
        assert!(err.is_config(), "{prefix}: {err}");
        assert!(err.to_string().contains(why), "{prefix}: {err}");
    }
    let twice = Server::builder()
        .bind("127.0.0.1:0")
        .serve_dir("/s", site.root.as_path())
        .serve_dir("/s/", site.root.clone())
        .build()
        .unwrap_err();
    assert!(twice.to_string().contains("mounted twice"), "{twice}");
    // Paths convert into a ServeDir with the defaults.
    let root: &Path = &site.root;
    let ok = Server::builder()
        .bind("127.0.0.1:0")
        .serve_dir("/", root.to_str().unwrap())
        .build();
    assert!(ok.is_ok());
}
