//! How connections travel between a readiness loop and the workers: the
//! state they share, the job that carries a connection to a worker, and the
//! way back to the loop that owns it (a channel and a [`Waker`], which a
//! settled connection can do without).

use std::mem;
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use mio::Waker;

use super::conn::{Conn, Served, WorkerCx};
use super::metrics::Metrics;
use crate::application::Handler;
use crate::config::Limits;
use crate::protocol::forwarded::TrustedProxies;
use crate::request::BodyMemory;

/// What the loops share with workers and with the [`ServerHandle`](crate::ServerHandle).
pub(crate) struct Shared {
    pub(crate) handler: Box<Handler>,
    pub(super) proxies: TrustedProxies,
    pub(super) limits: Limits,
    /// Set once shutdown begins: responses then close their connections.
    pub(super) draining: AtomicBool,
    /// Asks the loops to begin a graceful shutdown.
    pub(super) stop: AtomicBool,
    /// Asks the loops to end the shutdown now (a second signal).
    pub(super) hurry: AtomicBool,
    /// Open connections over all loops, against `max_connections`.
    pub(super) open: AtomicUsize,
    /// Request body bytes in memory, server-wide.
    pub(super) body_memory: BodyMemory,
    pub(super) loops: Vec<Link>,
    pub(crate) metrics: Metrics,
}

/// The way to one loop from other threads.
pub(super) struct Link {
    pub(super) back: Sender<Back>,
    pub(super) waker: Waker,
    /// The loop has been woken and has not yet looked at the channel: later
    /// hand-backs need no wake-up of their own.
    pub(super) woken: AtomicBool,
    /// Connections whose body stream has news from its producers.
    pub(super) stream_news: Mutex<Vec<usize>>,
    /// Readiness events the loop has seen for connections with a worker,
    /// counted per group of connection keys ([`AWAY_GROUPS`]). A worker that
    /// hands back a settled connection compares its group's count with the
    /// value at dispatch: unchanged, the connection's own next event will
    /// wake the loop, and the hand-back needs no wake-up. One count for the
    /// whole loop made the events of every other connection cost wake-ups:
    /// with 64 connections each waiting 100 ms on a handler, 0.3 eventfd
    /// writes per request.
    pub(super) away_events: Box<[AtomicUsize]>,
}

/// How many counts of readiness events a loop keeps for connections away
/// with workers; connections whose keys share a count only wake the loop
/// for each other's events, which costs a wake-up, never a missed one.
pub(super) const AWAY_GROUPS: usize = 256;

/// A connection coming back from the pool.
pub(crate) enum Back {
    /// Its requests were answered; they come back emptied, for the loop to
    /// parse the next heads into.
    Served(Box<Conn>, Served),
    /// The pool had no room for it: answer 503.
    Unserved(Box<Conn>),
    /// Serving it failed outside the handler: close it.
    Failed(Box<Conn>),
}

impl Shared {
    pub(crate) fn request_shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake_all();
    }

    /// Ends a shutdown in progress at once, as a second signal does.
    pub(crate) fn hurry_shutdown(&self) {
        self.hurry.store(true, Ordering::Release);
        self.request_shutdown();
    }

    pub(super) fn wake_all(&self) {
        for link in &self.loops {
            if let Err(err) = link.waker.wake() {
                log::error!("cannot wake an event loop: {err}");
            }
        }
    }
}

impl Link {
    /// The count of events seen while away for connection `key`'s group.
    pub(super) fn away_events(&self, key: usize) -> &AtomicUsize {
        &self.away_events[key % AWAY_GROUPS]
    }

    /// A stream's producer queued bytes or finished: the loop writes them.
    fn wake_conn(&self, key: usize) {
        self.stream_news
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(key);
        self.wake();
    }

    fn wake(&self) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            if let Err(err) = self.waker.wake() {
                log::error!("cannot wake the event loop: {err}");
            }
        }
    }

    fn give_back(&self, back: Back) {
        // The send fails only once the loop has exited; the connection then
        // closes as it drops here.
        if self.back.send(back).is_ok() {
            self.wake();
        }
    }

    /// Hands back a connection that waits for its client, waking the loop
    /// only if it may have missed the client: when it saw an event for a
    /// connection of its group with a worker since the count was `seen`, or when a
    /// shutdown began (idle connections must close now). Otherwise the
    /// loop takes it in on its next turn, at the latest when the client's
    /// next bytes wake it; this saves a wake-up per keep-alive request.
    fn give_back_settled(
        &self,
        conn: Box<Conn>,
        served: Served,
        seen: usize,
        draining: &AtomicBool,
    ) {
        let key = conn.key;
        if self.back.send(Back::Served(conn, served)).is_err() {
            return;
        }
        // Pairs with the fences in `EventLoop::on_event` and `begin_drain`:
        // either the loop sees the connection in the channel, or we see
        // what it changed.
        fence(Ordering::SeqCst);
        if self.away_events(key).load(Ordering::Relaxed) != seen || draining.load(Ordering::Relaxed)
        {
            self.wake();
        }
    }
}

/// A connection inside a job. If the job is dropped without running (the
/// queue was full) or unwinds, `Drop` sends the connection back, so every
/// connection returns to the loop exactly once.
pub(super) struct Dispatched {
    pub(super) conn: Option<Box<Conn>>,
    pub(super) shared: Arc<Shared>,
    /// The index of the loop the connection belongs to.
    pub(super) home: usize,
    /// Its group's count of events seen while away, when it left.
    pub(super) away_events: usize,
    pub(super) serving: bool,
    /// Lent by the loop: the served requests go back to it in here.
    pub(super) served: Served,
}

impl Dispatched {
    pub(super) fn run(mut self) {
        self.serving = true;
        let metrics = &self.shared.metrics;
        metrics.queued.fetch_sub(1, Ordering::Relaxed);
        metrics.busy_workers.fetch_add(1, Ordering::Relaxed);
        if let Some(conn) = self.conn.as_mut() {
            let shared = &self.shared;
            let home = self.home;
            let waker_for = |key| -> Box<dyn Fn() + Send + Sync> {
                let shared = Arc::clone(shared);
                Box::new(move || shared.loops[home].wake_conn(key))
            };
            let cx = WorkerCx {
                handler: &*shared.handler,
                proxies: &shared.proxies,
                refusal_bodies: &shared.limits.refusal_bodies,
                draining: &shared.draining,
                write_window: shared.limits.write_window,
                waker_for: &waker_for,
            };
            conn.serve(&cx, &mut self.served);
        }
        self.shared
            .metrics
            .busy_workers
            .fetch_sub(1, Ordering::Relaxed);
        if let Some(conn) = self.conn.take() {
            let link = &self.shared.loops[self.home];
            let served = mem::take(&mut self.served);
            if conn.settled() {
                link.give_back_settled(conn, served, self.away_events, &self.shared.draining);
            } else {
                link.give_back(Back::Served(conn, served));
            }
        }
    }
}

impl Drop for Dispatched {
    fn drop(&mut self) {
        if !self.serving {
            // Counted as queued when dispatched; it never started.
            self.shared.metrics.queued.fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(conn) = self.conn.take() {
            let back = if self.serving {
                Back::Failed(conn)
            } else {
                Back::Unserved(conn)
            };
            self.shared.loops[self.home].give_back(back);
        }
    }
}
