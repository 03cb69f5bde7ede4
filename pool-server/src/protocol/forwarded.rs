//! Who the client is behind trusted proxies: `Forwarded` (RFC 7239) or
//! `X-Forwarded-For` / `X-Forwarded-Proto`, read from the right, so each
//! trusted proxy vouches for the hop before it and the first untrusted
//! address is the client. From a peer that is not trusted, the fields are
//! ignored: anyone can send them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use http::header::{HeaderMap, FORWARDED};

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

/// The proxies whose forwarding fields are believed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(Vec<Network>);

/// The client as the trusted proxies describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    pub(crate) addr: IpAddr,
    /// `http` or `https`, when a proxy said.
    pub(crate) scheme: Option<String>,
}

impl TrustedProxies {
    pub(crate) fn new(networks: Vec<Network>) -> TrustedProxies {
        TrustedProxies(networks)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// Records on `request` who its trusted proxies forwarded for.
    pub(crate) fn apply(&self, request: &mut crate::Request) {
        if self.is_empty() {
            return;
        }
        request.forwarded = self
            .client(request.peer_addr.ip(), &request.headers)
            .map(|client| (client.addr, client.scheme));
    }

    /// The client behind `peer`, if `peer` is a trusted proxy that said who
    /// it forwards for; `None` otherwise.
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Option<Client> {
        if !self.trusts(peer) {
            return None;
        }
        // RFC 7239 wins over the older de facto fields when both are there.
        let hops = if headers.contains_key(FORWARDED) {
            forwarded_hops(headers)
        } else {
            x_forwarded_hops(headers)
        };
        // From the right: each trusted hop vouches for the one before it.
        let mut chosen = None;
        for hop in hops.into_iter().rev() {
            let Some(addr) = hop.addr else {
                // An obfuscated or unknown hop: nothing before it is vouched for.
                break;
            };
            let trusted = self.trusts(addr);
            chosen = Some(hop);
            if !trusted {
                break;
            }
        }
        chosen.map(|hop| Client {
            addr: hop.addr.expect("only hops with an address are chosen"),
            scheme: hop.scheme,
        })
    }
}

struct Hop {
    addr: Option<IpAddr>,
    scheme: Option<String>,
}

/// `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let mut hops = Vec::new();
    for value in headers.get_all(FORWARDED) {
        let Ok(value) = value.to_str() else { continue };
        for element in value.split(',') {
            let mut hop = Hop {
                addr: None,
                scheme: None,
            };
            for pair in element.split(';') {
                let Some((key, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                if key.trim().eq_ignore_ascii_case("for") {
                    hop.addr = node_addr(value);
                } else if key.trim().eq_ignore_ascii_case("proto") {
                    hop.scheme = scheme(value);
                }
            }
            hops.push(hop);
        }
    }
    hops
}

/// `X-Forwarded-For: client, proxy1` with `X-Forwarded-Proto: https`. The
/// proto is one value for the whole chain (the nearest proxy's, the
/// rightmost), so it goes with whichever hop is the client.
fn x_forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let proto = headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|v| scheme(v.trim()));
    let hops: Vec<Hop> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|node| Hop {
            addr: node_addr(node.trim()),
            scheme: proto.clone(),
        })
        .collect();
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

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| n.parse().unwrap()).collect())
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
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let cases: [Case; 7] = [
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
            (&[], None),
        ];
        for (fields, want) in cases {
            let got = trusted.client(peer, &headers(fields));
            let got = got.as_ref().map(|c| (c.addr.to_string(), c.scheme.clone()));
            let want = want.map(|(a, s)| (a.to_owned(), s.map(str::to_owned)));
            assert_eq!(got, want, "{fields:?}");
        }
    }

    #[test]
    fn fields_from_an_untrusted_peer_are_ignored() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let fields = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(trusted.client("192.0.2.1".parse().unwrap(), &fields), None);
    }
}
