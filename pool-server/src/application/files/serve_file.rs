//! [`ServeFile`]: one file, opened for each request.

use std::path::PathBuf;

use http::{HeaderValue, StatusCode};

use super::{error, mime, open, refuse_method, send, CacheControl, Selected};
use crate::request::Request;
use crate::response::Response;

/// Serves one file: [`respond`](Self::respond) opens it for each request.
///
/// ```no_run
/// use pool_server::files::ServeFile;
/// use pool_server::{route, Request, Response};
///
/// #[route("GET /favicon.ico")]
/// fn favicon(req: &Request) -> Response {
///     ServeFile::new("assets/favicon.ico").respond(req)
/// }
/// ```
#[derive(Clone, Debug)]
pub struct ServeFile {
    path: PathBuf,
    cache_control: CacheControl,
}

impl ServeFile {
    /// Serves the file at `path` (relative to the working directory unless
    /// absolute). It need not exist yet: a missing file gets 404.
    pub fn new(path: impl Into<PathBuf>) -> ServeFile {
        ServeFile {
            path: path.into(),
            cache_control: CacheControl::default(),
        }
    }

    /// The `Cache-Control` value of its 200, 206 and 304 responses, such as
    /// `"max-age=3600"`; none by default. An invalid value is logged and
    /// makes every response a 500.
    pub fn cache_control<V>(mut self, value: V) -> ServeFile
    where
        HeaderValue: TryFrom<V>,
    {
        self.cache_control = CacheControl::new(value);
        self
    }

    /// Answers `req` with the file: 200, 206, 304, 412 or 416 as the
    /// request's conditions and range ask (see the [module](super) docs),
    /// 404 when it is missing or a directory, 405 for methods other than
    /// `GET` and `HEAD`.
    pub fn respond(&self, req: &Request) -> Response {
        if let Some(refusal) = refuse_method(req) {
            return refusal;
        }
        let Ok(cache_control) = self.cache_control.get() else {
            return error(StatusCode::INTERNAL_SERVER_ERROR);
        };
        match open(&self.path) {
            Ok((file, meta)) => send(
                req,
                Selected {
                    file,
                    meta,
                    coding: None,
                },
                mime::content_type(&self.path),
                cache_control,
                false,
            ),
            Err(status) => error(status),
        }
    }
}
