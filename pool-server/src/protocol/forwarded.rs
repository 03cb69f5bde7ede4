//! Who the client is behind trusted proxies: the one field the operator
//! names (`X-Forwarded-For` with `X-Forwarded-Proto` by default, or
//! `Forwarded` of RFC 7239), read from the right, so each trusted proxy
//! vouches for the hop before it and the first untrusted address is the
//! client, as nginx's realip module does. From a peer that is not trusted,
//! the fields are ignored: anyone can send them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use http::header::{HeaderMap, HeaderName, FORWARDED};

/// An address or a network (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) is that
/// IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Network, String> {
        let bad = || format!("`{text}` is not an IP address or a network such as 10.0.0.0/8");
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr = canonical(addr.trim().parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(bad)?,
            None => max,
        };
        Ok(Network { addr, prefix })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Which header field a trusted proxy's word on the client is read from
/// (see [`Builder::proxy_header`](crate::Builder::proxy_header)). Only the
/// one named is read: a proxy passes the others on as the client sent
/// them, so believing them would let a client choose its own address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProxyHeader {
    /// `X-Forwarded-For` (the client, then each proxy it passed, the
    /// nearest last), with the scheme from `X-Forwarded-Proto`. What nginx
    /// (`proxy_add_x_forwarded_for`), HAProxy (`option forwardfor`),
    /// Traefik, Caddy and the cloud load balancers keep up to date.
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239), `for=` and `proto=` in each element. Only for
    /// a proxy set up to append to it or to replace it (HAProxy's `option
    /// forwarded`, an nginx `proxy_set_header Forwarded ...`): most pass a
    /// client's `Forwarded` through untouched.
    Forwarded,
    /// Another field written as `X-Forwarded-For` is (a list of addresses,
    /// the nearest hop last), such as `X-Real-IP` or `CF-Connecting-IP`,
    /// with the scheme from `X-Forwarded-Proto`. The proxy must replace
    /// whatever a client sent in it.
    Other(http::HeaderName),
}

/// The proxies whose forwarding fields are believed, and the field read.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies {
    networks: Vec<Network>,
    header: ProxyHeader,
}

/// The client as the trusted proxies describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    pub(crate) addr: IpAddr,
    /// `http` or `https`, when a proxy said.
    pub(crate) scheme: Option<String>,
}

impl TrustedProxies {
    pub(crate) fn new(networks: Vec<Network>, header: ProxyHeader) -> TrustedProxies {
        TrustedProxies { networks, header }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(ip))
    }

    /// Records on `request` who its trusted proxies forwarded for.
    pub(crate) fn apply(&self, request: &mut crate::request::Request) {
        if self.is_empty() {
            return;
        }
        request.forwarded = self
            .client(request.peer_addr.ip(), &request.headers)
            .map(|client| (client.addr, client.scheme));
    }

    /// The client behind `peer`, if `peer` is a trusted proxy that said who
    /// it forwards for or over which scheme; `None` otherwise.
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Option<Client> {
        if !self.trusts(peer) {
            return None;
        }
        let hops = match &self.header {
            ProxyHeader::XForwardedFor => address_list_hops(headers, &X_FORWARDED_FOR),
            ProxyHeader::Forwarded => forwarded_hops(headers),
            ProxyHeader::Other(name) => address_list_hops(headers, name),
        };
        // From the right: each hop is written by a proxy already vouched
        // for (the peer first), and names who sent it the request and how.
        // A trusted address vouches for the hop before it; an untrusted
        // one is the client; a hop with no address (`unknown`, obfuscated,
        // absent or unreadable) ends what anyone vouches for, and only its
        // scheme is taken.
        let mut client: Option<Client> = None;
        for hop in hops.into_iter().rev() {
            let addr = client.as_ref().map_or(peer, |c| c.addr);
            let next = Client {
                addr: hop.addr.unwrap_or(addr),
                scheme: hop.scheme,
            };
            client = Some(next);
            match hop.addr {
                Some(addr) if self.trusts(addr) => {}
                _ => break,
            }
        }
        client
    }
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

struct Hop {
    addr: Option<IpAddr>,
    scheme: Option<String>,
}

impl Hop {
    /// A hop that vouches for nothing: an element that does not parse.
    const BROKEN: Hop = Hop {
        addr: None,
        scheme: None,
    };
}

/// `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`, each
/// field line on its own: one that does not parse (an unterminated quote,
/// a parameter given twice in an element) is one broken hop, so nothing
/// left of it is believed.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let mut hops = Vec::new();
    for value in headers.get_all(FORWARDED) {
        match value.to_str().ok().and_then(parse_forwarded) {
            Some(line) => hops.extend(line),
            None => hops.push(Hop::BROKEN),
        }
    }
    hops
}

/// One `Forwarded` field line (RFC 7239 §4):
/// `1#( [pair] *( ";" [pair] ) )` where `pair = token "=" ( token / quoted-string )`.
fn parse_forwarded(line: &str) -> Option<Vec<Hop>> {
    let mut hops = Vec::new();
    let mut rest = line.as_bytes();
    loop {
        let (mut seen_for, mut seen_proto, mut pairs) = (false, false, 0);
        let mut hop = Hop::BROKEN;
        loop {
            rest = rest.trim_ascii_start();
            if let [b';' | b',', ..] | [] = rest {
                // An empty pair, as the grammar allows.
            } else {
                let (key, after) = split_token(rest)?;
                let [b'=', after @ ..] = after else {
                    return None;
                };
                let (value, after) = match after {
                    [b'"', ..] => split_quoted(after)?,
                    _ => {
                        let (token, after) = split_token(after)?;
                        (String::from_utf8_lossy(token).into_owned(), after)
                    }
                };
                rest = after.trim_ascii_start();
                pairs += 1;
                let seen = if key.eq_ignore_ascii_case(b"for") {
                    hop.addr = node_addr(&value);
                    &mut seen_for
                } else if key.eq_ignore_ascii_case(b"proto") {
                    hop.scheme = scheme(&value);
                    &mut seen_proto
                } else {
                    &mut false
                };
                if std::mem::replace(seen, true) {
                    // RFC 7239 §4: each parameter at most once per element.
                    return None;
                }
            }
            match rest {
                [b';', after @ ..] => rest = after,
                _ => break,
            }
        }
        // An empty element (`a, , b`) is no hop: lists may hold them.
        if pairs > 0 {
            hops.push(hop);
        }
        match rest {
            [] => return Some(hops),
            [b',', after @ ..] => rest = after,
            _ => return None,
        }
    }
}

/// A token (RFC 9110 §5.6.2) at the start of `bytes`, and what follows it.
fn split_token(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let is_tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    let end = bytes
        .iter()
        .position(|b| !is_tchar(b))
        .unwrap_or(bytes.len());
    (end > 0).then(|| bytes.split_at(end))
}

/// A quoted string (RFC 9110 §5.6.4) at the start of `bytes`, unescaped,
/// and what follows its closing quote; `None` when it never closes.
fn split_quoted(bytes: &[u8]) -> Option<(String, &[u8])> {
    let mut text = Vec::new();
    let mut i = 1;
    loop {
        match *bytes.get(i)? {
            b'"' => return Some((String::from_utf8_lossy(&text).into_owned(), &bytes[i + 1..])),
            b'\\' => {
                text.push(*bytes.get(i + 1)?);
                i += 2;
            }
            b => {
                text.push(b);
                i += 1;
            }
        }
    }
}

/// `X-Forwarded-For: client, proxy1` with `X-Forwarded-Proto: https` (or
/// another field of the same form in `name`). The proto is one value for
/// the whole chain (the nearest proxy's, the rightmost), so it goes with
/// whichever hop is the client; a proto with no address list is the
/// peer's own word on the scheme.
fn address_list_hops(headers: &HeaderMap, name: &HeaderName) -> Vec<Hop> {
    let proto = headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|v| scheme(v.trim()));
    let mut hops: Vec<Hop> = headers
        .get_all(name)
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(v) => v.split(',').map(|node| node_addr(node.trim())).collect(),
            Err(_) => vec![None],
        })
        .map(|addr| Hop {
            addr,
            scheme: proto.clone(),
        })
        .collect();
    if hops.is_empty() && proto.is_some() {
        hops.push(Hop {
            addr: None,
            scheme: proto,
        });
    }
    hops
}

/// A node as RFC 7239 §6 writes it: `192.0.2.43`, `192.0.2.43:47011`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`; `unknown` and obfuscated names
/// are no address.
fn node_addr(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (v6, _) = rest.split_once(']')?;
        return v6
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| canonical(IpAddr::V6(ip)));
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    let (v4, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    v4.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

fn scheme(value: &str) -> Option<String> {
    let value = value.to_ascii_lowercase();
    matches!(value.as_str(), "http" | "https").then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn proxies(list: &[&str], header: ProxyHeader) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| n.parse().unwrap()).collect(), header)
    }

    /// Each case's client and scheme through `trusted`, from a trusted peer.
    fn check(trusted: &TrustedProxies, cases: &[Case]) {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        for (fields, want) in cases {
            let got = trusted.client(peer, &headers(fields));
            let got = got.as_ref().map(|c| (c.addr.to_string(), c.scheme.clone()));
            let want = want.map(|(a, s)| (a.to_owned(), s.map(str::to_owned)));
            assert_eq!(got, want, "{fields:?}");
        }
    }

    #[test]
    fn networks_parse_and_match() {
        let net: Network = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let one: Network = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!("0.0.0.0/0"
            .parse::<Network>()
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "1.2.3.4/x", ""] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }

    /// Header fields, and the client and scheme they name.
    type Case = (
        &'static [(&'static str, &'static str)],
        Option<(&'static str, Option<&'static str>)>,
    );

    #[test]
    fn x_forwarded_for_names_the_rightmost_untrusted_hop() {
        let trusted = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        check(
            &trusted,
            &[
                (
                    &[("x-forwarded-for", "203.0.113.7")],
                    Some(("203.0.113.7", None)),
                ),
                (
                    // A client that sends its own X-Forwarded-For cannot choose its address.
                    &[
                        ("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.5"),
                        ("x-forwarded-proto", "https"),
                    ],
                    Some(("203.0.113.7", Some("https"))),
                ),
                (
                    &[
                        ("x-forwarded-for", "203.0.113.7"),
                        ("x-forwarded-proto", "https"),
                    ],
                    Some(("203.0.113.7", Some("https"))),
                ),
                // A client's own Forwarded, passed through, is not read.
                (
                    &[
                        ("forwarded", "for=6.6.6.6;proto=https"),
                        ("x-forwarded-for", "203.0.113.7"),
                    ],
                    Some(("203.0.113.7", None)),
                ),
                (&[("forwarded", "for=6.6.6.6;proto=https")], None),
                // A TLS terminator that only says the scheme.
                (
                    &[("x-forwarded-proto", "https")],
                    Some(("10.0.0.1", Some("https"))),
                ),
                (&[], None),
            ],
        );
    }

    #[test]
    fn forwarded_names_the_rightmost_untrusted_hop() {
        let trusted = proxies(&["10.0.0.0/8"], ProxyHeader::Forwarded);
        check(
            &trusted,
            &[
                (
                    &[("forwarded", "for=192.0.2.60;proto=https, for=10.0.0.9")],
                    Some(("192.0.2.60", Some("https"))),
                ),
                (
                    &[("forwarded", "for=\"[2001:db8::1]:4711\"")],
                    Some(("2001:db8::1", None)),
                ),
                (
                    &[("forwarded", "for=unknown, for=10.0.0.9")],
                    Some(("10.0.0.9", None)),
                ),
                // Its own field only: X-Forwarded-For is what a client sent.
                (
                    &[
                        ("x-forwarded-for", "6.6.6.6"),
                        ("forwarded", "for=203.0.113.7"),
                    ],
                    Some(("203.0.113.7", None)),
                ),
                (&[("x-forwarded-for", "6.6.6.6")], None),
                // The scheme alone, from the peer: the peer stays the client.
                (
                    &[("forwarded", "proto=https")],
                    Some(("10.0.0.1", Some("https"))),
                ),
                // Quoted commas and semicolons are not separators; empty
                // elements are skipped.
                (
                    &[("forwarded", "for=6.6.6.6, , for=203.0.113.7;by=\"a,b;c\",")],
                    Some(("203.0.113.7", None)),
                ),
                // Several lines are one list, in order.
                (
                    &[
                        ("forwarded", "for=6.6.6.6"),
                        ("forwarded", "for=203.0.113.7;proto=http"),
                    ],
                    Some(("203.0.113.7", Some("http"))),
                ),
            ],
        );
    }

    #[test]
    fn a_malformed_forwarded_element_vouches_for_nothing() {
        let trusted = proxies(&["10.0.0.0/8"], ProxyHeader::Forwarded);
        check(
            &trusted,
            &[
                // An unterminated quote swallows the proxy's element.
                (
                    &[("forwarded", "for=\"6.6.6.6, for=203.0.113.7")],
                    Some(("10.0.0.1", None)),
                ),
                // A parameter twice in one element.
                (
                    &[("forwarded", "for=6.6.6.6;for=203.0.113.7")],
                    Some(("10.0.0.1", None)),
                ),
                (
                    &[("forwarded", "for=203.0.113.7;proto=http;proto=https")],
                    Some(("10.0.0.1", None)),
                ),
                // A port needs quotes; stray text after a value.
                (
                    &[("forwarded", "for=203.0.113.7:80")],
                    Some(("10.0.0.1", None)),
                ),
                (
                    &[("forwarded", "for=\"203.0.113.7\"x")],
                    Some(("10.0.0.1", None)),
                ),
                // A broken line left of a good one leaves the good one.
                (
                    &[
                        ("forwarded", "for=\"6.6.6.6"),
                        ("forwarded", "for=203.0.113.7"),
                    ],
                    Some(("203.0.113.7", None)),
                ),
            ],
        );
    }

    #[test]
    fn another_field_reads_like_x_forwarded_for() {
        let trusted = proxies(
            &["10.0.0.0/8"],
            ProxyHeader::Other(HeaderName::from_static("x-real-ip")),
        );
        check(
            &trusted,
            &[
                (
                    &[
                        ("x-real-ip", "203.0.113.7"),
                        ("x-forwarded-for", "6.6.6.6"),
                        ("x-forwarded-proto", "https"),
                    ],
                    Some(("203.0.113.7", Some("https"))),
                ),
                (&[("x-forwarded-for", "6.6.6.6")], None),
            ],
        );
    }

    #[test]
    fn fields_from_an_untrusted_peer_are_ignored() {
        let trusted = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        let fields = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(trusted.client("192.0.2.1".parse().unwrap(), &fields), None);
    }
}
