//! The `Range` request header (RFC 9110 §14.1-14.2), parsed and resolved
//! against a representation's length. Pure: no I/O.

/// One `range-spec` as the client wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spec {
    /// `first-last`, or `first-` (to the end) when `last` is `None`.
    From { first: u64, last: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// What a `Range` header asks of a representation of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ranges {
    /// Ignore the header and send the whole representation (200): it is
    /// not a valid `bytes` range set, or it asks for several ranges (see
    /// [`resolve`]).
    Ignore,
    /// Send bytes `start..=end` (206).
    One { start: u64, end: u64 },
    /// No range overlaps the representation (416).
    Unsatisfiable,
}

/// Parses a `Range` field value into its range specs; `None` when it is
/// not a syntactically valid `bytes` range set.
///
/// RFC 9110 §14.1.1:
/// ```text
/// ranges-specifier = range-unit "=" range-set
/// range-set        = 1#range-spec
/// range-spec       = int-range / suffix-range / other-range
/// int-range        = first-pos "-" [ last-pos ]
/// suffix-range     = "-" suffix-length
/// ```
/// The unit is case-insensitive (§14.1); §14.2 lets a server ignore a
/// unit it does not know, and a list may hold empty elements (§5.6.1).
pub(crate) fn parse(value: &str) -> Option<Vec<Spec>> {
    let (unit, set) = value.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut specs = Vec::new();
    for element in set.split(',') {
        let element = element.trim_matches([' ', '\t']);
        if element.is_empty() {
            continue;
        }
        let (first, last) = element.split_once('-')?;
        let spec = if first.is_empty() {
            Spec::Suffix(digits(last)?)
        } else {
            let first = digits(first)?;
            let last = if last.is_empty() {
                None
            } else {
                Some(digits(last)?)
            };
            // §14.1.1: "An int-range is invalid if the last-pos value is
            // present and less than the first-pos."
            if last.is_some_and(|last| last < first) {
                return None;
            }
            Spec::From { first, last }
        };
        specs.push(spec);
    }
    // `1#range-spec`: at least one.
    (!specs.is_empty()).then_some(specs)
}

/// `1*DIGIT`, without signs or spaces; `None` on overflow too.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// What the `Range` field `value` asks of a representation of `len` bytes.
///
/// One range is served as a single part. Several ranges are answered with
/// the whole representation: §14.2 lets a server ignore `Range`, and this
/// spares the multipart/byteranges framing and the cost of many tiny
/// parts (a known amplification vector), while every client that asks for
/// several ranges also handles a 200.
pub(crate) fn resolve(value: &str, len: u64) -> Ranges {
    let Some(specs) = parse(value) else {
        return Ranges::Ignore;
    };
    let [spec] = specs[..] else {
        return Ranges::Ignore;
    };
    // §14.1.1-14.1.2: an int-range is satisfiable when its first-pos is
    // below the length, a suffix-range when its length is non-zero and the
    // representation is not empty; the last-pos is clamped to the end.
    match spec {
        Spec::From { first, last } if first < len => Ranges::One {
            start: first,
            end: last.map_or(len - 1, |last| last.min(len - 1)),
        },
        Spec::Suffix(n) if n > 0 && len > 0 => Ranges::One {
            start: len.saturating_sub(n),
            end: len - 1,
        },
        _ => Ranges::Unsatisfiable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_headers_parse_by_the_grammar() {
        use Spec::{From, Suffix};
        let cases: &[(&str, Option<&[Spec]>)] = &[
            (
                "bytes=0-499",
                Some(&[From {
                    first: 0,
                    last: Some(499),
                }]),
            ),
            (
                "bytes=500-",
                Some(&[From {
                    first: 500,
                    last: None,
                }]),
            ),
            ("bytes=-500", Some(&[Suffix(500)])),
            (
                "BYTES=1-2",
                Some(&[From {
                    first: 1,
                    last: Some(2),
                }]),
            ),
            (
                " bytes = 1-2",
                Some(&[From {
                    first: 1,
                    last: Some(2),
                }]),
            ),
            (
                "bytes=5-5",
                Some(&[From {
                    first: 5,
                    last: Some(5),
                }]),
            ),
            (
                "bytes=0-0, -1",
                Some(&[
                    From {
                        first: 0,
                        last: Some(0),
                    },
                    Suffix(1),
                ]),
            ),
            (
                "bytes=,1-2,",
                Some(&[From {
                    first: 1,
                    last: Some(2),
                }]),
            ),
            ("bytes=-0", Some(&[Suffix(0)])),
            ("bytes=5-4", None),
            ("bytes=", None),
            ("bytes=,", None),
            ("bytes=-", None),
            ("bytes=a-b", None),
            ("bytes=1-2-3", None),
            ("bytes=+1-2", None),
            ("bytes=1 -2", None),
            ("bytes=0x10-", None),
            ("bytes=99999999999999999999-", None),
            ("bytes 0-1", None),
            ("items=0-1", None),
            ("", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse(value).as_deref(), *expected, "{value:?}");
        }
    }

    #[test]
    fn ranges_resolve_against_the_length() {
        use Ranges::{Ignore, One, Unsatisfiable};
        let cases: &[(&str, u64, Ranges)] = &[
            ("bytes=0-4", 10, One { start: 0, end: 4 }),
            ("bytes=0-", 10, One { start: 0, end: 9 }),
            ("bytes=9-", 10, One { start: 9, end: 9 }),
            ("bytes=5-100", 10, One { start: 5, end: 9 }),
            ("bytes=-3", 10, One { start: 7, end: 9 }),
            ("bytes=-100", 10, One { start: 0, end: 9 }),
            ("bytes=10-", 10, Unsatisfiable),
            ("bytes=10-20", 10, Unsatisfiable),
            ("bytes=-0", 10, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=-1", 0, Unsatisfiable),
            ("bytes=0-1,3-4", 10, Ignore),
            ("bytes=20-30,40-50", 10, Ignore),
            ("bytes=4-3", 10, Ignore),
            ("bytes=x", 10, Ignore),
            ("pages=1-2", 10, Ignore),
        ];
        for (value, len, expected) in cases {
            assert_eq!(resolve(value, *len), *expected, "{value:?} of {len}");
        }
    }
}
