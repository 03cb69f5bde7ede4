//! A fixed pool of worker threads fed by one bounded queue: the Rust Book's
//! design, made bounded, panic-proof and drained on shutdown.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use crate::config::DEFAULT_QUEUE_CAPACITY;
use crate::error::{panic_message, Error};

/// A unit of work for the pool.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of worker threads that run [`Job`]s from one bounded queue.
///
/// Workers share the queue's receiver behind a mutex, as in the Rust Book;
/// beyond it, the queue is bounded ([`execute`](Self::execute) fails instead of
/// blocking), a panicking job is caught and logged without losing its worker,
/// and dropping the pool runs every queued job, then joins every worker.
///
/// ```
/// use std::sync::mpsc;
/// use pool_server::pool::ThreadPool;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = ThreadPool::new(2)?;
/// let (tx, rx) = mpsc::channel();
/// for i in 0..4 {
///     let tx = tx.clone();
///     pool.execute(move || tx.send(i * i).unwrap())?;
/// }
/// drop(pool); // waits for the queued jobs
/// let mut squares: Vec<i32> = rx.try_iter().collect();
/// squares.sort();
/// assert_eq!(squares, [0, 1, 4, 9]);
/// # Ok(())
/// # }
/// ```
pub struct ThreadPool {
    workers: Vec<Worker>,
    sender: Option<SyncSender<Job>>,
    receiver: Arc<Mutex<Receiver<Job>>>,
}

struct Worker {
    id: usize,
    thread: JoinHandle<()>,
}

/// Why [`ThreadPool::execute`] did not queue a job; the job is handed back.
pub enum ExecuteError {
    /// The queue is at capacity: every worker is busy and the backlog is full.
    Full(Job),
    /// The pool is shutting down and takes no new jobs.
    ShutDown(Job),
}

impl ThreadPool {
    /// Starts `size` workers with a queue of
    /// [`DEFAULT_QUEUE_CAPACITY`] jobs.
    ///
    /// # Errors
    /// When `size` is zero or a thread cannot be spawned.
    pub fn new(size: usize) -> Result<ThreadPool, Error> {
        ThreadPool::with_capacity(size, DEFAULT_QUEUE_CAPACITY)
    }

    /// Starts `size` workers with a queue that holds at most `capacity`
    /// jobs that no worker has taken yet.
    ///
    /// # Errors
    /// When `size` or `capacity` is zero or a thread cannot be spawned.
    pub fn with_capacity(size: usize, capacity: usize) -> Result<ThreadPool, Error> {
        if size == 0 {
            return Err(Error::config("the pool needs at least one worker"));
        }
        if capacity == 0 {
            return Err(Error::config("the queue needs room for at least one job"));
        }
        let (sender, receiver) = mpsc::sync_channel::<Job>(capacity);
        let receiver = Arc::new(Mutex::new(receiver));
        let mut pool = ThreadPool {
            workers: Vec::with_capacity(size),
            sender: Some(sender),
            receiver,
        };
        for id in 0..size {
            // On a spawn error `pool` drops here, which stops the workers already started.
            let worker = Worker::spawn(id, Arc::clone(&pool.receiver))?;
            pool.workers.push(worker);
        }
        Ok(pool)
    }

    /// Queues `job` for the next free worker without blocking.
    ///
    /// # Errors
    /// [`ExecuteError::Full`] when the queue is at capacity, handing the job
    /// back so the caller can shed load (a server answers 503).
    pub fn execute<F>(&self, job: F) -> Result<(), ExecuteError>
    where
        F: FnOnce() + Send + 'static,
    {
        let job: Job = Box::new(job);
        match &self.sender {
            None => Err(ExecuteError::ShutDown(job)),
            Some(sender) => submit(sender, job),
        }
    }

    /// The number of worker threads.
    pub fn size(&self) -> usize {
        self.workers.len()
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        drop(self.sender.take());
        for worker in self.workers.drain(..) {
            if worker.thread.join().is_err() {
                log::error!("worker {} ended by a panic outside any job", worker.id);
            }
        }
    }
}

impl Worker {
    fn spawn(id: usize, receiver: Arc<Mutex<Receiver<Job>>>) -> Result<Worker, Error> {
        let thread = thread::Builder::new()
            .name(format!("pool-worker-{id}"))
            .spawn(move || {
                loop {
                    // A `let`, so the lock is released before the job runs
                    // (a `while let` would hold it for the whole job).
                    // Jobs run outside the lock, so it cannot be poisoned by them.
                    let job = {
                        let receiver = receiver.lock().unwrap_or_else(|e| e.into_inner());
                        match receiver.recv() {
                            Ok(job) => job,
                            _ => break,
                        }
                    };
                    if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(job)) {
                        log::error!("worker {id}: a job panicked: {}", panic_message(&panic));
                    }
                }
            })
            .map_err(|err| Error::io("cannot spawn a worker thread", err))?;
        Ok(Worker { id, thread })
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers.len())
            .field("accepting", &self.sender.is_some())
            .finish()
    }
}

fn submit(sender: &SyncSender<Job>, job: Job) -> Result<(), ExecuteError> {
    sender.try_send(job).map_err(|err| match err {
        TrySendError::Full(job) => ExecuteError::Full(job),
        TrySendError::Disconnected(job) => ExecuteError::ShutDown(job),
    })
}

impl ExecuteError {
    /// Takes back the job that was not queued.
    pub fn into_job(self) -> Job {
        match self {
            ExecuteError::Full(job) | ExecuteError::ShutDown(job) => job,
        }
    }
}

impl fmt::Debug for ExecuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExecuteError::Full(_) => "Full(..)",
            ExecuteError::ShutDown(_) => "ShutDown(..)",
        })
    }
}

impl fmt::Display for ExecuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExecuteError::Full(_) => "the job queue is full",
            ExecuteError::ShutDown(_) => "the pool is shutting down",
        })
    }
}

impl std::error::Error for ExecuteError {}
