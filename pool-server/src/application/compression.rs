//! A ready [`Middleware`] that compresses response bodies with brotli or
//! gzip when the client's `Accept-Encoding` prefers that to the body as it
//! is (RFC 9110 §12.5.3: every field, weights, `*` and `identity` count;
//! `q=0` refuses; brotli first at equal weight). A
//! [`ServeDir`](crate::files::ServeDir) reads the field the same way to
//! choose a precompressed file.
//!
//! It compresses only what is worth it and safe: 200 responses of a
//! compressible type (`text/*`, JSON, JavaScript, XML, SVG,
//! `application/wasm`) with no `Content-Encoding` or `Content-Range`
//! already, whose body is at least [`min_size`](Compression::min_size)
//! bytes or of unknown length. It adds `Vary: Accept-Encoding` to every
//! response it could have compressed, turns a strong `ETag` weak (the
//! compressed bytes differ), and drops `Accept-Ranges` from what it
//! compresses (ranges would be of the uncompressed bytes).
//!
//! A 304 must carry the `Vary` and `ETag` of the 200 it stands for. For a
//! 304 of [`ServeDir`](crate::files::ServeDir) or
//! [`ServeFile`](crate::files::ServeFile) it knows that 200, and gives the
//! 304 what it would have given the 200 for the same request: `Vary`, and
//! the weak `ETag` when it would have compressed it. A handler's 304 gets
//! `Vary` unless it names a type never compressed, and keeps its `ETag`.
//!
//! Every kind of body is compressed as it is sent, with bounded memory: the
//! compressor holds its own state (a few hundred KiB at most, see
//! [`STREAM_WINDOW_BITS`]), never the whole body. A compressed body's length
//! is not known in advance, so it goes chunked (to HTTP/1.0 clients, until
//! the connection closes):
//!
//! - a body in memory is compressed whole, and keeps a `Content-Length`;
//! - a [`Response::stream`] reader is read through the compressor on a
//!   worker, a window at a time (its bytes leave when the compressor's
//!   buffers fill, not read by read);
//! - a [`BodyStream`](crate::stream::BodyStream) is compressed on its
//!   producers' threads, and each [`send`](crate::stream::Sender::send) is
//!   flushed (a gzip sync flush, a brotli flush), so every chunk reaches the
//!   client decodable at once, not when the compressor's buffer fills;
//! - a file ([`Response::file`], [`ServeDir`](crate::files::ServeDir)) is
//!   read through the compressor on workers instead of going out with
//!   `sendfile` from the event loop, unless it is a range (a 206) or a
//!   precompressed sibling (it has a `Content-Encoding`): for static assets,
//!   precompress them (`NAME.br`, `NAME.gz`) and no CPU is spent per request.
//!
//! Server-sent events (`text/event-stream`) are not compressed unless
//! [`event_streams`](Compression::event_streams) says so, as in tower-http's
//! default: each open stream would keep a compressor's state (hundreds of
//! KiB, against about 1 KiB for an idle stream today), while the events,
//! small and flushed one by one, shrink little.
//!
//! A reader's bytes leave the compressor when its buffers fill, not read by
//! read: for output that must reach the client at once, use a
//! [`BodyStream`](crate::stream::BodyStream). What compression costs in
//! CPU: on about 15 KB of JSON, roughly 90 µs (brotli) to 130 µs (gzip) per
//! response, where the same response uncompressed costs 1 µs or less; a
//! stream of many tiny sends costs five (gzip) to twelve (brotli) times
//! what its bytes would in one piece, since every send is flushed, so send
//! records in batches where latency allows. The repository's
//! `bench/README.md` has the measurements, and
//! `cargo bench -p pool-server --bench compression` takes them again.
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

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderValue, ACCEPT_RANGES, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_TYPE, ETAG,
};
use http::StatusCode;

use super::middleware::{Middleware, Next};
use crate::protocol::accept_encoding::{self, Coding};
use crate::request::Request;
use crate::response::{Body, Response};
use crate::stream::ChunkEncoder;

/// The brotli window (log2 of its bytes) for bodies compressed as they are
/// sent: 256 KiB, which bounds the compressor's memory per connection. A
/// body in memory uses brotli's default, 4 MiB, since it is there whole.
pub const STREAM_WINDOW_BITS: u32 = 18;

/// Brotli's default window for bodies in memory.
const FULL_WINDOW_BITS: u32 = 22;

/// The compressors' own output buffers.
const BUFFER: usize = 4096;

/// The compression middleware; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Compression {
    min_size: usize,
    gzip_level: u32,
    brotli_quality: u32,
    event_streams: bool,
}

impl Compression {
    /// Brotli at quality 4 and gzip at level 6 (fast settings that still
    /// shrink JSON and HTML several times), for bodies of 1 KiB and more,
    /// not for server-sent events.
    pub fn new() -> Compression {
        Compression {
            min_size: 1024,
            gzip_level: 6,
            brotli_quality: 4,
            event_streams: false,
        }
    }

    /// The smallest body worth compressing, in bytes. Bodies of unknown
    /// length (readers without a length, streams) are always worth it.
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

    /// Whether to compress server-sent events (`text/event-stream`); off by
    /// default (see the [module docs](self)). When on, each event is
    /// flushed out of the compressor as it is sent.
    pub fn event_streams(mut self, compress: bool) -> Compression {
        self.event_streams = compress;
        self
    }

    fn compress(&self, coding: Coding, body: &[u8]) -> io::Result<Vec<u8>> {
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
                    let mut encoder = brotli::CompressorWriter::new(
                        &mut out,
                        BUFFER,
                        self.brotli_quality,
                        FULL_WINDOW_BITS,
                    );
                    encoder.write_all(body)?;
                }
                Ok(out)
            }
        }
    }

    /// `reader`'s bytes, compressed as they are read.
    fn reader(&self, coding: Coding, reader: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        match coding {
            Coding::Gzip => Box::new(flate2::read::GzEncoder::new(
                reader,
                flate2::Compression::new(self.gzip_level),
            )),
            Coding::Brotli => Box::new(brotli::CompressorReader::new(
                reader,
                BUFFER,
                self.brotli_quality,
                STREAM_WINDOW_BITS,
            )),
        }
    }

    fn chunk_encoder(&self, coding: Coding) -> Box<dyn ChunkEncoder> {
        match coding {
            Coding::Gzip => Box::new(GzipChunks(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(self.gzip_level),
            ))),
            Coding::Brotli => Box::new(BrotliChunks(Some(brotli::CompressorWriter::new(
                Vec::new(),
                BUFFER,
                self.brotli_quality,
                STREAM_WINDOW_BITS,
            )))),
        }
    }

    /// Whether a body of `len` bytes is too small to be worth compressing.
    fn small(&self, len: u64) -> bool {
        len < self.min_size as u64
    }

    /// `body` compressed, or, when it is not worth it or compressing
    /// failed, the body as it was.
    fn encode(&self, coding: Coding, body: Body) -> Result<Body, Body> {
        match body {
            Body::Full(bytes) if self.small(bytes.len() as u64) => Err(Body::Full(bytes)),
            Body::Full(bytes) => match self.compress(coding, &bytes) {
                Ok(compressed) => Ok(Body::Full(Bytes::from(compressed))),
                Err(err) => Err(failed(err, Body::Full(bytes))),
            },
            Body::Reader { len: Some(len), .. } | Body::File { len, .. } if self.small(len) => {
                Err(body)
            }
            Body::Reader { reader, .. } => Ok(Body::Reader {
                reader: self.reader(coding, reader),
                len: None,
            }),
            Body::File { file, offset, len } => match file_reader(file, offset, len) {
                Ok(reader) => Ok(Body::Reader {
                    reader: self.reader(coding, reader),
                    len: None,
                }),
                Err((err, file)) => Err(failed(err, Body::File { file, offset, len })),
            },
            Body::Stream(stream) => match stream.encode_with(self.chunk_encoder(coding)) {
                Ok(()) => Ok(Body::Stream(stream)),
                Err(err) => Err(failed(err, Body::Stream(stream))),
            },
        }
    }

    /// Whether this middleware may compress `response`.
    fn applies(&self, response: &Response) -> bool {
        let headers = response.headers();
        response.status() == StatusCode::OK
            && !headers.contains_key(CONTENT_ENCODING)
            && !headers.contains_key(CONTENT_RANGE)
            && self.compresses(headers.get(CONTENT_TYPE))
    }

    /// RFC 9110 §15.4.5: a 304 carries the `Vary` and `ETag` its 200 would
    /// have had, compressed or not.
    fn not_modified(&self, req: &Request, response: &mut Response) {
        let Some(ok) = response.stands_for() else {
            // A handler's 304 seldom names its type, and says nothing of
            // its 200's size: it varies unless the type it names is one
            // never compressed, and its ETag is left as it is.
            let content_type = response.headers().get(CONTENT_TYPE);
            if content_type.is_none() || self.compresses(content_type) {
                response.add_vary("accept-encoding");
            }
            return;
        };
        // What `applies`, `choose` and `encode` would have decided for it.
        if !ok.encoded && self.compresses(Some(&ok.content_type)) {
            let compressed = !self.small(ok.len) && choose(req).is_some();
            response.add_vary("accept-encoding");
            if compressed {
                weaken_etag(response.headers_mut());
            }
        }
    }

    /// Whether a body of this `Content-Type` would be compressed.
    fn compresses(&self, content_type: Option<&HeaderValue>) -> bool {
        content_type
            .and_then(|v| v.to_str().ok())
            .and_then(essence)
            .is_some_and(|ty| {
                compressible_type(&ty) && (self.event_streams || ty != "text/event-stream")
            })
    }
}

impl Default for Compression {
    fn default() -> Compression {
        Compression::new()
    }
}

impl Middleware for Compression {
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        let mut response = next.run(req);
        if response.status() == StatusCode::NOT_MODIFIED {
            self.not_modified(req, &mut response);
            return response;
        }
        if !self.applies(&response) {
            return response;
        }
        // The answer depends on Accept-Encoding, whether or not this one
        // is compressed: caches must know.
        response.add_vary("accept-encoding");
        let Some(coding) = choose(req) else {
            return response;
        };
        let body = response.take_body();
        match self.encode(coding, body) {
            Ok(body) => response.put_body(body),
            Err(body) => {
                response.put_body(body);
                return response;
            }
        }
        let headers = response.headers_mut();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
        // A length set for HEAD (files set one) was the uncompressed one.
        headers.remove(CONTENT_LENGTH);
        headers.remove(ACCEPT_RANGES);
        weaken_etag(headers);
        response
    }
}

/// The coding the client prefers to none, by the reading of
/// `Accept-Encoding` that `ServeDir` shares for its precompressed files.
fn choose(req: &Request) -> Option<Coding> {
    accept_encoding::preferred(req.headers()).next()
}

/// Makes a strong `ETag` weak: a compressed body's bytes differ from those
/// the strong tag was made for, though they mean the same (§8.8.1).
fn weaken_etag(headers: &mut HeaderMap) {
    if let Some(etag) = headers.get(ETAG).and_then(|v| v.to_str().ok()) {
        if !etag.starts_with("W/") {
            if let Ok(weak) = HeaderValue::try_from(format!("W/{etag}")) {
                headers.insert(ETAG, weak);
            }
        }
    }
}

/// Gzip, sync-flushed after each chunk.
struct GzipChunks(flate2::write::GzEncoder<Vec<u8>>);

impl ChunkEncoder for GzipChunks {
    fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        self.0.write_all(data)?;
        // flate2's flush is a sync flush: what is out decodes on its own.
        self.0.flush()?;
        Ok(std::mem::take(self.0.get_mut()))
    }

    fn finish(&mut self) -> io::Result<Vec<u8>> {
        self.0.try_finish()?;
        Ok(std::mem::take(self.0.get_mut()))
    }
}

/// Brotli, flushed after each chunk; `None` once finished.
struct BrotliChunks(Option<brotli::CompressorWriter<Vec<u8>>>);

impl ChunkEncoder for BrotliChunks {
    fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        let Some(encoder) = self.0.as_mut() else {
            return Err(io::Error::other("brotli stream already finished"));
        };
        encoder.write_all(data)?;
        encoder.flush()?;
        Ok(std::mem::take(encoder.get_mut()))
    }

    fn finish(&mut self) -> io::Result<Vec<u8>> {
        // `into_inner` writes the last meta-block.
        Ok(self.0.take().map(|e| e.into_inner()).unwrap_or_default())
    }
}

/// `len` bytes of `file` from `offset`, as a reader; the file back if it
/// cannot seek.
fn file_reader(
    mut file: File,
    offset: u64,
    len: u64,
) -> Result<Box<dyn Read + Send>, (io::Error, File)> {
    match file.seek(SeekFrom::Start(offset)) {
        Ok(_) => Ok(Box::new(file.take(len))),
        Err(err) => Err((err, file)),
    }
}

fn failed(err: io::Error, body: Body) -> Body {
    log::error!("compressing a response failed: {err}; sending it as it is");
    body
}

/// The media type of a `Content-Type` value, lowercased.
fn essence(content_type: &str) -> Option<String> {
    let essence = content_type.split(';').next()?.trim();
    (!essence.is_empty()).then(|| essence.to_ascii_lowercase())
}

fn compressible_type(essence: &str) -> bool {
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence,
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/wasm"
                | "image/svg+xml"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let ty = essence(ty).unwrap();
            assert_eq!(compressible_type(&ty), want, "{ty}");
        }
    }
}
