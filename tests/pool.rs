//! The public `ThreadPool`: every job runs, a full queue hands the job back,
//! a panicking job costs no worker, and dropping the pool drains its queue.

#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use pool_server::pool::{ExecuteError, ThreadPool};

use support::Gate;

/// How long a test waits for a job before it fails.
const WAIT: Duration = Duration::from_secs(5);

#[test]
fn every_job_runs() {
    let pool = ThreadPool::new(4).expect("pool starts");
    let ran = Arc::new(AtomicUsize::new(0));

    for _ in 0..100 {
        let ran = Arc::clone(&ran);
        pool.execute(move || {
            ran.fetch_add(1, Ordering::SeqCst);
        })
        .expect("the default queue holds 100 quick jobs");
    }
    drop(pool);

    assert_eq!(ran.load(Ordering::SeqCst), 100);
}

#[test]
fn execute_on_a_full_queue_hands_the_job_back() {
    let pool = ThreadPool::with_capacity(1, 1).expect("pool starts");
    assert_eq!(pool.size(), 1);
    let (started_tx, started) = mpsc::channel();
    let (release, gate) = mpsc::channel::<()>();
    let (done_tx, done) = mpsc::channel();

    // The only worker takes this one and blocks until released.
    pool.execute(move || {
        started_tx.send(()).unwrap();
        let _ = gate.recv_timeout(WAIT);
    })
    .expect("the first job is taken by the worker");
    started.recv_timeout(WAIT).expect("the first job started");
    // This one fills the queue.
    let queued_tx = done_tx.clone();
    pool.execute(move || queued_tx.send("queued").unwrap())
        .expect("the second job waits in the queue");
    // This one does not fit.
    let rejected = pool.execute(move || done_tx.send("handed back").unwrap());

    let job = match rejected {
        Err(ExecuteError::Full(job)) => job,
        other => panic!("expected Full, got {other:?}"),
    };
    job();
    release.send(()).unwrap();

    assert_eq!(done.recv_timeout(WAIT), Ok("handed back"));
    assert_eq!(done.recv_timeout(WAIT), Ok("queued"));
}

#[test]
fn into_job_returns_a_job_that_still_runs() {
    let pool = ThreadPool::with_capacity(1, 1).expect("pool starts");
    let (started_tx, started) = mpsc::channel();
    let (release, gate) = mpsc::channel::<()>();
    pool.execute(move || {
        started_tx.send(()).unwrap();
        let _ = gate.recv_timeout(WAIT);
    })
    .unwrap();
    started.recv_timeout(WAIT).unwrap();
    pool.execute(|| {}).unwrap();
    let (done_tx, done) = mpsc::channel();

    let err = pool
        .execute(move || done_tx.send(42).unwrap())
        .expect_err("the queue is full");
    (err.into_job())();
    release.send(()).unwrap();

    assert_eq!(done.recv_timeout(WAIT), Ok(42));
}

/// `size()` is fixed, so it cannot show a lost worker; running `size()`
/// jobs at once after the panics can.
#[test]
fn after_panicking_jobs_every_worker_still_runs_a_job() {
    let pool = ThreadPool::new(3).expect("pool starts");
    let gate = Gate::new();

    for _ in 0..2 * pool.size() {
        pool.execute(|| panic!("this job panics on purpose"))
            .unwrap();
    }
    // Queued after the panics: all of them entering the gate together means
    // every panic is over and every worker is alive.
    for _ in 0..pool.size() {
        let gate = gate.clone();
        pool.execute(move || gate.enter()).unwrap();
    }

    gate.wait_entered(pool.size());
    gate.open();
}

#[test]
fn drop_runs_every_queued_job() {
    let pool = ThreadPool::with_capacity(1, 10).expect("pool starts");
    let ran = Arc::new(AtomicUsize::new(0));
    pool.execute(|| thread::sleep(Duration::from_millis(100)))
        .unwrap();
    for _ in 0..5 {
        let ran = Arc::clone(&ran);
        pool.execute(move || {
            ran.fetch_add(1, Ordering::SeqCst);
        })
        .expect("the queue has room");
    }

    drop(pool);

    assert_eq!(ran.load(Ordering::SeqCst), 5);
}

#[test]
fn zero_workers_is_a_config_error() {
    let err = ThreadPool::new(0).expect_err("zero workers is refused");
    assert!(err.is_config(), "{err:?}");
    let err = ThreadPool::with_capacity(0, 4).expect_err("zero workers is refused");
    assert!(err.is_config(), "{err:?}");
}
