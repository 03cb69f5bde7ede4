//! `Accept-Encoding` (RFC 9110 §12.5.3): which of the content codings the
//! server can produce a client accepts, best first. The one reading of the
//! field, so that the compression middleware and `ServeDir`'s
//! precompressed files never answer the same request differently.
//!
//! - Every `Accept-Encoding` field counts, as one list (RFC 9110 §5.3).
//! - Codings are case-insensitive; `x-gzip` is `gzip` (§8.4.1.3).
//! - A weight follows the qvalue grammar (§12.4.2): `0` to `1` with at most
//!   three decimals, `q` in either case. A member whose weight is malformed
//!   (`q=2`, `q=0.5000`, `q=abc`) is ignored, as if not listed, as
//!   tower-http does: then `*` speaks for it, if present.
//! - A coding listed twice takes its last weight.
//! - `q=0` means not acceptable; `*` stands for every coding not listed,
//!   `identity` included.
//! - `identity` (the representation as it is) competes on weight like the
//!   others: `br;q=0.5, identity` prefers it. Not listed, it is acceptable
//!   but least preferred, so `gzip;q=0.1` alone still asks for gzip.
//! - Ties go to the server's preference: brotli, then gzip, then identity.
//! - No field, an empty one, or one naming nothing we produce: identity.
//!   When even identity is refused (`identity;q=0`, `*;q=0`) and nothing
//!   else is acceptable, the caller still sends the representation as it
//!   is, as §12.5.3 allows, rather than a 406 a browser would show.

use std::cmp::Reverse;

use http::header::{HeaderMap, ACCEPT_ENCODING};

/// A content coding the server produces: by compressing a body on the way
/// out, or by sending a precompressed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    /// `br`.
    Brotli,
    /// `gzip`.
    Gzip,
}

impl Coding {
    /// In the server's order of preference: brotli is the smaller of the
    /// two at the settings used, and every current browser reads it.
    const PREFERENCE: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    /// The `Content-Encoding` value.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }
}

/// The codings the client prefers to the representation as it is, best
/// first (see the [module docs](self) for the rules); all the acceptable
/// ones when `identity` is refused. Empty: send it as it is.
pub(crate) fn preferred(headers: &HeaderMap) -> impl Iterator<Item = Coding> {
    let weights = Weights::parse(headers);
    let identity = weights.of(weights.identity);
    let mut codings = Coding::PREFERENCE.map(|coding| {
        let listed = match coding {
            Coding::Brotli => weights.brotli,
            Coding::Gzip => weights.gzip,
        };
        (coding, weights.of(listed))
    });
    // A stable sort keeps the server's preference among equal weights.
    codings.sort_by_key(|&(_, weight)| Reverse(weight));
    codings
        .into_iter()
        .filter(move |&(_, weight)| weight > 0 && weight >= identity)
        .map(|(coding, _)| coding)
}

/// The weights listed, in thousandths; `None` for what is not listed.
#[derive(Debug, Default)]
struct Weights {
    brotli: Option<u16>,
    gzip: Option<u16>,
    identity: Option<u16>,
    any: Option<u16>,
}

impl Weights {
    fn parse(headers: &HeaderMap) -> Weights {
        let mut weights = Weights::default();
        // A field that is not visible ASCII cannot name a coding; the
        // others still count.
        let fields = headers
            .get_all(ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok());
        for member in fields.flat_map(|field| field.split(',')) {
            let mut parts = member.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let mut weight = Some(1000);
            for param in parts {
                if let Some((name, value)) = param.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("q") {
                        weight = qvalue(value.trim());
                    }
                }
            }
            let Some(weight) = weight else {
                continue;
            };
            let slot = if coding.eq_ignore_ascii_case("br") {
                &mut weights.brotli
            } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                &mut weights.gzip
            } else if coding.eq_ignore_ascii_case("identity") {
                &mut weights.identity
            } else if coding == "*" {
                &mut weights.any
            } else {
                continue;
            };
            *slot = Some(weight);
        }
        weights
    }

    /// The weight of a coding listed with `listed`: `*`'s when it is not
    /// listed, 0 when neither is.
    fn of(&self, listed: Option<u16>) -> u16 {
        listed.or(self.any).unwrap_or(0)
    }
}

/// A qvalue in thousandths (§12.4.2):
/// `( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`.
fn qvalue(text: &str) -> Option<u16> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |n, digit| n * 10 + u16::from(digit - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;
    use Coding::{Brotli, Gzip};

    fn preferred_for(fields: &[&str]) -> Vec<Coding> {
        let mut headers = HeaderMap::new();
        for field in fields {
            headers.append(ACCEPT_ENCODING, HeaderValue::from_str(field).unwrap());
        }
        preferred(&headers).collect()
    }

    #[test]
    fn codings_go_by_weight_then_the_servers_preference() {
        let cases: &[(&[&str], &[Coding])] = &[
            (&[], &[]),
            (&[""], &[]),
            (&["gzip"], &[Gzip]),
            (&["br"], &[Brotli]),
            (&["gzip, deflate, br"], &[Brotli, Gzip]),
            (&["deflate"], &[]),
            (&["gzip;q=1.0, br;q=0.5"], &[Gzip, Brotli]),
            (&["br;q=0.5, gzip;q=0.5"], &[Brotli, Gzip]),
            (&["br;q=0, gzip"], &[Gzip]),
            (&["br;q=0.000, gzip;q=0.001"], &[Gzip]),
            (&["gzip;q=0, gzip"], &[Gzip]),
        ];
        for (fields, expected) in cases {
            assert_eq!(preferred_for(fields), *expected, "{fields:?}");
        }
    }

    #[test]
    fn every_field_counts() {
        assert_eq!(preferred_for(&["gzip", "br"]), [Brotli, Gzip]);
        assert_eq!(preferred_for(&["br;q=0", "gzip"]), [Gzip]);
        assert_eq!(preferred_for(&["identity", "gzip;q=0.5"]), []);
        // A field that is not text is skipped, not the others.
        let mut headers = HeaderMap::new();
        let opaque = HeaderValue::from_bytes(b"\xffgzip").unwrap();
        headers.append(ACCEPT_ENCODING, opaque);
        headers.append(ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(preferred(&headers).collect::<Vec<_>>(), [Brotli]);
    }

    #[test]
    fn star_stands_for_what_is_not_listed() {
        let cases: &[(&str, &[Coding])] = &[
            ("*", &[Brotli, Gzip]),
            ("*;q=0", &[]),
            ("*;q=0, gzip", &[Gzip]),
            ("*, br;q=0", &[Gzip]),
            ("*;q=0.5, gzip", &[Gzip, Brotli]),
            // `*` gives identity its weight too: 0.5 each, ties to codings.
            ("*;q=0.5", &[Brotli, Gzip]),
            ("*;q=0.5, identity", &[]),
        ];
        for (field, expected) in cases {
            assert_eq!(preferred_for(&[field]), *expected, "{field}");
        }
    }

    #[test]
    fn identity_competes_on_weight() {
        let cases: &[(&str, &[Coding])] = &[
            ("identity", &[]),
            ("identity;q=0", &[]),
            ("gzip, identity", &[Gzip]),
            ("gzip;q=0.1", &[Gzip]),
            ("br;q=0.5, identity", &[]),
            ("br;q=0.5, gzip, identity;q=0.8", &[Gzip]),
            ("br;q=0.5, gzip;q=0.2, identity;q=0", &[Brotli, Gzip]),
            ("identity;q=0, *;q=0", &[]),
        ];
        for (field, expected) in cases {
            assert_eq!(preferred_for(&[field]), *expected, "{field}");
        }
    }

    #[test]
    fn case_and_spaces_do_not_matter() {
        let cases: &[(&str, &[Coding])] = &[
            ("GZIP, BR", &[Brotli, Gzip]),
            ("X-Gzip", &[Gzip]),
            ("gzip;Q=0.5, br;q=0.4", &[Gzip, Brotli]),
            ("  gzip ; q=0.5 ,br;q=0.4  ", &[Gzip, Brotli]),
            ("IDENTITY, gzip;q=0.5", &[]),
            (",, gzip ,", &[Gzip]),
        ];
        for (field, expected) in cases {
            assert_eq!(preferred_for(&[field]), *expected, "{field}");
        }
    }

    #[test]
    fn a_malformed_weight_drops_its_member() {
        let cases: &[(&str, &[Coding])] = &[
            ("gzip;q=2", &[]),
            ("gzip;q=1.001", &[]),
            ("gzip;q=0.5000", &[]),
            ("gzip;q=-1", &[]),
            ("gzip;q=.5", &[]),
            ("gzip;q=", &[]),
            ("gzip;q=abc, br", &[Brotli]),
            // Dropped, so `*` speaks for it.
            ("*, gzip;q=0.0001", &[Brotli, Gzip]),
            ("identity;q=x, gzip;q=0.5", &[Gzip]),
        ];
        for (field, expected) in cases {
            assert_eq!(preferred_for(&[field]), *expected, "{field}");
        }
    }

    #[test]
    fn qvalues_follow_the_grammar() {
        let cases = [
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.001", Some(1)),
            ("1", Some(1000)),
            ("1.", Some(1000)),
            ("1.000", Some(1000)),
            ("1.5", None),
            ("0.0001", None),
            ("00.5", None),
            ("+0.5", None),
            ("0,5", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(qvalue(text), expected, "{text}");
        }
    }
}
