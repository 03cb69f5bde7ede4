//! Path parameter values: stored without allocating for the common case,
//! percent-decoded and parsed only when a route function asks for them
//! (by [`path_param`](super::extract::path_param)).

use std::borrow::Cow;

/// How many values fit inline; routes with more spill into a `Vec`.
const INLINE: usize = 4;

/// The raw (still percent-encoded) values of a matched route's parameters,
/// in path order. Slices of the request path; no allocation for up to
/// [`INLINE`] parameters.
#[derive(Debug)]
pub(crate) struct Params<'p> {
    inline: [&'p str; INLINE],
    spill: Vec<&'p str>,
    len: usize,
}

impl<'p> Params<'p> {
    pub(crate) fn new() -> Self {
        Params {
            inline: [""; INLINE],
            spill: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, value: &'p str) {
        if self.len < INLINE {
            self.inline[self.len] = value;
        } else {
            self.spill.truncate(self.len - INLINE);
            self.spill.push(value);
        }
        self.len += 1;
    }

    /// Forgets the values after the first `len` (the router backtracks).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, index: usize) -> Option<&'p str> {
        if index >= self.len {
            None
        } else if index < INLINE {
            Some(self.inline[index])
        } else {
            self.spill.get(index - INLINE).copied()
        }
    }
}

/// Decodes `%XX` escapes. Malformed escapes stay as they are (as browsers
/// and `percent-encoding` do); `None` when the result is not UTF-8.
/// Borrows when there is nothing to decode.
pub(crate) fn percent_decode(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('%') {
        return Some(Cow::Borrowed(raw));
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)),
            _ => None,
        };
        match escaped {
            Some((hi, lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_spill_past_the_inline_ones_and_truncate() {
        let mut params = Params::new();
        for value in ["a", "b", "c", "d", "e", "f"] {
            params.push(value);
        }
        let all: Vec<_> = (0..params.len()).map(|i| params.get(i).unwrap()).collect();
        assert_eq!(all, ["a", "b", "c", "d", "e", "f"]);
        params.truncate(5);
        params.push("g");
        assert_eq!(params.get(5), Some("g"));
        assert_eq!(params.get(6), None);
        params.truncate(1);
        assert_eq!(params.get(1), None);
        params.push("x");
        assert_eq!(params.get(1), Some("x"));
    }

    #[test]
    fn percent_decoding() {
        let cases: &[(&str, Option<&str>)] = &[
            ("plain", Some("plain")),
            ("a%20b", Some("a b")),
            ("caf%C3%A9", Some("café")),
            ("%2F", Some("/")),
            ("100%", Some("100%")),
            ("%zz%4", Some("%zz%4")),
            ("a+b", Some("a+b")),
            ("%FF", None),
            ("%C3", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(percent_decode(raw).as_deref(), *expected, "{raw}");
        }
        assert!(matches!(percent_decode("plain"), Some(Cow::Borrowed(_))));
    }
}
