//! The request's host: what a valid `Host` value is (RFC 9112 §3.2, with
//! RFC 3986 §3.2.2's grammar), and the authority of an absolute-form target,
//! which takes the place of `Host` (RFC 9112 §3.2.2). Applications build URLs
//! and pick tenants from the host, so nothing else may reach them.

use std::net::Ipv6Addr;

/// `Host = uri-host [ ":" port ]`: a registered name (letters, digits,
/// `-._~`, `%XX` and RFC 3986's sub-delimiters), an IPv4 address (which is
/// a registered name to this grammar) or a bracketed IPv6 address, then an
/// optional port of digits. Empty is valid: RFC 9112 §3.2 asks for an empty
/// `Host` when the target has no authority.
pub(crate) fn is_valid(value: &[u8]) -> bool {
    // One pass over the name with a table: this runs for every request.
    let port = match value.first() {
        Some(b'[') => match value.iter().position(|&b| b == b']') {
            Some(close) if is_ipv6_literal(&value[1..close]) => &value[close + 1..],
            _ => return false,
        },
        _ => {
            let mut i = 0;
            while let Some(&b) = value.get(i) {
                match REG_NAME[usize::from(b)] {
                    NAME => i += 1,
                    PERCENT if is_hex(value.get(i + 1)) && is_hex(value.get(i + 2)) => i += 3,
                    _ => break,
                }
            }
            &value[i..]
        }
    };
    match port {
        [] => true,
        [b':', digits @ ..] => digits.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

const OTHER: u8 = 0;
const NAME: u8 = 1;
const PERCENT: u8 = 2;

/// `reg-name = *( unreserved / pct-encoded / sub-delims )`: what each byte
/// is to it.
static REG_NAME: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            table[b] = NAME;
        }
        b += 1;
    }
    let sub_delims = b"!$&'()*+,;=";
    let mut i = 0;
    while i < sub_delims.len() {
        table[sub_delims[i] as usize] = NAME;
        i += 1;
    }
    table[b'%' as usize] = PERCENT;
    table
};

fn is_hex(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_hexdigit)
}

/// The inside of `[...]`: an IPv6 address. (RFC 3986's `IPvFuture` names no
/// version anyone uses; it is refused.)
fn is_ipv6_literal(inside: &[u8]) -> bool {
    std::str::from_utf8(inside).is_ok_and(|text| text.parse::<Ipv6Addr>().is_ok())
}

/// The authority of an absolute-form target (`http://host:port/path`), given
/// what follows the scheme's `://`: up to the path or query. `None` when it
/// is no valid host for an `http` URI: empty (RFC 9110 §4.2.1), with user
/// info (§4.2.4 asks a recipient to treat it as an error), or invalid.
pub(crate) fn absolute_authority(rest: &str) -> Option<&str> {
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    (host_end > 0 && !authority.contains('@') && is_valid(authority.as_bytes()))
        .then_some(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_follow_the_uri_grammar() {
        let valid = [
            "",
            "a",
            "example.com",
            "example.com:8080",
            "example.com:",
            "127.0.0.1:80",
            "[::1]",
            "[2001:db8::7]:443",
            "xn--bcher-kva.example",
            "a%2Fb",
            "under_score.example",
            "a!$&'()*+,;=b",
        ];
        for host in valid {
            assert!(is_valid(host.as_bytes()), "{host:?} is valid");
        }
        let invalid = [
            "evil.com/path?x",
            "a b",
            "<script>",
            "a\tb",
            "host:80x",
            "host:80:81",
            "[::1",
            "[nope]",
            "[::1]x",
            "[::1]:8a",
            "user@host",
            "a%2",
            "a%zz",
            "a\"b",
            "a\\b",
            "caf\u{e9}.example",
            "#frag",
        ];
        for host in invalid {
            assert!(!is_valid(host.as_bytes()), "{host:?} is invalid");
        }
    }

    #[test]
    fn an_absolute_target_gives_its_authority_or_nothing() {
        let cases = [
            ("a.example/x", Some("a.example")),
            ("a.example:8080?q", Some("a.example:8080")),
            ("a.example", Some("a.example")),
            ("[::1]:80/", Some("[::1]:80")),
            ("/x", None),
            ("", None),
            (":80/", None),
            ("user@a.example/", None),
            ("a b/", None),
            ("a.example:x/", None),
        ];
        for (rest, want) in cases {
            assert_eq!(absolute_authority(rest), want, "{rest:?}");
        }
    }
}
