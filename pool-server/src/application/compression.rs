//! A ready [`Middleware`] that compresses response bodies with brotli or
//! gzip when the client's `Accept-Encoding` allows (brotli preferred, `q=0`
//! honoured).
//!
//! It compresses only what is worth it and safe: bodies held in memory of
//! at least [`min_size`](Compression::min_size) bytes, of a compressible
//! type (`text/*`, JSON, JavaScript, XML, SVG, `application/wasm`), with a
//! 200 status and no `Content-Encoding` or `Content-Range` already. It adds
//! `Vary: Accept-Encoding` to every response it could have compressed, and
//! turns a strong `ETag` weak (the compressed bytes differ). Bodies sent as
//! they are produced (readers, files, streams) pass unchanged: serve
//! precompressed files with [`ServeDir`](crate::files::ServeDir) instead.
//!
//! ```no_run
//! use pool_server::compression::Compression;
//! use pool_server::{Response, Server};
//!
//! # fn main() -> Result<(), pool_server::Error> {
//! Server::builder()
//!     .wrap(Compression::new())
//!     .handler(|_| Response::json(format!("[{}]", vec!["1"; 1000].join(","))))
//!     .build()?
//!     .run()
//! # }
//! ```

use std::io::Write;

use bytes::Bytes;
use http::header::{
    HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_RANGE, CONTENT_TYPE, ETAG, VARY,
};
use http::StatusCode;

use super::middleware::{Middleware, Next};
use crate::{Request, Response};

/// The compression middleware; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Compression {
    min_size: usize,
    gzip_level: u32,
    brotli_quality: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
}

impl Compression {
    /// Brotli at quality 4 and gzip at level 6 (fast settings that still
    /// shrink JSON and HTML several times), for bodies of 1 KiB and more.
    pub fn new() -> Compression {
        Compression {
            min_size: 1024,
            gzip_level: 6,
            brotli_quality: 4,
        }
    }

    /// The smallest body worth compressing, in bytes.
    pub fn min_size(mut self, bytes: usize) -> Compression {
        self.min_size = bytes;
        self
    }

    /// The gzip level, 0 to 9.
    pub fn gzip_level(mut self, level: u32) -> Compression {
        self.gzip_level = level.min(9);
        self
    }

    /// The brotli quality, 0 to 11.
    pub fn brotli_quality(mut self, quality: u32) -> Compression {
        self.brotli_quality = quality.min(11);
        self
    }

    fn compress(&self, coding: Coding, body: &[u8]) -> std::io::Result<Vec<u8>> {
        match coding {
            Coding::Gzip => {
                let level = flate2::Compression::new(self.gzip_level);
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
                encoder.write_all(body)?;
                encoder.finish()
            }
            Coding::Brotli => {
                let mut out = Vec::new();
                {
                    let mut encoder =
                        brotli::CompressorWriter::new(&mut out, 4096, self.brotli_quality, 22);
                    encoder.write_all(body)?;
                }
                Ok(out)
            }
        }
    }
}

impl Default for Compression {
    fn default() -> Compression {
        Compression::new()
    }
}

impl Middleware for Compression {
    fn call(&self, req: &Request, next: Next<'_>) -> Response {
        let mut response = next.run(req);
        if !compressible(&response) {
            return response;
        }
        // The answer depends on Accept-Encoding, whether or not this one
        // is compressed: caches must know.
        response
            .headers_mut()
            .append(VARY, HeaderValue::from_static("accept-encoding"));
        let Some(coding) = choose(req.header(ACCEPT_ENCODING)) else {
            return response;
        };
        if response.body().len() < self.min_size {
            return response;
        }
        let compressed = match self.compress(coding, response.body()) {
            Ok(compressed) => compressed,
            Err(err) => {
                log::error!("compressing a response failed: {err}; sending it as it is");
                return response;
            }
        };
        let name = match coding {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(name));
        if let Some(etag) = headers.get(ETAG).and_then(|v| v.to_str().ok()) {
            if !etag.starts_with("W/") {
                if let Ok(weak) = HeaderValue::try_from(format!("W/{etag}")) {
                    headers.insert(ETAG, weak);
                }
            }
        }
        response.set_body(Bytes::from(compressed));
        response
    }
}

/// Whether `response` is one this middleware may compress.
fn compressible(response: &Response) -> bool {
    let headers = response.headers();
    response.status() == StatusCode::OK
        && response.has_body_in_memory()
        && !headers.contains_key(CONTENT_ENCODING)
        && !headers.contains_key(CONTENT_RANGE)
        && headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(compressible_type)
}

fn compressible_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/wasm"
                | "image/svg+xml"
        )
}

/// The best coding `Accept-Encoding` allows (RFC 9110 §12.5.3): brotli,
/// then gzip, each unless given `q=0`; `*` stands for codings not named.
fn choose(accept: Option<&str>) -> Option<Coding> {
    let accept = accept?;
    let mut q_br = None;
    let mut q_gzip = None;
    let mut q_any = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| {
                let (key, value) = p.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().ok())?
            })
            .unwrap_or(1.0);
        match name.as_str() {
            "br" => q_br = Some(q),
            "gzip" | "x-gzip" => q_gzip = Some(q),
            "*" => q_any = Some(q),
            _ => {}
        }
    }
    let br = q_br.or(q_any).unwrap_or(0.0);
    let gzip = q_gzip.or(q_any).unwrap_or(0.0);
    match (br > 0.0, gzip > 0.0) {
        (true, true) if gzip > br => Some(Coding::Gzip),
        (true, _) => Some(Coding::Brotli),
        (false, true) => Some(Coding::Gzip),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_picks_the_best_allowed_coding() {
        let cases = [
            (None, None),
            (Some("identity"), None),
            (Some("gzip"), Some(Coding::Gzip)),
            (Some("gzip, deflate, br"), Some(Coding::Brotli)),
            (Some("br;q=0, gzip"), Some(Coding::Gzip)),
            (Some("br;q=0.5, gzip;q=0.8"), Some(Coding::Gzip)),
            (Some("*"), Some(Coding::Brotli)),
            (Some("*;q=0"), None),
            (Some("gzip;q=0, *"), Some(Coding::Brotli)),
        ];
        for (accept, want) in cases {
            assert_eq!(choose(accept), want, "{accept:?}");
        }
    }

    #[test]
    fn only_text_like_types_are_compressed() {
        for (ty, want) in [
            ("text/html; charset=utf-8", true),
            ("application/json", true),
            ("application/problem+json", true),
            ("image/svg+xml", true),
            ("image/png", false),
            ("application/octet-stream", false),
        ] {
            assert_eq!(compressible_type(ty), want, "{ty}");
        }
    }
}
