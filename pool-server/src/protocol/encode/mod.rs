//! Response heads and bodies into bytes (RFC 9112 §4-6). No I/O happens here.

use std::fmt;

use http::header::{HeaderMap, HeaderValue, CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::{StatusCode, Version};

use super::date::append_date;
use super::error::{self, RefusalBodies, RequestError};

use crate::request::Request;
use crate::response::{Body, Response};

/// What the `Connection` header of a response says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Persist {
    /// Keep the connection; HTTP/1.1's default, so no header is sent.
    KeepAlive,
    /// Keep the connection of an HTTP/1.0 client, which must be told.
    KeepAlive10,
    /// Close after this response: `Connection: close`.
    Close,
}

/// The interim response a client that sent `Expect: 100-continue` waits for.
pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// What [`head`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    /// A body follows the head.
    pub(crate) body: bool,
    /// The head says `Connection: close`: asked by the caller, or by the
    /// handler's own `Connection` field (middleware ends a connection so).
    pub(crate) close: bool,
}

/// How a response body is delimited on the wire (RFC 9112 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`, for HTTP/1.1 bodies of unknown length.
    Chunked,
    /// Neither: the body ends when the connection closes (HTTP/1.0 clients
    /// and bodies of unknown length).
    UntilClose,
}

/// Appends `res`, whose body is in memory, to `out`. `head_only` answers a
/// HEAD request: the headers a GET would get and no body. Its
/// `Content-Length` is the body's length, or, when the handler left the
/// body empty and set `Content-Length` itself (a HEAD route that knows the
/// size without making the body), that value. `request` names the exchange
/// in the log when the response had to be corrected (see [`head`]).
pub(crate) fn response(
    out: &mut Vec<u8>,
    res: &Response,
    head_only: bool,
    persist: Persist,
    request: Option<&Request>,
) -> Written {
    // The handler's length is looked up only where it can count.
    let length = if head_only && res.body().is_empty() {
        match declared_length(res.headers()) {
            Some(Ok(declared)) => declared,
            _ => 0,
        }
    } else {
        res.body().len() as u64
    };
    let written = head(
        out,
        res,
        head_only,
        persist,
        Framing::Length(length),
        request,
    );
    if written.body {
        out.extend_from_slice(res.body());
    }
    written
}

/// How the body of `res`, one not held in memory, is delimited for a
/// client speaking `version`: by its length when it is known, or declared
/// by the handler's `Content-Length` for a reader (the body is then cut to
/// it, or ends the connection short of it, see `Outgoing`); chunked
/// otherwise, or until the connection closes for an HTTP/1.0 client
/// (RFC 9112 §6.3), who knows no chunked coding.
pub(crate) fn framing(res: &Response, version: Version) -> Framing {
    if has_no_content(res.status()) {
        return Framing::Length(0);
    }
    match (res.raw_body(), declared_length(res.headers())) {
        (Body::Full(bytes), _) => Framing::Length(bytes.len() as u64),
        (Body::Reader { len: Some(n), .. }, _) => Framing::Length(*n),
        (Body::Reader { len: None, .. }, Some(Ok(declared))) => Framing::Length(declared),
        (Body::File { len, .. }, _) => Framing::Length(*len),
        _ if version == Version::HTTP_11 => Framing::Chunked,
        _ => Framing::UntilClose,
    }
}

/// Appends the head of `res` with the given framing, and says what it
/// wrote: whether the body follows (not for HEAD, 204, 205 and 304), and
/// whether the connection closes after it (`persist`, or a handler's
/// `Connection: close`).
///
/// Every response goes through here, so here a handler's mistakes are kept
/// off the wire: the server owns framing and connection management
/// (`Content-Length`, `Transfer-Encoding` and `Connection` are its own; of
/// a handler's `Connection`, only `close` is taken), a
/// 204, 205 or 304 carries no body, a status outside 200..=599 becomes a 500
/// (see [`status_refused`]), and a header value with a control character
/// (CR, LF, NUL: only `unsafe` code can put one in a `HeaderValue`) is
/// dropped, since it would end the head early or split it. What had to be
/// corrected is logged once per response, naming `request` when known.
pub(crate) fn head(
    out: &mut Vec<u8>,
    res: &Response,
    head_only: bool,
    persist: Persist,
    framing: Framing,
    request: Option<&Request>,
) -> Written {
    let status = res.status();
    if !is_final(status) {
        let asked = res.headers().get_all(CONNECTION).iter().any(asks_close);
        let persist = if asked { Persist::Close } else { persist };
        status_refused(out, status, head_only, persist, request);
        return Written {
            body: false,
            close: persist == Persist::Close,
        };
    }
    let mut persist = persist;
    let mut mistakes = Mistakes::default();
    let mut declares_length = false;
    let mut has_date = false;
    let no_content = has_no_content(status);
    let framing = if no_content {
        Framing::Length(0)
    } else {
        framing
    };
    status_line(out, status);
    let headers = res.headers();
    for (name, value) in headers {
        if name == TRANSFER_ENCODING {
            mistakes.add(format_args!(
                "dropped Transfer-Encoding {value:?}: the server frames bodies"
            ));
            continue;
        }
        // Checked as a whole below.
        if name == CONTENT_LENGTH {
            declares_length = true;
            continue;
        }
        // It says what the server may do with the connection (middleware
        // asks for `close`), not what the client reads. Other options
        // (`keep-alive`, `upgrade`) are the server's to send: say so.
        if name == CONNECTION {
            if asks_close(value) {
                persist = Persist::Close;
            }
            if connection_options(value).any(|option| !option.eq_ignore_ascii_case(b"close")) {
                mistakes.add(format_args!(
                    "dropped Connection {value:?}: the server manages connections and takes only `close` from a handler"
                ));
            }
            continue;
        }
        if !is_field_value(value.as_bytes()) {
            mistakes.add(format_args!(
                "dropped header {name}: its value {value:?} has a control character"
            ));
            continue;
        }
        has_date |= name == DATE;
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // RFC 9110 §8.6 and §15.4.5: a 204 has no Content-Length and no body; a
    // 304 has no body, and a length there would describe the full
    // representation, which we do not know. A 205 has no body either
    // (§15.3.6), but says so with `Content-Length: 0`, as RFC 9112 §6.3
    // does not count it among the responses that end at their head.
    let bodiless = is_bodiless(status);
    if no_content {
        let dropped = match res.raw_body() {
            Body::Full(bytes) if bytes.is_empty() => None,
            Body::Full(bytes) => Some(format!("{} bytes", bytes.len())),
            _ => Some("a streamed body".to_owned()),
        };
        if let Some(dropped) = dropped {
            mistakes.add(format_args!("dropped {dropped}: a {status} has no body"));
        }
    }
    if declares_length {
        check_length(headers, status, framing, &mut mistakes);
    }
    if !bodiless {
        match framing {
            Framing::Length(length) => {
                out.extend_from_slice(b"content-length: ");
                out.extend_from_slice(itoa::Buffer::new().format(length).as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Framing::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
            Framing::UntilClose => {}
        }
    }
    if !has_date {
        out.extend_from_slice(b"date: ");
        append_date(out);
        out.extend_from_slice(b"\r\n");
    }
    match persist {
        Persist::KeepAlive => {}
        Persist::KeepAlive10 => out.extend_from_slice(b"connection: keep-alive\r\n"),
        Persist::Close => out.extend_from_slice(b"connection: close\r\n"),
    }
    out.extend_from_slice(b"\r\n");
    mistakes.log(status, request);
    Written {
        body: !head_only && !no_content,
        close: persist == Persist::Close,
    }
}

/// Whether a `Connection` field value holds the `close` option.
fn asks_close(value: &HeaderValue) -> bool {
    connection_options(value).any(|option| option.eq_ignore_ascii_case(b"close"))
}

/// Whether a handler may answer with `status`: a final HTTP status, 200 to
/// 599 (see [`status_refused`] for the others).
pub(crate) fn is_final(status: StatusCode) -> bool {
    (200..=599).contains(&status.as_u16())
}

/// RFC 9110 §15.3.5 and §15.4.5: statuses whose responses end at the head,
/// with no length.
fn is_bodiless(status: StatusCode) -> bool {
    status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED
}

/// The options of a `Connection` field value (RFC 9110 §7.6.1), empty ones skipped.
pub(crate) fn connection_options(value: &HeaderValue) -> impl Iterator<Item = &[u8]> {
    value
        .as_bytes()
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|option| !option.is_empty())
}

/// Statuses whose responses carry no content: those and 205 Reset Content.
fn has_no_content(status: StatusCode) -> bool {
    is_bodiless(status) || status == StatusCode::RESET_CONTENT
}

/// RFC 9110 §5.5: a field value is visible characters, spaces, tabs and
/// obs-text; any other control character is refused (the same rule as
/// `HeaderValue`'s checked constructors).
fn is_field_value(value: &[u8]) -> bool {
    // Every byte, with no early exit, so that the loop vectorizes: this
    // runs over every header of every response.
    value.iter().fold(true, |ok, &b| {
        ok & (((b >= 0x20) & (b != 0x7f)) | (b == b'\t'))
    })
}

/// Notes a handler's `Content-Length` that is not one valid length, or
/// disagrees with what is sent (the server's length wins). A 304's length
/// describes the representation, not this body, so it is not checked.
fn check_length(
    headers: &HeaderMap,
    status: StatusCode,
    framing: Framing,
    mistakes: &mut Mistakes,
) {
    if status == StatusCode::NOT_MODIFIED {
        return;
    }
    let declared = match declared_length(headers) {
        None => return,
        Some(Ok(declared)) => declared,
        Some(Err(wrong)) => {
            mistakes.add(format_args!("ignored Content-Length: {wrong}"));
            return;
        }
    };
    let sent = match framing {
        Framing::Length(sent) => sent,
        Framing::Chunked | Framing::UntilClose => {
            mistakes.add(format_args!(
                "ignored Content-Length {declared}: a stream's length is not known, so it is sent {}",
                if framing == Framing::Chunked { "chunked" } else { "until the connection closes" }
            ));
            return;
        }
    };
    if declared != sent {
        mistakes.add(format_args!(
            "replaced Content-Length {declared} with the body's {sent}"
        ));
    }
}

/// What had to be corrected in one response, logged together.
#[derive(Default)]
struct Mistakes(Vec<String>);

impl Mistakes {
    fn add(&mut self, what: fmt::Arguments<'_>) {
        self.0.push(what.to_string());
    }

    fn log(self, status: StatusCode, request: Option<&Request>) {
        if self.0.is_empty() {
            return;
        }
        let what = self.0.join("; ");
        match request {
            Some(req) => log::error!(
                "the response {status} to {} {} was corrected: {what}",
                req.method(),
                req.path()
            ),
            None => log::error!("a response {status} was corrected: {what}"),
        }
    }
}

/// Appends one chunk of a chunked body (RFC 9112 §7.1); empty data is
/// skipped, since an empty chunk would end the body.
pub(crate) fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    chunk_size(out, data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends a chunk-size line.
pub(crate) fn chunk_size(out: &mut Vec<u8>, size: usize) {
    let mut digits = [0u8; 16];
    let mut n = size;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
    out.extend_from_slice(b"\r\n");
}

/// The last chunk and an empty trailer section: the end of a chunked body.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Answers 500 in place of a status a handler may not send. An interim
/// response (1xx, RFC 9110 §15.2) ends no exchange: after `100` or `103`
/// the client waits for a final response that never comes, and after `101`
/// it speaks another protocol, which the server does not. Only the server
/// sends interim responses, [`CONTINUE`] when a client asks for it. Codes
/// from 600 up are not HTTP statuses at all (§15), though `StatusCode`
/// takes them.
fn status_refused(
    out: &mut Vec<u8>,
    status: StatusCode,
    head_only: bool,
    persist: Persist,
    request: Option<&Request>,
) {
    let what = match status.is_informational() {
        true => "an interim status",
        false => "not an HTTP status",
    };
    match request {
        Some(req) => log::error!(
            "the handler of {} {} returned {status}, {what}; answering 500 instead",
            req.method(),
            req.path()
        ),
        None => log::error!("a handler returned {status}, {what}; answering 500 instead"),
    }
    let res = Response::status_only(StatusCode::INTERNAL_SERVER_ERROR);
    response(out, &res, head_only, persist, None);
}

/// The `Content-Length` a handler set: `None` when there is none, the
/// value when it is one valid length (RFC 9110 §8.6: `1*DIGIT`), what is
/// wrong with it otherwise.
fn declared_length(headers: &HeaderMap) -> Option<Result<u64, String>> {
    let mut values = headers.get_all(CONTENT_LENGTH).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return Some(Err("set more than once".to_owned()));
    }
    let length = std::str::from_utf8(value.as_bytes())
        .ok()
        .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok());
    Some(length.ok_or_else(|| format!("{value:?} is not a length")))
}

/// Appends the response to a refused request; the connection closes after it.
pub(crate) fn refusal(out: &mut Vec<u8>, err: RequestError, bodies: &RefusalBodies) {
    let res = error::refusal_response(err, bodies);
    response(out, &res, false, Persist::Close, None);
}

/// Appends the 503 the event loop sends when the pool has no room.
pub(crate) fn overloaded(out: &mut Vec<u8>, bodies: &RefusalBodies) {
    let res = error::overloaded_response(bodies);
    response(out, &res, false, Persist::Close, None);
}

fn status_line(out: &mut Vec<u8>, status: StatusCode) {
    // Most responses: one copy instead of five pieces and a reason lookup.
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        return;
    }
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests;
