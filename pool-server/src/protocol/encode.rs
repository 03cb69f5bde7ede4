//! Response heads and bodies into bytes (RFC 9112 §4-6). No I/O happens here.

use http::header::{HeaderMap, CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::StatusCode;

use super::date::append_date;
use super::error::RequestError;
use crate::config::RefusalBodies;
use crate::Response;

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
/// size without making the body), that value.
///
/// A 1xx status from a handler is refused with a 500 (see
/// [`interim_refused`]).
pub(crate) fn response(out: &mut Vec<u8>, res: &Response, head_only: bool, persist: Persist) {
    let length = if head_only && res.body().is_empty() {
        declared_length(res.headers()).unwrap_or(0)
    } else {
        res.body().len() as u64
    };
    if head(out, res, head_only, persist, Framing::Length(length)) {
        out.extend_from_slice(res.body());
    }
}

/// Appends the head of `res` with the given framing, and says whether its
/// body follows (not for HEAD, 204 and 304).
pub(crate) fn head(
    out: &mut Vec<u8>,
    res: &Response,
    head_only: bool,
    persist: Persist,
    framing: Framing,
) -> bool {
    let status = res.status();
    if status.is_informational() {
        interim_refused(out, status, head_only, persist);
        return false;
    }
    status_line(out, status);
    let headers = res.headers();
    for (name, value) in headers {
        // The server owns framing and connection management.
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING || name == CONNECTION {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // RFC 9110 §8.6 and §15.4.5: a 204 has no Content-Length and no body; a
    // 304 has no body, and a length there would describe the full
    // representation, which we do not know.
    let bodiless = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
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
    if !headers.contains_key(DATE) {
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
    !head_only && !bodiless
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

/// Answers 500 in place of a handler's 1xx. An interim response (RFC 9110
/// §15.2) ends no exchange: after `100` or `103` the client waits for a
/// final response that never comes, and after `101` it speaks another
/// protocol, which the server does not. Only the server sends interim
/// responses, [`CONTINUE`] when a client asks for it.
fn interim_refused(out: &mut Vec<u8>, status: StatusCode, head_only: bool, persist: Persist) {
    log::error!("a handler returned {status}, an interim status; answering 500 instead");
    let res = Response::status_only(StatusCode::INTERNAL_SERVER_ERROR);
    response(out, &res, head_only, persist);
}

/// The `Content-Length` a handler set, when it is one valid length
/// (RFC 9110 §8.6: `1*DIGIT`); anything else is logged and ignored.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(CONTENT_LENGTH).iter();
    let value = values.next()?;
    let length = std::str::from_utf8(value.as_bytes())
        .ok()
        .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
        .filter(|_| values.next().is_none());
    if length.is_none() {
        log::error!("a HEAD handler set an invalid Content-Length ({value:?}); sending 0");
    }
    length
}

/// Appends the response to a refused request; the connection closes after it.
pub(crate) fn refusal(out: &mut Vec<u8>, err: RequestError, bodies: &RefusalBodies) {
    let res = match bodies.get(err.status()) {
        Some(res) => res,
        None => {
            let mut message = err.to_string();
            message.push('\n');
            Response::text(message).with_status(err.status())
        }
    };
    response(out, &res, false, Persist::Close);
}

/// Appends the 503 the event loop sends when every worker is busy and the
/// queue is full; `Retry-After` asks the client to come back in a second.
pub(crate) fn overloaded(out: &mut Vec<u8>, bodies: &RefusalBodies) {
    let res = bodies
        .get(StatusCode::SERVICE_UNAVAILABLE)
        .unwrap_or_else(|| {
            Response::text("server busy, retry later\n")
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
        })
        .with_header("retry-after", "1");
    response(out, &res, false, Persist::Close);
}

fn status_line(out: &mut Vec<u8>, status: StatusCode) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(res: &Response, head_only: bool, persist: Persist) -> String {
        let mut out = Vec::new();
        response(&mut out, res, head_only, persist);
        String::from_utf8(out).unwrap()
    }

    fn without_date(text: &str) -> String {
        text.lines()
            .filter(|l| !l.starts_with("date: "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn text_response_has_length_type_and_date() {
        let text = encode(&Response::text("hi"), false, Persist::KeepAlive);
        assert!(text.contains("\r\ndate: "), "{text}");
        assert_eq!(
            without_date(&text),
            "HTTP/1.1 200 OK\ncontent-type: text/plain; charset=utf-8\ncontent-length: 2\n\nhi"
        );
    }

    #[test]
    fn head_keeps_the_length_and_drops_the_body() {
        let text = encode(&Response::text("hello"), true, Persist::Close);
        assert!(
            without_date(&text).ends_with("content-length: 5\nconnection: close\n"),
            "{text}"
        );
    }

    #[test]
    fn head_sends_the_declared_length_only_when_the_body_is_empty() {
        let sized = |length: &str, body: &'static str| {
            let mut res = Response::status_only(StatusCode::OK).with_header(CONTENT_LENGTH, length);
            res.set_body(body);
            res
        };
        let cases = [
            // (response, head_only, the content-length sent)
            (sized("1234", ""), true, "1234"),
            (sized("1234", "abc"), true, "3"),
            (sized("1234", ""), false, "0"),
            (sized("12a", ""), true, "0"),
            (sized("-1", ""), true, "0"),
            (sized("", ""), true, "0"),
            (sized("7", "").append_header(CONTENT_LENGTH, "8"), true, "0"),
            (Response::text("hello"), true, "5"),
        ];
        for (res, head_only, want) in cases {
            let text = encode(&res, head_only, Persist::KeepAlive);
            let lengths: Vec<_> = text
                .lines()
                .filter_map(|l| l.strip_prefix("content-length: "))
                .collect();
            assert_eq!(lengths, [want], "{res:?} head_only={head_only}: {text}");
            let (_, body) = text.split_once("\r\n\r\n").unwrap();
            let want_body = if head_only { &[][..] } else { res.body() };
            assert_eq!(body.as_bytes(), want_body, "{text}");
        }
    }

    #[test]
    fn interim_statuses_from_a_handler_become_500() {
        for code in [100, 101, 103, 199] {
            let res = Response::text("x").with_status(StatusCode::from_u16(code).unwrap());
            for head_only in [false, true] {
                let text = encode(&res, head_only, Persist::KeepAlive);
                assert!(
                    without_date(&text)
                        == "HTTP/1.1 500 Internal Server Error\ncontent-length: 0\n",
                    "{code}: {text}"
                );
            }
        }
    }

    #[test]
    fn handler_framing_headers_are_replaced() {
        let res = Response::text("abc")
            .with_header("content-length", "99")
            .with_header("transfer-encoding", "chunked")
            .with_header("connection", "close");
        let text = encode(&res, false, Persist::KeepAlive10);
        assert!(!text.contains("99") && !text.contains("chunked"), "{text}");
        assert!(text.contains("connection: keep-alive\r\n"), "{text}");
    }

    #[test]
    fn no_content_has_no_length() {
        let text = encode(
            &Response::status_only(StatusCode::NO_CONTENT),
            false,
            Persist::KeepAlive,
        );
        assert!(
            text.starts_with("HTTP/1.1 204 No Content\r\n") && !text.contains("content-length")
        );
    }

    #[test]
    fn a_chosen_503_body_keeps_retry_after() {
        let mut bodies = RefusalBodies::default();
        bodies.set(
            StatusCode::SERVICE_UNAVAILABLE,
            http::HeaderValue::from_static("application/json"),
            bytes::Bytes::from_static(b"{}"),
        );
        let mut out = Vec::new();
        overloaded(&mut out, &bodies);
        let text = without_date(&String::from_utf8(out).unwrap());
        assert_eq!(
            text,
            "HTTP/1.1 503 Service Unavailable\ncontent-type: application/json\nretry-after: 1\ncontent-length: 2\nconnection: close\n\n{}"
        );
    }

    #[test]
    fn refusals_close_and_say_why() {
        let mut out = Vec::new();
        refusal(
            &mut out,
            RequestError::BodyTooLarge,
            &RefusalBodies::default(),
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
            "{text}"
        );
        assert!(
            text.contains("connection: close\r\n") && text.ends_with("request body too large\n")
        );
    }
}
