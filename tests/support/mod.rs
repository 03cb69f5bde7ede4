//! Shared fixtures for the integration tests: a server on a free loopback
//! port that shuts down on drop, raw client sockets with timeouts, and a
//! small HTTP/1.1 response reader that keeps a transcript for failure messages.
//!
//! Every blocking step is bounded: socket reads and writes time out after
//! [`IO_TIMEOUT`] and shutting a server down fails the test after
//! [`SHUTDOWN_LIMIT`], so a server bug shows up as a failure, never a hang.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pool_server::{Builder, Request, Response, Server, ServerHandle, Stats};

/// How long one read or write on a raw socket may block before the test fails.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How long stopping a test server may take before the test fails.
pub(crate) const SHUTDOWN_LIMIT: Duration = Duration::from_secs(5);

/// A server running in the background on 127.0.0.1 and a free port; it shuts
/// down when dropped.
pub(crate) struct Serve {
    handle: Option<ServerHandle>,
    addr: SocketAddr,
}

/// Starts a server on `127.0.0.1:0` with two workers and a 2 s shutdown
/// timeout; `configure` can change any setting, including those.
pub(crate) fn serve(configure: impl FnOnce(Builder) -> Builder) -> Serve {
    let builder = Server::builder()
        .bind("127.0.0.1:0")
        .workers(2)
        .shutdown_timeout(Duration::from_secs(2));
    let handle = configure(builder)
        .build()
        .expect("the test server builds")
        .spawn()
        .expect("the test server spawns");
    Serve {
        addr: handle.local_addr(),
        handle: Some(handle),
    }
}

/// A server whose handler answers every request with its own path as text.
pub(crate) fn serve_echo_path() -> Serve {
    serve(|b| b.handler(echo_path))
}

/// A handler that answers with the request path as the body.
pub(crate) fn echo_path(req: &Request) -> Response {
    Response::text(req.path().to_owned())
}

/// A handler that answers with the request body, unchanged.
pub(crate) fn echo_body(req: &Request) -> Response {
    Response::bytes(req.body().to_vec())
}

impl Serve {
    /// The address the server listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:port` followed by `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A new raw connection to the server.
    pub(crate) fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Shuts down now and returns what [`ServerHandle::shutdown`] returned.
    ///
    /// # Panics
    /// When shutdown takes longer than [`SHUTDOWN_LIMIT`].
    pub(crate) fn shutdown(mut self) -> Result<(), pool_server::Error> {
        let handle = self.handle.take().expect("the server is running");
        within(SHUTDOWN_LIMIT, move || handle.shutdown())
            .unwrap_or_else(|| panic!("ServerHandle::shutdown took longer than {SHUTDOWN_LIMIT:?}"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        let outcome = within(SHUTDOWN_LIMIT, move || handle.shutdown());
        if thread::panicking() {
            return;
        }
        match outcome {
            Some(Ok(())) => {}
            Some(Err(err)) => panic!("the server stopped with an error: {err}"),
            None => panic!("the server did not shut down within {SHUTDOWN_LIMIT:?}"),
        }
    }
}

/// Runs `f` on its own thread and waits at most `limit` for it; `None` when
/// it did not finish in time (the thread is then left running).
pub(crate) fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

/// How long a handler may wait at a closed [`Gate`] before it goes on anyway,
/// so a failed test never leaves a worker blocked for good.
pub(crate) const GATE_LIMIT: Duration = Duration::from_secs(30);

/// Holds handlers (or pool jobs) inside their call until the test lets them
/// go, and tells the test when they have started: a test waits on this
/// instead of sleeping until the server has read a request.
#[derive(Clone, Default)]
pub(crate) struct Gate {
    inner: Arc<GateInner>,
}

#[derive(Default)]
struct GateInner {
    /// How many calls have entered, and whether the gate is open.
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Gate {
    pub(crate) fn new() -> Gate {
        Gate::default()
    }

    /// Called from a handler: counts it as started, then blocks until
    /// [`open`](Self::open) (at most [`GATE_LIMIT`]).
    pub(crate) fn enter(&self) {
        let mut state = self.inner.state.lock().unwrap();
        state.0 += 1;
        self.inner.changed.notify_all();
        let _ = self
            .inner
            .changed
            .wait_timeout_while(state, GATE_LIMIT, |(_, open)| !*open)
            .unwrap();
    }

    /// Waits until `n` calls have entered.
    ///
    /// # Panics
    /// When fewer than `n` have entered after [`IO_TIMEOUT`]; the gate is
    /// opened first, so a failed test does not hold the others.
    #[track_caller]
    pub(crate) fn wait_entered(&self, n: usize) {
        let state = self.inner.state.lock().unwrap();
        let (state, _) = self
            .inner
            .changed
            .wait_timeout_while(state, IO_TIMEOUT, |(entered, _)| *entered < n)
            .unwrap();
        let entered = state.0;
        drop(state);
        if entered < n {
            self.open();
            panic!("only {entered} of {n} calls entered the gate within {IO_TIMEOUT:?}");
        }
    }

    /// How many calls have entered so far.
    pub(crate) fn entered(&self) -> usize {
        self.inner.state.lock().unwrap().0
    }

    /// Lets every call through, those waiting and those to come.
    pub(crate) fn open(&self) {
        self.inner.state.lock().unwrap().1 = true;
        self.inner.changed.notify_all();
    }
}

/// A ureq agent with [`IO_TIMEOUT`] on every request.
pub(crate) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(IO_TIMEOUT).build()
}

/// A raw TCP connection to `addr` with [`IO_TIMEOUT`] on reads and writes
/// and Nagle's algorithm off.
pub(crate) fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .unwrap_or_else(|err| panic!("cannot connect to {addr}: {err}"));
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// A response as read off the wire.
#[derive(Clone)]
pub(crate) struct RawResponse {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub(crate) version: String,
    pub(crate) status: u16,
    pub(crate) reason: String,
    /// In order received, names lowercased, values trimmed.
    pub(crate) headers: Vec<(String, String)>,
    /// The body after any chunked decoding.
    pub(crate) body: Vec<u8>,
    /// The status line and headers exactly as received, blank line included.
    pub(crate) head: Vec<u8>,
}

impl RawResponse {
    /// The first value of header `name` (lowercase).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (lowercase).
    pub(crate) fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// True when the `Connection` header lists `token` (case-insensitive).
    pub(crate) fn connection_has(&self, token: &str) -> bool {
        self.header_all("connection")
            .iter()
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// The body as text (lossy).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RawResponse {{ head: \"{}\", body ({} bytes): \"{}\" }}",
            escape(&self.head, 2000),
            self.body.len(),
            escape(&self.body, 300)
        )
    }
}

/// A raw client connection that reads responses one at a time, even when
/// several arrive in one segment, and records every byte sent and received.
pub(crate) struct Client {
    stream: TcpStream,
    /// Received but not yet consumed by a parsed response.
    buf: Vec<u8>,
    sent: Vec<u8>,
    received: Vec<u8>,
}

impl Client {
    /// Connects to `addr` (see [`connect`]).
    pub(crate) fn connect(addr: SocketAddr) -> Client {
        Client::new(connect(addr))
    }

    /// Wraps an already connected stream.
    pub(crate) fn new(stream: TcpStream) -> Client {
        Client {
            stream,
            buf: Vec::new(),
            sent: Vec::new(),
            received: Vec::new(),
        }
    }

    /// The underlying socket.
    pub(crate) fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Ends the connection with a reset (see [`reset`]).
    pub(crate) fn reset(self) {
        reset(self.stream);
    }

    /// Writes all of `bytes`.
    ///
    /// # Panics
    /// When the write fails or times out.
    pub(crate) fn send(&mut self, bytes: &[u8]) {
        if let Err(err) = self.try_send(bytes) {
            panic!("write failed: {err}\n{}", self.transcript());
        }
    }

    /// Writes all of `bytes`, returning the error instead of panicking.
    pub(crate) fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sent.extend_from_slice(bytes);
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Sends `request` and reads one response.
    pub(crate) fn request(&mut self, request: &[u8]) -> RawResponse {
        self.send(request);
        self.response()
    }

    /// Reads one response.
    ///
    /// # Panics
    /// When the connection closes or times out first, or the bytes are not a response.
    pub(crate) fn response(&mut self) -> RawResponse {
        self.try_response(false)
            .unwrap_or_else(|err| panic!("no complete response: {err}\n{}", self.transcript()))
    }

    /// Reads the response to a HEAD request: its head only, whatever the
    /// framing headers say.
    pub(crate) fn head_response(&mut self) -> RawResponse {
        self.try_response(true)
            .unwrap_or_else(|err| panic!("no complete response: {err}\n{}", self.transcript()))
    }

    /// Reads one response, returning the error instead of panicking.
    pub(crate) fn try_response(&mut self, to_head: bool) -> io::Result<RawResponse> {
        let head = self.read_through(b"\r\n\r\n")?;
        let text = std::str::from_utf8(&head).map_err(|_| invalid("response head is not UTF-8"))?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default().to_owned();
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| version.starts_with("HTTP/"))
            .ok_or_else(|| invalid(format!("bad status line {status_line:?}")))?;
        let reason = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| invalid(format!("bad header line {line:?}")))?;
            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
        let mut response = RawResponse {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            head,
        };
        if to_head || (100..200).contains(&status) || status == 204 || status == 304 {
            return Ok(response);
        }
        let chunked = response
            .header("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        response.body = if chunked {
            self.read_chunked()?
        } else if let Some(len) = response.header("content-length") {
            let len = len
                .parse::<usize>()
                .map_err(|_| invalid(format!("bad content-length {len:?}")))?;
            self.read_exact_n(len)?
        } else {
            self.read_to_eof()?
        };
        Ok(response)
    }

    fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.read_through(b"\r\n")?;
            let line = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| invalid(format!("bad chunk size line {line:?}")))?;
            if size == 0 {
                // Trailer fields up to the blank line.
                while self.read_through(b"\r\n")? != b"\r\n" {}
                return Ok(body);
            }
            body.extend(self.read_exact_n(size)?);
            if self.read_exact_n(2)? != b"\r\n" {
                return Err(invalid("chunk data not followed by CRLF"));
            }
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at EOF.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        self.received.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Takes bytes from the buffer up to and including `delimiter`.
    fn read_through(&mut self, delimiter: &[u8]) -> io::Result<Vec<u8>> {
        let mut searched = 0;
        loop {
            if let Some(i) = find(&self.buf[searched..], delimiter) {
                let end = searched + i + delimiter.len();
                return Ok(self.buf.drain(..end).collect());
            }
            searched = self.buf.len().saturating_sub(delimiter.len() - 1);
            if self.fill()? == 0 {
                return Err(eof(self.buf.len()));
            }
        }
    }

    fn read_exact_n(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(eof(self.buf.len()));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn read_to_eof(&mut self) -> io::Result<Vec<u8>> {
        while self.fill()? > 0 {}
        Ok(std::mem::take(&mut self.buf))
    }

    /// Reads everything until the server closes the connection.
    ///
    /// # Panics
    /// When the connection stays open for [`IO_TIMEOUT`] or fails.
    pub(crate) fn read_until_eof(&mut self) -> Vec<u8> {
        self.read_to_eof()
            .unwrap_or_else(|err| panic!("no EOF: {err}\n{}", self.transcript()))
    }

    /// Asserts that the server closes the connection without sending
    /// anything more (a reset counts as closed).
    pub(crate) fn assert_closed(&mut self) {
        if !self.buf.is_empty() {
            panic!(
                "expected EOF but {} more bytes arrived\n{}",
                self.buf.len(),
                self.transcript()
            );
        }
        match self.fill() {
            Ok(0) => {}
            Ok(n) => panic!(
                "expected EOF but {n} more bytes arrived\n{}",
                self.transcript()
            ),
            Err(err) if is_reset(&err) => {}
            Err(err) => panic!("expected EOF, got {err}\n{}", self.transcript()),
        }
    }

    /// Asserts that the connection is still open and quiet for `wait`:
    /// no EOF and no bytes.
    pub(crate) fn assert_open(&mut self, wait: Duration) {
        assert!(
            self.buf.is_empty(),
            "unexpected bytes pending\n{}",
            self.transcript()
        );
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let outcome = self.fill();
        self.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        match outcome {
            Err(err) if is_timeout(&err) => {}
            Ok(0) => panic!(
                "expected the connection to stay open, got EOF\n{}",
                self.transcript()
            ),
            Ok(n) => panic!("expected silence, got {n} bytes\n{}", self.transcript()),
            Err(err) => panic!(
                "expected the connection to stay open, got {err}\n{}",
                self.transcript()
            ),
        }
    }

    /// Everything sent and received so far, escaped, for failure messages.
    pub(crate) fn transcript(&self) -> String {
        format!(
            "--- sent ({} bytes):\n\"{}\"\n--- received ({} bytes):\n\"{}\"",
            self.sent.len(),
            escape(&self.sent, 3000),
            self.received.len(),
            escape(&self.received, 3000)
        )
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.transcript())
    }
}

/// True for the errors a read returns when its timeout expires.
pub(crate) fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// True for the errors a read returns when the peer reset the connection.
pub(crate) fn is_reset(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn eof(pending: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("connection closed by the server ({pending} unparsed bytes pending)"),
    )
}

/// `bytes` as an escaped string, cut after `max` bytes.
pub(crate) fn escape(bytes: &[u8], max: usize) -> String {
    let shown = &bytes[..bytes.len().min(max)];
    let mut out: String = shown.escape_ascii().to_string();
    if bytes.len() > max {
        out.push_str(&format!("…(+{} bytes)", bytes.len() - max));
    }
    out
}

/// Seconds since the Unix epoch for an IMF-fixdate (`Sun, 06 Nov 1994
/// 08:49:37 GMT`, RFC 9110 §5.6.7); `None` unless `s` is exactly that
/// format with a weekday that matches the date.
pub(crate) fn parse_imf_fixdate(s: &str) -> Option<u64> {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = s.as_bytes();
    if b.len() != 29
        || &s[3..5] != ", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &s[25..] != " GMT"
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = s.get(range)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let weekday = DAYS.iter().position(|d| *d == &s[..3])? as i64;
    let day = num(5..7)?;
    let month = MONTHS.iter().position(|m| *m == &s[8..11])? as i64 + 1;
    let year = num(12..16)?;
    let (hour, minute, second) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // 1970-01-01 was a Thursday (index 4 from Sunday).
    if (days + 4).rem_euclid(7) != weekday {
        return None;
    }
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

impl Serve {
    /// The server's metrics now.
    pub(crate) fn stats(&self) -> Stats {
        self.handle.as_ref().expect("the server is running").stats()
    }

    /// Waits until the metrics satisfy `done` and returns them.
    ///
    /// # Panics
    /// When they do not within [`IO_TIMEOUT`].
    #[track_caller]
    pub(crate) fn wait_stats(&self, what: &str, done: impl Fn(&Stats) -> bool) -> Stats {
        wait_stats(|| self.stats(), what, done)
    }
}

/// Polls `stats` until `done` holds, at most [`IO_TIMEOUT`].
#[track_caller]
pub(crate) fn wait_stats(
    stats: impl Fn() -> Stats,
    what: &str,
    done: impl Fn(&Stats) -> bool,
) -> Stats {
    let deadline = std::time::Instant::now() + IO_TIMEOUT;
    loop {
        let now = stats();
        if done(&now) {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {IO_TIMEOUT:?}; last stats {now:?}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Open connections, whatever their state, as the metrics count them.
pub(crate) fn open_connections(stats: &Stats) -> usize {
    stats.connections_idle
        + stats.connections_reading
        + stats.connections_dispatched
        + stats.connections_writing
        + stats.connections_streaming
}

/// Closes `stream` with a reset (`SO_LINGER` 0) instead of a FIN: what a
/// crashed client or a middlebox dropping the connection looks like.
pub(crate) fn reset(stream: TcpStream) {
    let socket = socket2::Socket::from(stream);
    socket
        .set_linger(Some(Duration::ZERO))
        .expect("SO_LINGER can be set");
    drop(socket);
}

/// Descriptors of this process open on files in `dir`: spooled bodies are
/// unnamed, but their descriptors still point into the directory.
pub(crate) fn open_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.starts_with(dir))
        .count()
}
