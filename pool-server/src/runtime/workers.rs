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
//! A connection whose last handler was slow is never kept: the holder
//! queues it for a follower and stays in the poll, as a dedicated loop
//! thread would, so a slow handler does not leave the sockets unwatched.
//! Only when such jobs outnumber the workers idle or on their way back
//! from a handler does the holder serve one too, handing the loop to the
//! watchdog at once.
//!
//! Followers are woken lazily: one per job a turn queued (more jobs than
//! idle workers wake them all, not each the next in a chain), or one when a
//! connection came back while its loop was held. Otherwise the loop stays
//! free while its last holder serves, which for a fast handler is a few
//! microseconds.
//!
//! The [watchdog](Crew::watch), the thread that called `run`, covers the
//! rest: a loop left free for a whole period (every worker inside slow
//! handlers) is handed to an idle follower, or held by the watchdog itself,
//! which then queues every request and answers timeouts and 503s, until a
//! worker is free again. It sleeps without a timeout while a parked holder
//! watches every loop.

use std::collections::VecDeque;
use std::io;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::event_loop::EventLoop;
use super::handoff::{ConnJob, Shared};
use crate::error::{panic_message, Error};

/// How often the watchdog looks: a loop free at two looks in a row, nobody
/// having taken it in between, goes to a follower or to the watchdog. So a
/// request waits at most two periods behind handlers not known to be slow.
const WATCH_PERIOD: Duration = Duration::from_millis(5);
/// How many looks in a row must find every loop held before the watchdog
/// sleeps until one is put back. One would do for safety; a few keep a
/// server whose loops go free and back all the time from waking it at
/// each put-back.
const QUIET_LOOKS: u32 = 4;

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
    /// Followers notified that have not woken yet.
    waking: usize,
    /// Notifications to send once the lock is released: a follower woken
    /// while the notifier still holds the lock would at once block on it
    /// again (two futex calls more per wake-up).
    notify_followers: usize,
    notify_watchdog: bool,
    /// Loops taken or put back, ever: a loop still free that was put back
    /// before the watchdog's last look has been unwatched for a period.
    moves: u64,
    /// The watchdog waits with no timeout.
    watchdog_asleep: bool,
    /// How many loops the watchdog holds.
    watchdog_holds: usize,
    /// A holder left a loop to serve while every other worker is busy: the
    /// watchdog takes it now rather than after a period.
    handed_over: bool,
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
                waking: 0,
                notify_followers: 0,
                notify_watchdog: false,
                moves: 0,
                watchdog_asleep: false,
                watchdog_holds: 0,
                handed_over: false,
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

    /// Releases the lock, then sends the notifications decided under it.
    fn unlock(&self, mut hub: MutexGuard<'_, Hub>) {
        let followers = mem::take(&mut hub.notify_followers);
        let watchdog = mem::take(&mut hub.notify_watchdog);
        drop(hub);
        self.notify(followers, watchdog);
    }

    /// Sends the notifications decided under the lock, still holding it:
    /// before this thread waits on a condition variable, which releases it.
    fn notify_now(&self, hub: &mut Hub) {
        let followers = mem::take(&mut hub.notify_followers);
        let watchdog = mem::take(&mut hub.notify_watchdog);
        self.notify(followers, watchdog);
    }

    fn notify(&self, followers: usize, watchdog: bool) {
        for _ in 0..followers {
            self.followers.notify_one();
        }
        if watchdog {
            self.watchdog.notify_one();
        }
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
                let left = hub.jobs.len();
                self.wake_followers(&mut hub, left);
                self.unlock(hub);
                job.run_caught();
                hub = self.lock();
                continue;
            }
            if let Some((token, _)) = hub.free.pop_front() {
                hub.moves += 1;
                self.unlock(hub);
                if let Some(job) = self.lead(token) {
                    job.run_caught();
                }
                hub = self.lock();
                continue;
            }
            if hub.watchdog_holds > 0 {
                // Ask for the loops back: the watchdog may be blocked in
                // a poll, and lets go after its turn.
                for mailbox in &self.shared.mailboxes {
                    mailbox.wake_if_parked();
                }
            }
            hub.idle += 1;
            self.notify_now(&mut hub);
            hub = self.followers.wait(hub).unwrap_or_else(|e| e.into_inner());
            hub.idle -= 1;
            hub.waking = hub.waking.saturating_sub(1);
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
                self.put_back(&mut hub, token);
                self.unlock(hub);
                return None;
            }
            let mut hub = self.lock();
            if !self.queue(&mut hub, &mut token) {
                // The queue overflowed: answer those 503s on the next turn
                // rather than leave them to whoever comes by.
                self.unlock(hub);
                continue;
            }
            if kept.is_none() {
                // Idle, or on their way back from a handler: the workers
                // that will take these jobs without this one.
                let busy = self.shared.metrics.busy_workers.load(Ordering::Relaxed);
                let others = hub.workers.saturating_sub(busy + 1);
                if hub.jobs.len() <= others {
                    // Only slow requests, and workers for each: this
                    // thread watches on.
                    self.unlock(hub);
                    continue;
                }
                // Not enough workers for them: this one serves too, and
                // the watchdog watches meanwhile.
                self.put_back(&mut hub, token);
                hub.handed_over = true;
                hub.notify_watchdog = true;
                self.unlock(hub);
                return None;
            }
            self.put_back(&mut hub, token);
            self.unlock(hub);
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
                let jobs = hub.jobs.len();
                self.wake_followers(hub, jobs);
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

    /// Makes `token` free again. A follower takes it at once when a
    /// connection waits in its mailbox; the watchdog looks again when it
    /// slept.
    fn put_back(&self, hub: &mut Hub, token: Box<EventLoop>) {
        let posted = self.shared.mailboxes[token.id]
            .pending
            .load(Ordering::Relaxed)
            > 0;
        hub.moves += 1;
        let since = hub.moves;
        hub.free.push_back((token, since));
        if posted {
            self.wake_follower(hub);
        }
        if hub.watchdog_asleep {
            hub.watchdog_asleep = false;
            hub.notify_watchdog = true;
        }
    }

    /// Wakes one idle worker, unless one is being woken already.
    fn wake_follower(&self, hub: &mut Hub) {
        self.wake_followers(hub, 1);
    }

    /// Wakes idle workers until `wanted` of them are being woken: one per
    /// queued job at once, rather than each woken worker waking the next,
    /// which made a burst of 64 slow requests wait for 63 wake-ups in a row.
    fn wake_followers(&self, hub: &mut Hub, wanted: usize) {
        while hub.waking < wanted.min(hub.idle) {
            hub.waking += 1;
            hub.notify_followers += 1;
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
        let mut quiet = 0;
        while !hub.stopping {
            let handed_over = mem::take(&mut hub.handed_over) && !hub.free.is_empty();
            let unwatched =
                handed_over || hub.free.front().is_some_and(|&(_, since)| since <= seen);
            if unwatched {
                if hub.idle > 0 {
                    self.wake_follower(&mut hub);
                } else if hub.arrived >= hub.workers {
                    self.unlock(hub);
                    // A loop handed over is taken at once.
                    self.hold(if handed_over { u64::MAX } else { seen });
                    hub = self.lock();
                }
            }
            quiet = if hub.free.is_empty() { quiet + 1 } else { 0 };
            seen = hub.moves;
            if hub.stopping {
                break;
            }
            self.notify_now(&mut hub);
            if quiet >= QUIET_LOOKS {
                // Every loop has a holder, for a few looks now: nothing to
                // watch until one is put back, which wakes the watchdog.
                hub.watchdog_asleep = true;
                hub = self
                    .watchdog
                    .wait_while(hub, |hub| hub.watchdog_asleep && !hub.stopping)
                    .unwrap_or_else(|e| e.into_inner());
                quiet = 0;
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
    /// timeouts and 503s themselves. It lets go as soon as a worker is
    /// idle (which writes the eventfd of a loop it holds). With several
    /// loops each poll lasts a period at most, so it takes turns with each
    /// and notices others left unwatched. `seen` is `moves` as of its last
    /// look.
    fn hold(&self, mut seen: u64) {
        let mut held: Vec<Box<EventLoop>> = Vec::new();
        let max_wait = (self.shared.mailboxes.len() > 1).then_some(WATCH_PERIOD);
        loop {
            let mut hub = self.lock();
            hub.watchdog_holds = held.len();
            let mut fit = true;
            for token in &mut held {
                fit &= self.queue(&mut hub, token);
            }
            if (fit && hub.idle > 0) || hub.stopping {
                hub.watchdog_holds = 0;
                for token in held {
                    self.put_back(&mut hub, token);
                }
                self.wake_follower(&mut hub);
                self.unlock(hub);
                return;
            }
            while hub.free.front().is_some_and(|&(_, since)| since <= seen) {
                if let Some((token, _)) = hub.free.pop_front() {
                    hub.moves += 1;
                    held.push(token);
                }
            }
            seen = hub.moves;
            hub.watchdog_holds = held.len();
            self.unlock(hub);
            if held.is_empty() {
                return;
            }
            let mut i = 0;
            while i < held.len() {
                if let Some(result) = turn(&mut held[i], false, max_wait) {
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
            mem::take(&mut hub.jobs)
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
