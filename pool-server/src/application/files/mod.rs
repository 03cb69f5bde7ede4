//! Static files: [`ServeFile`] answers with one file, [`ServeDir`] with the
//! files under a directory, both with `Content-Type`, validators
//! (`ETag`, `Last-Modified`), conditional requests (RFC 9110 §13) and
//! single byte ranges (RFC 9110 §14). Bodies are sent by the event loop
//! from the file (with `sendfile`), so a large or slow download holds no
//! worker.
//!
//! Mount a directory with [`Builder::serve_dir`](crate::Builder::serve_dir):
//!
//! ```no_run
//! use pool_server::files::ServeDir;
//! use pool_server::Server;
//!
//! # fn main() -> Result<(), pool_server::Error> {
//! Server::builder()
//!     .serve_dir("/static", ServeDir::new("public").cache_control("max-age=3600"))
//!     .build()?
//!     .run()
//! # }
//! ```
//!
//! Or call the same logic from a handler, after your own checks; here only
//! signed-in users read `private/`:
//!
//! ```no_run
//! use pool_server::extract::{FromRequest, RequestContext};
//! use pool_server::files::ServeDir;
//! use pool_server::{route, routes, Request, Response};
//! use pool_server::{Server, State, StatusCode};
//!
//! /// Someone who sent credentials (checking them is left out here).
//! struct User;
//!
//! impl FromRequest<'_> for User {
//!     type Rejection = StatusCode;
//!
//!     fn from_request(cx: &RequestContext<'_>) -> Result<Self, StatusCode> {
//!         cx.request()
//!             .header("authorization")
//!             .map(|_| User)
//!             .ok_or(StatusCode::UNAUTHORIZED)
//!     }
//! }
//!
//! #[route("GET /private/{*path}")]
//! fn private(req: &Request, path: String, _user: User, dir: State<ServeDir>) -> Response {
//!     dir.respond(req, &path)
//! }
//!
//! # fn main() -> Result<(), pool_server::Error> {
//! Server::builder()
//!     .state(ServeDir::new("private"))
//!     .routes(routes![private])
//!     .build()?
//!     .run()
//! # }
//! ```
//!
//! A wildcard argument arrives percent-decoded and `respond` decodes it
//! again. That cannot open anything outside the directory (every check
//! runs on the final form), but a file whose name holds a `%` escape is
//! then reached only by passing the raw rest of [`Request::path`].
//!
//! # What is sent
//! - `GET` and `HEAD` (the server drops the body of the latter); `OPTIONS`
//!   gets 204 and any other method 405, both with `Allow: GET, HEAD`.
//! - 200 with `Content-Type` (from the extension; text types with
//!   `; charset=utf-8`), `Content-Length`, `Last-Modified`, `ETag`,
//!   `Accept-Ranges: bytes`, and `Cache-Control` when set.
//! - `If-Match` or `If-Unmodified-Since` that fails: 412.
//!   `If-None-Match` (weak comparison, lists, `*`) or, without it,
//!   `If-Modified-Since` that says the client is up to date: 304 with
//!   `ETag`, `Last-Modified`, `Cache-Control` and `Vary` and no body.
//! - `Range: bytes=a-b`, `a-` or `-n` on a `GET`: 206 with
//!   `Content-Range: bytes a-b/LEN`, unless an `If-Range` names another
//!   version, or gives the file's `Last-Modified` when that is not at least
//!   a second before the response's `Date` (a weak validator, RFC 9110
//!   §8.8.2.2: the file could change again within that second): then 200.
//!   No byte of the file in range: 416 with `Content-Range: bytes */LEN`.
//!   A malformed `Range`, another unit, or several ranges are ignored: the
//!   whole file, 200 (RFC 9110 §14.2 allows it, and it avoids multipart
//!   bodies made of many tiny parts).
//! - Errors (400, 403, 404, 405, 500) have no body, unless the builder's
//!   [`error_body`](crate::Builder::error_body) renders them, as it
//!   renders the router's.
//!
//! The `ETag` is `"<length hex>-<modification time in ns, hex>"` (with the
//! coding appended for a precompressed file): it changes whenever a write
//! changes the length or the modification time, which is as strong as a
//! file system lets a server be without hashing every file.
//!
//! # What is refused
//! Nothing outside the directory is served. Each path segment is
//! percent-decoded and checked on its own: `..` and `.`, empty segments
//! (`//etc/passwd`) and drive prefixes (`C:`) get 404; encoded separators
//! (`%2f`, `%5c`), backslashes, NUL (`%00`) and names that are not UTF-8
//! get 400. The file found is then canonicalized and must still be inside
//! the directory, so a symlink that leads out gets 404 unless
//! [`follow_symlinks_outside(true)`](ServeDir::follow_symlinks_outside).
//! On Linux the checked path, which has no symlink left, is then opened
//! with `openat2` beneath the directory and no symlink allowed: a link
//! swapped in between the check and the open (by anyone who can write
//! there) gets 404 too, rather than leading out. Only regular files are
//! served: a FIFO, socket or device under the directory gets 404, at once.
//! Names that start with `.` get 404 unless
//! [`dotfiles(true)`](ServeDir::dotfiles).

pub(crate) mod conditional;
mod mime;
pub(crate) mod range;
pub(crate) mod resolve;
mod serve_file;

use std::fmt;
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use self::conditional::{Outcome, Validators};
use self::range::Ranges;
use self::resolve::{Entry, Refused, Root};
use crate::error::Error;
use crate::protocol::accept_encoding::{self, Coding};
use crate::protocol::date;
use crate::request::Request;
use crate::response::{Representation, Response};

pub use serve_file::ServeFile;

const ALLOW_GET_HEAD: HeaderValue = HeaderValue::from_static("GET, HEAD");

/// Serves the files under a directory. Mount it with
/// [`Builder::serve_dir`](crate::Builder::serve_dir), or call
/// [`respond`](Self::respond) from a handler.
///
/// Nothing outside the directory is served, whatever the request says:
/// each segment of the path is percent-decoded and checked on its own
/// (`..`, `.`, encoded `/` or `\`, backslashes, NUL, drive prefixes and
/// empty segments are refused), and the file found is canonicalized and
/// must still lie under the directory, so a symlink that leads out is
/// refused too unless [`follow_symlinks_outside`](Self::follow_symlinks_outside)
/// allows it. On Linux (5.6 and later) the file is then opened beneath the
/// directory by the path checked, so a symlink swapped in after the check
/// is refused as well. Refusals are 404, or 400 for bytes no name may hold.
///
/// ```
/// use pool_server::files::ServeDir;
///
/// let assets = ServeDir::new("public")
///     .precompressed(true)
///     .cache_control("public, max-age=86400")
///     .index("index.htm");
/// # let _ = assets;
/// ```
#[derive(Clone, Debug)]
pub struct ServeDir {
    root: PathBuf,
    dotfiles: bool,
    follow_symlinks_outside: bool,
    precompressed: bool,
    cache_control: CacheControl,
    index: Option<String>,
}

impl ServeDir {
    /// Serves the files under `dir`, with the defaults: no dotfiles, no
    /// symlinks out of `dir`, no precompressed files, no `Cache-Control`,
    /// and `index.html` for directories.
    pub fn new(dir: impl Into<PathBuf>) -> ServeDir {
        ServeDir {
            root: dir.into(),
            dotfiles: false,
            follow_symlinks_outside: false,
            precompressed: false,
            cache_control: CacheControl::default(),
            index: Some("index.html".to_owned()),
        }
    }

    /// Whether files and directories whose name starts with `.` are served
    /// (`.well-known`, say); off by default, when they get 404 (so do
    /// symlinks to them). `..` is refused either way.
    pub fn dotfiles(mut self, serve: bool) -> ServeDir {
        self.dotfiles = serve;
        self
    }

    /// Whether a symlink under the directory may lead to a file outside
    /// it; off by default, when such a file gets 404. Symlinks that stay
    /// inside are always followed.
    pub fn follow_symlinks_outside(mut self, follow: bool) -> ServeDir {
        self.follow_symlinks_outside = follow;
        self
    }

    /// Whether to send `NAME.br` or `NAME.gz`, when it exists beside
    /// `NAME`, to clients whose `Accept-Encoding` prefers it to `NAME`
    /// (read as [`Compression`](crate::compression::Compression) reads it:
    /// Brotli before gzip at equal weight, a coding with `q=0` never). It goes out with
    /// `Content-Encoding`, the original's `Content-Type` and an `ETag` of
    /// its own. Off by default. When on, every file response has
    /// `Vary: Accept-Encoding`.
    pub fn precompressed(mut self, on: bool) -> ServeDir {
        self.precompressed = on;
        self
    }

    /// The `Cache-Control` value of its 200, 206 and 304 responses, such as
    /// `"max-age=3600"`; none by default. An invalid value makes
    /// [`Builder::build`](crate::Builder::build) fail for a mounted
    /// directory; in a handler, every response is then a 500.
    pub fn cache_control<V>(mut self, value: V) -> ServeDir
    where
        HeaderValue: TryFrom<V>,
    {
        self.cache_control = CacheControl::new(value);
        self
    }

    /// The file that answers for a directory, `index.html` by default. A
    /// directory without it gets 404 (there are no listings).
    pub fn index(mut self, name: impl Into<String>) -> ServeDir {
        self.index = Some(name.into());
        self
    }

    /// No index file: every directory gets 404.
    pub fn no_index(mut self) -> ServeDir {
        self.index = None;
        self
    }

    /// Answers `req` with the file that `rel` names under the directory.
    /// `rel` is the part of the path after the mount prefix, still
    /// percent-encoded, with or without its leading `/`.
    ///
    /// A directory is answered by its index file when the request path
    /// ends with `/`, and otherwise with a 308 to the same path plus `/`
    /// (query kept), so relative links in the page resolve; a file asked
    /// for with a trailing `/` gets 404. Everything else is as for
    /// [`ServeFile::respond`].
    pub fn respond(&self, req: &Request, rel: &str) -> Response {
        if let Some(refusal) = refuse_method(req) {
            return refusal;
        }
        let Ok(cache_control) = self.cache_control.get() else {
            return error(StatusCode::INTERNAL_SERVER_ERROR);
        };
        match self.find(req, rel) {
            Ok(Found::File {
                root,
                real,
                name,
                file,
                meta,
            }) => {
                let content_type = mime::content_type(&name);
                let original = Selected {
                    file,
                    meta,
                    coding: None,
                };
                let selected = self.select(req, &root, &real, original);
                send(
                    req,
                    selected,
                    content_type,
                    cache_control,
                    self.precompressed,
                )
            }
            Ok(Found::Redirect(location)) => Response::status_only(StatusCode::PERMANENT_REDIRECT)
                .with_header(header::LOCATION, location),
            Err(status) => error(status),
        }
    }

    /// Resolves `rel` to a file to send, or a redirect.
    fn find(&self, req: &Request, rel: &str) -> Result<Found, StatusCode> {
        let relative = resolve::relative(rel, self.dotfiles).map_err(Refused::status)?;
        let root = Root::new(&self.root).map_err(|err| {
            log::error!(
                "cannot open the served directory {}: {err}",
                self.root.display()
            );
            StatusCode::NOT_FOUND
        })?;
        let (real, entry) = self.open_under(&root, &root.path().join(&relative))?;
        let trailing_slash = req.path().ends_with('/');
        if let Entry::File(file, meta) = entry {
            if trailing_slash && !relative.as_os_str().is_empty() {
                return Err(StatusCode::NOT_FOUND);
            }
            return Ok(Found::File {
                root,
                real,
                name: relative,
                file,
                meta,
            });
        }
        if !trailing_slash {
            let mut location = format!("{}/", req.path());
            if let Some(query) = req.query() {
                location.push('?');
                location.push_str(query);
            }
            // `//host/` would be read as another host: never redirect there.
            if location.starts_with("//") {
                return Err(StatusCode::NOT_FOUND);
            }
            return Ok(Found::Redirect(location));
        }
        let index = self.index.as_deref().ok_or(StatusCode::NOT_FOUND)?;
        let name = relative.join(index);
        let (real, entry) = self.open_under(&root, &real.join(index))?;
        let Entry::File(file, meta) = entry else {
            return Err(StatusCode::NOT_FOUND);
        };
        Ok(Found::File {
            root,
            real,
            name,
            file,
            meta,
        })
    }

    /// Checks `path` (under `root`, or a sibling of a file found there)
    /// with [`resolve::confine`], then opens the canonical path it gives:
    /// that path and what was there.
    fn open_under(&self, root: &Root, path: &Path) -> Result<(PathBuf, Entry), StatusCode> {
        let real = resolve::confine(
            root.path(),
            path,
            self.follow_symlinks_outside,
            self.dotfiles,
        )
        .map_err(Refused::status)?;
        let entry = root.open(&real).map_err(|err| open_error(&real, &err))?;
        Ok((real, entry))
    }

    /// The best precompressed sibling of `real` (the canonical path of
    /// `original`) that the client accepts, or `original`.
    fn select(&self, req: &Request, root: &Root, real: &Path, original: Selected) -> Selected {
        if self.precompressed {
            for coding in accept_encoding::preferred(req.headers()) {
                let mut sibling = real.as_os_str().to_owned();
                sibling.push(".");
                sibling.push(extension(coding));
                // The sibling may be a symlink too: the same rules apply.
                if let Ok((_, Entry::File(file, meta))) = self.open_under(root, Path::new(&sibling))
                {
                    return Selected {
                        file,
                        meta,
                        coding: Some(coding),
                    };
                }
            }
        }
        original
    }

    /// Checks what [`Builder::build`](crate::Builder::build) can check
    /// before serving: the directory exists and the settings are valid.
    fn check(&self) -> Result<(), String> {
        if !self.root.is_dir() {
            return Err(format!("`{}` is not a directory", self.root.display()));
        }
        if self.cache_control.get().is_err() {
            return Err("the cache_control value is not a valid header value".to_owned());
        }
        if let Some(index) = &self.index {
            if resolve::relative(index, true).map(|p| p.components().count()) != Ok(1) {
                return Err(format!("the index `{index}` is not a plain file name"));
            }
        }
        Ok(())
    }
}

impl From<PathBuf> for ServeDir {
    fn from(dir: PathBuf) -> ServeDir {
        ServeDir::new(dir)
    }
}

impl From<&Path> for ServeDir {
    fn from(dir: &Path) -> ServeDir {
        ServeDir::new(dir)
    }
}

impl From<&str> for ServeDir {
    fn from(dir: &str) -> ServeDir {
        ServeDir::new(dir)
    }
}

impl From<String> for ServeDir {
    fn from(dir: String) -> ServeDir {
        ServeDir::new(dir)
    }
}

/// What a path under a directory resolved to.
// Made once per request and taken apart at once: boxing the large variant
// would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Found {
    /// Send `file`, opened at `real` (canonical) under `root`; `name` (as
    /// requested, relative) gives the content type.
    File {
        root: Root,
        real: PathBuf,
        name: PathBuf,
        file: File,
        meta: Metadata,
    },
    /// 308 to this location.
    Redirect(String),
}

/// An optional `Cache-Control` value, checked when it was set.
#[derive(Clone, Debug, Default)]
struct CacheControl(Option<Result<HeaderValue, ()>>);

impl CacheControl {
    fn new<V>(value: V) -> CacheControl
    where
        HeaderValue: TryFrom<V>,
    {
        let value = HeaderValue::try_from(value).map_err(|_| {
            log::error!("an invalid Cache-Control value was set for static files");
        });
        CacheControl(Some(value))
    }

    fn get(&self) -> Result<Option<&HeaderValue>, ()> {
        match &self.0 {
            None => Ok(None),
            Some(Ok(value)) => Ok(Some(value)),
            Some(Err(())) => Err(()),
        }
    }
}

/// A directory mounted under a path prefix by `Builder::serve_dir`.
pub(crate) struct Mount {
    /// Without a trailing `/`; empty for the root mount.
    prefix: String,
    dir: ServeDir,
}

impl Mount {
    /// Checks the prefix (it starts with `/`, and has no query, fragment or
    /// empty segment) and the directory.
    ///
    /// # Errors
    /// A configuration error naming the prefix.
    pub(crate) fn new(prefix: &str, dir: ServeDir) -> Result<Mount, Error> {
        let invalid = |why: &str| Error::config(format!("serve_dir `{prefix}`: {why}"));
        if !prefix.starts_with('/') {
            return Err(invalid("the prefix must start with `/`"));
        }
        if prefix.contains(['?', '#']) {
            return Err(invalid("the prefix cannot hold a query or a fragment"));
        }
        let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
        if trimmed.contains("//") {
            return Err(invalid("the prefix cannot hold an empty segment"));
        }
        dir.check().map_err(|why| invalid(&why))?;
        Ok(Mount {
            prefix: trimmed.to_owned(),
            dir,
        })
    }

    /// The prefix, without its trailing `/`.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The rest of `path` when the mount covers it: the prefix itself, or
    /// the prefix followed by `/` and anything (`/static` covers
    /// `/static/a.css`, not `/staticfoo`).
    pub(crate) fn rest<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.prefix.as_str())?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    }

    /// Answers a request whose path it covers.
    pub(crate) fn respond(&self, req: &Request, rest: &str) -> Response {
        self.dir.respond(req, rest)
    }
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/ => {:?}", self.prefix, self.dir.root)
    }
}

/// 204 for `OPTIONS`, 405 for what is neither `GET` nor `HEAD`, both with
/// `Allow` (RFC 9110 §15.5.6 requires it on a 405).
fn refuse_method(req: &Request) -> Option<Response> {
    let mut response = match *req.method() {
        Method::GET | Method::HEAD => return None,
        Method::OPTIONS => Response::status_only(StatusCode::NO_CONTENT),
        _ => error(StatusCode::METHOD_NOT_ALLOWED),
    };
    response.headers_mut().insert(header::ALLOW, ALLOW_GET_HEAD);
    Some(response)
}

/// An error answer of files (400, 403, 404, 405 or 500): no body, unless
/// the builder's `error_body` renders it, as it does the router's 404 and
/// 405, so a mount answers errors in the service's form too.
fn error(status: StatusCode) -> Response {
    let message = match status {
        StatusCode::BAD_REQUEST => "invalid path",
        StatusCode::FORBIDDEN => "forbidden",
        // The router's words: a mount's 404 reads like the router's.
        StatusCode::NOT_FOUND => "not found",
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed",
        _ => "internal server error",
    };
    Response::bare_error(status, message)
}

/// Opens a regular file, without waiting (a FIFO has no writer to wait
/// for: see `resolve::open_by_path`): 404 when missing, a directory or not
/// a regular file, 403 when not permitted, 500 (logged) for other errors.
fn open(path: &Path) -> Result<(File, Metadata), StatusCode> {
    match resolve::open_by_path(path) {
        Ok(Entry::File(file, meta)) => Ok((file, meta)),
        Ok(Entry::Dir) => Err(StatusCode::NOT_FOUND),
        Err(err) => Err(open_error(path, &err)),
    }
}

/// The answer to a failed open of `path`: 404 when missing, 403 when not
/// permitted, 500 (logged) for other errors.
fn open_error(path: &Path, err: &io::Error) -> StatusCode {
    if resolve::is_missing(err) {
        StatusCode::NOT_FOUND
    } else if err.kind() == io::ErrorKind::PermissionDenied {
        StatusCode::FORBIDDEN
    } else {
        log::error!("cannot open {}: {err}", path.display());
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// The extension of a file precompressed with `coding`, after its name.
fn extension(coding: Coding) -> &'static str {
    match coding {
        Coding::Brotli => "br",
        Coding::Gzip => "gz",
    }
}

/// The file chosen to answer, and the coding it is stored in.
struct Selected {
    file: File,
    meta: Metadata,
    coding: Option<Coding>,
}

/// Builds the answer from the open file: preconditions, then range.
fn send(
    req: &Request,
    selected: Selected,
    content_type: HeaderValue,
    cache_control: Option<&HeaderValue>,
    vary: bool,
) -> Response {
    let Selected { file, meta, coding } = selected;
    let len = meta.len();
    let mtime = meta.modified().ok();
    let nanos = mtime
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let opaque = match coding {
        Some(coding) => format!("{len:x}-{nanos:x}-{}", coding.token()),
        None => format!("{len:x}-{nanos:x}"),
    };
    let current = Validators {
        etag: &opaque,
        modified: mtime.map(conditional::seconds),
    };

    // RFC 9110 §15.4.5: a 304 carries the fields a 200 would have had
    // among ETag, Cache-Control and Vary (and Last-Modified, to refresh a
    // cache's copy); the server leaves its Content-Length out.
    let mut validators = HeaderMap::new();
    if let Ok(etag) = HeaderValue::try_from(format!("\"{opaque}\"")) {
        validators.insert(header::ETAG, etag);
    }
    if let Some(mtime) = mtime {
        if let Ok(date) = HeaderValue::try_from(httpdate::fmt_http_date(mtime)) {
            validators.insert(header::LAST_MODIFIED, date);
        }
    }
    if let Some(value) = cache_control {
        validators.insert(header::CACHE_CONTROL, value.clone());
    }
    if vary {
        validators.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }

    let is_get = req.method() == Method::GET;
    match conditional::evaluate(req.headers(), true, current) {
        Outcome::Failed => return Response::status_only(StatusCode::PRECONDITION_FAILED),
        Outcome::NotModified => {
            let mut response = Response::status_only(StatusCode::NOT_MODIFIED);
            response.headers_mut().extend(validators);
            response.set_stands_for(Representation {
                content_type,
                encoded: coding.is_some(),
                len,
            });
            return response;
        }
        Outcome::Proceed => {}
    }

    // RFC 9110 §14.2: GET is the only method with range handling, so a
    // HEAD gets the 200 headers; an If-Range naming another version means
    // the whole current file. The response's Date is encoded after this,
    // so it names this second or a later one.
    let now = date::current_second();
    let ranges = match req.headers().get(header::RANGE) {
        Some(value) if is_get && conditional::if_range_holds(req.headers(), current, now) => value
            .to_str()
            .map_or(Ranges::Ignore, |v| range::resolve(v, len)),
        _ => Ranges::Ignore,
    };
    let (mut response, sent) = match ranges {
        Ranges::Ignore => (Response::file_part(file, 0, len), len),
        Ranges::One { start, end } => {
            let part = Response::file_part(file, start, end - start + 1)
                .with_status(StatusCode::PARTIAL_CONTENT)
                .with_header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
            (part, end - start + 1)
        }
        // §15.5.17: a 416 for byte ranges says the current length.
        Ranges::Unsatisfiable => {
            let response = Response::status_only(StatusCode::RANGE_NOT_SATISFIABLE)
                .with_header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .with_header(header::ACCEPT_RANGES, "bytes");
            return response;
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    // The server owns framing; this value is what a HEAD answer declares.
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(sent));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(coding) = coding {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    headers.extend(validators);
    response
}

#[cfg(test)]
mod tests;
