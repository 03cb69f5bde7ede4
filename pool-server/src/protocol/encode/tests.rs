//! What `encode` writes, checked on the bytes: heads, framing, the
//! corrections it makes and the refusals it answers.

use super::*;

fn encode(res: &Response, head_only: bool, persist: Persist) -> String {
    let mut out = Vec::new();
    response(&mut out, res, head_only, persist, None);
    String::from_utf8(out).unwrap()
}

fn without_date(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("date: "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_handler_asking_close_closes_whatever_the_caller_kept() {
    let cases = [
        (None, Persist::KeepAlive, false),
        (None, Persist::Close, true),
        (Some("close"), Persist::KeepAlive, true),
        (Some("Keep-Alive, CLOSE"), Persist::KeepAlive10, true),
        (Some("keep-alive"), Persist::KeepAlive, false),
    ];
    for (asked, persist, closes) in cases {
        let mut res = Response::text("hi");
        if let Some(value) = asked {
            res = res.with_header(CONNECTION, value);
        }
        let mut out = Vec::new();
        let written = response(&mut out, &res, false, persist, None);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(written.close, closes, "{asked:?} {persist:?}");
        assert!(written.body, "{asked:?}");
        assert_eq!(text.contains("connection: close\r\n"), closes, "{text}");
        assert_eq!(
            text.matches("onnection:").count(),
            usize::from(closes || persist == Persist::KeepAlive10),
            "{text}"
        );
    }
    // A status the server refuses is answered 500, and still closes when asked.
    let res = Response::status_only(StatusCode::CONTINUE).with_header(CONNECTION, "close");
    let written = response(&mut Vec::new(), &res, false, Persist::KeepAlive, None);
    assert_eq!(
        written,
        Written {
            body: false,
            close: true
        }
    );
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
fn interim_and_non_http_statuses_from_a_handler_become_500() {
    for code in [100, 101, 103, 199, 600, 999] {
        let res = Response::text("x").with_status(StatusCode::from_u16(code).unwrap());
        for head_only in [false, true] {
            let text = encode(&res, head_only, Persist::KeepAlive);
            assert!(
                without_date(&text) == "HTTP/1.1 500 Internal Server Error\ncontent-length: 0\n",
                "{code}: {text}"
            );
        }
    }
}

#[test]
fn field_values_with_control_characters_are_refused() {
    for good in [&b""[..], b"a b\tc", b"\x80\xff obs-text", b"~!"] {
        assert!(is_field_value(good), "{good:?}");
    }
    for bad in [&b"a\rb"[..], b"a\nb", b"a\0b", b"\x1b[31m", b"del\x7f"] {
        assert!(!is_field_value(bad), "{bad:?}");
    }
}

#[test]
fn bodiless_statuses_drop_the_body_and_any_length() {
    for status in [StatusCode::NO_CONTENT, StatusCode::NOT_MODIFIED] {
        let res = Response::text("body")
            .with_status(status)
            .with_header("content-length", "4");
        let text = encode(&res, false, Persist::KeepAlive);
        assert!(
            !text.contains("body") && !text.contains("content-length"),
            "{text}"
        );
        assert!(text.ends_with("\r\n\r\n"), "{text}");
    }
}

#[test]
fn reset_content_drops_the_body_and_says_so_with_a_zero_length() {
    let res = Response::text("body")
        .with_status(StatusCode::RESET_CONTENT)
        .with_header("content-length", "4");
    let text = encode(&res, false, Persist::KeepAlive);
    assert!(text.starts_with("HTTP/1.1 205 Reset Content\r\n"), "{text}");
    assert!(text.contains("content-length: 0\r\n"), "{text}");
    assert!(!text.contains("body") && !text.contains(": 4"), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "{text}");
    let stream = Response::stream(std::io::empty()).with_status(StatusCode::RESET_CONTENT);
    assert_eq!(framing(&stream, Version::HTTP_11), Framing::Length(0));
}

#[test]
fn a_reader_takes_the_handlers_length_and_a_stream_does_not() {
    let reader = |len: Option<u64>| {
        let res = Response::stream(std::io::empty());
        match len {
            Some(len) => res.with_len(len),
            None => res,
        }
    };
    let declared = |res: Response| res.with_header("content-length", "10");
    let (_, stream) = crate::stream::channel(16);
    let cases = [
        (reader(None), Version::HTTP_11, Framing::Chunked),
        (reader(None), Version::HTTP_10, Framing::UntilClose),
        (
            declared(reader(None)),
            Version::HTTP_10,
            Framing::Length(10),
        ),
        (
            declared(reader(Some(3))),
            Version::HTTP_11,
            Framing::Length(3),
        ),
        (
            declared(Response::from_stream(stream)),
            Version::HTTP_11,
            Framing::Chunked,
        ),
        (
            declared(reader(None)).with_status(StatusCode::NO_CONTENT),
            Version::HTTP_11,
            Framing::Length(0),
        ),
    ];
    for (res, version, want) in cases {
        assert_eq!(framing(&res, version), want, "{res:?} {version:?}");
    }
}

#[test]
fn handler_framing_headers_are_replaced() {
    let res = Response::text("abc")
        .with_header("content-length", "99")
        .with_header("transfer-encoding", "chunked")
        .with_header("connection", "upgrade");
    let text = encode(&res, false, Persist::KeepAlive10);
    assert!(!text.contains("99") && !text.contains("chunked"), "{text}");
    assert!(text.contains("connection: keep-alive\r\n"), "{text}");
    assert!(!text.contains("upgrade"), "{text}");
}

#[test]
fn no_content_has_no_length() {
    let text = encode(
        &Response::status_only(StatusCode::NO_CONTENT),
        false,
        Persist::KeepAlive,
    );
    assert!(text.starts_with("HTTP/1.1 204 No Content\r\n") && !text.contains("content-length"));
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
    assert!(text.contains("connection: close\r\n") && text.ends_with("request body too large\n"));
}
