//! The request a handler receives.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{Extensions, HeaderMap, Method, Version};

/// An HTTP request, read in full (head and body) before the handler runs.
///
/// Method, version and header types are the [`http`] crate's. The body is
/// already decoded from `Content-Length` or chunked framing. A small body is
/// held in memory; one larger than the server's `body_buffer_size` was
/// written to an unnamed temporary file as it arrived, which is removed when
/// the request is dropped. [`body_reader`](Self::body_reader) reads either
/// without loading it whole.
pub struct Request {
    pub(crate) method: Method,
    /// The request target in origin form (`/path?query`); absolute-form
    /// targets are reduced to it.
    pub(crate) target: Target,
    /// Where the path ends and the query (after `?`) begins, if there is one.
    pub(crate) query_start: Option<usize>,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) peer_addr: SocketAddr,
    /// The client and scheme a trusted proxy forwarded for, if any.
    pub(crate) forwarded: Option<(IpAddr, Option<String>)>,
    /// What middleware left for the handler.
    pub(crate) extensions: Extensions,
    /// The route that answers the request, once routed: its place in the
    /// routing table's `patterns`.
    pub(crate) route_id: Option<u32>,
    /// The routing table's patterns, by route id. Kept when the request's
    /// memory carries the next one, so naming the route costs no reference
    /// count per request (a count shared by every worker would bounce
    /// between their cores).
    pub(crate) patterns: Option<Arc<[Arc<str>]>>,
}

/// A request target: as a slice of the request's head when it is kept as
/// sent, which saves allocating a `String` for every request.
#[derive(Clone)]
pub(crate) struct Target(Bytes);

impl Target {
    /// The target in `bytes`, a copy of a `str`'s (any other bytes would
    /// read as an empty target).
    pub(crate) fn from_str_bytes(bytes: Bytes) -> Target {
        Target(bytes)
    }

    /// The target as text.
    pub(crate) fn as_str(&self) -> &str {
        // Never empty for want of UTF-8, as the constructors take the bytes
        // of a `str`. Checking again (a few ns for a path) is the price of
        // sharing the head's bytes without `unsafe`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The path: the target up to `query_start`.
    pub(crate) fn path(&self, query_start: Option<usize>) -> &str {
        let target = self.as_str();
        match query_start {
            Some(q) => &target[..q],
            None => target,
        }
    }
}

impl From<String> for Target {
    fn from(target: String) -> Target {
        Target(Bytes::from(target))
    }
}

impl From<&str> for Target {
    fn from(target: &str) -> Target {
        Target(Bytes::copy_from_slice(target.as_bytes()))
    }
}

/// Where a request body is kept.
pub(crate) enum Body {
    /// In memory; the charge gives its bytes back to the budget on drop.
    Memory { bytes: Bytes, _charge: MemoryCharge },
    /// Spooled to an unnamed temporary file of `len` bytes; `loaded` holds
    /// it once [`Request::body`] asked for it in memory.
    File {
        file: File,
        len: u64,
        loaded: OnceLock<Bytes>,
    },
}

impl Request {
    /// A request with nothing in it yet, for [`parse_head`] to fill.
    ///
    /// [`parse_head`]: crate::protocol::parse::parse_head
    pub(crate) fn blank(peer_addr: SocketAddr) -> Request {
        Request {
            method: Method::GET,
            target: Target::from_str_bytes(Bytes::new()),
            query_start: None,
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            body: Body::empty(),
            peer_addr,
            forwarded: None,
            extensions: Extensions::new(),
            route_id: None,
            patterns: None,
        }
    }

    /// Empties a served request so its box and its header map's memory can
    /// carry the connection's loop another request (see `Recycler`).
    pub(crate) fn recycle(&mut self) {
        self.headers.clear();
        self.body = Body::empty();
        self.target = Target::from_str_bytes(Bytes::new());
        self.forwarded = None;
        self.extensions.clear();
        self.route_id = None;
    }
}

impl Body {
    pub(crate) fn empty() -> Body {
        Body::Memory {
            bytes: Bytes::new(),
            _charge: MemoryCharge::none(),
        }
    }
}

/// Bytes of request bodies held in memory, server-wide, against a limit.
#[derive(Debug, Clone)]
pub(crate) struct BodyMemory {
    used: Arc<AtomicUsize>,
    limit: usize,
}

impl BodyMemory {
    pub(crate) fn new(limit: usize) -> BodyMemory {
        BodyMemory {
            used: Arc::new(AtomicUsize::new(0)),
            limit,
        }
    }

    /// Charges `bytes` more to `charge` if the limit allows it.
    pub(crate) fn try_grow(&self, charge: &mut MemoryCharge, bytes: usize) -> bool {
        let granted = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok();
        if granted {
            charge.bytes += bytes;
            charge.used.get_or_insert_with(|| Arc::clone(&self.used));
        }
        granted
    }

    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// Memory a body holds against [`BodyMemory`], given back on drop.
#[derive(Debug)]
pub(crate) struct MemoryCharge {
    used: Option<Arc<AtomicUsize>>,
    bytes: usize,
}

impl MemoryCharge {
    pub(crate) fn none() -> MemoryCharge {
        MemoryCharge {
            used: None,
            bytes: 0,
        }
    }

    /// The bytes charged.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for MemoryCharge {
    fn drop(&mut self) {
        if let Some(used) = &self.used {
            used.fetch_sub(self.bytes, Ordering::AcqRel);
        }
    }
}

impl Request {
    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path of the request target, as sent (not percent-decoded), such as
    /// `/users/42`. For `OPTIONS *` it is `*`.
    pub fn path(&self) -> &str {
        self.target.path(self.query_start)
    }

    /// The query string after `?`, as sent, if the target has one.
    pub fn query(&self) -> Option<&str> {
        self.query_start.map(|q| &self.target.as_str()[q + 1..])
    }

    /// The HTTP version: [`Version::HTTP_10`] or [`Version::HTTP_11`].
    pub fn version(&self) -> Version {
        self.version
    }

    /// All header fields, in the order received for each name.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name` as text, when present and visible ASCII.
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The decoded body; empty when the request had none.
    ///
    /// A body spooled to disk is read into memory on the first call (and kept
    /// until the request is dropped): for a large upload prefer
    /// [`body_reader`](Self::body_reader). If that read fails, it is logged
    /// and the body reads as empty.
    pub fn body(&self) -> &[u8] {
        self.body_ref()
    }

    /// The decoded body as [`Bytes`]: for a body in memory a shared handle,
    /// with no copy (an echo can answer with it as it is); a spooled one is
    /// loaded as by [`body`](Self::body). Routes can also take it as a
    /// `Bytes` argument.
    pub fn body_bytes(&self) -> Bytes {
        self.body_ref().clone()
    }

    fn body_ref(&self) -> &Bytes {
        match &self.body {
            Body::Memory { bytes, .. } => bytes,
            Body::File { file, len, loaded } => loaded.get_or_init(|| {
                let mut bytes = Vec::new();
                let read = FileReader::new(file, *len).read_to_end(&mut bytes);
                if let Err(err) = read {
                    log::error!("cannot read a spooled request body back: {err}");
                    bytes.clear();
                }
                Bytes::from(bytes)
            }),
        }
    }

    /// The length of the decoded body in bytes.
    pub fn body_len(&self) -> u64 {
        match &self.body {
            Body::Memory { bytes, .. } => bytes.len() as u64,
            Body::File { len, .. } => *len,
        }
    }

    /// Keeps the body as the new file `path`, and returns its length. A
    /// body spooled to disk is not copied when it can be helped: its
    /// unnamed temporary file is given that name (a hard link through
    /// `/proc/self/fd`, on Linux), which costs one system call whatever its
    /// size, when `path` is on the same filesystem as the server's
    /// [`temp_dir`](crate::Builder::temp_dir); otherwise, and for a body
    /// held in memory, the bytes are copied. Either way the request still
    /// reads its body as before. The file is not synced to disk: call
    /// `File::sync_all` on it where a crash must not lose it.
    ///
    /// ```no_run
    /// use pool_server::{route, Request, StatusCode};
    ///
    /// #[route("PUT /files/{name}")]
    /// fn put(name: String, req: &Request) -> Result<String, StatusCode> {
    ///     if name.contains('/') || name.starts_with('.') {
    ///         return Err(StatusCode::BAD_REQUEST);
    ///     }
    ///     let kept = req
    ///         .persist_body(format!("/srv/files/{name}"))
    ///         .map_err(|_| StatusCode::CONFLICT)?;
    ///     Ok(format!("{kept} bytes kept"))
    /// }
    /// ```
    ///
    /// # Errors
    /// When `path` exists already (nothing is replaced), or the file cannot
    /// be created or written.
    pub fn persist_body(&self, path: impl AsRef<Path>) -> io::Result<u64> {
        let path = path.as_ref();
        if let Body::File { file, len, .. } = &self.body {
            match link_unnamed(file, path) {
                Ok(()) => return Ok(*len),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Err(err),
                // Another filesystem (EXDEV), no /proc, a file that had a
                // name once: copy instead.
                Err(_) => {}
            }
        }
        let mut kept = OpenOptions::new().write(true).create_new(true).open(path)?;
        let copied = io::copy(&mut self.body_reader(), &mut kept);
        if copied.is_err() {
            // Half a file under the final name would pass for the body.
            let _ = std::fs::remove_file(path);
        }
        copied
    }

    /// Reads the body from the start, from memory or from its temporary file,
    /// without loading it whole. Each call starts again at the beginning.
    ///
    /// ```
    /// use std::io::Read;
    /// use pool_server::{route, Request, StatusCode};
    ///
    /// #[route("POST /count")]
    /// fn count(req: &Request) -> Result<String, StatusCode> {
    ///     let mut reader = req.body_reader();
    ///     let mut chunk = [0u8; 8192];
    ///     let mut lines = 0;
    ///     loop {
    ///         let n = reader
    ///             .read(&mut chunk)
    ///             .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    ///         if n == 0 {
    ///             return Ok(format!("{lines} lines"));
    ///         }
    ///         lines += chunk[..n].iter().filter(|&&b| b == b'\n').count();
    ///     }
    /// }
    /// ```
    pub fn body_reader(&self) -> BodyReader<'_> {
        BodyReader(match &self.body {
            Body::Memory { bytes, .. } => Source::Memory(bytes),
            Body::File { file, len, .. } => Source::File(FileReader::new(file, *len)),
        })
    }

    /// The address of the TCP peer: the client, or the proxy in front.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer_addr
    }

    /// The client's address: the one a trusted proxy forwarded for
    /// (`Forwarded` or `X-Forwarded-For`, see
    /// [`Builder::trusted_proxies`](crate::Builder::trusted_proxies)), else
    /// the peer's.
    pub fn client_addr(&self) -> IpAddr {
        self.forwarded
            .as_ref()
            .map_or(self.peer_addr.ip(), |(addr, _)| *addr)
    }

    /// The scheme the client used: `https` when a trusted proxy said so
    /// (`proto=` or `X-Forwarded-Proto`), else `http`.
    pub fn scheme(&self) -> &str {
        match &self.forwarded {
            Some((_, Some(scheme))) => scheme,
            _ => "http",
        }
    }

    /// Values that middleware left for the handler, one per type (the
    /// `http` crate's [`Extensions`]); a route reads one with
    /// [`Extension<T>`](crate::Extension).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The extensions, to add to: middleware gets the request mutably.
    ///
    /// ```
    /// use pool_server::{route, Extension, Next, Request, Response};
    ///
    /// #[derive(Clone)]
    /// struct User(String);
    ///
    /// fn login(req: &mut Request, next: Next<'_>) -> Response {
    ///     let user = req.header("x-user").unwrap_or("guest").to_owned();
    ///     req.extensions_mut().insert(User(user));
    ///     next.run(req)
    /// }
    ///
    /// #[route("GET /me")]
    /// fn me(Extension(user): Extension<User>) -> String {
    ///     user.0
    /// }
    /// ```
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// The pattern of the route that answers this request, scope prefix
    /// included (`/api/notes/{id}`, never `/api/notes/42`): set before any
    /// middleware runs, so logs and metrics can be labelled by route with a
    /// bounded number of labels. `None` when no route matched (a 404 or
    /// 405, a fallback, a static-file mount).
    pub fn matched_path(&self) -> Option<&str> {
        let patterns = self.patterns.as_ref()?;
        patterns.get(self.route_id? as usize).map(|p| &**p)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("target", &self.target.as_str())
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("body_len", &self.body_len())
            .field("peer_addr", &self.peer_addr)
            .finish()
    }
}

/// Names the unnamed file `file` as `path`: `linkat` of its
/// `/proc/self/fd` entry, which needs no privilege (the `AT_EMPTY_PATH`
/// form needs `CAP_DAC_READ_SEARCH`).
fn link_unnamed(file: &File, path: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    rustix::fs::linkat(
        rustix::fs::CWD,
        proc_path.as_str(),
        rustix::fs::CWD,
        path,
        rustix::fs::AtFlags::SYMLINK_FOLLOW,
    )
    .map_err(io::Error::from)
}

/// Reads a request body; made by [`Request::body_reader`].
pub struct BodyReader<'r>(Source<'r>);

enum Source<'r> {
    Memory(&'r [u8]),
    File(FileReader<'r>),
}

/// Positional reads, so readers of one file never disturb each other.
struct FileReader<'r> {
    file: &'r File,
    pos: u64,
    len: u64,
}

impl<'r> FileReader<'r> {
    fn new(file: &'r File, len: u64) -> FileReader<'r> {
        FileReader { file, pos: 0, len }
    }
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.len - self.pos).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the spooled request body is shorter than received",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.0 {
            Source::Memory(bytes) => bytes.read(buf),
            Source::File(file) => file.read(buf),
        }
    }
}

impl fmt::Debug for BodyReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Source::Memory(_) => "BodyReader(memory)",
            Source::File(_) => "BodyReader(file)",
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, Write};
    use std::os::unix::fs::MetadataExt;

    use super::*;

    fn spooled(dir: &Path, content: &[u8]) -> Request {
        let mut file = tempfile::tempfile_in(dir).unwrap();
        file.write_all(content).unwrap();
        file.rewind().unwrap();
        let mut request = Request::blank("127.0.0.1:1".parse().unwrap());
        request.body = Body::File {
            file,
            len: content.len() as u64,
            loaded: OnceLock::new(),
        };
        request
    }

    #[test]
    fn a_spooled_body_is_kept_by_naming_its_file_not_by_copying() {
        let dir = tempfile::tempdir().unwrap();
        let request = spooled(dir.path(), b"upload");
        let kept = dir.path().join("kept");
        assert_eq!(request.persist_body(&kept).unwrap(), 6);
        assert_eq!(std::fs::read(&kept).unwrap(), b"upload");
        let Body::File { file, .. } = &request.body else {
            unreachable!()
        };
        // One file with two handles: the request's and the new name.
        assert_eq!(
            file.metadata().unwrap().ino(),
            std::fs::metadata(&kept).unwrap().ino()
        );
        assert_eq!(request.body(), b"upload", "the request still reads it");
        let again = request.persist_body(&kept).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
    }

    /// /dev/shm is another filesystem than the temporary directory here:
    /// the link fails with EXDEV and the body is copied.
    #[test]
    fn a_spooled_body_is_copied_to_another_filesystem() {
        let spool = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir_in("/dev/shm").unwrap();
        let (a, b) = (
            std::fs::metadata(spool.path()),
            std::fs::metadata(other.path()),
        );
        assert_ne!(
            a.unwrap().dev(),
            b.unwrap().dev(),
            "the test needs two filesystems"
        );
        let request = spooled(spool.path(), b"far away");
        let kept = other.path().join("kept");
        assert_eq!(request.persist_body(&kept).unwrap(), 8);
        assert_eq!(std::fs::read(&kept).unwrap(), b"far away");
    }

    #[test]
    fn a_body_in_memory_is_written_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut request = Request::blank("127.0.0.1:1".parse().unwrap());
        request.body = Body::Memory {
            bytes: Bytes::from_static(b"small"),
            _charge: MemoryCharge::none(),
        };
        let kept = dir.path().join("kept");
        assert_eq!(request.persist_body(&kept).unwrap(), 5);
        assert_eq!(std::fs::read(&kept).unwrap(), b"small");
        assert!(request.persist_body(&kept).is_err(), "nothing is replaced");
    }
}
