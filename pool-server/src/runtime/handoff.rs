//! How connections travel between a readiness loop and the workers: the
//! state they share, the job that carries a connection to a worker, and the
//! loop's [`Mailbox`], the way back for connections and news.
//!
//! A loop's state is a token that worker threads take turns holding (see
//! [`workers`](super::workers)). A worker that finished with a connection
//! posts it to the mailbox; whoever holds the token next takes it in. The
//! mailbox's eventfd is written only when the holder is blocked in the poll
//! and would otherwise not look, and for a settled connection only when the
//! holder may have missed the client's bytes.

use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use mio::Waker;

use super::conn::{Conn, Served, WorkerCx};
use super::metrics::{Metrics, Stats};
use crate::application::service::Service;
use crate::config::Limits;
use crate::request::BodyMemory;

/// What the loops share with workers and with the [`ServerHandle`](crate::ServerHandle).
pub(crate) struct Shared {
    pub(crate) service: Service,
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
    /// One per loop, by loop index.
    pub(super) mailboxes: Vec<Mailbox>,
    pub(crate) metrics: Metrics,
}

/// The way into one loop from other threads: connections that come back
/// from workers, news from stream producers, and the waker of its poll.
pub(super) struct Mailbox {
    pub(super) returned: Sender<Returned>,
    /// Posted since the holder last emptied the mailbox (maybe a few too
    /// many: never too few once the post is visible).
    pub(super) pending: AtomicUsize,
    pub(super) waker: Waker,
    /// The token's holder is blocked in the poll, or about to be: a post
    /// that needs it soon writes the eventfd.
    pub(super) parked: AtomicBool,
    /// The eventfd was written since the holder last polled: later posts
    /// need no write of their own.
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

/// A connection coming back from a worker.
pub(crate) enum Returned {
    /// Its requests were answered; they come back emptied, for the loop to
    /// parse the next heads into.
    Served(Box<Conn>, Served),
    /// The queue had no room for it: answer 503.
    Unserved(Box<Conn>),
    /// Serving it failed outside the handler: close it.
    Failed(Box<Conn>),
}

impl Shared {
    /// The server's counters and the application's, per route.
    pub(crate) fn stats(&self) -> Stats {
        self.metrics.snapshot(self.service.route_stats())
    }

    pub(crate) fn request_shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake_all();
    }

    /// Ends a shutdown in progress at once, as a second signal does.
    pub(crate) fn hurry_shutdown(&self) {
        self.hurry.store(true, Ordering::Release);
        self.request_shutdown();
    }

    /// Writes every loop's eventfd, parked or not: for rare news that every
    /// holder must see at once.
    pub(super) fn wake_all(&self) {
        for mailbox in &self.mailboxes {
            if let Err(err) = mailbox.waker.wake() {
                log::error!("cannot wake an event loop: {err}");
            }
        }
    }
}

impl Mailbox {
    pub(super) fn new(returned: Sender<Returned>, waker: Waker) -> Mailbox {
        Mailbox {
            returned,
            pending: AtomicUsize::new(0),
            waker,
            parked: AtomicBool::new(false),
            woken: AtomicBool::new(false),
            stream_news: Mutex::new(Vec::new()),
            away_events: (0..AWAY_GROUPS).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

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
        self.wake_if_parked();
    }

    /// Wakes the holder if it is blocked in the poll. One that is not
    /// looks at the mailbox before it blocks (the fences pair with those in
    /// `EventLoop::poll`), and a token nobody holds is taken by a worker
    /// soon, or by the watchdog.
    pub(super) fn wake_if_parked(&self) {
        fence(Ordering::SeqCst);
        if self.parked.load(Ordering::Relaxed) && !self.woken.swap(true, Ordering::AcqRel) {
            if let Err(err) = self.waker.wake() {
                log::error!("cannot wake the event loop: {err}");
            }
        }
    }

    /// Posts a connection; false when the loop is gone (the connection then
    /// closes as it drops here).
    fn post(&self, returned: Returned) -> bool {
        if self.returned.send(returned).is_err() {
            return false;
        }
        self.pending.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn give_back(&self, returned: Returned) {
        if self.post(returned) {
            self.wake_if_parked();
        }
    }

    /// Hands back a connection that waits for its client, waking a parked
    /// holder only if it may have missed the client: when it saw an event
    /// for a connection of its group with a worker since the count was
    /// `seen`, or when a shutdown began (idle connections must close now).
    /// Otherwise the holder takes it in on its next turn, at the latest
    /// when the client's next bytes wake it or at its next timer tick (so a
    /// silent client's idle timeout may be noticed up to a tick late).
    fn give_back_settled(
        &self,
        conn: Box<Conn>,
        served: Served,
        seen: usize,
        draining: &AtomicBool,
    ) {
        let key = conn.key;
        if !self.post(Returned::Served(conn, served)) {
            return;
        }
        // Pairs with the fences in `EventLoop::on_event`, `begin_drain` and
        // `poll`: either the holder sees the connection in the mailbox, or
        // we see what it changed.
        fence(Ordering::SeqCst);
        let missed = self.away_events(key).load(Ordering::Relaxed) != seen
            || draining.load(Ordering::Relaxed);
        if missed {
            self.wake_if_parked();
        }
    }
}

/// A connection inside a job. If the job is dropped without running (the
/// queue was full) or unwinds, `Drop` sends the connection back, so every
/// connection returns to its loop exactly once.
pub(crate) struct ConnJob {
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

impl ConnJob {
    /// Serves the connection's queued requests and posts it back home.
    /// Runs on a worker, which holds no token meanwhile.
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
                Box::new(move || shared.mailboxes[home].wake_conn(key))
            };
            let cx = WorkerCx {
                service: &shared.service,
                limits: &shared.limits,
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
            let mailbox = &self.shared.mailboxes[self.home];
            let served = mem::take(&mut self.served);
            if conn.settled() {
                mailbox.give_back_settled(conn, served, self.away_events, &self.shared.draining);
            } else {
                mailbox.give_back(Returned::Served(conn, served));
            }
        }
    }

    /// [`run`](Self::run), where a panic outside the handler (a bug) closes
    /// the connection and spares the thread.
    pub(super) fn run_caught(self) {
        if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(|| self.run())) {
            log::error!(
                "serving a connection panicked: {}",
                crate::error::panic_message(&panic)
            );
        }
    }
}

impl Drop for ConnJob {
    fn drop(&mut self) {
        if !self.serving {
            // Counted as queued when dispatched; it never started.
            self.shared.metrics.queued.fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(conn) = self.conn.take() {
            let returned = if self.serving {
                Returned::Failed(conn)
            } else {
                Returned::Unserved(conn)
            };
            self.shared.mailboxes[self.home].give_back(returned);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener as StdListener;
    use std::sync::mpsc::{self, Receiver};
    use std::time::{Duration, Instant};

    use mio::net::TcpStream;
    use mio::{Events, Poll, Token};

    use super::*;

    const WAKE: Token = Token(7);

    /// A loop's side of a [`Mailbox`]: the poll its waker is registered on
    /// and the receiving end of `returned`. The holder is parked in the poll
    /// unless a test says otherwise.
    struct Fixture {
        poll: Poll,
        link: Mailbox,
        rx: Receiver<Returned>,
        draining: AtomicBool,
    }

    fn fixture() -> Fixture {
        let poll = Poll::new().unwrap();
        let waker = Waker::new(poll.registry(), WAKE).unwrap();
        let (returned, rx) = mpsc::channel::<Returned>();
        let link = Mailbox::new(returned, waker);
        link.parked.store(true, Ordering::Relaxed);
        let draining = AtomicBool::new(false);
        Fixture {
            poll,
            link,
            rx,
            draining,
        }
    }

    /// A connection over a real loopback socket; the client end may drop,
    /// nothing here reads or writes.
    fn conn(key: usize) -> Box<Conn> {
        let listener = StdListener::bind("127.0.0.1:0").unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (stream, peer) = listener.accept().unwrap();
        stream.set_nonblocking(true).unwrap();
        Box::new(Conn::new(
            TcpStream::from_std(stream),
            key,
            peer,
            Instant::now(),
        ))
    }

    impl Fixture {
        /// What a worker does for a settled connection dispatched when its
        /// group's count was `seen`.
        fn hand_back(&self, key: usize, seen: usize) {
            self.link
                .give_back_settled(conn(key), Served::new(), seen, &self.draining);
        }

        /// The waker events pending now. The eventfd is edge-triggered: a
        /// write is reported once, and a ZERO timeout never waits, so
        /// "none" is a real absence rather than a race with a sleep.
        fn wakes(&mut self, timeout: Duration) -> usize {
            let mut events = Events::with_capacity(8);
            self.poll.poll(&mut events, Some(timeout)).unwrap();
            events.iter().filter(|e| e.token() == WAKE).count()
        }

        fn no_wake(&mut self) -> bool {
            self.wakes(Duration::ZERO) == 0
        }

        fn woke(&mut self) -> bool {
            // The write happened before `give_back_settled` returned; the
            // timeout only bounds a failure.
            self.wakes(Duration::from_millis(200)) > 0
        }

        /// The key of the connection waiting in the channel: every hand-back
        /// must leave one there, woken or not.
        fn returned_key(&self) -> usize {
            match self.rx.try_recv() {
                Ok(Returned::Served(conn, _)) => conn.key,
                Ok(_) => panic!("a settled hand-back came back as something else than Served"),
                Err(err) => panic!("nothing in the channel: {err}"),
            }
        }

        fn count(&self, key: usize) {
            // What `EventLoop::on_event` does for a connection with a worker.
            self.link.away_events(key).fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn unchanged_count_not_draining_hands_back_without_waking() {
        let mut f = fixture();
        let seen = f.link.away_events(5).load(Ordering::Relaxed);
        f.hand_back(5, seen);
        assert!(f.no_wake(), "the client's own next event wakes the loop");
        assert!(!f.link.woken.load(Ordering::Relaxed));
        assert_eq!(f.returned_key(), 5);
    }

    #[test]
    fn event_in_own_group_since_dispatch_wakes() {
        let mut f = fixture();
        let seen = f.link.away_events(5).load(Ordering::Relaxed);
        // The loop saw (and will not see again) an event while it was away.
        f.count(5);
        f.hand_back(5, seen);
        assert!(f.woke());
        assert!(f.link.woken.load(Ordering::Relaxed));
        assert_eq!(f.returned_key(), 5);
    }

    #[test]
    fn event_in_another_group_only_does_not_wake() {
        let mut f = fixture();
        let seen = f.link.away_events(5).load(Ordering::Relaxed);
        f.count(6);
        f.hand_back(5, seen);
        assert!(f.no_wake(), "other groups' events must not cost a wake-up");
        assert_eq!(f.returned_key(), 5);
    }

    #[test]
    fn event_of_a_key_sharing_the_group_wakes_spuriously() {
        let mut f = fixture();
        let key = 5;
        let seen = f.link.away_events(key).load(Ordering::Relaxed);
        // Deliberate sharing: one count per `key % AWAY_GROUPS`, so another
        // connection's event costs a wake-up, never a missed one.
        f.count(key + AWAY_GROUPS);
        f.hand_back(key, seen);
        assert!(f.woke());
        assert_eq!(f.returned_key(), key);
    }

    #[test]
    fn a_holder_not_parked_is_never_woken() {
        let mut f = fixture();
        let seen = f.link.away_events(5).load(Ordering::Relaxed);
        // Mid-turn, or no holder: the mailbox is read before the next poll.
        f.link.parked.store(false, Ordering::Relaxed);
        f.count(5);
        f.hand_back(5, seen);
        assert!(f.no_wake());
        assert_eq!(f.link.pending.load(Ordering::Relaxed), 1);
        assert_eq!(f.returned_key(), 5);
    }

    #[test]
    fn draining_wakes_with_the_count_unchanged() {
        let mut f = fixture();
        let seen = f.link.away_events(5).load(Ordering::Relaxed);
        // Idle connections must close now, not at the client's next bytes.
        f.draining.store(true, Ordering::Relaxed);
        f.hand_back(5, seen);
        assert!(f.woke());
        assert_eq!(f.returned_key(), 5);
    }

    #[test]
    fn wake_is_coalesced_until_the_loop_clears_woken() {
        let mut f = fixture();
        let seen = f.link.away_events(5).load(Ordering::Relaxed);
        f.count(5);
        f.hand_back(5, seen);
        assert!(f.woke());
        // Not cleared: the loop has not looked at the channel yet, so a
        // second wake-worthy hand-back must not write the eventfd again.
        f.hand_back(5, seen);
        assert!(f.no_wake());
        // Control: once the loop clears `woken` (as `serve` does after
        // polling), the same hand-back writes again and is seen, so the
        // silence above is the coalescing, not the edge trigger.
        f.link.woken.store(false, Ordering::Relaxed);
        f.hand_back(5, seen);
        assert!(f.woke());
        for _ in 0..3 {
            assert_eq!(f.returned_key(), 5);
        }
        assert!(f.rx.try_recv().is_err());
    }

    #[test]
    fn loop_gone_returns_without_waking_or_panicking() {
        let Fixture {
            mut poll,
            link,
            rx,
            draining,
        } = fixture();
        drop(rx);
        // Wake-worthy twice over: would wake if the send had succeeded.
        draining.store(true, Ordering::Relaxed);
        link.away_events(5).fetch_add(1, Ordering::Relaxed);
        link.give_back_settled(conn(5), Served::new(), 0, &draining);
        let mut events = Events::with_capacity(8);
        poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
        assert!(events.is_empty());
        assert!(!link.woken.load(Ordering::Relaxed));
    }
}
