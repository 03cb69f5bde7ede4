//! A ready [`Middleware`] that logs one line per request through the `log`
//! crate, target `pool_server::access`, level `info`.
//!
//! The default line is the Combined Log Format followed by the time the
//! application took, in microseconds (Apache's `%D`), and by the request's
//! id when the [`RequestId`](crate::request_id::RequestId) middleware gave
//! it one:
//!
//! ```text
//! 127.0.0.1 - - [02/Dec/2026:16:33:25 +0000] "GET /users/7?full=1 HTTP/1.1" 200 7 "-" "curl/8.5.0" 312
//! 127.0.0.1 - - [02/Dec/2026:16:33:26 +0000] "GET /users/8 HTTP/1.1" 200 7 "-" "curl/8.5.0" 298 4bf92f3577b34da6a3ce929d0e0e4736
//! ```
//!
//! The address is the client's, [`Request::client_addr`]: behind a
//! [trusted proxy](crate::Builder::trusted_proxies), the one it forwarded
//! for. The body size is `-` for a body that is not in memory (a stream or
//! a file part, whose size the log cannot know when the handler returns).
//!
//! [`AccessLog::custom`] takes a closure for any other format, which the
//! [`Entry`] gives the pieces of: the request and response, the
//! [date](Entry::clf_time) as the Combined Log Format writes it, the
//! [route](Entry::route) that answered and the [request
//! id](Entry::request_id):
//!
//! ```
//! use pool_server::access_log::AccessLog;
//! use pool_server::Server;
//!
//! let log = AccessLog::custom(|entry| {
//!     format!(
//!         "[{}] {} {} {} {}us",
//!         entry.clf_time(),
//!         entry.request.client_addr(),
//!         entry.route().unwrap_or("-"), // `/users/{id}`, not `/users/7`
//!         entry.response.status().as_u16(),
//!         entry.duration.as_micros(),
//!     )
//! });
//! let builder = Server::builder().wrap(log);
//! # drop(builder);
//! ```
//!
//! ```no_run
//! use pool_server::{access_log::AccessLog, Response, Server};
//!
//! # fn main() -> Result<(), pool_server::Error> {
//! Server::builder()
//!     .wrap(AccessLog::combined())
//!     .handler(|_| Response::text("hi"))
//!     .build()?
//!     .run()
//! # }
//! ```

use std::fmt::{self, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::{REFERER, USER_AGENT};
use http::Version;

use super::middleware::{Middleware, Next};
use super::request_id::RequestIdValue;
use crate::request::Request;
use crate::response::Response;

/// What one request left for the log line.
#[derive(Debug)]
pub struct Entry<'a> {
    /// The request, as the handler saw it.
    pub request: &'a Request,
    /// The response the application made.
    pub response: &'a Response,
    /// How long the application took (middleware inside this one included).
    pub duration: Duration,
    /// When the request reached this middleware.
    pub time: SystemTime,
}

impl Entry<'_> {
    /// The request's id, when the
    /// [`RequestId`](crate::request_id::RequestId) middleware gave it one
    /// (wherever it sits in the chain).
    pub fn request_id(&self) -> Option<&str> {
        self.request
            .extensions()
            .get::<RequestIdValue>()
            .map(RequestIdValue::as_str)
    }

    /// [`time`](Self::time) as the Combined Log Format writes it, in UTC:
    /// `02/Dec/2026:16:33:25 +0000`.
    pub fn clf_time(&self) -> String {
        let mut out = String::with_capacity(26);
        clf_time(&mut out, self.time);
        out
    }

    /// The pattern of the route that answered (`/users/{id}`), as
    /// [`Request::matched_path`] gives it: a label with a bounded number
    /// of values, for metrics. `None` when no route matched.
    pub fn route(&self) -> Option<&str> {
        self.request.matched_path()
    }
}

type Format = dyn Fn(&Entry<'_>) -> String + Send + Sync;

/// The access-log middleware; see the [module docs](self).
pub struct AccessLog {
    format: Option<Box<Format>>,
}

impl AccessLog {
    /// Combined Log Format plus the duration in microseconds.
    pub fn combined() -> AccessLog {
        AccessLog { format: None }
    }

    /// Lines made by `format`.
    pub fn custom(format: impl Fn(&Entry<'_>) -> String + Send + Sync + 'static) -> AccessLog {
        AccessLog {
            format: Some(Box::new(format)),
        }
    }
}

impl Default for AccessLog {
    fn default() -> AccessLog {
        AccessLog::combined()
    }
}

impl Middleware for AccessLog {
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        if !log::log_enabled!(target: "pool_server::access", log::Level::Info) {
            return next.run(req);
        }
        let time = SystemTime::now();
        let started = Instant::now();
        let response = next.run(req);
        let entry = Entry {
            request: req,
            response: &response,
            duration: started.elapsed(),
            time,
        };
        let line = match &self.format {
            Some(format) => format(&entry),
            None => combined(&entry),
        };
        log::info!(target: "pool_server::access", "{line}");
        response
    }
}

impl fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessLog")
            .field("custom", &self.format.is_some())
            .finish()
    }
}

/// The Combined Log Format line, then `%D`, then the request id if there
/// is one.
pub fn combined(entry: &Entry<'_>) -> String {
    let req = entry.request;
    let mut line = String::with_capacity(128);
    let version = if req.version() == Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    let _ = write!(line, "{} - - [", req.client_addr());
    clf_time(&mut line, entry.time);
    let _ = write!(line, "] \"{} ", req.method());
    escaped(&mut line, req.path());
    if let Some(query) = req.query() {
        line.push('?');
        escaped(&mut line, query);
    }
    let _ = write!(line, " {version}\" {} ", entry.response.status().as_u16());
    let bytes = entry.response.body().len();
    if bytes == 0 && !entry.response.has_body_in_memory() {
        line.push('-');
    } else {
        let _ = write!(line, "{bytes}");
    }
    for name in [REFERER, USER_AGENT] {
        line.push_str(" \"");
        escaped(&mut line, req.header(name).unwrap_or("-"));
        line.push('"');
    }
    let _ = write!(line, " {}", entry.duration.as_micros());
    if let Some(id) = entry.request_id() {
        // Visible ASCII, but a trusted proxy's id may hold a quote.
        line.push(' ');
        escaped(&mut line, id);
    }
    line
}

/// Quotes and control bytes from the client are escaped, so a request
/// cannot forge a log line.
fn escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `10/Oct/2000:13:55:36 +0000`, in UTC.
fn clf_time(out: &mut String, time: SystemTime) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let _ = write!(
        out,
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[month as usize - 1],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    );
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};

    use http::HeaderValue;

    use super::*;

    #[test]
    fn dates_are_formatted_as_clf() {
        let cases = [
            (0, "01/Jan/1970:00:00:00 +0000"),
            (951_782_400, "29/Feb/2000:00:00:00 +0000"),
            (1_796_222_005, "02/Dec/2026:14:33:25 +0000"),
        ];
        for (secs, want) in cases {
            let mut out = String::new();
            clf_time(&mut out, UNIX_EPOCH + Duration::from_secs(secs));
            assert_eq!(out, want);
        }
    }

    /// A request for `/x` from 10.0.0.7, a proxy that forwarded it for
    /// 203.0.113.9.
    fn forwarded_request() -> Request {
        let mut request = Request::blank(SocketAddr::from(([10, 0, 0, 7], 4000)));
        request.target = "/x".into();
        request.forwarded = Some((IpAddr::from([203, 0, 113, 9]), None));
        request
    }

    #[test]
    fn the_line_names_the_client_a_proxy_forwarded_for() {
        let request = forwarded_request();
        let response = Response::text("hi");
        let entry = Entry {
            request: &request,
            response: &response,
            duration: Duration::from_micros(5),
            time: UNIX_EPOCH,
        };
        assert_eq!(
            combined(&entry),
            "203.0.113.9 - - [01/Jan/1970:00:00:00 +0000] \"GET /x HTTP/1.1\" 200 2 \"-\" \"-\" 5"
        );
        assert_eq!(entry.clf_time(), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(entry.route(), None);
        assert_eq!(entry.request_id(), None);
    }

    #[test]
    fn the_request_id_ends_the_line() {
        let mut request = forwarded_request();
        request
            .extensions_mut()
            .insert(RequestIdValue(HeaderValue::from_static("lb-\"7\"")));
        let response = Response::text("hi");
        let entry = Entry {
            request: &request,
            response: &response,
            duration: Duration::from_micros(5),
            time: UNIX_EPOCH,
        };
        assert_eq!(entry.request_id(), Some("lb-\"7\""));
        assert!(
            combined(&entry).ends_with(" \"-\" \"-\" 5 lb-\\\"7\\\""),
            "{}",
            combined(&entry)
        );
    }

    #[test]
    fn client_text_cannot_forge_lines() {
        let mut out = String::new();
        escaped(&mut out, "a\"b\nc\\");
        assert_eq!(out, "a\\\"b\\x0ac\\\\");
    }
}
