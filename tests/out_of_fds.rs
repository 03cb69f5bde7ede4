//! Out of file descriptors and at `max_connections`: the server
//! degrades (new clients wait in the backlog, accept errors are logged) but
//! does not spin or die, and it recovers once descriptors are free.
//!
//! The server runs in a child process (this test binary again) whose
//! descriptor limit is lowered on command, so the clients, here in the
//! parent, are not limited with it, and the child's CPU time can be read
//! from `/proc/PID/stat` while it is at the limit.

#[allow(dead_code)]
mod support;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use pool_server::{Response, Server};
use rlimit::Resource;

use support::{Client, IO_TIMEOUT};

/// Set in the child's environment: it runs the server.
const CHILD: &str = "POOL_SERVER_FDS_CHILD";
const MAX_CONNECTIONS: usize = 4;
/// CPU the child may use over [`WINDOW`] at a limit: a loop spinning on a
/// readable listener burns a whole core, about 100 ticks a second.
const MAX_TICKS: u64 = 30;
const WINDOW: Duration = Duration::from_secs(1);

/// Writes the server's log to stderr, where the parent reads it.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        eprintln!("{} {}", record.level(), record.args());
    }
    fn flush(&self) {}
}

/// The child: serves, lowers or restores its descriptor limit on the
/// commands `lower` and `restore` read from stdin, stops at EOF.
fn child() {
    log::set_boxed_logger(Box::new(StderrLog)).unwrap();
    log::set_max_level(log::LevelFilter::Warn);
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .max_connections(MAX_CONNECTIONS)
        .handler(|req| Response::text(req.path().to_owned()))
        .build()
        .unwrap()
        .spawn()
        .unwrap();
    println!("PORT={}", server.local_addr().port());
    let (soft, hard) = Resource::NOFILE.get().unwrap();
    for line in std::io::stdin().lines() {
        match line.unwrap().as_str() {
            "lower" => {
                // Room for two connections' descriptors, no more: the two
                // lowest free ones, which need not be next to each other.
                let two = [
                    File::open("/dev/null").unwrap(),
                    File::open("/dev/null").unwrap(),
                ];
                let top = two[1].as_raw_fd() as u64;
                drop(two);
                Resource::NOFILE.set(top + 1, hard).unwrap();
                println!("LOWERED");
            }
            "restore" => {
                Resource::NOFILE.set(soft, hard).unwrap();
                println!("RESTORED");
            }
            other => panic!("unknown command {other:?}"),
        }
    }
    server.shutdown().unwrap();
}

/// The parent's end of the child.
struct ChildServer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    log: Arc<Mutex<String>>,
    addr: SocketAddr,
}

impl ChildServer {
    fn start() -> ChildServer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "out_of_descriptors_and_connections_the_server_waits_without_spinning_then_recovers",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the child starts");
        let (tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut server = ChildServer {
            stdin: child.stdin.take(),
            child,
            lines,
            log,
            addr: "127.0.0.1:0".parse().unwrap(),
        };
        let port = server.expect_line("PORT=");
        server.addr.set_port(port.parse().unwrap());
        server
    }

    /// Waits for the child's line with `prefix`; what follows it.
    fn expect_line(&self, prefix: &str) -> String {
        let deadline = Instant::now() + IO_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {prefix:?} from the child; log:\n{}", self.log()));
            // The harness may have begun the line with the test's name.
            if let Some((_, rest)) = line.split_once(prefix) {
                return rest.to_owned();
            }
        }
    }

    fn command(&mut self, command: &str, answer: &str) {
        writeln!(self.stdin.as_mut().unwrap(), "{command}").unwrap();
        self.expect_line(answer);
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// How many times the child logged a failed accept.
    fn accept_errors(&self) -> usize {
        self.log().matches("accept failed").count()
    }

    /// The child's user plus system CPU time, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // After the command name, which ends with ')': utime is the 12th field, stime the 13th.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    /// Asserts that `waiting` gets no answer for [`WINDOW`] and that the
    /// child uses little CPU meanwhile.
    #[track_caller]
    fn assert_waits_quietly(&self, waiting: &mut Client, what: &str) {
        let before = self.cpu_ticks();
        waiting.assert_open(WINDOW);
        let used = self.cpu_ticks() - before;
        assert!(
            used < MAX_TICKS,
            "{what}: {used} clock ticks of CPU in {WINDOW:?}; log:\n{}",
            self.log()
        );
    }

    /// Stops the child (EOF on its stdin) and checks it ended well.
    fn stop(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the child did not stop; log:\n{}", self.log());
            }
            thread::sleep(Duration::from_millis(10));
        };
        assert!(status.success(), "child: {status}; log:\n{}", self.log());
    }
}

#[track_caller]
fn assert_served(client: &mut Client, path: &str) {
    let response = client.response();
    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), path);
}

fn get(client: &mut Client, path: &str, close: bool) {
    let close = if close { "Connection: close\r\n" } else { "" };
    client.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{close}\r\n").as_bytes());
}

#[test]
fn out_of_descriptors_and_connections_the_server_waits_without_spinning_then_recovers() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let mut server = ChildServer::start();

    // Out of descriptors: two connections fit, the next accepts fail.
    server.command("lower", "LOWERED");
    let mut held: Vec<Client> = (0..2)
        .map(|i| {
            let mut client = Client::connect(server.addr);
            let path = format!("/held{i}");
            get(&mut client, &path, false);
            assert_served(&mut client, &path);
            client
        })
        .collect();
    let mut waiting: Vec<Client> = (0..3)
        .map(|i| {
            let mut client = Client::connect(server.addr);
            get(&mut client, &format!("/waiting{i}"), true);
            client
        })
        .collect();
    let deadline = Instant::now() + IO_TIMEOUT;
    while server.accept_errors() == 0 {
        assert!(Instant::now() < deadline, "no accept error logged");
        thread::sleep(Duration::from_millis(10));
    }
    let errors_before = server.accept_errors();
    server.assert_waits_quietly(&mut waiting[0], "out of descriptors");
    // It retries now and then (every 100 ms), it does not log in a loop.
    let logged = server.accept_errors() - errors_before;
    assert!(logged < 50, "{logged} accept errors logged in {WINDOW:?}");

    // Descriptors freed: the waiting clients are served, one after another,
    // though the limit still stands.
    held.clear();
    for (i, client) in waiting.iter_mut().enumerate() {
        assert_served(client, &format!("/waiting{i}"));
        client.assert_closed();
    }

    // At max_connections: the next client waits in the backlog, no accept
    // is even tried, and a closed connection lets it in.
    server.command("restore", "RESTORED");
    let errors_before = server.accept_errors();
    let mut held: Vec<Client> = (0..MAX_CONNECTIONS)
        .map(|i| {
            let mut client = Client::connect(server.addr);
            let path = format!("/full{i}");
            get(&mut client, &path, false);
            assert_served(&mut client, &path);
            client
        })
        .collect();
    let mut next = Client::connect(server.addr);
    get(&mut next, "/next", false);
    server.assert_waits_quietly(&mut next, "at max_connections");
    held.pop();
    assert_served(&mut next, "/next");
    assert_eq!(server.accept_errors(), errors_before, "{}", server.log());

    drop(held);
    drop(next);
    server.stop();
}
