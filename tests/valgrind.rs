//! The server serves real requests under valgrind. rustix's own vDSO parser
//! once crashed it there (SIGSEGV in `check_elf_base` at the first `Date`
//! header, a rustix bug); rustix's `use-libc` feature fixed it. The
//! test runs this binary again under `valgrind --tool=memcheck` and fails
//! unless the inner test, a server answering a few requests, passes there
//! with no error memcheck reports.

#[allow(dead_code)]
mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pool_server::{Request, Response, StatusCode};

use support::{parse_imf_fixdate, serve, Client};

/// The test run under valgrind.
const INNER: &str = "serve_under_valgrind_inner";

/// How long the run under valgrind may take before it is killed and the
/// test fails (it takes 2-4 s).
const VALGRIND_LIMIT: Duration = Duration::from_secs(120);

/// Valgrind's exit code when memcheck reported an error.
const VALGRIND_ERROR_EXIT: i32 = 99;

fn handler(req: &Request) -> Response {
    match req.path() {
        "/missing" => Response::status_only(StatusCode::NOT_FOUND),
        path => Response::text(format!("hello {path}")),
    }
}

/// Run by [`the_server_runs_under_valgrind`] under valgrind: a server on a
/// loopback port answers three requests on one keep-alive connection and one
/// with `Connection: close`, then shuts down gracefully.
#[test]
#[ignore = "run under valgrind by the_server_runs_under_valgrind"]
fn serve_under_valgrind_inner() {
    let server = serve(|b| b.handler(handler));

    let mut client = server.client();
    for path in ["/one", "/two", "/missing"] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let response = client.request(request.as_bytes());
        assert_date(&response, &client);
        assert!(!response.connection_has("close"), "{client:?}");
        if path == "/missing" {
            assert_eq!(response.status, 404, "{client:?}");
        } else {
            assert_eq!(response.status, 200, "{client:?}");
            assert_eq!(response.text(), format!("hello {path}"), "{client:?}");
        }
    }
    drop(client);

    let mut client = server.client();
    let response = client.request(b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), "hello /bye", "{client:?}");
    assert_date(&response, &client);
    assert!(response.connection_has("close"), "{client:?}");
    client.assert_closed();

    server.shutdown().expect("the server shuts down gracefully");
}

/// The `Date` header: writing it is what crashed under valgrind.
#[track_caller]
fn assert_date(response: &support::RawResponse, client: &Client) {
    let date = response
        .header("date")
        .unwrap_or_else(|| panic!("no date header\n{client:?}"));
    assert!(
        parse_imf_fixdate(date).is_some(),
        "date {date:?} is not an IMF-fixdate\n{client:?}"
    );
}

#[test]
fn the_server_runs_under_valgrind() {
    let found = Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(found, Ok(status) if status.success()) {
        panic!(
            "valgrind is not installed (`valgrind --version`: {found:?}); install it, \
             e.g. `apt-get install valgrind`: this test checks the server runs under it"
        );
    }

    let started = Instant::now();
    // Memcheck, not `--tool=none`: the run takes 2-4 s on a 2-core machine,
    // and memcheck also fails it on an invalid read. No leak check:
    // a server's threads and std's thread-locals leave memory behind on exit
    // that is no bug of the server's.
    let mut child = Command::new("valgrind")
        .args([
            "--tool=memcheck",
            "--leak-check=no",
            &format!("--error-exitcode={VALGRIND_ERROR_EXIT}"),
            "--quiet",
        ])
        .arg(std::env::current_exe().expect("the test binary's path"))
        .args([
            "--exact",
            INNER,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("valgrind starts");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());

    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for valgrind") {
            break status;
        }
        if started.elapsed() > VALGRIND_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the run under valgrind did not end within {VALGRIND_LIMIT:?}\n{}",
                output(stdout, stderr)
            );
        }
        thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    let output = output(stdout, stderr);

    assert!(
        status.success(),
        "under valgrind the server test ended with {status}{}\n{output}",
        if status.code() == Some(VALGRIND_ERROR_EXIT) {
            " (memcheck reported errors)"
        } else {
            ""
        }
    );
    assert!(
        output.contains("test result: ok. 1 passed"),
        "the server test did not run and pass under valgrind\n{output}"
    );
    println!("the server test passed under valgrind in {elapsed:?}");
}

/// Reads `pipe` to its end on a thread; the thread returns what it read.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The child's stdout and stderr, for failure messages.
fn output(stdout: thread::JoinHandle<String>, stderr: thread::JoinHandle<String>) -> String {
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    format!("--- stdout:\n{stdout}\n--- stderr:\n{stderr}")
}
