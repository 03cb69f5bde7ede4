//! Limits and timeouts, each with its documented default.
//!
//! Every limit protects the server from one kind of client: the status code
//! named on each constant is what a client that crosses it receives.
//!
//! Each limit has a [`Builder`](crate::Builder) method of the same name;
//! the defaults are the `DEFAULT_*` constants below.
//!
//! | setting (builder method) | default | what the client gets past it |
//! |---|---|---|
//! | `max_head_size` | 16 KiB | 431, or 414 when the request line alone is longer |
//! | `max_headers` | 100 (at most 1,024) | 431 |
//! | `max_body_size` | 2 MiB, after chunked decoding; per route or scope with [`Routes::max_body_size`](crate::Routes::max_body_size), [`Scope::max_body_size`](crate::routing::Scope::max_body_size) | 413 (from the head alone when it has `Content-Length`) |
//! | `body_buffer_size` | 64 KiB of one body in memory | nothing: the rest of the body is written to a temporary file |
//! | `body_memory_limit` | 64 MiB of bodies in memory, all connections together | nothing: new bodies go to a temporary file whatever their size |
//! | `temp_dir` | [`std::env::temp_dir`] | 507 when a spooled body does not fit on its disk, 500 when it cannot be written there at all |
//! | `header_read_timeout` | 10 s to send a whole head once its first byte has come (the empty lines a client may send before a request line count: at most ten are skipped, more get 400), and to begin the first one on a new connection | 408 (a connection that sent nothing is closed silently) |
//! | `body_read_timeout` | 30 s between two reads of a body | 408 |
//! | `keep_alive_timeout` | 60 s idle between requests | the connection is closed, with no response |
//! | `write_timeout` | 30 s without reading any of a pending response (each write that makes progress restarts it) | the connection is closed |
//! | `write_window` | 64 KiB of answers waiting unsent; also the window in which streamed bodies are read and sent | the next pipelined request waits until the client has read them |
//! | `max_connections` | 16,384 open connections | not accepted until one closes (it waits in the kernel's backlog) |
//! | `queue_capacity` | 1,024 requests waiting for a worker | 503 with `Retry-After`, answered by the loop |
//! | `shutdown_timeout` | 30 s for in-flight requests at shutdown | queued requests get 503; `run` returns without waiting for handlers still running, and no handler starts after it returned |
//!
//! Every timeout must be at most 365 days ([`MAX_TIMEOUT`]), and all but
//! `shutdown_timeout` longer than zero.
//! [`workers`](crate::Builder::workers) defaults to the
//! number of CPUs. [`Builder::build`](crate::Builder::build) returns an
//! error, and does not panic, for zero workers, an out-of-range limit or a
//! `temp_dir` that is not a directory.

use std::path::PathBuf;

use std::time::Duration;

use crate::error::Error;
use crate::protocol::error::RefusalBodies;

/// Largest request head (request line plus headers) in bytes: 16 KiB.
/// Past it the client gets 431, or 414 when the request line alone is longer.
pub const DEFAULT_MAX_HEAD_SIZE: usize = 16 * 1024;
/// Most header fields in one request: 100. Past it the client gets 431.
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Largest request body in bytes, after chunked decoding: 2 MiB.
/// Past it the client gets 413, answered from the head alone when it carries
/// `Content-Length`. Bodies past [`DEFAULT_BODY_BUFFER_SIZE`] go to disk, so
/// this can be set to gigabytes.
pub const DEFAULT_MAX_BODY_SIZE: usize = 2 * 1024 * 1024;
/// Largest request body held in memory: 64 KiB. A larger one is written, as
/// it arrives, to an unnamed temporary file in the `temp_dir` (by default
/// [`std::env::temp_dir`]), removed when the request is dropped.
pub const DEFAULT_BODY_BUFFER_SIZE: usize = 64 * 1024;
/// Request body bytes held in memory by all connections together: 64 MiB.
/// Past it new bodies go to disk whatever their size.
pub const DEFAULT_BODY_MEMORY_LIMIT: usize = 64 * 1024 * 1024;
/// Time a client has to send a whole request head once it has begun: 10 s.
/// Past it the client gets 408 (this is what stops slowloris). A new
/// connection that sends nothing at all is closed after the same time.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest pause between two reads of a request body: 30 s. Past it: 408.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an idle keep-alive connection is kept open: 60 s; then it is
/// closed without a response. Idle connections hold no worker, so this can be long.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest pause while a client does not read a pending response: 30 s;
/// then the connection is closed.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Most open connections: 16,384. Past it the server stops accepting until
/// one closes (new clients wait in the kernel's backlog).
pub const DEFAULT_MAX_CONNECTIONS: usize = 16 * 1024;
/// Requests waiting for a worker: 1,024. Past it the server answers 503 with
/// `Retry-After` itself, without a worker.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
/// How long a graceful shutdown waits for in-flight requests: 30 s.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Response bytes a connection may have encoded and not yet sent before the
/// worker stops answering its next pipelined request: 64 KiB. The rest wait
/// until the client has read enough, so a client that pipelines and never
/// reads pins at most this much plus one response.
pub const DEFAULT_WRITE_WINDOW: usize = 64 * 1024;
/// The longest any timeout may be: 365 days. Longer ones are a configuration
/// error rather than a deadline that overflows the clock.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Header arrays live on the stack while parsing, so the count is capped.
pub(crate) const MAX_HEADERS_CAP: usize = 1024;

/// The limits in force for one server; built and checked by the builder.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_head_size: usize,
    pub(crate) max_headers: usize,
    pub(crate) max_body_size: usize,
    pub(crate) body_buffer_size: usize,
    pub(crate) body_memory_limit: usize,
    /// Where spooled bodies go; `None` for the system's temporary directory.
    pub(crate) temp_dir: Option<PathBuf>,
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) write_window: usize,
    pub(crate) refusal_bodies: RefusalBodies,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_size: DEFAULT_MAX_HEAD_SIZE,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            body_buffer_size: DEFAULT_BODY_BUFFER_SIZE,
            body_memory_limit: DEFAULT_BODY_MEMORY_LIMIT,
            temp_dir: None,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            write_window: DEFAULT_WRITE_WINDOW,
            refusal_bodies: RefusalBodies::default(),
        }
    }
}

impl Limits {
    /// Rejects settings that would make the server useless or unsafe.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        // The smallest head worth serving: "GET / HTTP/1.1\r\n\r\n" is 18 bytes.
        if self.max_head_size < 32 {
            return Err(Error::config("max_head_size must be at least 32 bytes"));
        }
        if self.max_headers == 0 || self.max_headers > MAX_HEADERS_CAP {
            return Err(Error::config("max_headers must be between 1 and 1024"));
        }
        if self.max_connections == 0 {
            return Err(Error::config("max_connections must be at least 1"));
        }
        if self.queue_capacity == 0 {
            return Err(Error::config("queue_capacity must be at least 1"));
        }
        if let Some(dir) = &self.temp_dir {
            if !dir.is_dir() {
                return Err(Error::config(format!(
                    "temp_dir {} is not a directory; create it or choose another",
                    dir.display()
                )));
            }
        }
        if self.write_window == 0 {
            return Err(Error::config("write_window must be at least 1 byte"));
        }
        let timeouts = [
            ("header_read_timeout", self.header_read_timeout),
            ("body_read_timeout", self.body_read_timeout),
            ("keep_alive_timeout", self.keep_alive_timeout),
            ("write_timeout", self.write_timeout),
        ];
        for (name, timeout) in timeouts {
            if timeout.is_zero() {
                return Err(Error::config(format!("{name} must be longer than zero")));
            }
        }
        let all = timeouts
            .into_iter()
            .chain([("shutdown_timeout", self.shutdown_timeout)]);
        for (name, timeout) in all {
            if timeout > MAX_TIMEOUT {
                return Err(Error::config(format!(
                    "{name} must be at most 365 days (MAX_TIMEOUT)"
                )));
            }
        }
        Ok(())
    }

    /// How often the event loop looks for expired deadlines: a tenth of the
    /// shortest timeout, between 10 ms and 1 s, so a deadline fires at most
    /// 10% late without waking an idle server more than once a second.
    pub(crate) fn tick(&self) -> Duration {
        let shortest = [
            self.header_read_timeout,
            self.body_read_timeout,
            self.keep_alive_timeout,
            self.write_timeout,
        ]
        .into_iter()
        .min()
        .unwrap_or(Duration::from_secs(1));
        (shortest / 10).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}
