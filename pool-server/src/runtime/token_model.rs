//! Exhaustive models of the loop token's wake-up protocol (see
//! [`workers`](super::workers) and [`Mailbox`](super::handoff::Mailbox)).
//!
//! Each model is a few threads whose steps are single reads or writes of
//! shared state, or whole critical sections of the hub's mutex. Every
//! interleaving is explored; in every state where no thread can move,
//! nothing may be left behind. The real atomics are ordered by `SeqCst`
//! fences exactly where a model lets one thread's write be followed by its
//! read of what another wrote, so sequentially consistent interleavings
//! are the right model for them.
//!
//! Each model is also run without each of its rules, and must then find
//! the lost wake-up that rule prevents: the models are not vacuous.

use std::collections::HashSet;
use std::hash::Hash;

/// A state of a model, and where each of its threads can go from it.
trait Model: Clone + Eq + Hash {
    const THREADS: usize;
    /// The states thread `t` reaches in one step; none when it is blocked
    /// or done.
    fn step(&self, t: usize) -> Vec<Self>;
    /// In a state where no thread can move: what was lost, if anything.
    fn lost(&self) -> Option<&'static str>;
}

/// Explores every interleaving from `init`. Returns what the first stuck
/// state lost, if any, and how many states there were.
fn explore<M: Model>(init: M) -> (Option<&'static str>, usize) {
    let mut seen = HashSet::new();
    let mut stack = vec![init];
    while let Some(state) = stack.pop() {
        if !seen.insert(state.clone()) {
            continue;
        }
        let mut stuck = true;
        for t in 0..M::THREADS {
            for next in state.step(t) {
                stuck = false;
                stack.push(next);
            }
        }
        if stuck {
            if let Some(lost) = state.lost() {
                return (Some(lost), seen.len());
            }
        }
    }
    (None, seen.len())
}

/// A worker posts a served connection to its loop's mailbox, then looks
/// for work at the hub, while the loop's holder either parks in the poll
/// (its turn found nothing) or puts the loop back to serve the request it
/// kept, forever. The connection must be taken in by a holder.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Posting {
    /// Rules: the holder looks at `pending` after marking itself parked;
    /// putting the loop back wakes an idle follower when a post waits.
    recheck: bool,
    wake_for_posts: bool,
    holder: u8,
    worker: u8,
    parked: bool,
    woken: bool,
    eventfd: bool,
    pending: u8,
    /// Connections in the mailbox's channel, and taken in by a holder.
    channel: u8,
    taken: u8,
    /// The loop is in the hub; the worker waits there, and was notified.
    free: bool,
    idle: bool,
    notified: bool,
}

const DONE: u8 = 99;

impl Posting {
    fn new(recheck: bool, wake_for_posts: bool) -> Posting {
        Posting {
            recheck,
            wake_for_posts,
            holder: 0,
            worker: 0,
            parked: false,
            woken: false,
            eventfd: false,
            pending: 0,
            channel: 0,
            taken: 0,
            free: false,
            idle: false,
            notified: false,
        }
    }

    /// `EventLoop::take_returned`, second half: everything in the channel.
    fn drain(&mut self) {
        self.taken += self.channel;
        self.channel = 0;
    }

    fn holder_step(&self) -> Vec<Posting> {
        let mut s = self.clone();
        match self.holder {
            // The turn found nothing (park) or a request (put back).
            0 => {
                let mut release = s.clone();
                s.holder = 1;
                release.holder = 10;
                return vec![s, release];
            }
            // `EventLoop::poll`: parked, fence, look at the mailbox.
            1 => {
                s.parked = true;
                s.holder = 2;
            }
            2 => s.holder = if s.recheck && s.pending > 0 { 4 } else { 3 },
            // Blocked in the poll until the eventfd is written.
            3 if s.eventfd => {
                s.eventfd = false;
                s.holder = 4;
            }
            3 => return Vec::new(),
            4 => {
                s.parked = false;
                s.woken = false;
                s.holder = 5;
            }
            5 => {
                s.pending = 0;
                s.holder = 6;
            }
            // Still holding: it parks again unless the connection is in.
            6 => {
                s.drain();
                s.holder = if s.taken > 0 { DONE } else { 1 };
            }
            // The turn's `take_returned`, then `Crew::put_back` under the lock.
            10 => {
                s.pending = 0;
                s.holder = 11;
            }
            11 => {
                s.drain();
                s.holder = 12;
            }
            12 => {
                s.free = true;
                if s.wake_for_posts && s.pending > 0 && s.idle {
                    s.notified = true;
                }
                // Serving the kept request, which never returns.
                s.holder = DONE;
            }
            _ => return Vec::new(),
        }
        vec![s]
    }

    fn worker_step(&self) -> Vec<Posting> {
        let mut s = self.clone();
        match self.worker {
            // `Mailbox::post`, then `wake_if_parked` after its fence.
            0 => {
                s.channel += 1;
                s.worker = 1;
            }
            1 => {
                s.pending += 1;
                s.worker = 2;
            }
            2 => {
                if s.parked && !s.woken {
                    s.woken = true;
                    s.eventfd = true;
                }
                s.worker = 3;
            }
            // `Crew::work` under the lock: a free loop, else wait.
            3 | 4 => {
                if s.worker == 4 {
                    if !s.notified {
                        return Vec::new();
                    }
                    s.notified = false;
                }
                if s.free {
                    s.free = false;
                    s.idle = false;
                    s.worker = 5;
                } else {
                    s.idle = true;
                    s.worker = 4;
                }
            }
            // Holding the loop: its turn takes in the mailbox.
            5 => {
                s.drain();
                s.worker = DONE;
            }
            _ => return Vec::new(),
        }
        vec![s]
    }
}

impl Model for Posting {
    const THREADS: usize = 2;

    fn step(&self, t: usize) -> Vec<Posting> {
        match t {
            0 => self.holder_step(),
            _ => self.worker_step(),
        }
    }

    fn lost(&self) -> Option<&'static str> {
        (self.taken == 0).then_some("a returned connection sits in the mailbox, unwatched")
    }
}

/// The holder puts the loop back to serve a request whose handler never
/// returns; a follower waits at the hub; the watchdog ticks, or sleeps
/// without a timeout because the loop was held for long. The loop must end
/// up watched again.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Watching {
    /// Rule: putting the loop back wakes a watchdog that sleeps.
    wake_watchdog: bool,
    holder: u8,
    follower: u8,
    watchdog: u8,
    free: bool,
    /// The watchdog saw the loop free at its last tick.
    saw_free: bool,
    /// The follower waits at the hub, and was notified.
    idle: bool,
    notified: bool,
    asleep: bool,
    watched: bool,
}

impl Watching {
    fn new(wake_watchdog: bool, asleep: bool) -> Watching {
        Watching {
            wake_watchdog,
            holder: 0,
            follower: 0,
            watchdog: if asleep { 1 } else { 0 },
            free: false,
            saw_free: false,
            idle: true,
            notified: false,
            asleep,
            watched: false,
        }
    }
}

impl Model for Watching {
    const THREADS: usize = 3;

    fn step(&self, t: usize) -> Vec<Watching> {
        let mut s = self.clone();
        match (t, self.holder, self.follower, self.watchdog) {
            // `Crew::put_back`, then into the handler for good.
            (0, 0, _, _) => {
                s.free = true;
                if s.wake_watchdog && s.asleep {
                    s.asleep = false;
                }
                s.holder = DONE;
            }
            // `Crew::work`: woken, it takes the free loop.
            (1, _, 0, _) if s.notified => {
                s.notified = false;
                s.idle = false;
                if s.free {
                    s.free = false;
                    s.watched = true;
                    s.follower = DONE;
                } else {
                    s.idle = true;
                }
            }
            // `Crew::watch`: a tick (its timeout always comes).
            (2, _, _, 0) => {
                if s.free && s.saw_free {
                    if s.idle {
                        s.notified = true;
                    } else {
                        s.free = false;
                        s.watched = true;
                        s.watchdog = DONE;
                    }
                }
                s.saw_free = s.free;
                if !s.free && s.watchdog == 0 {
                    // Held for long: it may go to sleep.
                    let mut sleeps = s.clone();
                    sleeps.asleep = true;
                    sleeps.watchdog = 1;
                    return vec![s, sleeps];
                }
            }
            // Asleep until a put-back wakes it.
            (2, _, _, 1) if !s.asleep => {
                s.watchdog = 0;
                s.saw_free = false;
            }
            _ => return Vec::new(),
        }
        vec![s]
    }

    fn lost(&self) -> Option<&'static str> {
        (self.free && !self.watched).then_some("a free loop nobody will poll")
    }
}

#[test]
fn a_post_is_never_lost_between_a_worker_and_the_holder() {
    let (lost, states) = explore(Posting::new(true, true));
    assert_eq!(lost, None);
    assert!(states > 50, "{states} states: the model explores little");
}

#[test]
fn without_the_recheck_after_parking_a_post_is_lost() {
    assert!(explore(Posting::new(false, true)).0.is_some());
}

#[test]
fn without_waking_a_follower_for_posts_a_post_is_lost() {
    assert!(explore(Posting::new(true, false)).0.is_some());
}

#[test]
fn a_free_loop_is_always_watched_again() {
    for asleep in [false, true] {
        let (lost, states) = explore(Watching::new(true, asleep));
        assert_eq!(lost, None, "watchdog asleep at first: {asleep}");
        assert!(states > 5, "{states} states: the model explores little");
    }
}

#[test]
fn without_waking_the_watchdog_a_free_loop_is_lost() {
    assert!(explore(Watching::new(false, true)).0.is_some());
}
