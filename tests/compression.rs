//! The compression middleware (issue 8): brotli or gzip as the client
//! allows, only for compressible bodies worth it, always with
//! `Vary: Accept-Encoding`.

use std::io::Read;

use pool_server::compression::Compression;
use pool_server::test::TestClient;
use pool_server::{Request, Response, Server, StatusCode};

fn json(len: usize) -> String {
    format!("[{}]", vec!["{\"id\":1,\"name\":\"n\"}"; len].join(","))
}

fn app(req: &Request) -> Response {
    match req.path() {
        "/big" => Response::json(json(200)),
        "/small" => Response::json("[1]"),
        "/png" => Response::bytes(vec![0u8; 5000]).with_header("content-type", "image/png"),
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

#[test]
fn a_compressed_body_has_a_weak_etag() {
    let response = client()
        .get("/text")
        .header("accept-encoding", "gzip")
        .send();
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(response.header("etag"), Some("W/\"v1\""));
}
