//! Conditional requests (RFC 9110 §13): entity tags, their comparison, and
//! the order in which the preconditions are evaluated. Pure: the file's
//! validators come in, a decision comes out.

use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{HeaderMap, HeaderName, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use http::header::{IF_RANGE, IF_UNMODIFIED_SINCE};

/// The validators of the selected representation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Validators<'a> {
    /// The opaque part of its strong entity tag, without quotes.
    pub(crate) etag: &'a str,
    /// Its modification time in whole seconds since the epoch, as sent in
    /// `Last-Modified` (HTTP dates have one-second resolution).
    pub(crate) modified: Option<u64>,
}

/// What the preconditions decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Answer normally (and honour `Range`, subject to `If-Range`).
    Proceed,
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// One `entity-tag` of a field value (RFC 9110 §8.8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tag<'a> {
    pub(crate) weak: bool,
    /// Between the quotes.
    pub(crate) opaque: &'a str,
}

impl Tag<'_> {
    /// RFC 9110 §8.8.3.2, strong comparison: both tags are strong and
    /// their opaque-tags match character by character.
    pub(crate) fn strong_eq(&self, other: &Tag<'_>) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// RFC 9110 §8.8.3.2, weak comparison: the opaque-tags match, whether
    /// or not either is weak.
    pub(crate) fn weak_eq(&self, other: &Tag<'_>) -> bool {
        self.opaque == other.opaque
    }
}

/// The value of `If-Match` or `If-None-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TagList<'a> {
    /// `*`: any current representation.
    Any,
    /// The entity tags listed; malformed members are dropped, so they
    /// match nothing.
    Tags(Vec<Tag<'a>>),
}

/// Parses one `entity-tag` at the start of `text`, returning it and the
/// rest. RFC 9110 §8.8.3:
/// ```text
/// entity-tag = [ weak ] opaque-tag
/// weak       = %s"W/"
/// opaque-tag = DQUOTE *etagc DQUOTE
/// etagc      = %x21 / %x23-7E / obs-text
/// ```
/// `etagc` allows commas, so a list cannot simply be split on them.
fn tag(text: &str) -> Option<(Tag<'_>, &str)> {
    let (weak, text) = match text.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let rest = text.strip_prefix('"')?;
    let end = rest.find('"')?;
    let opaque = &rest[..end];
    if !opaque
        .bytes()
        .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
    {
        return None;
    }
    Some((Tag { weak, opaque }, &rest[end + 1..]))
}

/// Parses `If-Match` / `If-None-Match` over every field line of `name`:
/// `"*" / #entity-tag` (§13.1.1-13.1.2). `None` when the field is absent.
pub(crate) fn tag_list<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<TagList<'h>> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let mut tags = Vec::new();
    for value in values {
        let Ok(mut text) = value.to_str() else {
            continue;
        };
        if text.trim() == "*" {
            return Some(TagList::Any);
        }
        loop {
            text = text.trim_start_matches([' ', '\t', ',']);
            if text.is_empty() {
                break;
            }
            match tag(text) {
                Some((found, rest)) => {
                    tags.push(found);
                    text = rest;
                }
                // Skip the malformed member up to the next comma.
                None => match text.find(',') {
                    Some(comma) => text = &text[comma..],
                    None => break,
                },
            }
        }
    }
    Some(TagList::Tags(tags))
}

/// Whole seconds since the epoch of an HTTP-date field (all three formats
/// of RFC 9110 §5.6.7); `None` when absent or invalid, which §13.1.3-4
/// say to treat as if the field were absent.
fn date(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    let text = headers.get(name)?.to_str().ok()?;
    httpdate::parse_http_date(text.trim()).ok().map(seconds)
}

/// Whole seconds since the epoch (0 before it).
pub(crate) fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Evaluates the preconditions of a request whose method is safe
/// (`get_or_head`) or not, in the order of RFC 9110 §13.2.2.
pub(crate) fn evaluate(headers: &HeaderMap, get_or_head: bool, current: Validators<'_>) -> Outcome {
    let ours = Tag {
        weak: false,
        opaque: current.etag,
    };
    // Step 1, §13.1.1: If-Match uses the strong comparison; `*` matches
    // any current representation, and this one exists.
    if let Some(list) = tag_list(headers, &IF_MATCH) {
        let matched = match &list {
            TagList::Any => true,
            TagList::Tags(tags) => tags.iter().any(|tag| tag.strong_eq(&ours)),
        };
        if !matched {
            return Outcome::Failed;
        }
    } else if let Some(since) = date(headers, &IF_UNMODIFIED_SINCE) {
        // Step 2, §13.1.4: only without If-Match; false when modified
        // after the date (and when there is no modification date to
        // compare, since the condition cannot then be shown to hold).
        if current.modified.is_none_or(|modified| modified > since) {
            return Outcome::Failed;
        }
    }
    // Step 3, §13.1.2: If-None-Match uses the weak comparison; when it
    // fails, a GET or HEAD gets 304 and any other method 412.
    if let Some(list) = tag_list(headers, &IF_NONE_MATCH) {
        let matched = match &list {
            TagList::Any => true,
            TagList::Tags(tags) => tags.iter().any(|tag| tag.weak_eq(&ours)),
        };
        if matched {
            return if get_or_head {
                Outcome::NotModified
            } else {
                Outcome::Failed
            };
        }
    } else if get_or_head {
        // Step 4, §13.1.3: If-Modified-Since only without If-None-Match,
        // and only for GET and HEAD: 304 unless modified after the date.
        if let (Some(since), Some(modified)) = (date(headers, &IF_MODIFIED_SINCE), current.modified)
        {
            if modified <= since {
                return Outcome::NotModified;
            }
        }
    }
    Outcome::Proceed
}

/// Whether a `Range` may be honoured given `If-Range` (§13.1.5): true
/// without the field, or when its validator matches the current one, an
/// entity tag by the strong comparison, a date by being exactly the
/// modification date while that date is a strong validator. Otherwise the
/// whole representation is sent. `date` is the second the response's
/// `Date` names, or an earlier one.
pub(crate) fn if_range_holds(headers: &HeaderMap, current: Validators<'_>, date: u64) -> bool {
    let Some(value) = headers.get(IF_RANGE) else {
        return true;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let text = text.trim();
    let ours = Tag {
        weak: false,
        opaque: current.etag,
    };
    if text.starts_with('"') || text.starts_with("W/") {
        return match tag(text) {
            Some((theirs, rest)) => rest.trim().is_empty() && theirs.strong_eq(&ours),
            None => false,
        };
    }
    // §8.8.2.2: a Last-Modified less than a second before the Date is
    // weak: the file may change again within that second without its date
    // changing, and a range of the new bytes be spliced onto the old.
    match httpdate::parse_http_date(text) {
        Ok(theirs) => current
            .modified
            .is_some_and(|modified| modified == seconds(theirs) && modified < date),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const ETAG: &str = "a-1";
    /// Sun, 06 Nov 1994 08:49:37 GMT.
    const MODIFIED: u64 = 784_111_777;
    const BEFORE: &str = "Sun, 06 Nov 1994 08:49:36 GMT";
    const AT: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const AFTER: &str = "Sun, 06 Nov 1994 08:49:38 GMT";

    fn headers(fields: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
            map.append(name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn current() -> Validators<'static> {
        Validators {
            etag: ETAG,
            modified: Some(MODIFIED),
        }
    }

    #[test]
    fn entity_tags_compare_strongly_and_weakly() {
        let strong = |opaque| Tag {
            weak: false,
            opaque,
        };
        let weak = |opaque| Tag { weak: true, opaque };
        // The table of RFC 9110 §8.8.3.2.
        let cases = [
            (weak("1"), weak("1"), false, true),
            (weak("1"), weak("2"), false, false),
            (weak("1"), strong("1"), false, true),
            (strong("1"), strong("1"), true, true),
        ];
        for (a, b, strong_eq, weak_eq) in cases {
            assert_eq!(a.strong_eq(&b), strong_eq, "{a:?} {b:?}");
            assert_eq!(a.weak_eq(&b), weak_eq, "{a:?} {b:?}");
        }
    }

    #[test]
    fn tag_lists_parse_with_commas_inside_tags_and_skip_malformed_members() {
        let tag = |weak, opaque| Tag { weak, opaque };
        let cases: &[(&[&str], Option<TagList<'_>>)] = &[
            (&[], None),
            (&["*"], Some(TagList::Any)),
            (&[" * "], Some(TagList::Any)),
            (&[r#""a""#], Some(TagList::Tags(vec![tag(false, "a")]))),
            (
                &[r#""a", W/"b""#],
                Some(TagList::Tags(vec![tag(false, "a"), tag(true, "b")])),
            ),
            (&[r#""a,b""#], Some(TagList::Tags(vec![tag(false, "a,b")]))),
            (
                &[r#""a""#, r#""b""#],
                Some(TagList::Tags(vec![tag(false, "a"), tag(false, "b")])),
            ),
            (
                &[r#"a, "b", "c"#],
                Some(TagList::Tags(vec![tag(false, "b")])),
            ),
            (&[r#"w/"a""#], Some(TagList::Tags(vec![]))),
            (&[r#""a b""#], Some(TagList::Tags(vec![]))),
            (&[r#""""#], Some(TagList::Tags(vec![tag(false, "")]))),
        ];
        for (values, expected) in cases {
            let fields: Vec<_> = values.iter().map(|v| ("if-match", *v)).collect();
            let map = headers(&fields);
            assert_eq!(tag_list(&map, &IF_MATCH), *expected, "{values:?}");
        }
    }

    #[test]
    fn preconditions_are_evaluated_in_the_order_of_rfc_9110() {
        use Outcome::{Failed, NotModified, Proceed};
        let ours = r#""a-1""#;
        type Case<'a> = (&'a [(&'a str, &'a str)], bool, Outcome);
        let cases: &[Case<'_>] = &[
            (&[], true, Proceed),
            // If-Match: strong comparison, lists, `*`.
            (&[("if-match", ours)], true, Proceed),
            (&[("if-match", "*")], true, Proceed),
            (&[("if-match", r#""x", "a-1""#)], true, Proceed),
            (&[("if-match", r#"W/"a-1""#)], true, Failed),
            (&[("if-match", r#""x""#)], true, Failed),
            (&[("if-match", "garbage")], true, Failed),
            // If-Unmodified-Since, only without If-Match.
            (&[("if-unmodified-since", AT)], true, Proceed),
            (&[("if-unmodified-since", AFTER)], true, Proceed),
            (&[("if-unmodified-since", BEFORE)], true, Failed),
            (&[("if-unmodified-since", "yesterday")], true, Proceed),
            (
                &[("if-match", ours), ("if-unmodified-since", BEFORE)],
                true,
                Proceed,
            ),
            // If-None-Match: weak comparison; 304 for GET/HEAD, else 412.
            (&[("if-none-match", ours)], true, NotModified),
            (&[("if-none-match", r#"W/"a-1""#)], true, NotModified),
            (&[("if-none-match", r#""x", "a-1""#)], true, NotModified),
            (&[("if-none-match", "*")], true, NotModified),
            (&[("if-none-match", r#""x""#)], true, Proceed),
            (&[("if-none-match", ours)], false, Failed),
            // If-Modified-Since: only without If-None-Match, only GET/HEAD.
            (&[("if-modified-since", AT)], true, NotModified),
            (&[("if-modified-since", AFTER)], true, NotModified),
            (&[("if-modified-since", BEFORE)], true, Proceed),
            (&[("if-modified-since", AT)], false, Proceed),
            (&[("if-modified-since", "not a date")], true, Proceed),
            (
                &[("if-none-match", r#""x""#), ("if-modified-since", AT)],
                true,
                Proceed,
            ),
            // Obsolete date formats are accepted (§5.6.7).
            (
                &[("if-modified-since", "Sunday, 06-Nov-94 08:49:37 GMT")],
                true,
                NotModified,
            ),
            (
                &[("if-modified-since", "Sun Nov  6 08:49:37 1994")],
                true,
                NotModified,
            ),
            // A failed If-Match wins over a matching If-None-Match.
            (
                &[("if-match", r#""x""#), ("if-none-match", ours)],
                true,
                Failed,
            ),
        ];
        for (fields, get_or_head, expected) in cases {
            let map = headers(fields);
            assert_eq!(
                evaluate(&map, *get_or_head, current()),
                *expected,
                "{fields:?} get_or_head={get_or_head}"
            );
        }
    }

    #[test]
    fn if_range_needs_a_strong_tag_or_the_exact_date() {
        let cases: &[(Option<&str>, bool)] = &[
            (None, true),
            (Some(r#""a-1""#), true),
            (Some(r#" "a-1" "#), true),
            (Some(r#"W/"a-1""#), false),
            (Some(r#""b""#), false),
            (Some(r#""a-1", "b""#), false),
            (Some(AT), true),
            (Some(BEFORE), false),
            (Some(AFTER), false),
            (Some("whenever"), false),
        ];
        for (value, expected) in cases {
            let fields: Vec<_> = value.iter().map(|v| ("if-range", *v)).collect();
            let map = headers(&fields);
            assert_eq!(
                if_range_holds(&map, current(), MODIFIED + 1),
                *expected,
                "{value:?}"
            );
        }
        let undated = Validators {
            etag: ETAG,
            modified: None,
        };
        let if_range_at = headers(&[("if-range", AT)]);
        assert!(!if_range_holds(&if_range_at, undated, MODIFIED + 1));
    }

    /// §8.8.2.2: a modification date less than a second before the
    /// response's Date is weak, and a weak date never lets a range through;
    /// an entity tag is unaffected.
    #[test]
    fn if_range_refuses_a_date_modified_in_the_current_second_or_later() {
        let at = headers(&[("if-range", AT)]);
        let tag = headers(&[("if-range", r#""a-1""#)]);
        for (date, holds) in [
            (MODIFIED + 3600, true),
            (MODIFIED + 1, true),
            (MODIFIED, false),
            (MODIFIED - 1, false),
        ] {
            assert_eq!(if_range_holds(&at, current(), date), holds, "{date}");
            assert!(if_range_holds(&tag, current(), date), "{date}");
        }
    }
}
