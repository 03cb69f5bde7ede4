//! What `Server::run` leaves of SIGINT and SIGTERM: their default action once
//! it returns, and nothing at all with `handle_signals(false)`. Each case runs
//! in a child process (this test binary again), since the default action
//! ends the process that receives the signal.

#[allow(dead_code)]
mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pool_server::{Response, Server};
use signal_hook::consts::{SIGINT, SIGTERM};

use support::Client;

/// Set in the child's environment: which case it runs.
const CHILD: &str = "POOL_SERVER_SIGNALS_CHILD";

/// Runs this binary's test `name` in a child process with `CHILD=case` and
/// returns the signal that ended it, if one did.
fn child_ended_by(name: &str, case: &str) -> Option<i32> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads=1", "--nocapture"])
        .env(CHILD, case)
        .stdin(Stdio::null())
        .spawn()
        .expect("the child starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.signal();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not end in time");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Serves until one request is answered, so the loop (and its signal
/// handling) is running; returns the thread that runs the server.
fn start(handle_signals: bool) -> thread::JoinHandle<Result<(), pool_server::Error>> {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .handle_signals(handle_signals)
        .handler(|_| Response::text("ok"))
        .build()
        .unwrap();
    let addr = server.local_addr();
    let running = thread::spawn(move || server.run());
    let response = Client::connect(addr).request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200);
    running
}

#[test]
fn after_run_returns_sigint_ends_the_program() {
    match std::env::var(CHILD).as_deref() {
        Ok("after-run") => {
            let running = start(true);
            signal_hook::low_level::raise(SIGTERM).unwrap();
            running.join().unwrap().expect("run returns Ok on SIGTERM");
            signal_hook::low_level::raise(SIGINT).unwrap();
            thread::sleep(Duration::from_secs(2));
            println!("SIGINT was swallowed");
        }
        Ok(_) => {}
        Err(_) => assert_eq!(
            child_ended_by("after_run_returns_sigint_ends_the_program", "after-run"),
            Some(SIGINT)
        ),
    }
}

#[test]
fn without_signal_handling_sigterm_ends_the_program() {
    match std::env::var(CHILD).as_deref() {
        Ok("no-handling") => {
            let _running = start(false);
            signal_hook::low_level::raise(SIGTERM).unwrap();
            thread::sleep(Duration::from_secs(2));
            println!("SIGTERM was caught");
        }
        Ok(_) => {}
        Err(_) => assert_eq!(
            child_ended_by(
                "without_signal_handling_sigterm_ends_the_program",
                "no-handling"
            ),
            Some(SIGTERM)
        ),
    }
}
