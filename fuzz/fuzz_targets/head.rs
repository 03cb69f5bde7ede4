//! Request heads: where one ends, over any split into reads, and what it
//! parses to, checked against httparse run on its own and against the
//! framing rules of RFC 9112 read off httparse's headers.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pool_server::__internals::{find_head_end, parse_head, BodyKind, Head, Limits, Refusal};
use pool_server::Version;
use pool_server_fuzz::{pieces, seed_and_rest, Rng};

const LIMITS: Limits = Limits {
    max_head_size: 8 * 1024,
    max_headers: 16,
    max_body_size: 1 << 20,
};

fuzz_target!(|data: &[u8]| {
    let Some((seed, bytes)) = seed_and_rest(data, 2) else {
        return;
    };
    // The connection skips empty lines before a request line (RFC 9112 §2.2).
    let blank = bytes
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    let buf = &bytes[blank..];
    let whole = find_head_end(buf, 0);

    // The end is found at the same place however the bytes arrive, when
    // each scan resumes 3 bytes before the previous one stopped.
    let mut rng = Rng::new(seed);
    let mut len = 0;
    let mut split = None;
    for piece in pieces(buf, &mut rng) {
        let scanned = len;
        len += piece.len();
        if let Some(end) = find_head_end(&buf[..len], scanned.saturating_sub(3)) {
            split = Some(end);
            break;
        }
    }
    assert_eq!(split, whole, "split scan disagrees");

    let mut slots = [httparse::EMPTY_HEADER; 16];
    let mut theirs = httparse::Request::new(&mut slots);
    let status = theirs.parse(buf);
    let Some(end) = whole else {
        // No blank line: httparse must not see a complete head either.
        assert!(
            !matches!(status, Ok(httparse::Status::Complete(_))),
            "httparse found a head we did not: {status:?}"
        );
        return;
    };
    let ours = parse_head(&buf[..end], LIMITS);
    match status {
        Ok(httparse::Status::Complete(n)) => {
            assert_eq!(n, end, "httparse ends the head elsewhere");
        }
        Err(httparse::Error::TooManyHeaders) => {
            let refused = ours.as_ref().err().map(Refusal::status);
            assert_eq!(refused.map(|s| s.as_u16()), Some(431), "too many headers");
            return;
        }
        // What httparse refuses (or cannot finish), we must refuse too.
        _ => {
            assert!(ours.is_err(), "accepted what httparse refuses: {status:?}");
            return;
        }
    }
    let Ok(head) = ours else {
        return;
    };
    agrees_with_httparse(&head, &theirs);
    framing_follows_the_rules(&head, &theirs);
});

/// Method, target, version and every field as httparse read them.
fn agrees_with_httparse(head: &Head, theirs: &httparse::Request<'_, '_>) {
    let req = &head.request;
    assert_eq!(Some(req.method().as_str()), theirs.method);
    let version = if theirs.version == Some(1) {
        Version::HTTP_11
    } else {
        Version::HTTP_10
    };
    assert_eq!(req.version(), version);
    let target = theirs.path.unwrap_or_default();
    let absolute = !(target.starts_with('/') || target == "*");
    let ours = match req.query() {
        Some(query) => format!("{}?{query}", req.path()),
        None => req.path().to_owned(),
    };
    assert!(!req.path().contains('?'), "a path holds the query");
    if !absolute {
        assert_eq!(ours, target);
    } else {
        // Absolute form, reduced to its path and query.
        assert!(
            target.to_ascii_lowercase().starts_with("http"),
            "target {target:?} accepted"
        );
        assert!(ours.starts_with('/'), "{target:?} reduced to {ours:?}");
        assert!(target.ends_with(ours.trim_start_matches('/')));
    }
    let fields: Vec<(String, &[u8])> = req
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes()))
        .collect();
    // An absolute-form target's authority takes the place of Host.
    let authority = absolute.then(|| {
        let rest = target.split_once("://").map_or("", |(_, rest)| rest);
        &rest[..rest.find(['/', '?']).unwrap_or(rest.len())]
    });
    let mut expected: Vec<(String, &[u8])> = theirs
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value))
        .filter(|(name, _)| authority.is_none() || name != "host")
        .collect();
    if let Some(authority) = authority {
        expected.push(("host".to_owned(), authority.as_bytes()));
    }
    // A HeaderMap groups repeated names; compare as multisets per name.
    let mut fields = fields;
    fields.sort();
    expected.sort();
    assert_eq!(fields, expected);
}

fn values<'h>(theirs: &'h httparse::Request<'_, '_>, name: &str) -> Vec<&'h [u8]> {
    theirs
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
        .collect()
}

/// The comma-separated, trimmed, non-empty items of every field `name`.
fn items<'h>(theirs: &'h httparse::Request<'_, '_>, name: &str) -> Vec<&'h [u8]> {
    values(theirs, name)
        .into_iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|item| !item.is_empty())
        .collect()
}

/// RFC 9112 §6: what an accepted head says about its body and connection.
fn framing_follows_the_rules(head: &Head, theirs: &httparse::Request<'_, '_>) {
    let te = values(theirs, "transfer-encoding");
    let cl = values(theirs, "content-length");
    let http11 = theirs.version == Some(1);
    assert!(te.is_empty() || cl.is_empty(), "both framings accepted");
    assert!(values(theirs, "host").len() <= 1, "two Hosts");
    if http11 {
        assert_eq!(values(theirs, "host").len(), 1, "HTTP/1.1 without Host");
    }
    assert_ne!(head.request.method(), pool_server::Method::CONNECT);
    if let Some(host) = head.request.headers().get("host") {
        host_is_valid(host.as_bytes());
    }
    let lengths: Vec<u64> = items(theirs, "content-length")
        .iter()
        .map(|item| {
            assert!(item.iter().all(u8::is_ascii_digit), "length {item:?}");
            std::str::from_utf8(item).unwrap().parse().unwrap()
        })
        .collect();
    match head.body {
        BodyKind::Chunked => {
            assert!(http11 && !te.is_empty());
            let codings = items(theirs, "transfer-encoding");
            assert!(!codings.is_empty());
            assert!(codings.iter().all(|c| c.eq_ignore_ascii_case(b"chunked")));
            assert_eq!(codings.len(), 1, "chunked twice");
        }
        BodyKind::Length(n) => {
            assert!(te.is_empty() && n > 0);
            assert!(!lengths.is_empty() && lengths.iter().all(|&l| l == n));
        }
        BodyKind::Empty => {
            assert!(te.is_empty() && lengths.iter().all(|&l| l == 0));
        }
    }
    let tokens = items(theirs, "connection");
    let close = tokens.iter().any(|t| t.eq_ignore_ascii_case(b"close"));
    let keep = tokens.iter().any(|t| t.eq_ignore_ascii_case(b"keep-alive"));
    assert_eq!(head.keep_alive, !close && (http11 || keep));
    if head.expects_continue {
        assert!(http11 && head.body != BodyKind::Empty);
    }
}

/// RFC 9112 §3.2: an accepted host (`Host`, or the authority that replaced
/// it) is a URI host and port: none of the bytes that end or break one, and
/// the http crate reads it as an authority without user info.
fn host_is_valid(host: &[u8]) {
    let forbidden = |b: &u8| !b.is_ascii_graphic() || b"/?#@<>\"\\{}|^`".contains(b);
    assert!(!host.iter().any(forbidden), "host {host:?} accepted");
    if !host.is_empty() {
        let authority = std::str::from_utf8(host).unwrap();
        // RFC 3986 allows `%XX` in a registered name; the http crate does
        // not: read each escape as a letter for its parser.
        let mut plain = String::new();
        let mut rest = authority;
        while let Some(i) = rest.find('%') {
            plain.push_str(&rest[..i]);
            let escape = rest.get(i + 1..i + 3).unwrap_or_default();
            assert!(
                escape.len() == 2 && escape.bytes().all(|b| b.is_ascii_hexdigit()),
                "host {authority:?} has a bad escape"
            );
            plain.push('a');
            rest = &rest[i + 3..];
        }
        plain.push_str(rest);
        assert!(
            plain.parse::<http::uri::Authority>().is_ok(),
            "host {authority:?} is no authority"
        );
    }
}
