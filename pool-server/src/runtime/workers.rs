//! The worker threads: leader/followers over the loops and one job queue.
//!
//! The Rust Book's pool is leader/followers already: one worker waits in
//! `recv()` holding the queue's mutex while the others wait for the mutex.
//! Here what a worker with no job waits on may be a loop's poll itself.
//! Behind one mutex (the [`Hub`]) are the bounded job queue and the loops no
//! thread holds, each a token. A worker takes a job if one is queued, else
//! a free loop, whose turns it runs ([`EventLoop::turn`]) until one finds
//! complete requests. It keeps the first for itself, queues the rest, puts
//! the loop back, and serves the kept request on its own thread: the thread
//! that read a request answers it, with no wake-up in between. No handler
//! runs while its thread holds a loop.
//!
//! Followers are woken lazily, at most one at a time (Go's spinning-thread
//! rule): when a turn queued jobs, when a woken follower left more jobs
//! than it took, when the kept connection's last handler was slow (so the
//! sockets are watched meanwhile), or when a connection came back while
//! its loop was held. Otherwise the loop stays free while its last holder
//! serves, which for a fast handler is a few microseconds.
//!
//! The [watchdog](Crew::watch), the thread that called `run`, covers the
//! rest: a loop left free for a whole period (every worker inside slow
//! handlers) is handed to an idle follower, or held by the watchdog itself,
//! which then queues every request and answers timeouts and 503s, until a
//! worker is free again. It sleeps without a timeout while a parked holder
//! watches every loop.

use std::collections::VecDeque;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::event_loop::EventLoop;
use super::handoff::{ConnJob, Shared};
use crate::error::{panic_message, Error};

/// How long a loop may stay free, nobody polling it, before the watchdog
/// acts: the most a request waits behind slow handlers it did not know of.
const WATCH_PERIOD: Duration = Duration::from_millis(5);
/// How long holders must have kept every loop, parked or turning, before
/// the watchdog stops looking and sleeps until a loop is put back.
const WATCH_QUIET: Duration = Duration::from_secs(1);

/// What the workers and the watchdog share.
pub(crate) struct Crew {
    hub: Mutex<Hub>,
    /// Idle workers wait here.
    followers: Condvar,
    /// The watchdog waits here.
    watchdog: Condvar,
    shared: Arc<Shared>,
    /// Most jobs the queue holds.
    capacity: usize,
    /// The queue's length as of the last change, for holders to look at
    /// without the lock.
    queued: AtomicUsize,
}

/// What a worker looks at for work, under the one mutex.
struct Hub {
    /// Connections with complete requests, in the order their turns found them.
    jobs: VecDeque<ConnJob>,
    /// Loops no thread holds, in the order they were put back, each with
    /// the value of `moves` then.
    free: VecDeque<(Box<EventLoop>, u64)>,
    /// Loops that finished, and how each ended.
    finished: Vec<(Box<EventLoop>, Result<Instant, Error>)>,
    loops: usize,
    /// Worker threads started, and how many of them came to the hub yet:
    /// until all did, a free loop is theirs to take, not the watchdog's.
    workers: usize,
    arrived: usize,
    /// Workers waiting on `followers`.
    idle: usize,
    /// A follower was notified and has not woken yet.
    waking: bool,
    /// Loops taken or put back, ever: a loop still free that was put back
    /// before the watchdog's last look has been unwatched for a period.
    moves: u64,
    /// The watchdog waits with no timeout.
    watchdog_asleep: bool,
    /// Every loop finished: the workers exit.
    stopping: bool,
}

impl Crew {
    pub(crate) fn new(loops: Vec<EventLoop>, shared: Arc<Shared>, capacity: usize) -> Crew {
        let n = loops.len();
        Crew {
            hub: Mutex::new(Hub {
                jobs: VecDeque::with_capacity(capacity.min(1024)),
                free: loops.into_iter().map(|l| (Box::new(l), 0)).collect(),
                finished: Vec::with_capacity(n),
                loops: n,
                workers: 0,
                arrived: 0,
                idle: 0,
                waking: false,
                moves: 0,
                watchdog_asleep: false,
                stopping: false,
            }),
            followers: Condvar::new(),
            watchdog: Condvar::new(),
            shared,
            capacity,
            queued: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Hub> {
        // No user code runs under this lock, so it is never poisoned by a
        // handler; a bug elsewhere should not stop the rest.
        self.hub.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many worker threads were started, before [`watch`](Self::watch).
    pub(crate) fn started(&self, workers: usize) {
        self.lock().workers = workers;
    }

    /// A worker thread's life: jobs first, else a free loop, else wait.
    pub(crate) fn work(&self) {
        let mut hub = self.lock();
        hub.arrived += 1;
        loop {
            if hub.stopping {
                return;
            }
            if let Some(job) = hub.jobs.pop_front() {
                self.queued.store(hub.jobs.len(), Ordering::Relaxed);
                if !hub.jobs.is_empty() {
                    self.wake_follower(&mut hub);
                }
                drop(hub);
                job.run_caught();
                hub = self.lock();
                continue;
            }
            if let Some((token, _)) = hub.free.pop_front() {
                hub.moves += 1;
                drop(hub);
                if let Some(job) = self.lead(token) {
                    job.run_caught();
                }
                hub = self.lock();
                continue;
            }
            hub.idle += 1;
            hub = self.followers.wait(hub).unwrap_or_else(|e| e.into_inner());
            hub.idle -= 1;
            hub.waking = false;
        }
    }

    /// Holds `token` for turns until one finds complete requests, then puts
    /// it back and returns the request kept for this thread.
    fn lead(&self, mut token: Box<EventLoop>) -> Option<ConnJob> {
        let mut kept = None;
        loop {
            if let Some(result) = turn(&mut token, kept.is_none(), None) {
                drop(kept);
                self.retire(token, result);
                return None;
            }
            if kept.is_none() {
                kept = token.kept.take();
            }
            if kept.is_none() && token.extra.is_empty() {
                if self.queued.load(Ordering::Relaxed) == 0 {
                    // Nothing for a worker yet: watch on.
                    continue;
                }
                // Another loop's jobs wait and no follower was idle.
                let mut hub = self.lock();
                self.put_back(&mut hub, token, false);
                return None;
            }
            let mut hub = self.lock();
            if !self.queue(&mut hub, &mut token) {
                // The queue overflowed: answer those 503s on the next turn
                // rather than leave them to whoever comes by.
                continue;
            }
            let slow = kept.as_ref().is_some_and(ConnJob::slow);
            self.put_back(&mut hub, token, slow);
            return kept;
        }
    }

    /// Moves the turn's extra jobs to the queue; false when some did not
    /// fit (their connections were posted back, to be answered 503).
    fn queue(&self, hub: &mut Hub, token: &mut EventLoop) -> bool {
        let mut fit = true;
        // Idle workers take theirs at once: only what waits beyond them
        // counts against the queue's room.
        let room = self.capacity + hub.idle;
        for job in token.extra.drain(..) {
            if hub.jobs.len() < room {
                hub.jobs.push_back(job);
            } else {
                fit = false;
                drop(job);
            }
        }
        self.queued.store(hub.jobs.len(), Ordering::Relaxed);
        if !hub.jobs.is_empty() {
            if hub.idle > 0 {
                self.wake_follower(hub);
            } else {
                // No one idle, but the holders of other loops may be
                // blocked in their polls: they take jobs after their turn.
                for mailbox in &self.shared.mailboxes {
                    mailbox.wake_if_parked();
                }
            }
        }
        fit
    }

    /// Makes `token` free again. A follower takes it at once when the
    /// request kept was slow or a connection waits in its mailbox; the
    /// watchdog looks again when it slept.
    fn put_back(&self, hub: &mut Hub, token: Box<EventLoop>, slow: bool) {
        let posted = self.shared.mailboxes[token.id]
            .pending
            .load(Ordering::Relaxed)
            > 0;
        hub.moves += 1;
        let since = hub.moves;
        hub.free.push_back((token, since));
        if slow || posted {
            self.wake_follower(hub);
        }
        if hub.watchdog_asleep {
            hub.watchdog_asleep = false;
            self.watchdog.notify_one();
        }
    }

    /// Wakes one idle worker, unless one is being woken already.
    fn wake_follower(&self, hub: &mut Hub) {
        if hub.idle > 0 && !hub.waking {
            hub.waking = true;
            self.followers.notify_one();
        }
    }

    /// Records a finished loop; the last one stops the workers and the watchdog.
    fn retire(&self, mut token: Box<EventLoop>, result: Result<Instant, Error>) {
        if result.is_err() {
            // The other loops end too, at once.
            self.shared.hurry_shutdown();
        }
        // Dropped unstarted, they come back `Unserved`: answered 503 at exit.
        token.extra.clear();
        drop(token.kept.take());
        let mut hub = self.lock();
        hub.finished.push((token, result));
        hub.moves += 1;
        if hub.finished.len() == hub.loops {
            hub.stopping = true;
            self.followers.notify_all();
            self.watchdog.notify_one();
        }
    }

    /// The watchdog: runs on the thread that called `run` until every loop
    /// finished. A loop left free for a whole period goes to an idle
    /// follower, or, when every worker is busy, the watchdog holds it.
    pub(crate) fn watch(&self) {
        let mut hub = self.lock();
        let mut seen = hub.moves;
        let mut quiet = Duration::ZERO;
        while !hub.stopping {
            let unwatched = hub.free.front().is_some_and(|&(_, since)| since <= seen);
            if unwatched {
                if hub.idle > 0 {
                    self.wake_follower(&mut hub);
                } else if hub.arrived >= hub.workers {
                    drop(hub);
                    self.hold(seen);
                    hub = self.lock();
                }
            }
            if hub.moves == seen && hub.free.is_empty() {
                quiet += WATCH_PERIOD;
            } else {
                quiet = Duration::ZERO;
            }
            seen = hub.moves;
            if hub.stopping {
                break;
            }
            if quiet >= WATCH_QUIET {
                // Every loop has a holder, which has not let go for a long
                // while: nothing to watch until one is put back.
                hub.watchdog_asleep = true;
                hub = self
                    .watchdog
                    .wait_while(hub, |hub| hub.watchdog_asleep && !hub.stopping)
                    .unwrap_or_else(|e| e.into_inner());
                quiet = Duration::ZERO;
                seen = hub.moves;
            } else {
                hub = self
                    .watchdog
                    .wait_timeout(hub, WATCH_PERIOD)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }

    /// The watchdog holds the loops left unwatched while every worker is
    /// busy: turns that queue every request (it serves none) and answer
    /// timeouts and 503s themselves, each poll a period at most, so it
    /// also notices other loops left unwatched. It lets go as soon as a
    /// worker is idle. `seen` is `moves` as of its last look.
    fn hold(&self, mut seen: u64) {
        let mut held: Vec<Box<EventLoop>> = Vec::new();
        loop {
            let mut hub = self.lock();
            let mut fit = true;
            for token in &mut held {
                fit &= self.queue(&mut hub, token);
            }
            if (fit && hub.idle > 0) || hub.stopping {
                for token in held {
                    self.put_back(&mut hub, token, false);
                }
                self.wake_follower(&mut hub);
                return;
            }
            while hub.free.front().is_some_and(|&(_, since)| since <= seen) {
                if let Some((token, _)) = hub.free.pop_front() {
                    hub.moves += 1;
                    held.push(token);
                }
            }
            seen = hub.moves;
            drop(hub);
            if held.is_empty() {
                return;
            }
            let mut i = 0;
            while i < held.len() {
                if let Some(result) = turn(&mut held[i], false, Some(WATCH_PERIOD)) {
                    self.retire(held.swap_remove(i), result);
                } else {
                    i += 1;
                }
            }
        }
    }

    /// After every loop finished: the loops, the latest of their drain
    /// deadlines, and the first failure.
    pub(crate) fn finished(&self) -> (Vec<EventLoop>, Instant, Option<Error>) {
        let mut hub = self.lock();
        let mut deadline = Instant::now();
        let mut failure = None;
        let mut loops = Vec::with_capacity(hub.finished.len());
        for (token, result) in hub.finished.drain(..) {
            match result {
                Ok(at) => deadline = deadline.max(at),
                Err(err) => {
                    failure.get_or_insert(err);
                }
            }
            loops.push(*token);
        }
        (loops, deadline, failure)
    }

    /// Stops the workers (those idle exit at once, busy ones after their
    /// job) and drops the jobs still queued: their connections go back
    /// `Unserved`, for a 503.
    pub(crate) fn stop(&self) {
        let jobs = {
            let mut hub = self.lock();
            hub.stopping = true;
            self.followers.notify_all();
            self.queued.store(0, Ordering::Relaxed);
            std::mem::take(&mut hub.jobs)
        };
        drop(jobs);
    }
}

/// One turn of `token`; a panic in it (a bug) ends the server, not silently
/// the loop.
fn turn(
    token: &mut EventLoop,
    keep: bool,
    max_wait: Option<Duration>,
) -> Option<Result<Instant, Error>> {
    match panic::catch_unwind(AssertUnwindSafe(|| token.turn(keep, max_wait))) {
        Ok(ended) => ended,
        Err(panic) => {
            let message = panic_message(&panic).to_owned();
            log::error!("an event loop panicked: {message}");
            Some(Err(Error::io(
                "an event loop panicked",
                io::Error::other(message),
            )))
        }
    }
}
