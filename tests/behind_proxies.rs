//! Behind real proxies: nginx and HAProxy run in front of a server that
//! trusts only them (127.0.0.1), and curl sends requests through them, as
//! a client would. A client may send its own `Forwarded`, `X-Forwarded-For`
//! and `X-Forwarded-Proto`; the server must still name the address the
//! proxy saw and the scheme the proxy said. This is how the bug fixed in
//! c49a0a1 was found: through nginx with `proxy_add_x_forwarded_for`, a
//! client's `Forwarded: for=6.6.6.6;proto=https` made `client_addr()`
//! 6.6.6.6 and `scheme()` https.
//!
//! The client connects from 127.0.0.2, a loopback address the server does
//! not trust, so the proxy's own entry names a client the server must
//! stop at. One case connects from 127.0.0.1, the proxy's address.
//!
//! Each test fails (it is never skipped) when nginx, HAProxy or curl is
//! missing; `.ci/run` installs them.

#[allow(dead_code)]
mod support;

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pool_server::{ProxyHeader, Request, Response};

use support::{serve, Serve, IO_TIMEOUT};

/// The only address the server trusts: the proxy's.
const PROXY_IP: &str = "127.0.0.1";

/// The client's address, on loopback but not trusted.
const CLIENT_IP: &str = "127.0.0.2";

/// How long a proxy may take to listen before the test fails (it takes
/// milliseconds; nginx retries a taken port for 2.5 s before it gives up).
const STARTUP_LIMIT: Duration = Duration::from_secs(10);

/// How many ports are tried when another process takes the one reserved
/// between its release and the proxy's bind.
const PORT_ATTEMPTS: usize = 3;

/// The headers a client sends to pretend it is 6.6.6.6 (`Forwarded`) or
/// 7.7.7.7 (`X-Forwarded-For`), over https.
const SPOOFED: &[&str] = &[
    "Forwarded: for=6.6.6.6;proto=https",
    "X-Forwarded-For: 7.7.7.7",
    "X-Forwarded-Proto: https",
];

/// Answers with what the server made of the request, then the forwarding
/// fields as they arrived (several lines joined with ` | `), so a test can
/// check the premise: that the proxy passed the client's fields on.
fn who(req: &Request) -> Response {
    let field = |name: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    Response::text(format!(
        "{} {} {}\nforwarded: {}\nx-forwarded-for: {}\nx-forwarded-proto: {}\n",
        req.client_addr(),
        req.scheme(),
        req.peer_addr().ip(),
        field("forwarded"),
        field("x-forwarded-for"),
        field("x-forwarded-proto"),
    ))
}

/// What [`who`] answered.
#[derive(Debug)]
struct Seen {
    /// `client_addr scheme peer_addr`.
    who: String,
    forwarded: String,
    x_forwarded_for: String,
    x_forwarded_proto: String,
}

impl Seen {
    fn parse(body: &str) -> Seen {
        let mut lines = body.lines();
        let mut next = |prefix: &str| {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("no {prefix:?} line in {body:?}"));
            line.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?} in {body:?}"))
                .trim()
                .to_owned()
        };
        Seen {
            who: next(""),
            forwarded: next("forwarded:"),
            x_forwarded_for: next("x-forwarded-for:"),
            x_forwarded_proto: next("x-forwarded-proto:"),
        }
    }
}

/// A server that trusts only the proxy, with `header` as the field it reads.
fn server_behind_proxy(header: ProxyHeader) -> Serve {
    serve(|b| {
        b.trusted_proxies([PROXY_IP])
            .proxy_header(header)
            .handler(who)
    })
}

// --- nginx -------------------------------------------------------------

/// nginx as the documentation sets it up for a backend that wants the
/// client: the client's `X-Forwarded-For` with `$remote_addr` appended,
/// and `X-Forwarded-Proto` replaced by the scheme nginx was reached over.
/// Other client fields, `Forwarded` among them, pass through untouched.
fn nginx(server: &Serve) -> Proxy {
    let program = program("nginx", "nginx", "this test runs the server behind nginx");
    let version = version(&program, "nginx/");
    // `-e` (nginx >= 1.19.5) keeps even the log of start-up errors in the
    // temporary directory; older versions only warn that they cannot
    // write the default one.
    let early_log = version >= (1, 19, 5);
    let upstream = server.addr();
    Proxy::start("nginx", |dir, port| {
        let d = dir.display();
        let config = format!(
            "daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen {PROXY_IP}:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"
        );
        let path = dir.join("nginx.conf");
        fs::write(&path, config).expect("the nginx config is written");
        let mut command = Command::new(&program);
        command.arg("-p").arg(dir).arg("-c").arg(&path);
        if early_log {
            command.arg("-e").arg(dir.join("error.log"));
        }
        command
    })
}

#[test]
fn nginx_names_the_client_it_saw() {
    let server = server_behind_proxy(ProxyHeader::XForwardedFor);
    let proxy = nginx(&server);

    let seen = proxy.curl(CLIENT_IP, &[]);
    assert_eq!(
        seen.x_forwarded_for,
        CLIENT_IP,
        "{seen:?}\n{}",
        proxy.logs()
    );
    assert_eq!(
        seen.who,
        "127.0.0.2 http 127.0.0.1",
        "{seen:?}\n{}",
        proxy.logs()
    );

    // From the proxy's own address every hop is trusted: the leftmost,
    // the one nginx saw, is the client.
    let seen = proxy.curl(PROXY_IP, &[]);
    assert_eq!(
        seen.who,
        "127.0.0.1 http 127.0.0.1",
        "{seen:?}\n{}",
        proxy.logs()
    );
}

/// The regression: a client's own `Forwarded` reaches the server through
/// nginx, and must not choose `client_addr()` or `scheme()`.
#[test]
fn a_client_cannot_choose_its_address_or_scheme_through_nginx() {
    let server = server_behind_proxy(ProxyHeader::XForwardedFor);
    let proxy = nginx(&server);

    let seen = proxy.curl(CLIENT_IP, SPOOFED);
    // The premise: nginx passed the client's Forwarded on, appended the
    // address it saw to the client's X-Forwarded-For and replaced
    // X-Forwarded-Proto.
    assert_eq!(seen.forwarded, "for=6.6.6.6;proto=https", "{seen:?}");
    assert_eq!(seen.x_forwarded_for, "7.7.7.7, 127.0.0.2", "{seen:?}");
    assert_eq!(seen.x_forwarded_proto, "http", "{seen:?}");
    // A client writes what it likes LEFT of the proxy's own entry, so only
    // the hops right of trusted ones count: reading from the right, the
    // trusted peer (nginx) vouches for 127.0.0.2, which is not trusted and
    // so is the client. 7.7.7.7 and 6.6.6.6 are the client's word, and the
    // scheme is the one nginx said.
    assert_eq!(
        seen.who,
        "127.0.0.2 http 127.0.0.1",
        "{seen:?}\n{}",
        proxy.logs()
    );

    // The same client on the proxy's own address, 127.0.0.1: nginx's entry
    // for it is a trusted address, so the server reads one hop further left
    // and believes 7.7.7.7, as it would for a chain of trusted proxies. No
    // real client shares its proxy's address; it shows the walk goes left
    // only through trusted hops, and that Forwarded (6.6.6.6, https) is
    // still not read.
    let seen = proxy.curl(PROXY_IP, SPOOFED);
    assert_eq!(seen.x_forwarded_for, "7.7.7.7, 127.0.0.1", "{seen:?}");
    assert_eq!(
        seen.who,
        "7.7.7.7 http 127.0.0.1",
        "{seen:?}\n{}",
        proxy.logs()
    );
}

// --- HAProxy -----------------------------------------------------------

/// HAProxy in http mode with `option forwardfor`, which adds its own
/// `X-Forwarded-For` line with the address it saw (after the client's, if
/// any). It sets no `X-Forwarded-Proto` by itself, so the config sets it.
/// `backend` holds extra lines for the backend section.
fn haproxy(server: &Serve, backend: &str) -> Proxy {
    let program = haproxy_program();
    let upstream = server.addr();
    Proxy::start("haproxy", |dir, port| {
        let config = format!(
            "global
    maxconn 64

defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s

frontend front
    bind {PROXY_IP}:{port}
    option forwardfor
    http-request set-header X-Forwarded-Proto http
    default_backend app

backend app
{backend}
    server app {upstream}
"
        );
        let path = dir.join("haproxy.cfg");
        fs::write(&path, config).expect("the HAProxy config is written");
        let mut command = Command::new(&program);
        // -db: in the foreground, one process, so killing it stops it all.
        command.arg("-f").arg(&path).arg("-db");
        command
    })
}

fn haproxy_program() -> PathBuf {
    program(
        "haproxy",
        "haproxy",
        "this test runs the server behind HAProxy",
    )
}

#[test]
fn haproxy_names_the_client_it_saw() {
    let server = server_behind_proxy(ProxyHeader::XForwardedFor);
    let proxy = haproxy(&server, "");

    let seen = proxy.curl(CLIENT_IP, &[]);
    assert_eq!(
        seen.x_forwarded_for,
        CLIENT_IP,
        "{seen:?}\n{}",
        proxy.logs()
    );
    assert_eq!(
        seen.who,
        "127.0.0.2 http 127.0.0.1",
        "{seen:?}\n{}",
        proxy.logs()
    );
}

#[test]
fn a_client_cannot_choose_its_address_or_scheme_through_haproxy() {
    let server = server_behind_proxy(ProxyHeader::XForwardedFor);
    let proxy = haproxy(&server, "");

    let seen = proxy.curl(CLIENT_IP, SPOOFED);
    // The premise: HAProxy passed the client's Forwarded and X-Forwarded-For
    // on, added its own X-Forwarded-For line after it, and replaced
    // X-Forwarded-Proto.
    assert_eq!(seen.forwarded, "for=6.6.6.6;proto=https", "{seen:?}");
    assert_eq!(seen.x_forwarded_for, "7.7.7.7 | 127.0.0.2", "{seen:?}");
    assert_eq!(seen.x_forwarded_proto, "http", "{seen:?}");
    // Two lines of a field are one list: the rightmost untrusted hop is
    // the address HAProxy saw (see the nginx test on why the entries left
    // of it are the client's word).
    assert_eq!(
        seen.who,
        "127.0.0.2 http 127.0.0.1",
        "{seen:?}\n{}",
        proxy.logs()
    );
}

/// With the server reading `Forwarded`, a proxy must append to it (or
/// replace it): HAProxy's `option forwarded` (2.7 and later) appends
/// `proto=http;for=<address it saw>` to a client's valid `Forwarded`, or
/// adds its own line after an invalid one. A client's own element must not
/// win.
#[test]
fn a_clients_forwarded_does_not_win_through_haproxy_option_forwarded() {
    let server = server_behind_proxy(ProxyHeader::Forwarded);
    let has_option_forwarded = version(&haproxy_program(), "version ") >= (2, 7, 0);
    // HAProxy before 2.7 has no `option forwarded` (2.6 is still a
    // supported branch, Debian 12's). There the case runs with what such
    // a setup writes by hand: one more `Forwarded` line, after the
    // client's, with the same parameters.
    let backend = if has_option_forwarded {
        "    option forwarded proto for"
    } else {
        eprintln!(
            "HAProxy < 2.7 has no `option forwarded`: adding the proxy's \
             Forwarded element with `http-request add-header` instead"
        );
        "    http-request add-header Forwarded \"proto=http;for=%[src]\""
    };
    let proxy = haproxy(&server, backend);

    let seen = proxy.curl(CLIENT_IP, SPOOFED);
    let client_element = "for=6.6.6.6;proto=https";
    let proxy_element = "proto=http;for=127.0.0.2";
    // The premise: the client's element first, HAProxy's after it, on the
    // same line (option forwarded) or the next (add-header).
    let expected = if has_option_forwarded {
        format!("{client_element}, {proxy_element}")
    } else {
        format!("{client_element} | {proxy_element}")
    };
    assert_eq!(seen.forwarded, expected, "{seen:?}");
    assert_eq!(
        seen.who,
        "127.0.0.2 http 127.0.0.1",
        "{seen:?}\n{}",
        proxy.logs()
    );

    let seen = proxy.curl(CLIENT_IP, &[]);
    assert_eq!(seen.forwarded, proxy_element, "{seen:?}");
    assert_eq!(
        seen.who,
        "127.0.0.2 http 127.0.0.1",
        "{seen:?}\n{}",
        proxy.logs()
    );
}

// --- running a proxy ---------------------------------------------------

/// A proxy running as a child process, listening on 127.0.0.1 and a port
/// of its own, with its config and logs in a temporary directory. It is
/// killed (and reaped) when dropped, on a panic too.
struct Proxy {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    /// Removed after `drop` has stopped the child.
    dir: tempfile::TempDir,
}

impl Proxy {
    /// Runs the command `command(dir, port)` builds (having written its
    /// config into `dir`) and waits until it listens on `port`. A port
    /// taken between its reservation and the proxy's bind is retried with
    /// another.
    ///
    /// # Panics
    /// When the proxy exits or does not listen within [`STARTUP_LIMIT`].
    fn start(name: &'static str, command: impl Fn(&Path, u16) -> Command) -> Proxy {
        for attempt in 1..=PORT_ATTEMPTS {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let port = free_port();
            let mut command = command(dir.path(), port);
            let output = |file: &str| File::create(dir.path().join(file)).expect("a log file");
            command
                .stdin(Stdio::null())
                .stdout(output("stdout.log"))
                .stderr(output("stderr.log"));
            let child = command
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {name} ({command:?}): {err}"));
            let mut proxy = Proxy {
                name,
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                dir,
            };
            match proxy.wait_listening() {
                Ok(()) => return proxy,
                Err(why) => {
                    let logs = proxy.logs();
                    drop(proxy);
                    if attempt < PORT_ATTEMPTS && logs.contains("Address already in use") {
                        continue;
                    }
                    panic!("{name} did not start: {why}\n{logs}");
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Waits until the proxy's own process holds a listening socket on its
    /// port (not merely until the port answers: another process may have
    /// taken it).
    fn wait_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_LIMIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Err(format!("it exited with {status}")),
                Ok(None) => {}
                Err(err) => return Err(format!("cannot wait for it: {err}")),
            }
            if listens(self.child.id(), self.addr.port()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not listening on {} after {STARTUP_LIMIT:?}",
                    self.addr
                ));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `GET /` through the proxy with curl from local address `from`,
    /// with extra `headers`, and returns what the server saw.
    ///
    /// # Panics
    /// When curl fails or the answer is not 2xx.
    #[track_caller]
    fn curl(&self, from: &str, headers: &[&str]) -> Seen {
        let curl = program(
            "curl",
            "curl",
            "the tests send requests through proxies with it",
        );
        let mut command = Command::new(curl);
        command
            // -q (first): no ~/.curlrc; no proxy from the environment.
            .args(["-q", "--silent", "--show-error", "--fail", "--noproxy", "*"])
            .args(["--max-time", &IO_TIMEOUT.as_secs().to_string()])
            .args(["--interface", from]);
        for header in headers {
            command.args(["-H", header]);
        }
        command.arg(format!("http://{}/", self.addr));
        let output = command
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|err| panic!("cannot run curl: {err}"));
        let body = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "curl through {} failed ({}): {}\n{command:?}\nbody: {body:?}\n{}",
            self.name,
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.logs()
        );
        Seen::parse(&body)
    }

    /// The proxy's output and error log, for failure messages.
    fn logs(&self) -> String {
        let mut logs = String::new();
        for file in ["stdout.log", "stderr.log", "error.log"] {
            if let Ok(text) = fs::read_to_string(self.dir.path().join(file)) {
                if !text.trim().is_empty() {
                    logs.push_str(&format!("--- {} {file}:\n{text}", self.name));
                }
            }
        }
        logs
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// True when process `pid` holds a socket listening on TCP `port`
/// (`/proc/net/tcp` for the sockets, `/proc/<pid>/fd` for the process's).
fn listens(pid: u32, port: u16) -> bool {
    const LISTEN: &str = "0A";
    let Ok(table) = fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    let sockets: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (_, local_port) = fields.get(1)?.split_once(':')?;
            let listening =
                u16::from_str_radix(local_port, 16).ok()? == port && *fields.get(3)? == LISTEN;
            let inode = fields.get(9)?;
            listening.then(|| format!("socket:[{inode}]"))
        })
        .collect();
    if sockets.is_empty() {
        return false;
    }
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(|fd| fs::read_link(fd.ok()?.path()).ok())
        .any(|target| sockets.iter().any(|s| target.as_os_str() == s.as_str()))
}

/// The path of program `name`: in `PATH`, or in an sbin directory, which a
/// user's `PATH` may lack (nginx and haproxy live in /usr/sbin).
///
/// # Panics
/// When it is not installed, saying how to install it.
fn program(name: &str, package: &str, why: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed (not in PATH, /usr/local/sbin, /usr/sbin or /sbin); \
                 install it, e.g. `apt-get install {package}` (`.ci/run` does): {why}"
            )
        })
}

/// The version `program -v` prints after `marker` (`nginx/1.22.1`,
/// `HAProxy version 2.6.12-1+deb12u3`), as (major, minor, patch).
///
/// # Panics
/// When it prints none.
fn version(program: &Path, marker: &str) -> (u32, u32, u32) {
    let output = Command::new(program)
        .arg("-v")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", program.display()));
    // nginx prints it on stderr, HAProxy on stdout.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed = text.split_once(marker).and_then(|(_, rest)| {
        let mut numbers = rest
            .split(|c: char| !c.is_ascii_digit())
            .map(|n| n.parse::<u32>().ok());
        Some((numbers.next()??, numbers.next()??, numbers.next()??))
    });
    parsed.unwrap_or_else(|| {
        panic!(
            "no version after {marker:?} in `{} -v`: {text:?}",
            program.display()
        )
    })
}
