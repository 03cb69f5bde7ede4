//! The compression middleware: brotli or gzip as the client
//! allows, only for compressible bodies worth it, always with
//! `Vary: Accept-Encoding`; streamed bodies (readers, streams fed from
//! other threads, files, server-sent events when asked) compressed as they
//! go, on real sockets, decoded with flate2 and brotli.

#[allow(dead_code)]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{mpsc, Arc, Mutex};

use pool_server::compression::Compression;
use pool_server::files::ServeDir;
use pool_server::sse::{self, Event};
use pool_server::test::TestClient;
use pool_server::{stream, IntoResponse, Request, Response, Server, StatusCode};

use support::{serve, GATE_LIMIT, IO_TIMEOUT};

fn json(len: usize) -> String {
    format!("[{}]", vec!["{\"id\":1,\"name\":\"n\"}"; len].join(","))
}

fn app(req: &Request) -> Response {
    match req.path() {
        "/big" => Response::json(json(200)),
        "/small" => Response::json("[1]"),
        "/png" => Response::bytes(vec![0u8; 5000]).with_header("content-type", "image/png"),
        "/304" => Response::status_only(StatusCode::NOT_MODIFIED).with_header("etag", "\"v1\""),
        "/304-png" => {
            Response::status_only(StatusCode::NOT_MODIFIED).with_header("content-type", "image/png")
        }
        "/part" => Response::text("x".repeat(5000))
            .with_status(StatusCode::PARTIAL_CONTENT)
            .with_header("content-range", "bytes 0-4999/10000"),
        _ => Response::text("y".repeat(5000)).with_header("etag", "\"v1\""),
    }
}

fn client() -> TestClient {
    TestClient::new(Server::builder().wrap(Compression::new()).handler(app)).unwrap()
}

#[test]
fn json_is_compressed_as_the_client_allows_and_decodes_back() {
    let client = client();
    let br = client
        .get("/big")
        .header("accept-encoding", "gzip, br")
        .send();
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.header("vary"), Some("accept-encoding"));
    let mut plain = String::new();
    brotli::Decompressor::new(br.bytes(), 4096)
        .read_to_string(&mut plain)
        .unwrap();
    assert_eq!(plain, json(200));
    assert!(
        br.bytes().len() * 5 < plain.len(),
        "{} bytes",
        br.bytes().len()
    );

    let gz = client.get("/big").header("accept-encoding", "gzip").send();
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut plain = String::new();
    flate2::read::GzDecoder::new(gz.bytes())
        .read_to_string(&mut plain)
        .unwrap();
    assert_eq!(plain, json(200));
}

#[test]
fn what_is_not_worth_it_or_not_allowed_passes_unchanged() {
    let client = client();
    let cases = [
        ("/big", "identity"),
        ("/big", "br;q=0, gzip;q=0"),
        ("/small", "gzip"),
        ("/png", "gzip"),
        ("/part", "gzip"),
    ];
    for (path, accept) in cases {
        let response = client.get(path).header("accept-encoding", accept).send();
        assert_eq!(response.header("content-encoding"), None, "{path} {accept}");
    }
    let missing = client.get("/big").send();
    assert_eq!(missing.header("content-encoding"), None);
    assert_eq!(missing.header("vary"), Some("accept-encoding"));
}

/// The middleware and `ServeDir`'s precompressed files read
/// `Accept-Encoding` alike, by RFC 9110 §12.5.3. With a parser each, they
/// did not: the middleware read the first field only and took any number
/// as a weight (`q=2` as 2, `q=abc` as 1), so for each of the first three
/// cases one of them sent gzip and the other the original; and neither let
/// `identity` outweigh a coding.
#[test]
fn compression_and_precompressed_files_read_accept_encoding_alike() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("app.js"), text(5000)).unwrap();
    std::fs::write(tmp.path().join("app.js.br"), b"BR").unwrap();
    std::fs::write(tmp.path().join("app.js.gz"), b"GZIP").unwrap();
    let dir = ServeDir::new(tmp.path()).precompressed(true);
    let files = TestClient::new(Server::builder().serve_dir("/", dir)).unwrap();
    let compressing = client();
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["br;q=0", "gzip"], Some("gzip")),
        (&["gzip;q=2"], None),
        (&["gzip;q=abc"], None),
        (&["br;q=0.5, identity"], None),
        (&["gzip", "br"], Some("br")),
    ];
    for (fields, want) in cases {
        let mut file = files.get("/app.js");
        let mut body = compressing.get("/big");
        for field in *fields {
            file = file.header("accept-encoding", *field);
            body = body.header("accept-encoding", *field);
        }
        let (file, body) = (file.send(), body.send());
        assert_eq!(
            file.header("content-encoding"),
            *want,
            "ServeDir, {fields:?}"
        );
        assert_eq!(
            body.header("content-encoding"),
            *want,
            "Compression, {fields:?}"
        );
    }
}

/// RFC 9110 §15.4.5: a 304 has the `Vary` of the 200 it stands for.
#[test]
fn not_modified_varies_unless_its_type_is_never_compressed() {
    let client = client();
    let varied = client.get("/304").header("accept-encoding", "gzip").send();
    assert_eq!(varied.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(varied.header("vary"), Some("accept-encoding"));
    assert_eq!(varied.header("content-encoding"), None);
    let png = client
        .get("/304-png")
        .header("accept-encoding", "gzip")
        .send();
    assert_eq!(png.header("vary"), None);
}

#[test]
fn a_compressed_body_has_a_weak_etag() {
    let response = client()
        .get("/text")
        .header("accept-encoding", "gzip")
        .send();
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(response.header("etag"), Some("W/\"v1\""));
}

// ---- On real sockets: bodies compressed as they stream. ----

#[derive(Debug, Clone, Copy)]
enum Coding {
    Gzip,
    Brotli,
}

impl Coding {
    const BOTH: [Coding; 2] = [Coding::Gzip, Coding::Brotli];

    fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Brotli => "br",
        }
    }

    /// Decodes a whole compressed body; fails on a truncated or corrupt one.
    fn decode_all(self, compressed: &[u8]) -> Vec<u8> {
        let mut plain = Vec::new();
        match self {
            Coding::Gzip => flate2::read::GzDecoder::new(compressed).read_to_end(&mut plain),
            Coding::Brotli => brotli::Decompressor::new(compressed, 4096).read_to_end(&mut plain),
        }
        .unwrap_or_else(|err| panic!("{self:?}: the body does not decode: {err}"));
        plain
    }
}

/// Decodes a compressed body as its pieces arrive: what each piece makes
/// decodable comes out at once.
enum Incremental {
    Gzip(Box<flate2::write::GzDecoder<Vec<u8>>>),
    Brotli(Box<brotli::DecompressorWriter<Vec<u8>>>),
}

impl Incremental {
    fn new(coding: Coding) -> Incremental {
        match coding {
            Coding::Gzip => Incremental::Gzip(Box::new(flate2::write::GzDecoder::new(Vec::new()))),
            Coding::Brotli => {
                Incremental::Brotli(Box::new(brotli::DecompressorWriter::new(Vec::new(), 4096)))
            }
        }
    }

    /// Feeds `piece` and returns everything decoded so far.
    fn push(&mut self, piece: &[u8]) -> &[u8] {
        match self {
            Incremental::Gzip(d) => {
                d.write_all(piece).unwrap();
                d.flush().unwrap();
                d.get_ref()
            }
            Incremental::Brotli(d) => {
                d.write_all(piece).unwrap();
                d.flush().unwrap();
                d.get_ref()
            }
        }
    }
}

/// A client reading a chunked response one chunk at a time.
struct Wire {
    reader: BufReader<TcpStream>,
}

impl Wire {
    fn get(addr: std::net::SocketAddr, path: &str, accept: &str) -> (Wire, String) {
        let mut stream = support::connect(addr);
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {accept}\r\n\r\n"
        )
        .unwrap();
        let mut wire = Wire {
            reader: BufReader::new(stream),
        };
        let head = wire.head();
        (wire, head)
    }

    /// The head, lowercased, up to its blank line.
    fn head(&mut self) -> String {
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            assert_ne!(self.reader.read_line(&mut head).unwrap(), 0, "{head}");
        }
        head.to_ascii_lowercase()
    }

    /// The next chunk's data; `None` for the last chunk.
    fn chunk(&mut self) -> Option<Vec<u8>> {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let size = usize::from_str_radix(line.trim_end(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size line {line:?}"));
        let mut data = vec![0; size + 2];
        self.reader.read_exact(&mut data).unwrap();
        assert_eq!(&data[size..], b"\r\n");
        data.truncate(size);
        if size == 0 {
            return None;
        }
        Some(data)
    }

    /// Reads chunks into `decoder` until it has decoded `want` bytes, and
    /// returns the compressed bytes read.
    fn until_decoded(&mut self, decoder: &mut Incremental, want: usize) -> (Vec<u8>, Vec<u8>) {
        let mut raw = Vec::new();
        loop {
            let chunk = self.chunk().expect("the body goes on");
            raw.extend_from_slice(&chunk);
            let decoded = decoder.push(&chunk);
            if decoded.len() >= want {
                return (raw, decoded.to_vec());
            }
        }
    }

    /// The compressed rest of the body, through its last chunk.
    fn rest(&mut self) -> Vec<u8> {
        let mut raw = Vec::new();
        while let Some(chunk) = self.chunk() {
            raw.extend_from_slice(&chunk);
        }
        raw
    }
}

fn has(head: &str, field: &str) -> bool {
    head.split("\r\n").any(|line| line == field)
}

/// Lines of text: compressible, but no two windows alike.
fn text(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut i = 0u64;
    while out.len() < len {
        let word = (i * 7919) % 1009;
        out.extend_from_slice(format!("{i:08} item {word} of the list\n").as_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

/// The text, read in small pieces, that stops at `gate_at` bytes until the
/// test lets it go on: until then the rest of the body does not exist, so
/// the server cannot be holding it.
struct GatedText {
    body: Arc<Vec<u8>>,
    pos: usize,
    gate_at: usize,
    go: mpsc::Receiver<()>,
}

impl Read for GatedText {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.gate_at {
            // Bounded, so a failed test cannot hold a worker for good.
            let _ = self.go.recv_timeout(GATE_LIMIT);
        }
        let end = self.body.len().min(self.pos + buf.len().min(16 * 1024));
        let end = if self.pos < self.gate_at {
            end.min(self.gate_at)
        } else {
            end
        };
        buf[..end - self.pos].copy_from_slice(&self.body[self.pos..end]);
        let n = end - self.pos;
        self.pos = end;
        Ok(n)
    }
}

const LARGE: usize = 8 << 20;
const GATE: usize = 4 << 20;

/// A several-MiB `Response::stream` body is compressed as it is read: the
/// client decodes its first 3 MiB while the reader is stopped at 4 MiB,
/// then the rest, and the whole decodes to the original bytes.
#[test]
fn a_large_reader_body_is_compressed_as_it_streams() {
    let body = Arc::new(text(LARGE));
    let (gates_tx, gates) = mpsc::channel::<mpsc::Sender<()>>();
    let gates_tx = Mutex::new(gates_tx);
    let source = Arc::clone(&body);
    let server = serve(move |b| {
        b.wrap(Compression::new()).handler(move |req| {
            if req.path() != "/large" {
                return Response::text("small");
            }
            let (go_tx, go) = mpsc::channel();
            gates_tx.lock().unwrap().send(go_tx).unwrap();
            Response::stream(GatedText {
                body: Arc::clone(&source),
                pos: 0,
                gate_at: GATE,
                go,
            })
            .with_header("content-type", "text/plain")
        })
    });
    for coding in Coding::BOTH {
        let (mut wire, head) = Wire::get(server.addr(), "/large", coding.token());
        assert!(head.starts_with("http/1.1 200"), "{head}");
        let encoding = format!("content-encoding: {}", coding.token());
        assert!(has(&head, &encoding), "{head}");
        assert!(has(&head, "transfer-encoding: chunked"), "{head}");
        assert!(!head.contains("content-length"), "{head}");
        assert!(has(&head, "vary: accept-encoding"), "{head}");
        let go = gates.recv_timeout(IO_TIMEOUT).unwrap();

        let mut decoder = Incremental::new(coding);
        let (mut raw, decoded) = wire.until_decoded(&mut decoder, 3 << 20);
        assert!(decoded.len() <= GATE, "{coding:?}: past the gate");
        assert!(decoded == body[..decoded.len()], "{coding:?}: the prefix");
        go.send(()).unwrap();
        raw.extend(wire.rest());
        assert!(
            raw.len() * 3 < LARGE,
            "{coding:?}: {} compressed bytes",
            raw.len()
        );
        assert!(coding.decode_all(&raw) == *body, "{coding:?}: the body");

        // The connection stays in step for the next request.
        write!(
            wire.reader.get_mut(),
            "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        .unwrap();
        let head = wire.head();
        assert!(has(&head, "content-length: 5"), "{head}");
        let mut small = [0; 5];
        wire.reader.read_exact(&mut small).unwrap();
        assert_eq!(&small, b"small");
    }
}

/// A stream fed from another thread is flushed out of the compressor
/// chunk by chunk: the client decodes the first chunk before the producer
/// has sent the second, and the body ends as a complete compressed stream.
#[test]
fn each_chunk_of_a_slow_body_stream_is_decodable_on_arrival() {
    let (senders_tx, senders) = mpsc::channel::<stream::Sender>();
    let senders_tx = Mutex::new(senders_tx);
    let server = serve(move |b| {
        b.wrap(Compression::new()).handler(move |_| {
            let (sender, body) = stream::channel(64 * 1024);
            senders_tx.lock().unwrap().send(sender).unwrap();
            Response::from_stream(body).with_header("content-type", "application/json")
        })
    });
    let chunks = [
        &b"{\"n\":1,\"note\":\"first, before the second exists\"}\n"[..],
        &b"{\"n\":2,\"note\":\"second\"}\n"[..],
        &b"{\"n\":3,\"note\":\"third, then the end\"}\n"[..],
    ];
    for coding in Coding::BOTH {
        let (mut wire, head) = Wire::get(server.addr(), "/", &format!("{}, zstd", coding.token()));
        let encoding = format!("content-encoding: {}", coding.token());
        assert!(has(&head, &encoding), "{head}");
        assert!(has(&head, "transfer-encoding: chunked"), "{head}");
        let sender = senders.recv_timeout(IO_TIMEOUT).unwrap();
        let mut decoder = Incremental::new(coding);
        let mut raw = Vec::new();
        let mut sent = Vec::new();
        for chunk in chunks {
            sender.send(chunk).unwrap();
            sent.extend_from_slice(chunk);
            let (more, decoded) = wire.until_decoded(&mut decoder, sent.len());
            raw.extend(more);
            assert_eq!(decoded, sent, "{coding:?}: exactly what was sent so far");
        }
        drop(sender);
        raw.extend(wire.rest());
        assert_eq!(coding.decode_all(&raw), sent, "{coding:?}");
    }
}

/// Server-sent events pass uncompressed by default; with `event_streams`
/// each event comes out of the compressor as it is sent, keep-alive
/// comments included.
#[test]
fn event_streams_are_compressed_only_when_asked_and_then_event_by_event() {
    for compress in [false, true] {
        let (senders_tx, senders) = mpsc::channel();
        let senders_tx = Mutex::new(senders_tx);
        let server = serve(move |b| {
            b.wrap(Compression::new().event_streams(compress))
                .handler(move |_| {
                    let (sender, stream) = sse::channel();
                    senders_tx.lock().unwrap().send(sender).unwrap();
                    stream
                        .keep_alive(Some(std::time::Duration::from_millis(50)))
                        .into_response()
                })
        });
        let (mut wire, head) = Wire::get(server.addr(), "/events", "gzip");
        assert!(has(&head, "content-type: text/event-stream"), "{head}");
        let sender = senders.recv_timeout(IO_TIMEOUT).unwrap();
        if !compress {
            assert!(!head.contains("content-encoding"), "{head}");
            sender.send(Event::data("plain")).unwrap();
            // Keep-alive comments may come first.
            while let Some(chunk) = wire.chunk() {
                if chunk != b":\n\n" {
                    assert_eq!(chunk, b"data: plain\n\n");
                    break;
                }
            }
            continue;
        }
        assert!(has(&head, "content-encoding: gzip"), "{head}");
        let mut decoder = Incremental::new(Coding::Gzip);
        let mut raw = Vec::new();
        let mut events = 0;
        for n in 1..=3 {
            sender.send(Event::data(format!("event {n}"))).unwrap();
            let want = format!("data: event {n}\n\n");
            // Whole events only, keep-alive comments among them.
            loop {
                let chunk = wire.chunk().expect("the stream goes on");
                raw.extend_from_slice(&chunk);
                let decoded = String::from_utf8(decoder.push(&chunk).to_vec()).unwrap();
                assert!(
                    decoded.is_empty() || decoded.ends_with("\n\n"),
                    "{decoded:?}"
                );
                if decoded.ends_with(&want) {
                    events += decoded.matches("data: ").count();
                    break;
                }
            }
            assert_eq!(events, n, "one event per send");
            events = 0;
        }
        drop(sender);
        raw.extend(wire.rest());
        let plain = String::from_utf8(Coding::Gzip.decode_all(&raw)).unwrap();
        assert_eq!(plain.matches("data: ").count(), 3, "{plain:?}");
    }
}

/// A compressible file goes out compressed (HEAD says so too, without the
/// uncompressed length), a range of it does not, nor a precompressed
/// sibling, which keeps its own coding; `Vary` is never doubled.
#[test]
fn files_are_compressed_unless_ranges_or_precompressed() {
    let tmp = tempfile::tempdir().unwrap();
    let page = text(300_000);
    std::fs::write(tmp.path().join("page.txt"), &page).unwrap();
    std::fs::write(tmp.path().join("app.js"), text(5000)).unwrap();
    std::fs::write(tmp.path().join("app.js.gz"), b"GZIP").unwrap();
    let root = tmp.path().to_owned();
    let server = serve(move |b| {
        b.wrap(Compression::new())
            .serve_dir("/", ServeDir::new(&root).precompressed(true))
    });
    for coding in Coding::BOTH {
        let (mut wire, head) = Wire::get(server.addr(), "/page.txt", coding.token());
        let encoding = format!("content-encoding: {}", coding.token());
        assert!(has(&head, &encoding), "{head}");
        assert!(!head.contains("content-length") && !head.contains("accept-ranges"));
        assert!(head.contains("etag: w/"), "{head}");
        assert!(coding.decode_all(&wire.rest()) == page, "{coding:?}");
    }

    let mut client = server.client();
    client.send(b"HEAD /page.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
    let head = client.head_response();
    assert_eq!(head.header("content-encoding"), Some("gzip"), "{client:?}");
    assert_eq!(head.header("content-length"), None, "{client:?}");

    let range = client.request(
        b"GET /page.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nRange: bytes=10-19\r\n\r\n",
    );
    assert_eq!(range.status, 206, "{client:?}");
    assert_eq!(range.header("content-encoding"), None, "{client:?}");
    assert_eq!(range.body, &page[10..20]);

    let sibling =
        client.request(b"GET /app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
    assert_eq!(
        sibling.header("content-encoding"),
        Some("gzip"),
        "{client:?}"
    );
    assert_eq!(sibling.body, b"GZIP");
    assert_eq!(
        sibling.header_all("vary"),
        ["accept-encoding"],
        "{client:?}"
    );

    let plain = client.request(b"GET /page.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    let etag = plain.header("etag").expect("a file has an ETag").to_owned();
    let revalidated = client.request(
        format!("GET /page.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nIf-None-Match: {etag}\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(revalidated.status, 304, "{client:?}");
    assert_eq!(
        revalidated.header_all("vary"),
        ["accept-encoding"],
        "{client:?}"
    );
}

/// A GET of `path` on `client`'s connection, with `Accept-Encoding` and,
/// when given, `If-None-Match`.
fn get_file(
    client: &mut support::Client,
    path: &str,
    accept: &str,
    if_none_match: Option<&str>,
) -> support::RawResponse {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {accept}\r\n");
    if let Some(tags) = if_none_match {
        request.push_str(&format!("If-None-Match: {tags}\r\n"));
    }
    request.push_str("\r\n");
    client.request(request.as_bytes())
}

/// RFC 9110 §15.4.5: a 304 carries the validator the 200 for the same
/// request would have had. A file compressed on the way has a weak `ETag`;
/// revalidating with it (If-None-Match compares weakly) gets a 304 with that
/// same weak `ETag`, not the file's strong one. Where the 200 would not be
/// compressed (no coding accepted, too small, a type never compressed, a
/// precompressed sibling), its `ETag` and the 304's stay strong.
#[test]
fn a_file_304_carries_the_etag_its_200_would_have() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("page.txt"), text(5000)).unwrap();
    std::fs::write(tmp.path().join("tiny.txt"), text(100)).unwrap();
    std::fs::write(tmp.path().join("image.png"), vec![0u8; 5000]).unwrap();
    std::fs::write(tmp.path().join("app.js"), text(5000)).unwrap();
    std::fs::write(tmp.path().join("app.js.gz"), b"GZIP").unwrap();
    let root = tmp.path().to_owned();
    let server = serve(move |b| {
        b.wrap(Compression::new())
            .serve_dir("/", ServeDir::new(&root).precompressed(true))
            .serve_dir("/plain", ServeDir::new(&root))
    });
    let mut client = server.client();

    for coding in Coding::BOTH {
        let ok = get_file(&mut client, "/page.txt", coding.token(), None);
        assert_eq!(ok.status, 200, "{client:?}");
        assert_eq!(ok.header("content-encoding"), Some(coding.token()));
        let weak = ok.header("etag").expect("a file has an ETag").to_owned();
        assert!(weak.starts_with("W/\""), "{weak}");
        let revalidated = get_file(&mut client, "/page.txt", coding.token(), Some(&weak));
        assert_eq!(revalidated.status, 304, "{client:?}");
        assert_eq!(
            revalidated.header("etag"),
            Some(weak.as_str()),
            "{client:?}"
        );
        assert_eq!(revalidated.header_all("vary"), ["accept-encoding"]);
    }

    let ok = get_file(&mut client, "/page.txt", "identity", None);
    let strong = ok.header("etag").expect("a file has an ETag").to_owned();
    assert!(strong.starts_with('"'), "{strong}");
    let weak = format!("W/{strong}");
    let revalidated = get_file(&mut client, "/page.txt", "identity", Some(&weak));
    assert_eq!(revalidated.status, 304, "{client:?}");
    assert_eq!(revalidated.header("etag"), Some(strong.as_str()));

    // `/plain` has no precompressed siblings, so its PNG varies on nothing.
    for path in ["/tiny.txt", "/image.png", "/plain/image.png", "/app.js"] {
        let ok = get_file(&mut client, path, "gzip", None);
        assert_eq!(ok.status, 200, "{path}: {client:?}");
        let strong = ok.header("etag").expect("a file has an ETag").to_owned();
        assert!(strong.starts_with('"'), "{path}: {strong}");
        let revalidated = get_file(&mut client, path, "gzip", Some(&strong));
        assert_eq!(revalidated.status, 304, "{path}: {client:?}");
        assert_eq!(revalidated.header("etag"), Some(strong.as_str()), "{path}");
        assert_eq!(
            revalidated.header_all("vary"),
            ok.header_all("vary"),
            "{path}"
        );
    }
}
