//! What `ServeFile` and `ServeDir` build, checked on the `Response` itself
//! (status, headers, and which bytes of which file the body is), against
//! files in a temporary directory.

use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Version};

use super::*;

/// `Sun, 06 Nov 1994 08:49:37 GMT`, the modification time of every file.
const MTIME: u64 = 784_111_777;
const MTIME_TEXT: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
const BODY: &str = "0123456789";

fn request(method: Method, target: &str, fields: &[(&str, &str)]) -> Request {
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
        headers.append(name, HeaderValue::from_str(value).unwrap());
    }
    Request {
        method,
        target: target.into(),
        query_start: target.find('?'),
        version: Version::HTTP_11,
        headers,
        body: crate::request::Body::empty(),
        peer_addr: SocketAddr::from(([127, 0, 0, 1], 1)),
        forwarded: None,
        extensions: http::Extensions::new(),
        route_id: None,
        patterns: None,
    }
}

fn get(target: &str, fields: &[(&str, &str)]) -> Request {
    request(Method::GET, target, fields)
}

/// Writes `contents` at `path` with the modification time [`MTIME`].
fn write(path: PathBuf, contents: &str) {
    fs::write(&path, contents).unwrap();
    let time = UNIX_EPOCH + std::time::Duration::from_secs(MTIME);
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

/// public/ with a text file, an index, a subdirectory without index, a
/// dotfile, precompressed siblings and symlinks in and out; a secret
/// beside it.
fn site() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_owned();
    let root = base.join("public");
    fs::create_dir_all(root.join("docs")).unwrap();
    fs::create_dir_all(root.join("empty")).unwrap();
    write(root.join("hello.txt"), BODY);
    write(root.join("index.html"), "<h1>home</h1>");
    write(root.join("docs/index.html"), "<h1>docs</h1>");
    write(root.join(".env"), "SECRET=1");
    write(root.join("app.js"), "console.log(1)");
    write(root.join("app.js.br"), "BR");
    write(root.join("app.js.gz"), "GZIP");
    write(root.join("only-gz.css"), "body{}");
    write(root.join("only-gz.css.gz"), "GZ");
    write(base.join("secret.txt"), "top secret");
    symlink(root.join("hello.txt"), root.join("link-in.txt")).unwrap();
    symlink(base.join("secret.txt"), root.join("link-out.txt")).unwrap();
    (tmp, root)
}

/// The ETag of a file of `len` bytes modified at [`MTIME`].
fn etag(len: u64) -> String {
    format!("\"{len:x}-{:x}\"", u128::from(MTIME) * 1_000_000_000)
}

fn header<'r>(response: &'r Response, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The `(offset, len)` of a file body, and the bytes it covers.
fn part(response: &Response) -> Option<(u64, u64, String)> {
    use std::os::unix::fs::FileExt;
    let (file, offset, len) = response.file_body()?;
    let mut bytes = vec![0; len as usize];
    file.read_exact_at(&mut bytes, offset).unwrap();
    Some((offset, len, String::from_utf8(bytes).unwrap()))
}

#[test]
fn a_file_is_sent_whole_with_its_type_length_and_validators() {
    let (_tmp, root) = site();
    let response = ServeFile::new(root.join("hello.txt")).respond(&get("/", &[]));
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(header(&response, "content-length"), Some("10"));
    assert_eq!(header(&response, "last-modified"), Some(MTIME_TEXT));
    assert_eq!(header(&response, "etag"), Some(etag(10).as_str()));
    assert_eq!(header(&response, "accept-ranges"), Some("bytes"));
    assert_eq!(header(&response, "cache-control"), None);
    assert_eq!(header(&response, "vary"), None);
    assert_eq!(part(&response), Some((0, 10, BODY.to_owned())));
}

/// Every conditional and range case on `hello.txt` (10 bytes): the
/// request's fields, then the status, the `Content-Range`, and the bytes
/// of the body (`None` for an empty one).
#[test]
fn conditions_and_ranges_decide_the_status_and_the_bytes() {
    let (_tmp, root) = site();
    let file = ServeFile::new(root.join("hello.txt")).cache_control("max-age=60");
    let ours = etag(10);
    let other = "\"other\"";
    let weak = format!("W/{ours}");
    let before = "Sun, 06 Nov 1994 08:49:36 GMT";
    let after = "Sun, 06 Nov 1994 08:49:38 GMT";
    type Case<'a> = (
        Vec<(&'a str, &'a str)>,
        u16,
        Option<&'a str>,
        Option<&'a str>,
    );
    let cases: Vec<Case<'_>> = vec![
        (vec![], 200, None, Some(BODY)),
        // Preconditions.
        (vec![("if-match", &ours)], 200, None, Some(BODY)),
        (vec![("if-match", "*")], 200, None, Some(BODY)),
        (vec![("if-match", other)], 412, None, None),
        (vec![("if-match", &weak)], 412, None, None),
        (vec![("if-unmodified-since", before)], 412, None, None),
        (
            vec![("if-unmodified-since", MTIME_TEXT)],
            200,
            None,
            Some(BODY),
        ),
        (vec![("if-none-match", &ours)], 304, None, None),
        (vec![("if-none-match", &weak)], 304, None, None),
        (vec![("if-none-match", "*")], 304, None, None),
        (vec![("if-none-match", other)], 200, None, Some(BODY)),
        (vec![("if-modified-since", MTIME_TEXT)], 304, None, None),
        (vec![("if-modified-since", after)], 304, None, None),
        (vec![("if-modified-since", before)], 200, None, Some(BODY)),
        (
            vec![("if-none-match", other), ("if-modified-since", after)],
            200,
            None,
            Some(BODY),
        ),
        // Ranges.
        (
            vec![("range", "bytes=0-3")],
            206,
            Some("bytes 0-3/10"),
            Some("0123"),
        ),
        (
            vec![("range", "bytes=7-")],
            206,
            Some("bytes 7-9/10"),
            Some("789"),
        ),
        (
            vec![("range", "bytes=-2")],
            206,
            Some("bytes 8-9/10"),
            Some("89"),
        ),
        (
            vec![("range", "bytes=5-99")],
            206,
            Some("bytes 5-9/10"),
            Some("56789"),
        ),
        (vec![("range", "bytes=10-")], 416, Some("bytes */10"), None),
        (vec![("range", "bytes=-0")], 416, Some("bytes */10"), None),
        (vec![("range", "bytes=0-1,4-5")], 200, None, Some(BODY)),
        (vec![("range", "bytes=3-1")], 200, None, Some(BODY)),
        (vec![("range", "lines=1-2")], 200, None, Some(BODY)),
        (vec![("range", "bytes=x")], 200, None, Some(BODY)),
        // If-Range.
        (
            vec![("range", "bytes=0-1"), ("if-range", &ours)],
            206,
            Some("bytes 0-1/10"),
            Some("01"),
        ),
        (
            vec![("range", "bytes=0-1"), ("if-range", MTIME_TEXT)],
            206,
            Some("bytes 0-1/10"),
            Some("01"),
        ),
        (
            vec![("range", "bytes=0-1"), ("if-range", other)],
            200,
            None,
            Some(BODY),
        ),
        (
            vec![("range", "bytes=0-1"), ("if-range", &weak)],
            200,
            None,
            Some(BODY),
        ),
        (
            vec![("range", "bytes=0-1"), ("if-range", before)],
            200,
            None,
            Some(BODY),
        ),
        (
            vec![("range", "bytes=99-"), ("if-range", other)],
            200,
            None,
            Some(BODY),
        ),
        // A precondition is evaluated before the range.
        (
            vec![("range", "bytes=0-1"), ("if-none-match", &ours)],
            304,
            None,
            None,
        ),
        (
            vec![("range", "bytes=0-1"), ("if-match", other)],
            412,
            None,
            None,
        ),
    ];
    for (fields, status, content_range, body) in cases {
        let response = file.respond(&get("/", &fields));
        let what = format!("{fields:?}: {response:?}");
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_eq!(header(&response, "content-range"), content_range, "{what}");
        let bytes = part(&response).map(|(_, _, bytes)| bytes);
        assert_eq!(bytes.as_deref(), body, "{what}");
        match status {
            200 | 206 => {
                let len = body.map_or(0, str::len).to_string();
                assert_eq!(
                    header(&response, "content-length"),
                    Some(len.as_str()),
                    "{what}"
                );
                assert_eq!(header(&response, "etag"), Some(ours.as_str()), "{what}");
                assert_eq!(
                    header(&response, "cache-control"),
                    Some("max-age=60"),
                    "{what}"
                );
            }
            // §15.4.5: the validators and Cache-Control, no body.
            304 => {
                assert_eq!(header(&response, "etag"), Some(ours.as_str()), "{what}");
                assert_eq!(
                    header(&response, "last-modified"),
                    Some(MTIME_TEXT),
                    "{what}"
                );
                assert_eq!(
                    header(&response, "cache-control"),
                    Some("max-age=60"),
                    "{what}"
                );
                assert_eq!(header(&response, "content-type"), None, "{what}");
                assert!(response.body().is_empty(), "{what}");
            }
            _ => assert!(response.body().is_empty(), "{what}"),
        }
    }
}

/// RFC 9110 §13.1.5 and §8.8.2.2: `If-Range` with the file's own
/// `Last-Modified` gets the range only when that date is at least a second
/// before the response's `Date`. A file changed within the current second
/// (or dated in the future) could change again without a new date, so a
/// range of it could splice two versions: it is sent whole.
#[test]
fn if_range_with_a_date_less_than_a_second_old_sends_the_whole_file() {
    let (_tmp, root) = site();
    let path = root.join("hello.txt");
    let file = ServeFile::new(&path);
    let ranged_at = |second: u64| {
        let time = UNIX_EPOCH + std::time::Duration::from_secs(second);
        let handle = File::options().write(true).open(&path).unwrap();
        handle.set_modified(time).unwrap();
        let last_modified = httpdate::fmt_http_date(time);
        let response = file.respond(&get(
            "/",
            &[("range", "bytes=0-1"), ("if-range", &last_modified)],
        ));
        assert_eq!(
            header(&response, "last-modified"),
            Some(last_modified.as_str())
        );
        response
    };
    let now = date::current_second();
    let old = ranged_at(now - 3600);
    assert_eq!(old.status(), StatusCode::PARTIAL_CONTENT, "{old:?}");
    let future = ranged_at(now + 3600);
    assert_eq!(future.status(), StatusCode::OK, "{future:?}");
    // Modified this second: tried again if the clock moved on meanwhile,
    // which would make the date a strong validator.
    for _ in 0..20 {
        let second = date::current_second();
        let response = ranged_at(second);
        if date::current_second() == second {
            assert_eq!(response.status(), StatusCode::OK, "{response:?}");
            assert_eq!(part(&response), Some((0, 10, BODY.to_owned())));
            return;
        }
    }
    panic!("the clock crossed a second boundary in each of 20 tries");
}

#[test]
fn head_ignores_range_and_other_methods_get_405_with_allow() {
    let (_tmp, root) = site();
    let file = ServeFile::new(root.join("hello.txt"));
    let head = file.respond(&request(Method::HEAD, "/", &[("range", "bytes=0-1")]));
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-length"), Some("10"));
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        let response = file.respond(&request(method.clone(), "/", &[]));
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(header(&response, "allow"), Some("GET, HEAD"), "{method}");
    }
    let options = file.respond(&request(Method::OPTIONS, "/", &[]));
    assert_eq!(options.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&options, "allow"), Some("GET, HEAD"));
}

#[test]
fn a_missing_file_or_a_directory_is_404() {
    let (_tmp, root) = site();
    for path in [
        root.join("nope.txt"),
        root.join("docs"),
        root.join("hello.txt/x"),
    ] {
        let response = ServeFile::new(&path).respond(&get("/", &[]));
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path:?}");
    }
}

#[test]
fn an_invalid_cache_control_is_a_500_not_a_panic() {
    let (_tmp, root) = site();
    let file = ServeFile::new(root.join("hello.txt")).cache_control("a\nb");
    assert_eq!(
        file.respond(&get("/", &[])).status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert!(ServeDir::new(&root).cache_control("a\nb").check().is_err());
}

/// Requests under a `ServeDir` and what answers: the status, then the
/// file's content (for 200) or the `Location` (for 308).
#[test]
fn paths_under_a_directory_resolve_safely() {
    let (_tmp, root) = site();
    let dir = ServeDir::new(&root);
    let cases: &[(&str, &str, u16, Option<&str>)] = &[
        ("/hello.txt", "/hello.txt", 200, Some(BODY)),
        ("/", "/", 200, Some("<h1>home</h1>")),
        ("", "/", 200, Some("<h1>home</h1>")),
        ("/docs/", "/docs/", 200, Some("<h1>docs</h1>")),
        ("/docs", "/docs", 308, Some("/docs/")),
        (
            "/docs",
            "/static/docs?x=1&y",
            308,
            Some("/static/docs/?x=1&y"),
        ),
        ("", "/static", 308, Some("/static/")),
        ("/empty/", "/empty/", 404, None),
        ("/hello.txt/", "/hello.txt/", 404, None),
        ("/nope", "/nope", 404, None),
        ("/link-in.txt", "/link-in.txt", 200, Some(BODY)),
        // Traversal, every way it can be written.
        ("/../secret.txt", "/../secret.txt", 404, None),
        ("/docs/../../secret.txt", "/x", 404, None),
        ("/%2e%2e/secret.txt", "/x", 404, None),
        ("/%2E%2E/secret.txt", "/x", 404, None),
        ("/..%2fsecret.txt", "/x", 400, None),
        ("/docs%2f..%2f..%2fsecret.txt", "/x", 400, None),
        ("/..%5csecret.txt", "/x", 400, None),
        ("/..\\secret.txt", "/x", 400, None),
        ("/hello.txt%00.png", "/x", 400, None),
        ("//etc/passwd", "/x", 404, None),
        ("/C:/Windows/win.ini", "/x", 404, None),
        ("/link-out.txt", "/link-out.txt", 404, None),
        ("/.env", "/.env", 404, None),
        ("/%2eenv", "/x", 404, None),
    ];
    for (rel, target, status, expected) in cases {
        let response = dir.respond(&get(target, &[]), rel);
        let what = format!("{rel:?} ({target}): {response:?}");
        assert_eq!(response.status().as_u16(), *status, "{what}");
        match status {
            200 => assert_eq!(part(&response).map(|p| p.2).as_deref(), *expected, "{what}"),
            308 => assert_eq!(header(&response, "location"), *expected, "{what}"),
            _ => assert!(part(&response).is_none(), "{what}"),
        }
    }
}

#[test]
fn dotfiles_symlinks_out_and_the_index_follow_the_options() {
    let (_tmp, root) = site();
    let open = ServeDir::new(&root)
        .dotfiles(true)
        .follow_symlinks_outside(true)
        .index("hello.txt");
    let body = |dir: &ServeDir, rel: &str| {
        let response = dir.respond(&get(rel, &[]), rel);
        (response.status().as_u16(), part(&response).map(|p| p.2))
    };
    assert_eq!(body(&open, "/.env"), (200, Some("SECRET=1".to_owned())));
    assert_eq!(
        body(&open, "/link-out.txt"),
        (200, Some("top secret".to_owned()))
    );
    assert_eq!(body(&open, "/"), (200, Some(BODY.to_owned())));
    // `..` stays refused whatever the options.
    assert_eq!(body(&open, "/../secret.txt"), (404, None));
    assert_eq!(body(&ServeDir::new(&root).no_index(), "/"), (404, None));
}

/// Symlinks that stay inside (absolute, relative, to a directory) are
/// served; those that reach a dotfile, directly, through a directory or as
/// a precompressed sibling, are not unless dotfiles are on; those that
/// lead out are served only with `follow_symlinks_outside`.
#[test]
fn symlinks_follow_the_same_rules_as_the_paths_they_reach() {
    let (_tmp, root) = site();
    let base = root.parent().unwrap();
    fs::create_dir(root.join(".private")).unwrap();
    write(root.join(".private/notes.txt"), "private");
    write(root.join("page.css"), "p{}");
    let links: &[(&str, &Path)] = &[
        ("rel-in.txt", Path::new("hello.txt")),
        ("docs-rel", Path::new("docs")),
        ("docs-abs", &root.join("docs")),
        ("env-link", Path::new(".env")),
        ("private-link", Path::new(".private")),
        ("page.css.gz", Path::new(".env")),
        ("out-dir", base),
    ];
    for (name, to) in links {
        symlink(to, root.join(name)).unwrap();
    }
    let gzip = [("accept-encoding", "gzip")];
    let default = ServeDir::new(&root).precompressed(true);
    let open = ServeDir::new(&root)
        .precompressed(true)
        .dotfiles(true)
        .follow_symlinks_outside(true);
    type Case<'a> = (&'a str, u16, Option<&'a str>, u16, Option<&'a str>);
    let cases: &[Case<'_>] = &[
        ("/rel-in.txt", 200, Some(BODY), 200, Some(BODY)),
        ("/link-in.txt", 200, Some(BODY), 200, Some(BODY)),
        (
            "/docs-rel/",
            200,
            Some("<h1>docs</h1>"),
            200,
            Some("<h1>docs</h1>"),
        ),
        (
            "/docs-abs/index.html",
            200,
            Some("<h1>docs</h1>"),
            200,
            Some("<h1>docs</h1>"),
        ),
        ("/env-link", 404, None, 200, Some("SECRET=1")),
        ("/private-link/notes.txt", 404, None, 200, Some("private")),
        ("/page.css", 200, Some("p{}"), 200, Some("SECRET=1")),
        ("/link-out.txt", 404, None, 200, Some("top secret")),
        ("/out-dir/secret.txt", 404, None, 200, Some("top secret")),
        ("/out-dir/public/../secret.txt", 404, None, 404, None),
    ];
    for (rel, status, body, open_status, open_body) in cases {
        for (dir, status, body) in [(&default, status, body), (&open, open_status, open_body)] {
            let response = dir.respond(&get(rel, &gzip), rel);
            let what = format!("{rel} dotfiles={}: {response:?}", dir.dotfiles);
            assert_eq!(response.status().as_u16(), *status, "{what}");
            assert_eq!(part(&response).map(|p| p.2).as_deref(), *body, "{what}");
        }
    }
}

#[test]
fn precompressed_siblings_follow_accept_encoding() {
    let (_tmp, root) = site();
    let dir = ServeDir::new(&root).precompressed(true);
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, Option<&'a str>);
    let cases: &[Case<'_>] = &[
        ("/app.js", &[], "console.log(1)", None),
        (
            "/app.js",
            &[("accept-encoding", "gzip, br")],
            "BR",
            Some("br"),
        ),
        (
            "/app.js",
            &[("accept-encoding", "gzip")],
            "GZIP",
            Some("gzip"),
        ),
        (
            "/app.js",
            &[("accept-encoding", "br;q=0, gzip")],
            "GZIP",
            Some("gzip"),
        ),
        (
            "/app.js",
            &[("accept-encoding", "gzip;q=1, br;q=0.5")],
            "GZIP",
            Some("gzip"),
        ),
        (
            "/app.js",
            &[("accept-encoding", "*;q=0")],
            "console.log(1)",
            None,
        ),
        (
            "/app.js",
            &[("accept-encoding", "identity")],
            "console.log(1)",
            None,
        ),
        (
            "/only-gz.css",
            &[("accept-encoding", "br, gzip")],
            "GZ",
            Some("gzip"),
        ),
        ("/hello.txt", &[("accept-encoding", "br, gzip")], BODY, None),
    ];
    for (rel, fields, expected, coding) in cases {
        let response = dir.respond(&get(rel, fields), rel);
        let what = format!("{rel} {fields:?}: {response:?}");
        assert_eq!(response.status(), StatusCode::OK, "{what}");
        assert_eq!(
            part(&response).map(|p| p.2).as_deref(),
            Some(*expected),
            "{what}"
        );
        assert_eq!(header(&response, "content-encoding"), *coding, "{what}");
        assert_eq!(header(&response, "vary"), Some("accept-encoding"), "{what}");
        let original_type = mime::content_type(Path::new(rel));
        assert_eq!(response.headers()["content-type"], original_type, "{what}");
        let tag = header(&response, "etag").unwrap();
        assert_eq!(tag.ends_with("-br\""), *coding == Some("br"), "{what}");
        assert_eq!(tag.ends_with("-gzip\""), *coding == Some("gzip"), "{what}");
    }
    // Without the option the siblings are plain files, and no Vary is sent.
    let plain =
        ServeDir::new(&root).respond(&get("/app.js", &[("accept-encoding", "br")]), "/app.js");
    assert_eq!(header(&plain, "content-encoding"), None);
    assert_eq!(header(&plain, "vary"), None);
}

#[test]
fn mount_prefixes_are_checked_and_cover_their_subtree() {
    let (_tmp, root) = site();
    let bad: &[(&str, &str)] = &[
        ("static", "must start with `/`"),
        ("", "must start with `/`"),
        ("/a?b", "query"),
        ("/a//b", "empty segment"),
    ];
    for (prefix, why) in bad {
        let err = Mount::new(prefix, ServeDir::new(&root)).unwrap_err();
        assert!(
            err.is_config() && err.to_string().contains(why),
            "{prefix}: {err}"
        );
    }
    let missing = Mount::new("/s", ServeDir::new(root.join("nope"))).unwrap_err();
    assert!(
        missing.to_string().contains("is not a directory"),
        "{missing}"
    );
    let index = Mount::new("/s", ServeDir::new(&root).index("../x")).unwrap_err();
    assert!(index.to_string().contains("plain file name"), "{index}");

    let mount = Mount::new("/static/", ServeDir::new(&root)).unwrap();
    assert_eq!(mount.prefix(), "/static");
    let cases = [
        ("/static", Some("")),
        ("/static/", Some("/")),
        ("/static/a/b", Some("/a/b")),
        ("/staticfoo", None),
        ("/stat", None),
        ("/", None),
    ];
    for (path, rest) in cases {
        assert_eq!(mount.rest(path), rest, "{path}");
    }
    let everything = Mount::new("/", ServeDir::new(&root)).unwrap();
    assert_eq!(everything.rest("/a"), Some("/a"));
    assert_eq!(everything.rest("*"), None);
}

/// Makes a FIFO at `path`.
fn fifo(path: &Path) {
    let mode = rustix::fs::Mode::from_raw_mode(0o644);
    rustix::fs::mknodat(rustix::fs::CWD, path, rustix::fs::FileType::Fifo, mode, 0).unwrap();
}

/// Only regular files are served: a FIFO under the root is not found, and
/// answering that does not wait for a writer (the open is non-blocking: a
/// blocking one would hold a worker until a writer comes). The answer is
/// awaited with a deadline, so a regression fails instead of hanging.
#[test]
fn a_fifo_under_the_root_is_404_without_waiting() {
    let (tmp, root) = site();
    fifo(&root.join("pipe"));
    let real = root.canonicalize().unwrap().join("pipe");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let status = ServeDir::new(&root)
            .respond(&get("/pipe", &[]), "/pipe")
            .status();
        let fallback = resolve::open_by_path(&real)
            .map(|_| ())
            .map_err(|e| e.kind());
        let _ = tx.send((status, fallback));
    });
    let answer = rx.recv_timeout(std::time::Duration::from_secs(10));
    let (status, fallback) = answer.expect("opening a FIFO waited for a writer");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(fallback, Err(io::ErrorKind::NotFound));
    drop(tmp);
}

/// `ServeFile` on a FIFO answers 404 at once, as `ServeDir` does.
#[test]
fn serve_file_on_a_fifo_is_404_without_waiting() {
    let (tmp, root) = site();
    let path = root.join("pipe");
    fifo(&path);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(ServeFile::new(&path).respond(&get("/", &[])).status());
    });
    let status = rx.recv_timeout(std::time::Duration::from_secs(10));
    assert_eq!(
        status.expect("opening a FIFO waited for a writer"),
        StatusCode::NOT_FOUND
    );
    drop(tmp);
}
