//! Which precompressed sibling of a file a client accepts, from its
//! `Accept-Encoding` (RFC 9110 §12.5.3). Pure.

use http::header::{HeaderMap, ACCEPT_ENCODING};

/// A content coding we may have a precompressed file for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    /// `br`, served from `NAME.br`.
    Brotli,
    /// `gzip`, served from `NAME.gz`.
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` value.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// The extension of the precompressed sibling.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gz",
        }
    }
}

/// The codings the client accepts, best first: by descending qvalue, and
/// Brotli before gzip at equal weight (it is smaller). A coding with
/// `q=0` is refused (§12.4.2); `*` stands for every coding not listed; no
/// field at all means no preference, and we then send the original, which
/// every client can read.
pub(crate) fn accepted(headers: &HeaderMap) -> Vec<Coding> {
    let mut any = None;
    let mut brotli = None;
    let mut gzip = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else {
            continue;
        };
        for member in text.split(',') {
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
            // §12.5.3: "x-gzip" is an alias of "gzip"; codings are
            // case-insensitive.
            let slot = if coding.eq_ignore_ascii_case("br") {
                &mut brotli
            } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                &mut gzip
            } else if coding == "*" {
                &mut any
            } else {
                continue;
            };
            *slot = Some(weight);
        }
    }
    let mut codings: Vec<(Coding, u16)> = [(Coding::Brotli, brotli), (Coding::Gzip, gzip)]
        .into_iter()
        .filter_map(|(coding, weight)| Some((coding, weight.or(any)?)))
        .filter(|&(_, weight)| weight > 0)
        .collect();
    // A stable sort keeps Brotli first among equals.
    codings.sort_by_key(|&(_, weight)| std::cmp::Reverse(weight));
    codings.into_iter().map(|(coding, _)| coding).collect()
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

    #[test]
    fn accept_encoding_picks_codings_by_weight_then_brotli_first() {
        use Coding::{Brotli, Gzip};
        let cases: &[(&[&str], &[Coding])] = &[
            (&[], &[]),
            (&["gzip"], &[Gzip]),
            (&["br"], &[Brotli]),
            (&["gzip, deflate, br"], &[Brotli, Gzip]),
            (&["GZIP, BR"], &[Brotli, Gzip]),
            (&["x-gzip"], &[Gzip]),
            (&["gzip;q=1.0, br;q=0.5"], &[Gzip, Brotli]),
            (&["br;q=0, gzip"], &[Gzip]),
            (&["br; q=0.000, gzip;q=0.001"], &[Gzip]),
            (&["*"], &[Brotli, Gzip]),
            (&["*;q=0"], &[]),
            (&["*;q=0, gzip"], &[Gzip]),
            (&["*, br;q=0"], &[Gzip]),
            (&["identity"], &[]),
            (&["deflate"], &[]),
            (&["gzip;q=2"], &[]),
            (&["gzip;q=0.5000"], &[]),
            (&["gzip;q=abc, br"], &[Brotli]),
            (&["gzip", "br"], &[Brotli, Gzip]),
            (&[""], &[]),
        ];
        for (values, expected) in cases {
            let mut headers = HeaderMap::new();
            for value in *values {
                headers.append(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            }
            assert_eq!(accepted(&headers), *expected, "{values:?}");
        }
    }
}
