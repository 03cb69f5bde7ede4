//! Request heads: finding their end cheaply, parsing them with `httparse`, and
//! the RFC 9112 rules that decide framing. No I/O happens here.

use std::borrow::Cow;
use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::{Method, Version};

use super::body::BodyKind;
use super::error::RequestError;
use super::host;
use crate::config::{Limits, MAX_HEADERS_CAP};
use crate::request::{Body, Request, Target};

/// What a parsed head says beside its request: how to read the body, and
/// what the client asked of the connection.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) body: BodyKind,
    /// The client asked to keep the connection open after this exchange.
    pub(crate) keep_alive: bool,
    /// The client waits for `100 Continue` before it sends the body.
    pub(crate) expects_continue: bool,
}

/// Looks for the blank line that ends a head in `buf[from..]`, and returns the
/// head's length including it. Only new bytes need scanning: callers pass the
/// previous length less 3, so a terminator split across reads is still found
/// and a client sending a byte at a time costs O(n), not O(n²).
/// Bare LF line ends are accepted, as RFC 9112 §2.2 allows.
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    // memchr: a head is scanned once per read, and its line ends are found
    // a word at a time rather than byte by byte.
    while let Some(off) = memchr::memchr(b'\n', buf.get(i..)?) {
        let nl = i + off;
        match buf.get(nl + 1..nl + 3) {
            Some([b'\n', _]) => return Some(nl + 2),
            Some(b"\r\n") => return Some(nl + 3),
            _ if buf.get(nl + 1) == Some(&b'\n') => return Some(nl + 2),
            _ => i = nl + 1,
        }
    }
    None
}

/// The error for a head over the size limit: 414 when the request line alone
/// is longer than the limit, else 431.
pub(crate) fn head_too_large(buf: &[u8], limit: usize) -> RequestError {
    match buf.iter().position(|&b| b == b'\n') {
        Some(line_end) if line_end <= limit => RequestError::HeadTooLarge,
        _ => RequestError::UriTooLong,
    }
}

/// Parses a complete head (as delimited by [`find_head_end`]) into
/// `request` and applies the framing and smuggling rules of RFC 9112.
/// `request` is a served request emptied by [`Request::recycle`] or a
/// [blank](Request::blank) one: filling it in place, its header map
/// included, spares moving a request into its box. After an error it holds
/// part of the head and must not be used.
pub(crate) fn parse_head(
    head: &[u8],
    limits: &Limits,
    peer_addr: SocketAddr,
    request: &mut Request,
) -> Result<Head, RequestError> {
    // `recycle` (on the worker, so memory goes back early) and `blank` leave
    // the headers, body and forwarded client empty: not reset again here.
    debug_assert!(
        request.headers.is_empty()
            && request.forwarded.is_none()
            && matches!(&request.body, Body::Memory { bytes, .. } if bytes.is_empty()),
        "parse_head needs an emptied request"
    );
    let mut slots = [MaybeUninit::<httparse::Header<'_>>::uninit(); MAX_HEADERS_CAP];
    let mut req = httparse::Request::new(&mut []);
    match req.parse_with_uninit_headers(head, &mut slots[..limits.max_headers]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(RequestError::Malformed("incomplete request head"))
        }
        Err(httparse::Error::TooManyHeaders) => return Err(RequestError::HeadTooLarge),
        Err(httparse::Error::Version) => return Err(version_error(head)),
        Err(_) => return Err(RequestError::Malformed("malformed request head")),
    }
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(RequestError::Malformed("malformed request line"));
    };
    let version = if minor == 1 {
        Version::HTTP_11
    } else {
        Version::HTTP_10
    };
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| RequestError::Malformed("invalid method"))?;
    let (target, authority) = origin_form(&method, target)?;
    // A byte search: `str::find` with a char costs several times more on a short target.
    let query_start = target.bytes().position(|b| b == b'?');

    // One copy of the head backs the target and every header value, instead
    // of one allocation for each.
    let shared = shared_copy(head);
    let in_shared = |part: &[u8]| {
        let start = part.as_ptr() as usize - head.as_ptr() as usize;
        shared.slice(start..start + part.len())
    };
    let target = match target {
        Cow::Borrowed(target) => Target::from_str_bytes(in_shared(target.as_bytes())),
        Cow::Owned(target) => Target::from(target),
    };
    let headers = &mut request.headers;
    headers.reserve(req.headers.len());
    let mut framing = Framing::default();
    for h in req.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| RequestError::Malformed("invalid header name"))?;
        let value = HeaderValue::from_maybe_shared(in_shared(h.value))
            .map_err(|_| RequestError::Malformed("invalid header value"))?;
        framing.see(&name, h.value)?;
        headers.append(name, value);
    }
    let body = framing.body(version)?;
    let keep_alive = match version {
        Version::HTTP_11 => !framing.close,
        _ => framing.keep_alive && !framing.close,
    };
    if version == Version::HTTP_11 && framing.hosts == 0 {
        return Err(RequestError::Malformed("missing Host header"));
    }
    // RFC 9112 §3.2.2: an absolute-form target's authority is the host, and
    // the Host field (checked for its count above) is ignored; handlers see
    // the authority wherever they look for the host.
    match authority {
        Some(authority) => {
            let value = HeaderValue::from_maybe_shared(in_shared(authority.as_bytes()))
                .map_err(|_| RequestError::Malformed("invalid request target"))?;
            headers.insert(http::header::HOST, value);
        }
        None if framing.bad_host => return Err(RequestError::Malformed("invalid Host header")),
        None => {}
    }
    request.method = method;
    request.target = target;
    request.query_start = query_start;
    request.version = version;
    request.peer_addr = peer_addr;
    Ok(Head {
        body,
        keep_alive,
        // RFC 9110 §10.1.1: 100-continue is only sent to HTTP/1.1 clients, and
        // only when there is a body to wait for.
        expects_continue: framing.expect_continue
            && version == Version::HTTP_11
            && body != BodyKind::Empty,
    })
}

/// The size of the blocks heads are copied into: a few typical heads (a
/// browser's is 500-odd bytes, a load generator's 50), and the most a
/// header value kept past its request can hold on to.
const HEAD_BLOCK: usize = 4096;

thread_local! {
    /// The free end of this thread's current block of heads.
    static HEADS: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// `head` copied into this thread's block of heads, which the heads of the
/// next requests share: a new block is allocated once per `HEAD_BLOCK`
/// bytes of heads, and not at all when every request of the current block
/// is gone by the time it fills (`BytesMut` then reuses it from the start;
/// so a keep-alive connection served one request at a time never
/// allocates here). A part kept after its request (a header value stored
/// by a handler) keeps its block alive and nothing more: the next head
/// goes to a new block. A head larger than a block gets an allocation of
/// its own, so blocks never grow.
fn shared_copy(head: &[u8]) -> Bytes {
    if head.len() > HEAD_BLOCK {
        return Bytes::copy_from_slice(head);
    }
    HEADS.with(|heads| {
        let mut heads = heads.borrow_mut();
        if heads.capacity() < head.len() {
            heads.reserve(HEAD_BLOCK);
        }
        heads.extend_from_slice(head);
        heads.split().freeze()
    })
}

/// httparse reports any bad version token the same way: a well-formed
/// `HTTP/x.y` we do not speak is 505, anything else is a malformed request.
fn version_error(head: &[u8]) -> RequestError {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let version = line.rsplit(|&b| b == b' ').next().unwrap_or_default();
    match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            RequestError::UnsupportedVersion
        }
        [b'H', b'T', b'T', b'P', b'/', major] if major.is_ascii_digit() => {
            RequestError::UnsupportedVersion
        }
        _ => RequestError::Malformed("malformed request line"),
    }
}

/// Reduces the request target to origin form (RFC 9112 §3.2): `/path?query`
/// as is, `*` for OPTIONS, and `http://host/path` to its path, with `host`
/// beside it (the authority, which must be a valid host). What it borrows
/// is a part of `target`, so the caller can find it in the head.
///
/// CONNECT is refused here: RFC 9112 §3.2.3 gives it the authority form
/// (`host:port`) and nothing else, and a 2xx answer would open a tunnel
/// (RFC 9110 §9.3.6), which the server does not do. A well-formed CONNECT
/// gets 501, as RFC 9110 §9.1 asks for a method not implemented; any other
/// CONNECT target is malformed.
fn origin_form<'t>(
    method: &Method,
    target: &'t str,
) -> Result<(Cow<'t, str>, Option<&'t str>), RequestError> {
    if method == Method::CONNECT {
        return Err(if is_authority_form(target) {
            RequestError::ConnectUnsupported
        } else {
            RequestError::Malformed("CONNECT needs a host:port target")
        });
    }
    if target.starts_with('/') || (target == "*" && method == Method::OPTIONS) {
        return Ok((Cow::Borrowed(target), None));
    }
    let scheme = |s: &str| {
        target
            .get(..s.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(s))
    };
    let rest = if scheme("http://") {
        &target[7..]
    } else if scheme("https://") {
        &target[8..]
    } else {
        return Err(RequestError::Malformed("invalid request target"));
    };
    let authority = host::absolute_authority(rest).ok_or(RequestError::Malformed(
        "invalid host in the request target",
    ))?;
    let path = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => Cow::Borrowed(&rest[i..]),
        Some(i) => Cow::Owned(format!("/{}", &rest[i..])),
        None => Cow::Owned("/".to_owned()),
    };
    Ok((path, Some(authority)))
}

/// `authority-form = uri-host ":" port` (RFC 9112 §3.2.3): no user info,
/// a host, and a port of digits.
fn is_authority_form(target: &str) -> bool {
    match target.parse::<http::uri::Authority>() {
        Ok(authority) => {
            !target.contains('@') && !authority.host().is_empty() && authority.port().is_some()
        }
        Err(_) => false,
    }
}

/// What the framing-related fields of one head say, gathered field by field.
#[derive(Default)]
struct Framing {
    hosts: usize,
    /// The `Host` value is not a valid host (RFC 9112 §3.2 wants 400).
    bad_host: bool,
    content_length: Option<u64>,
    /// `Transfer-Encoding` fields seen, even empty ones.
    te_fields: usize,
    /// Transfer codings seen, in order; `chunked_last` tells whether the list
    /// ended with `chunked`.
    codings: usize,
    chunked_count: usize,
    chunked_last: bool,
    other_coding: bool,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
}

impl Framing {
    fn see(&mut self, name: &HeaderName, value: &[u8]) -> Result<(), RequestError> {
        use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING};
        if name == HOST {
            self.hosts += 1;
            if self.hosts > 1 {
                return Err(RequestError::Malformed("more than one Host header"));
            }
            self.bad_host = !host::is_valid(value);
        } else if name == CONTENT_LENGTH {
            // RFC 9112 §6.3: a list of identical values may be taken as one;
            // differing or invalid values make the framing unknowable.
            for item in value.split(|&b| b == b',') {
                let n = parse_length(item.trim_ascii())?;
                if self.content_length.is_some_and(|seen| seen != n) {
                    return Err(RequestError::Malformed("conflicting Content-Length"));
                }
                self.content_length = Some(n);
            }
        } else if name == TRANSFER_ENCODING {
            self.te_fields += 1;
            for coding in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if coding.is_empty() {
                    continue;
                }
                self.codings += 1;
                self.chunked_last = coding.eq_ignore_ascii_case(b"chunked");
                if self.chunked_last {
                    self.chunked_count += 1;
                } else {
                    self.other_coding = true;
                }
            }
        } else if name == CONNECTION {
            for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                self.close |= token.eq_ignore_ascii_case(b"close");
                self.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name == EXPECT {
            if value.trim_ascii().eq_ignore_ascii_case(b"100-continue") {
                self.expect_continue = true;
            } else {
                return Err(RequestError::UnknownExpectation);
            }
        }
        Ok(())
    }

    /// RFC 9112 §6.1 and §6.3: how the body is delimited, refusing every
    /// ambiguous combination rather than guessing (request smuggling).
    fn body(&self, version: Version) -> Result<BodyKind, RequestError> {
        if self.te_fields > 0 {
            // A field with no coding must not be skipped: a proxy in front may
            // honour it (or the Content-Length beside it) and frame the same
            // bytes differently.
            if self.codings == 0 {
                return Err(RequestError::Malformed(
                    "Transfer-Encoding without a coding",
                ));
            }
            if self.content_length.is_some() {
                return Err(RequestError::Malformed(
                    "both Content-Length and Transfer-Encoding",
                ));
            }
            if version == Version::HTTP_10 {
                return Err(RequestError::Malformed(
                    "Transfer-Encoding in an HTTP/1.0 request",
                ));
            }
            if !self.chunked_last || self.chunked_count > 1 {
                return Err(RequestError::Malformed(
                    "chunked must be the final transfer coding, once",
                ));
            }
            if self.other_coding {
                return Err(RequestError::UnsupportedEncoding);
            }
            return Ok(BodyKind::Chunked);
        }
        // The length is checked against the limit of the route, once the
        // connection knows it.
        match self.content_length {
            None | Some(0) => Ok(BodyKind::Empty),
            Some(n) => Ok(BodyKind::Length(n)),
        }
    }
}

/// `Content-Length = 1*DIGIT`; no sign, no spaces inside, no overflow.
fn parse_length(digits: &[u8]) -> Result<u64, RequestError> {
    const BAD: RequestError = RequestError::Malformed("invalid Content-Length");
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(BAD);
    }
    Ok(digits
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests;
