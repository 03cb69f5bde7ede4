//! The small parsers under the application layer, one per first byte:
//! percent-decoding (against the `percent-encoding` crate), the query
//! string (`Query<T>` against `form_urlencoded`, and a round trip through a
//! real request head), `Range` (a round trip and its resolution), the
//! conditional headers (entity-tag lists round-trip; the decision follows
//! RFC 9110 §13.2.2), and static-file paths: nothing resolves outside the
//! root, and `ServeDir` never sends a file from outside it or a dotfile.

#![no_main]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use http::header::{HeaderName, HeaderValue, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use http::header::{IF_RANGE, IF_UNMODIFIED_SINCE};
use libfuzzer_sys::fuzz_target;
use pool_server::__internals::{
    confine_path, evaluate, if_range_holds, parse_head, parse_range, percent_decode, query,
    relative_path, resolve_range, tag_list, Limits, Outcome, RangeSpec, Ranges, TagList,
};
use pool_server::files::ServeDir;
use pool_server::{HeaderMap, Request, StatusCode};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 5 {
        0 => percent(&text),
        1 => query_string(&text, rest),
        2 => range(&text, rest),
        3 => conditional(&text),
        _ => paths(&text, which),
    }
});

fn percent(text: &str) {
    let ours = percent_decode(text);
    let theirs = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok();
    assert_eq!(ours.as_deref(), theirs.as_deref(), "{text:?}");
    if !text.contains('%') {
        assert!(matches!(ours, Some(std::borrow::Cow::Borrowed(_))));
    }
    let encoded =
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string();
    assert_eq!(percent_decode(&encoded).as_deref(), Some(text));
}

/// A request for `target`, if it is one a client may send.
fn request(target: &str, fields: &str) -> Option<Request> {
    let head = format!("GET {target} HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
    parse_head(head.as_bytes(), Limits::default())
        .ok()
        .map(|h| h.request)
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Typed {
    id: Option<u32>,
    name: Option<String>,
    flag: Option<bool>,
}

fn query_string(text: &str, raw: &[u8]) {
    // Pairs from the input (split on NUL and `=`), encoded as a browser
    // would, come back unchanged through a request's query.
    let pairs: Vec<(String, String)> = text
        .split('\0')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (pair.to_owned(), String::new()),
        })
        .collect();
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    let req = request(&format!("/p?{encoded}"), "").expect("an encoded query is a valid target");
    assert_eq!(req.path(), "/p");
    assert_eq!(req.query(), Some(encoded.as_str()));
    let got: Vec<(String, String)> = query(&req).expect("pairs always deserialize");
    let want: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(got, want);

    // Raw bytes as the query: whatever the parser lets through agrees with
    // form_urlencoded, and a typed query fails with a 400, not a panic.
    let mut target = b"/p?".to_vec();
    target.extend_from_slice(raw);
    let Ok(target) = String::from_utf8(target) else {
        return;
    };
    let Some(req) = request(&target, "") else {
        return;
    };
    let q = req.query().unwrap_or("");
    assert!(target.ends_with(q) && !req.path().contains('?'));
    let got: Vec<(String, String)> = query(&req).expect("pairs always deserialize");
    let want: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes()).into_owned().collect();
    assert_eq!(got, want);
    let map: Result<BTreeMap<String, String>, _> = query(&req);
    if let Ok(map) = map {
        assert!(map.len() <= want.len());
    }
    if let Err((status, message)) = query::<Typed>(&req) {
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message.starts_with("invalid query string"), "{message}");
    }
}

fn range(text: &str, raw: &[u8]) {
    let specs = parse_range(text);
    if let Some(specs) = &specs {
        assert!(!specs.is_empty());
        let written: Vec<String> = specs
            .iter()
            .map(|spec| match spec {
                RangeSpec::From {
                    first,
                    last: Some(last),
                } => {
                    assert!(last >= first);
                    format!("{first}-{last}")
                }
                RangeSpec::From { first, last: None } => format!("{first}-"),
                RangeSpec::Suffix(n) => format!("-{n}"),
            })
            .collect();
        let again = format!("bytes={}", written.join(","));
        assert_eq!(
            parse_range(&again).as_ref(),
            Some(specs),
            "{text:?} as {again:?}"
        );
    }
    let len = raw.iter().take(8).fold(0u64, |n, &b| n << 8 | u64::from(b));
    for len in [0, 1, 100, len, u64::MAX] {
        let resolved = resolve_range(text, len);
        let one = match specs.as_deref() {
            Some([spec]) => *spec,
            _ => {
                assert_eq!(resolved, Ranges::Ignore, "{text:?}");
                continue;
            }
        };
        match (one, resolved) {
            (RangeSpec::From { first, last }, Ranges::One { start, end }) => {
                assert_eq!(start, first);
                assert_eq!(end, last.unwrap_or(u64::MAX).min(len - 1));
            }
            (RangeSpec::From { first, .. }, Ranges::Unsatisfiable) => assert!(first >= len),
            (RangeSpec::Suffix(n), Ranges::One { start, end }) => {
                assert_eq!(end, len - 1);
                assert_eq!(end - start + 1, n.min(len));
            }
            (RangeSpec::Suffix(n), Ranges::Unsatisfiable) => assert!(n == 0 || len == 0),
            (spec, resolved) => panic!("{text:?} of {len}: {spec:?} resolved to {resolved:?}"),
        }
    }
}

/// Sun, 06 Nov 1994 08:49:37 GMT.
const MODIFIED: u64 = 784_111_777;

fn conditional(text: &str) {
    let mut lines = text.split('\n');
    let etag: String = lines
        .next()
        .unwrap_or("")
        .chars()
        .filter(|&c| c == '!' || ('#'..='~').contains(&c))
        .collect();
    let flags = lines.next().unwrap_or("").len();
    let get_or_head = flags % 2 == 0;
    let modified = (flags % 3 != 0).then_some(MODIFIED);
    let names = [
        IF_MATCH,
        IF_NONE_MATCH,
        IF_MODIFIED_SINCE,
        IF_UNMODIFIED_SINCE,
        IF_RANGE,
    ];
    let mut headers = HeaderMap::new();
    for (name, line) in names.iter().cycle().zip(lines) {
        if let (false, Ok(value)) = (line.is_empty(), HeaderValue::from_str(line)) {
            headers.append(name, value);
        }
    }
    for name in [&IF_MATCH, &IF_NONE_MATCH] {
        tags_round_trip(&headers, name);
    }
    assert_eq!(
        evaluate(&headers, get_or_head, &etag, modified),
        reference(&headers, get_or_head, &etag, modified),
        "{headers:?}"
    );
    // The response's Date: the modification's second or the next, so a
    // date validator is weak, then strong.
    for date in [
        modified.unwrap_or(0),
        modified.unwrap_or(0).saturating_add(1),
    ] {
        if_range(&headers, &etag, modified, date);
    }
}

fn tags_round_trip(headers: &HeaderMap, name: &HeaderName) {
    let Some(TagList::Tags(tags)) = tag_list(headers, name) else {
        return;
    };
    for (_, opaque) in &tags {
        assert!(!opaque.contains('"'));
    }
    let written: Vec<String> = tags
        .iter()
        .map(|(weak, opaque)| format!("{}\"{opaque}\"", if *weak { "W/" } else { "" }))
        .collect();
    let mut again = HeaderMap::new();
    again.insert(name, HeaderValue::from_str(&written.join(", ")).unwrap());
    assert_eq!(tag_list(&again, name), Some(TagList::Tags(tags.clone())));
}

fn date(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    let text = headers.get(name)?.to_str().ok()?;
    let time = httpdate::parse_http_date(text.trim()).ok()?;
    Some(
        time.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// RFC 9110 §13.2.2, step by step, on the parsed fields.
fn reference(headers: &HeaderMap, get_or_head: bool, etag: &str, modified: Option<u64>) -> Outcome {
    let any = |list: &TagList<'_>, strong: bool| match list {
        TagList::Any => true,
        TagList::Tags(tags) => tags
            .iter()
            .any(|(weak, o)| *o == etag && !(strong && *weak)),
    };
    if let Some(list) = tag_list(headers, &IF_MATCH) {
        if !any(&list, true) {
            return Outcome::Failed;
        }
    } else if let Some(since) = date(headers, &IF_UNMODIFIED_SINCE) {
        if modified.is_none_or(|m| m > since) {
            return Outcome::Failed;
        }
    }
    if let Some(list) = tag_list(headers, &IF_NONE_MATCH) {
        if any(&list, false) {
            return if get_or_head {
                Outcome::NotModified
            } else {
                Outcome::Failed
            };
        }
    } else if get_or_head {
        if let (Some(since), Some(m)) = (date(headers, &IF_MODIFIED_SINCE), modified) {
            if m <= since {
                return Outcome::NotModified;
            }
        }
    }
    Outcome::Proceed
}

fn if_range(headers: &HeaderMap, etag: &str, modified: Option<u64>, now: u64) {
    let holds = if_range_holds(headers, etag, modified, now);
    let Some(value) = headers.get(IF_RANGE) else {
        assert!(holds);
        return;
    };
    let text = value.to_str().unwrap_or("\0").trim();
    if holds {
        let tag = format!("\"{etag}\"");
        // RFC 9110 §8.8.2.2: a Last-Modified is strong only a second or
        // more before the Date.
        let same_date = date(headers, &IF_RANGE).is_some_and(|d| Some(d) == modified && d < now);
        assert!(text == tag || same_date, "If-Range {text:?} held");
    }
    if text.starts_with("W/") {
        assert!(!holds, "a weak If-Range held");
    }
}

/// A root with files, a subdirectory, a dotfile and symlinks leading in
/// and out; beside it, a file that must never be served. Sizes tell the
/// files apart in the `ETag` (`"{len:x}-…"`).
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

const OUTSIDE_LEN: usize = 0x777;
const DOTFILE_LEN: usize = 0x555;

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let root = base.join("root");
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        fs::write(root.join("a.txt"), "a").unwrap();
        fs::write(root.join("a b.txt"), "ab").unwrap();
        fs::write(root.join("café"), "cafe").unwrap();
        fs::write(root.join("index.html"), "index").unwrap();
        fs::write(root.join("sub/b.txt"), "b").unwrap();
        fs::write(root.join("sub/deeper/c.txt"), "c").unwrap();
        fs::write(root.join(".secret"), vec![b's'; DOTFILE_LEN]).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join(".git/config"), vec![b's'; DOTFILE_LEN]).unwrap();
        fs::write(base.join("outside.txt"), vec![b'o'; OUTSIDE_LEN]).unwrap();
        fs::write(base.join("rootless"), vec![b'o'; OUTSIDE_LEN]).unwrap();
        let link = |to: &Path, name: &str| std::os::unix::fs::symlink(to, root.join(name)).unwrap();
        link(&root.join("a.txt"), "in-link");
        link(&base.join("outside.txt"), "out-link");
        link(&base, "out-dir");
        link(&root.join(".secret"), "to-dotfile");
        link(Path::new("../outside.txt"), "rel-out");
        Tree { _dir: dir, root }
    })
}

fn paths(text: &str, which: u8) {
    let dotfiles = which & 0x10 != 0;
    let root = &tree().root;
    if let Ok(rel) = relative_path(text, dotfiles) {
        assert!(rel.is_relative());
        for component in rel.components() {
            let Component::Normal(name) = component else {
                panic!("{text:?} resolved to {rel:?}");
            };
            let name = name.to_str().unwrap();
            assert!(!name.contains(['/', '\\', '\0']), "{text:?} gave {name:?}");
            assert!(
                dotfiles || !name.starts_with('.'),
                "{text:?} gave a dotfile"
            );
        }
        if let Ok(real) = confine_path(root, &root.join(&rel), false, dotfiles) {
            assert!(real.starts_with(root), "{text:?} escaped to {real:?}");
            let inside = real.strip_prefix(root).unwrap();
            let hidden = inside
                .to_str()
                .unwrap()
                .split('/')
                .any(|c| c.starts_with('.'));
            assert!(dotfiles || !hidden, "{text:?} reached {real:?}");
        }
    }

    // The whole static-file handler, for a request whose path is `text`.
    let rel = text.strip_prefix('/').unwrap_or(text);
    let target = format!("/{rel}");
    let Some(req) = request(&target, "") else {
        return;
    };
    let dir = ServeDir::new(root).dotfiles(dotfiles);
    let res = dir.respond(&req, req.path());
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    if let Some(etag) = etag {
        assert!(
            !etag.starts_with(&format!("\"{OUTSIDE_LEN:x}-")),
            "{target:?} served a file outside the root ({})",
            res.status()
        );
        if !dotfiles {
            assert!(
                !etag.starts_with(&format!("\"{DOTFILE_LEN:x}-")),
                "{target:?} served a dotfile"
            );
        }
    }
}
