//! What `parse` makes of heads: requests, framing and the smuggling rules,
//! reused maps, and mutated heads that must never panic.

use http::HeaderMap;

use super::*;

/// A head parsed into a blank request, with what it says beside it.
#[derive(Debug)]
struct Parsed {
    request: Request,
    body: BodyKind,
    keep_alive: bool,
    expects_continue: bool,
}

fn parse_into(head: &str, mut request: Request) -> Result<Parsed, RequestError> {
    let peer = "127.0.0.1:1".parse().unwrap();
    let head = parse_head(head.as_bytes(), &Limits::default(), peer, &mut request)?;
    Ok(Parsed {
        request,
        body: head.body,
        keep_alive: head.keep_alive,
        expects_continue: head.expects_continue,
    })
}

fn parse(head: &str) -> Result<Parsed, RequestError> {
    parse_into(head, Request::blank("127.0.0.1:1".parse().unwrap()))
}

fn status(head: &str) -> u16 {
    parse(head).map_or_else(|e| e.status().as_u16(), |_| 200)
}

/// A head parsed into the emptied map of an earlier request (as the loop
/// does with served requests) gives the same headers, in the same order,
/// as one parsed into a new map, whatever the earlier one held.
#[test]
fn a_head_parsed_into_a_reused_map_equals_one_parsed_into_a_new_one() {
    let heads = [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nAccept: text/html\r\nX-One: 1\r\n\r\n",
        "POST /y HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
        "GET /z HTTP/1.0\r\n\r\n",
    ];
    let listed = |map: &HeaderMap| -> Vec<(String, Vec<u8>)> {
        map.iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect()
    };
    for before in heads {
        for head in heads {
            let mut reused = parse(before).unwrap().request;
            reused.recycle();
            let reused = parse_into(head, reused).unwrap();
            let fresh = parse(head).unwrap();
            assert_eq!(
                listed(&reused.request.headers),
                listed(&fresh.request.headers),
                "{head:?} after {before:?}"
            );
            assert_eq!(reused.body, fresh.body);
            assert_eq!(reused.keep_alive, fresh.keep_alive);
        }
    }
}

/// A request kept while later heads fill several blocks reads the same:
/// its block is not reused from the start while it holds a part.
#[test]
fn kept_requests_read_the_same_while_later_heads_fill_blocks() {
    let kept = parse("GET /kept HTTP/1.1\r\nHost: kept\r\nX-A: first\r\n\r\n").unwrap();
    for i in 0..3 * HEAD_BLOCK / 32 {
        let head = format!("GET /{i} HTTP/1.1\r\nHost: h{i}\r\nX-A: {i:0>40}\r\n\r\n");
        let other = parse(&head).unwrap();
        assert_eq!(other.request.path(), format!("/{i}"));
        assert_eq!(
            other.request.header("x-a"),
            Some(format!("{i:0>40}").as_str())
        );
        assert_eq!(other.request.header("host"), Some(format!("h{i}").as_str()));
    }
    assert_eq!(kept.request.path(), "/kept");
    assert_eq!(kept.request.header("host"), Some("kept"));
    assert_eq!(kept.request.header("x-a"), Some("first"));
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(3 * HEAD_BLOCK)
    );
    let big = parse(&big).unwrap();
    assert_eq!(
        big.request.header("x-big").map(str::len),
        Some(3 * HEAD_BLOCK)
    );
}

#[test]
fn head_end_is_found_across_line_styles_and_split_reads() {
    assert_eq!(
        find_head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest", 0),
        Some(27)
    );
    assert_eq!(
        find_head_end(b"GET / HTTP/1.1\nHost: a\n\nrest", 0),
        Some(24)
    );
    assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r", 0), None);
    let buf = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_eq!(find_head_end(buf, buf.len() - 4 - 3), Some(27));
}

#[test]
fn a_simple_get_parses_into_a_request() {
    let head = parse("GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-Y: z\r\n\r\n").unwrap();
    assert_eq!(head.request.method(), Method::GET);
    assert_eq!(head.request.path(), "/a/b");
    assert_eq!(head.request.query(), Some("x=1"));
    assert_eq!(head.request.header("x-y"), Some("z"));
    assert_eq!(head.body, BodyKind::Empty);
    assert!(head.keep_alive);
}

#[test]
fn keep_alive_follows_version_and_connection() {
    let ka = |h: &str| parse(h).unwrap().keep_alive;
    assert!(ka("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    assert!(!ka(
        "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    ));
    assert!(!ka("GET / HTTP/1.0\r\n\r\n"));
    assert!(ka("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    assert!(!ka(
        "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n"
    ));
}

#[test]
fn framing_rules_refuse_ambiguity() {
    let cases = [
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", 200),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 200),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", 200),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3000000\r\n\r\n", 200),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 200),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", 200),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        // A field with no coding is refused, never skipped.
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,\r\nContent-Length: 5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\nContent-Length: 5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n", 200),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
    ];
    for (head, want) in cases {
        assert_eq!(status(head), want, "{head:?}");
    }
}

#[test]
fn request_line_and_host_rules() {
    let cases = [
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("GET / HTTP/1.0\r\n\r\n", 200),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
        ("GET / FTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET nothing HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        ("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: evil.com/path?x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: <script>\r\n\r\n", 400),
        ("GET / HTTP/1.0\r\nHost: a:b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 200),
        ("GET / HTTP/1.1\r\nHost:\r\n\r\n", 200),
        // The target's authority is checked instead of Host, which is ignored.
        ("GET http://a.example/ HTTP/1.1\r\nHost: a b\r\n\r\n", 200),
        ("GET http://a%zz/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET http://a\"b/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET http://u@a.example/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET http://a.example/ HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
        (
            "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
            200,
        ),
        (
            "GET / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n",
            417,
        ),
    ];
    for (head, want) in cases {
        assert_eq!(status(head), want, "{head:?}");
    }
}

#[test]
fn connect_is_501_in_authority_form_and_400_otherwise() {
    let cases = [
        (
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            501,
        ),
        ("CONNECT 127.0.0.1:8080 HTTP/1.1\r\nHost: a\r\n\r\n", 501),
        ("CONNECT [::1]:443 HTTP/1.1\r\nHost: a\r\n\r\n", 501),
        ("CONNECT example.com:443 HTTP/1.0\r\n\r\n", 501),
        ("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("CONNECT /x:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("CONNECT * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (
            "CONNECT http://a.example:443/ HTTP/1.1\r\nHost: a\r\n\r\n",
            400,
        ),
        ("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("CONNECT example.com: HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("CONNECT :443 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (
            "CONNECT user@example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n",
            400,
        ),
        ("CONNECT example.com:https HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        // The authority form belongs to CONNECT alone.
        ("GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("OPTIONS example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ];
    for (head, want) in cases {
        assert_eq!(status(head), want, "{head:?}");
    }
}

#[test]
fn an_absolute_form_authority_replaces_host() {
    let host = |h: &str| {
        let request = parse(h).unwrap().request;
        let hosts: Vec<_> = request.headers.get_all("host").iter().cloned().collect();
        assert_eq!(hosts.len(), 1, "{h:?}");
        hosts[0].to_str().unwrap().to_owned()
    };
    assert_eq!(
        host("GET http://evil.example/ip HTTP/1.1\r\nHost: good.example\r\n\r\n"),
        "evil.example"
    );
    assert_eq!(
        host("GET http://[::1]:8080?q HTTP/1.1\r\nHost: x\r\n\r\n"),
        "[::1]:8080"
    );
    assert_eq!(host("GET http://a.example/ HTTP/1.0\r\n\r\n"), "a.example");
}

#[test]
fn absolute_form_targets_are_reduced_to_their_path() {
    let path = |h: &str| parse(h).unwrap().request.target.as_str().to_owned();
    assert_eq!(
        path("GET http://a.example/x?y HTTP/1.1\r\nHost: a\r\n\r\n"),
        "/x?y"
    );
    assert_eq!(
        path("GET HTTPS://a.example HTTP/1.1\r\nHost: a\r\n\r\n"),
        "/"
    );
    assert_eq!(
        path("GET http://a.example?q HTTP/1.1\r\nHost: a\r\n\r\n"),
        "/?q"
    );
}

#[test]
fn too_many_headers_is_431() {
    let mut head = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
    for i in 0..100 {
        head.push_str(&format!("X-{i}: v\r\n"));
    }
    head.push_str("\r\n");
    assert_eq!(status(&head), 431);
}

#[test]
fn only_http11_requests_with_a_body_expect_continue() {
    let head =
        parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    assert!(head.unwrap().expects_continue);
    let head = parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n");
    assert!(!head.unwrap().expects_continue);
}

/// A tiny deterministic generator (xorshift), so failures reproduce.
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Heads mutated at random never panic the parser, and the head end is
/// found at the same place whatever the split into reads.
#[test]
fn mutated_heads_never_panic_and_split_scans_agree() {
    const PIECES: [&[u8]; 12] = [
        b"GET ",
        b"/a?b ",
        b"HTTP/1.1",
        b"\r\n",
        b"\n",
        b"Host: h",
        b"Content-Length: 5",
        b"Transfer-Encoding: chunked",
        b":",
        b" ",
        b"\x00\xff",
        b"Connection: close, keep-alive",
    ];
    let limits = Limits::default();
    let peer = "127.0.0.1:1".parse().unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let mut head = Vec::new();
        for _ in 0..xorshift(&mut seed) % 12 {
            head.extend_from_slice(PIECES[(xorshift(&mut seed) % 12) as usize]);
        }
        let whole = find_head_end(&head, 0);
        let cut = (xorshift(&mut seed) as usize) % (head.len() + 1);
        let split =
            find_head_end(&head[..cut], 0).or_else(|| find_head_end(&head, cut.saturating_sub(3)));
        assert_eq!(split, whole, "{head:?} cut at {cut}");
        if let Some(end) = whole {
            let _ = parse_head(&head[..end], &limits, peer, &mut Request::blank(peer));
        }
    }
}
