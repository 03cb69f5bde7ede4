//! The readiness loop: a listener and every connection it accepted that no
//! worker holds. It accepts, reads, frames requests, enforces deadlines and
//! sheds load; it never runs handler code and never blocks but in its poll.
//!
//! A loop has no thread of its own. It is a token that worker threads take
//! turns holding ([`workers`](super::workers)): the holder runs one
//! [`turn`](EventLoop::turn) at a time, keeps the first connection with a
//! complete request to serve itself once it has put the token back, and
//! leaves the others in [`EventLoop::extra`] for the job queue. A served
//! connection comes back through the loop's [`Mailbox`]. Its slot stays
//! reserved meanwhile, so readiness events that arrive while it is away
//! are remembered, not lost.

use std::io;
use std::mem;
use std::net::TcpListener as StdListener;
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use super::conn::{Conn, LoopCx, Next, Recycler, LOOP_SPARES};
use super::handoff::{ConnJob, Mailbox, Returned, Shared};
use super::metrics::{ConnState, Metrics};
use super::signals::ShutdownSignals;
use crate::application::service::Service;
use crate::config::Limits;
use crate::error::Error;
use crate::request::BodyMemory;

const LISTENER: Token = Token(usize::MAX - 1);
const WAKER: Token = Token(usize::MAX - 2);
const SIGNALS: Token = Token(usize::MAX - 3);
/// One read takes at most this much; larger requests take several reads.
const SCRATCH_SIZE: usize = 64 * 1024;
/// How long to stop accepting after the OS refused a new socket (EMFILE and
/// the like), instead of spinning on a listener that stays readable.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What one accept brought.
enum Accepted {
    /// A connection, now in its slot.
    One,
    /// None, but the backlog may hold more.
    Skipped,
    /// None to take now.
    Nothing,
}

/// One of the [`Conn`] methods that move a connection along.
type Step = fn(&mut Conn, &mut LoopCx<'_>) -> Next;

/// Where a connection is.
enum Slot {
    /// In the loop. Boxed: a hand-off to a worker then moves a pointer.
    InLoop(Box<Conn>),
    /// With a worker; `event` records readiness seen meanwhile, and
    /// `read_closed` whether it said the client closed its side.
    WithWorker { event: bool, read_closed: bool },
}

pub(crate) struct EventLoop {
    /// Its index in [`Shared::mailboxes`].
    pub(crate) id: usize,
    poll: Poll,
    events: Events,
    listener: Option<TcpListener>,
    conns: Slab<Slot>,
    shared: Arc<Shared>,
    returned: Receiver<Returned>,
    /// SIGINT and SIGTERM, on the first loop of a server that handles them.
    signals: Option<ShutdownSignals>,
    /// Keep the first connection this turn dispatches in `kept`, for the
    /// holder to serve, unless its last handler was slow; every other one
    /// goes to `extra`.
    keep: bool,
    pub(crate) kept: Option<ConnJob>,
    /// Connections this turn dispatched beyond `kept`, for the job queue.
    pub(crate) extra: Vec<ConnJob>,
    next_tick: Instant,
    scratch: Box<[u8]>,
    spares: Recycler,
    /// The listener is registered with the poller.
    accepting: bool,
    /// Accepting was paused after an OS error, until then.
    accept_resume: Option<Instant>,
    /// Shutdown has begun and must end by then.
    drain_deadline: Option<Instant>,
    /// Reused list of connections whose deadline passed.
    expired: Vec<usize>,
    /// Connections that yielded with more to send, driven again next turn.
    again: Vec<usize>,
    /// Reused list of connections with stream news.
    news: Vec<usize>,
}

impl EventLoop {
    /// One loop per listener, for `workers` threads to hold.
    pub(crate) fn new_set(
        listeners: Vec<StdListener>,
        workers: usize,
        limits: Limits,
        service: Service,
    ) -> Result<(Vec<EventLoop>, Arc<Shared>), Error> {
        let mut parts = Vec::with_capacity(listeners.len());
        let mut mailboxes = Vec::with_capacity(listeners.len());
        for (id, listener) in listeners.into_iter().enumerate() {
            listener
                .set_nonblocking(true)
                .map_err(|err| Error::io("cannot make the listener non-blocking", err))?;
            let mut listener = TcpListener::from_std(listener);
            let poll = Poll::new().map_err(|err| Error::io("cannot create the poller", err))?;
            let waker = Waker::new(poll.registry(), WAKER)
                .map_err(|err| Error::io("cannot create the waker", err))?;
            poll.registry()
                .register(&mut listener, LISTENER, Interest::READABLE)
                .map_err(|err| Error::io("cannot poll the listener", err))?;
            let (tx, returned) = mpsc::channel();
            mailboxes.push(Mailbox::new(tx, waker));
            parts.push((id, poll, listener, returned));
        }
        let metrics = Metrics::new(workers, limits.queue_capacity, mailboxes.len());
        let shared = Arc::new(Shared {
            service,
            body_memory: BodyMemory::new(limits.body_memory_limit),
            limits,
            draining: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            hurry: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            mailboxes,
            metrics,
        });
        let now = Instant::now();
        let loops = parts
            .into_iter()
            .map(|(id, poll, listener, returned)| EventLoop {
                id,
                poll,
                events: Events::with_capacity(1024),
                listener: Some(listener),
                conns: Slab::new(),
                shared: Arc::clone(&shared),
                returned,
                signals: None,
                keep: false,
                kept: None,
                extra: Vec::new(),
                next_tick: now + shared.limits.tick(),
                scratch: vec![0; SCRATCH_SIZE].into_boxed_slice(),
                spares: Recycler::new(LOOP_SPARES),
                accepting: true,
                accept_resume: None,
                drain_deadline: None,
                expired: Vec::new(),
                again: Vec::new(),
                news: Vec::new(),
            })
            .collect();
        Ok((loops, shared))
    }

    /// Has this loop's poll report SIGINT and SIGTERM.
    pub(crate) fn handle_signals(&mut self) -> Result<(), Error> {
        self.signals = Some(ShutdownSignals::register(self.poll.registry(), SIGNALS)?);
        Ok(())
    }

    /// One turn: poll (blocking only when nothing waits: no connection
    /// came back, none has news, none yielded), then accept, read, frame,
    /// take in returned connections, check deadlines and shed load.
    /// Connections with complete requests end in `kept` (the first, when
    /// `keep`) and `extra`. Returns the drain deadline once shutdown has
    /// drained every connection or passed that deadline, or a failure of
    /// the poll; the loop is then finished. The poll waits `max_wait` at
    /// most.
    pub(crate) fn turn(
        &mut self,
        keep: bool,
        max_wait: Option<Duration>,
    ) -> Option<Result<Instant, Error>> {
        self.keep = keep;
        if self.shared.mailboxes[self.id]
            .pending
            .load(Ordering::Relaxed)
            > 0
        {
            // Before the poll, so that it need not return at once for
            // them: a worker that served a connection usually posts it and
            // then takes the loop itself.
            self.take_returned(Instant::now());
            // One of them may have closed, making room under
            // `max_connections`: listen again before blocking.
            self.resume_if_paused();
        }
        if let Err(err) = self.poll(max_wait) {
            self.shared.hurry_shutdown();
            return Some(Err(Error::io("polling failed", err)));
        }
        let now = Instant::now();
        let mut events = mem::replace(&mut self.events, Events::with_capacity(0));
        for event in events.iter() {
            match event.token() {
                LISTENER => self.accept(now),
                WAKER => {}
                SIGNALS => {
                    if self.signals.as_mut().is_some_and(ShutdownSignals::arrived) {
                        self.on_signal();
                    }
                }
                Token(key) => self.on_event(key, event, now),
            }
        }
        events.clear();
        self.events = events;
        self.take_returned(now);
        self.on_stream_news(now);
        for key in mem::take(&mut self.again) {
            self.drive(key, now, Conn::advance);
        }
        if self.shared.stop.load(Ordering::Acquire) && self.drain_deadline.is_none() {
            self.begin_drain(now);
        }
        if now >= self.next_tick {
            self.expire(now);
            self.next_tick = now + self.shared.limits.tick();
        }
        if self.accept_resume.is_some_and(|at| now >= at) {
            self.accept_resume = None;
        }
        // Also after another loop freed a slot under `max_connections`.
        self.resume_if_paused();
        let deadline = self.drain_deadline?;
        if self.shared.hurry.load(Ordering::Acquire) {
            return Some(Ok(now));
        }
        (self.conns.is_empty() || now >= deadline).then_some(Ok(deadline))
    }

    /// Waits for readiness, as long as the timers allow when nothing else
    /// waits. Marked parked meanwhile, so posts to the mailbox wake it.
    fn poll(&mut self, max_wait: Option<Duration>) -> io::Result<()> {
        let mailbox = &self.shared.mailboxes[self.id];
        let found = self.kept.is_some() || !self.extra.is_empty();
        let mut timeout = match (self.timeout(), max_wait) {
            _ if found => Some(Duration::ZERO),
            (Some(t), Some(max)) => Some(t.min(max)),
            (t, max) => t.or(max),
        };
        if timeout != Some(Duration::ZERO) {
            mailbox.parked.store(true, Ordering::Relaxed);
            // Pairs with `Mailbox::wake_if_parked`: either a poster sees
            // `parked`, or we see its post here and do not block.
            fence(Ordering::SeqCst);
            let news = !mailbox
                .stream_news
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty();
            if news || mailbox.pending.load(Ordering::Relaxed) > 0 {
                timeout = Some(Duration::ZERO);
            }
        }
        let polled = loop {
            match self.poll.poll(&mut self.events, timeout) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                polled => break polled,
            }
        };
        mailbox.parked.store(false, Ordering::Relaxed);
        // Before reading the mailbox, so a later post wakes us again.
        mailbox.woken.store(false, Ordering::Release);
        fence(Ordering::SeqCst);
        polled
    }

    /// Takes in the connections workers posted back.
    fn take_returned(&mut self, now: Instant) {
        self.shared.mailboxes[self.id]
            .pending
            .store(0, Ordering::Relaxed);
        while let Ok(returned) = self.returned.try_recv() {
            self.on_returned(returned, now);
        }
    }

    /// How long the next poll may sleep: forever when nothing has a deadline.
    fn timeout(&self) -> Option<Duration> {
        // A drain whose last connection closed (the mailbox is read before
        // the poll) ends in this turn.
        let drained = self.drain_deadline.is_some() && self.conns.is_empty();
        if !self.again.is_empty() || drained {
            return Some(Duration::ZERO);
        }
        let mut wake = None::<Instant>;
        if !self.conns.is_empty() {
            wake = Some(self.next_tick);
        }
        for at in [self.accept_resume, self.drain_deadline]
            .into_iter()
            .flatten()
        {
            wake = Some(wake.map_or(at, |w| w.min(at)));
        }
        wake.map(|at| at.saturating_duration_since(Instant::now()))
    }

    fn accept(&mut self, now: Instant) {
        while self.accepting {
            // The slot is taken before the accept: loops accept at the same
            // time, and a check followed by an increment would let two of
            // them pass the limit together.
            let max = self.shared.limits.max_connections;
            let reserved =
                self.shared
                    .open
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                        (n < max).then_some(n + 1)
                    });
            if reserved.is_err() {
                // Past the limit new clients wait in the kernel's backlog.
                self.pause_accepting();
                return;
            }
            if !self.fill_slot(now) {
                return;
            }
        }
    }

    /// Accepts a connection into a slot already counted in `open`, or gives
    /// the slot back; false when the backlog has none to take now.
    fn fill_slot(&mut self, now: Instant) -> bool {
        match self.accept_one(now) {
            Accepted::One => true,
            Accepted::Skipped => {
                self.release_slot();
                true
            }
            Accepted::Nothing => {
                self.release_slot();
                false
            }
        }
    }

    /// Takes one connection from the backlog.
    fn accept_one(&mut self, now: Instant) -> Accepted {
        let Some(listener) = self.listener.as_ref() else {
            return Accepted::Nothing;
        };
        match listener.accept() {
            Ok((mut stream, peer_addr)) => {
                if let Err(err) = stream.set_nodelay(true) {
                    log::debug!("cannot set TCP_NODELAY for {peer_addr}: {err}");
                }
                let entry = self.conns.vacant_entry();
                let key = entry.key();
                let interest = Interest::READABLE | Interest::WRITABLE;
                match self
                    .poll
                    .registry()
                    .register(&mut stream, Token(key), interest)
                {
                    Ok(()) => {
                        entry.insert(Slot::InLoop(Box::new(Conn::new(
                            stream, key, peer_addr, now,
                        ))));
                        Accepted::One
                    }
                    Err(err) => {
                        log::warn!("cannot poll the connection from {peer_addr}: {err}");
                        Accepted::Skipped
                    }
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Accepted::Nothing,
            Err(err) if is_transient_accept_error(&err) => Accepted::Skipped,
            Err(err) => {
                log::warn!("accept failed: {err}; pausing accepts for {ACCEPT_BACKOFF:?}");
                self.pause_accepting();
                self.accept_resume = Some(now + ACCEPT_BACKOFF);
                Accepted::Nothing
            }
        }
    }

    /// Gives a slot back to `max_connections`.
    fn release_slot(&self) {
        let was = self.shared.open.fetch_sub(1, Ordering::Relaxed);
        if was == self.shared.limits.max_connections && self.shared.mailboxes.len() > 1 {
            // Loops that paused at the limit look again at the end of their turn.
            self.shared.wake_all();
        }
    }

    fn pause_accepting(&mut self) {
        if let Some(listener) = self.listener.as_mut() {
            if self.accepting {
                let _ = self.poll.registry().deregister(listener);
                self.accepting = false;
            }
        }
    }

    fn resume_if_paused(&mut self) {
        if !self.accepting && self.drain_deadline.is_none() {
            self.resume_accepting();
        }
    }

    fn resume_accepting(&mut self) {
        let room = self.shared.open.load(Ordering::Relaxed) < self.shared.limits.max_connections;
        if self.accepting || self.accept_resume.is_some() || !room {
            return;
        }
        let Some(listener) = self.listener.as_mut() else {
            return;
        };
        match self
            .poll
            .registry()
            .register(listener, LISTENER, Interest::READABLE)
        {
            // Registering reports connections already waiting in the backlog.
            Ok(()) => self.accepting = true,
            Err(err) => {
                log::warn!("cannot poll the listener again: {err}; retrying in {ACCEPT_BACKOFF:?}");
                self.accept_resume = Some(Instant::now() + ACCEPT_BACKOFF);
            }
        }
    }

    fn on_event(&mut self, key: usize, event: &Event, now: Instant) {
        match self.conns.get_mut(key) {
            Some(Slot::InLoop(conn)) => {
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    conn.maybe_readable = true;
                }
                conn.read_closed |= event.is_read_closed();
                self.drive(key, now, Conn::advance);
            }
            Some(Slot::WithWorker {
                event: seen,
                read_closed,
            }) => {
                *seen = true;
                *read_closed |= event.is_read_closed();
                // The channel is read after the events: see `give_back_settled`.
                self.shared.mailboxes[self.id]
                    .away_events(key)
                    .fetch_add(1, Ordering::Relaxed);
                fence(Ordering::SeqCst);
            }
            // An event for a connection closed earlier in this batch.
            None => {}
        }
    }

    /// Drives the connections whose stream producers sent or finished; one
    /// that is with a worker looks again when it comes back.
    fn on_stream_news(&mut self, now: Instant) {
        {
            let mut news = self.shared.mailboxes[self.id]
                .stream_news
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            mem::swap(&mut self.news, &mut *news);
        }
        for i in 0..self.news.len() {
            let key = self.news[i];
            match self.conns.get_mut(key) {
                Some(Slot::InLoop(_)) => self.drive(key, now, Conn::advance),
                Some(Slot::WithWorker { event, .. }) => *event = true,
                None => {}
            }
        }
        self.news.clear();
    }

    fn on_returned(&mut self, returned: Returned, now: Instant) {
        let (mut conn, step): (Box<Conn>, Step) = match returned {
            Returned::Served(conn, served) => {
                self.spares.keep(served);
                (conn, Conn::advance)
            }
            Returned::Unserved(conn) => (conn, Conn::shed),
            Returned::Failed(conn) => (conn, |_: &mut Conn, _: &mut LoopCx<'_>| Next::Close),
        };
        let key = conn.key;
        let Some(slot) = self.conns.get_mut(key) else {
            log::error!("connection {key} came back to an empty slot");
            return;
        };
        let Slot::WithWorker { event, read_closed } = *slot else {
            log::error!("connection {key} came back twice");
            return;
        };
        // Readiness may have come and gone while the worker held it.
        conn.maybe_readable |= event;
        conn.read_closed |= read_closed;
        *slot = Slot::InLoop(conn);
        self.drive(key, now, step);
    }

    /// Applies `step` to a connection at home and carries out its verdict.
    fn drive(&mut self, key: usize, now: Instant, step: Step) {
        let Some(Slot::InLoop(conn)) = self.conns.get_mut(key) else {
            return;
        };
        let mut cx = LoopCx {
            service: &self.shared.service,
            limits: &self.shared.limits,
            memory: &self.shared.body_memory,
            scratch: &mut self.scratch,
            spares: &mut self.spares,
            now,
            draining: self.drain_deadline.is_some(),
        };
        let next = step(conn, &mut cx);
        self.shared.metrics.take(&mut conn.counts);
        match next {
            Next::Wait => {}
            Next::Again => self.again.push(key),
            Next::Close => self.close(key),
            Next::Dispatch => self.dispatch(key),
        }
    }

    fn dispatch(&mut self, key: usize) {
        let Slot::InLoop(conn) = mem::replace(
            &mut self.conns[key],
            Slot::WithWorker {
                event: false,
                read_closed: false,
            },
        ) else {
            unreachable!("only connections at home are dispatched");
        };
        // A connection whose last handler was slow goes to a follower: the
        // holder stays in the poll instead of leaving it for a follower to
        // take over, which made a burst of slow requests a chain of
        // wake-ups, each waiting for the one before.
        let keep = self.keep && self.kept.is_none() && !conn.slow;
        let job = ConnJob {
            conn: Some(conn),
            shared: Arc::clone(&self.shared),
            home: self.id,
            away_events: self.shared.mailboxes[self.id]
                .away_events(key)
                .load(Ordering::Relaxed),
            serving: false,
            served: self.spares.list(),
        };
        self.shared.metrics.queued.fetch_add(1, Ordering::Relaxed);
        if keep {
            self.kept = Some(job);
        } else {
            // A job the queue has no room for is dropped, and
            // `ConnJob::drop` posts the connection back as `Unserved`, to
            // be answered 503 by this loop.
            self.extra.push(job);
        }
    }

    fn close(&mut self, key: usize) {
        // Dropping the connection closes its socket, which takes it out of
        // the poller: no `deregister` call (one syscall per connection).
        drop(self.conns.remove(key));
        if self.conns.is_empty() {
            // No deadline check runs while there are no connections: publish
            // now, or the gauges would show the last ones forever.
            self.shared.metrics.publish_states(self.id, [0; 5]);
        }
        self.release_slot();
    }

    fn expire(&mut self, now: Instant) {
        let mut states = [0usize; 5];
        for (_, slot) in self.conns.iter() {
            let state = match slot {
                Slot::InLoop(conn) => conn.state(),
                Slot::WithWorker { .. } => ConnState::Dispatched,
            };
            states[state as usize] += 1;
        }
        self.shared.metrics.publish_states(self.id, states);
        let limits = &self.shared.limits;
        self.expired.clear();
        self.expired
            .extend(self.conns.iter().filter_map(|(key, slot)| match slot {
                Slot::InLoop(conn) if conn.deadline(limits).is_some_and(|at| at <= now) => {
                    Some(key)
                }
                _ => None,
            }));
        for i in 0..self.expired.len() {
            self.drive(self.expired[i], now, Conn::expire);
        }
    }

    /// The first signal starts a graceful shutdown of every loop, a second
    /// one ends it at once.
    fn on_signal(&self) {
        if self.shared.stop.load(Ordering::Acquire) {
            self.shared.hurry_shutdown();
        } else {
            log::info!("shutting down (a second signal stops at once)");
            self.shared.request_shutdown();
        }
    }

    /// Stops accepting and closes idle connections; the rest finish their
    /// current exchange (with `Connection: close`) until the drain deadline.
    fn begin_drain(&mut self, now: Instant) {
        self.shared.draining.store(true, Ordering::Release);
        self.drain_deadline = Some(now + self.shared.limits.shutdown_timeout);
        // Connections handed back without a wake-up before workers saw the
        // flag: see `give_back_settled`.
        fence(Ordering::SeqCst);
        self.take_returned(now);
        // Clients in the backlog may have sent requests before the stop, and
        // closing the listener would reset them: take them all in (the
        // backlog bounds them, even past max_connections) to answer them.
        loop {
            self.shared.open.fetch_add(1, Ordering::Relaxed);
            if !self.fill_slot(now) {
                break;
            }
        }
        self.pause_accepting();
        self.listener = None;
        let home: Vec<usize> = self
            .conns
            .iter()
            .filter_map(|(key, slot)| matches!(slot, Slot::InLoop(_)).then_some(key))
            .collect();
        for key in home {
            self.drive(key, now, Conn::advance);
        }
    }

    /// Closes every connection in the loop; those with a worker close as
    /// they come back.
    pub(crate) fn close_all(&mut self) {
        self.listener = None;
        self.shared
            .open
            .fetch_sub(self.conns.len(), Ordering::Relaxed);
        self.conns.clear();
        self.shared.metrics.publish_states(self.id, [0; 5]);
    }

    /// After the pool stopped: jobs it dropped unstarted come back here, and
    /// their clients get a 503, written once without waiting, rather than a
    /// bare close.
    pub(crate) fn refuse_leftovers(&mut self) {
        while let Ok(returned) = self.returned.try_recv() {
            if let Returned::Unserved(mut conn) = returned {
                conn.refuse_at_exit(&self.shared.limits.refusal_bodies);
            }
        }
    }
}

/// Errors about one incoming connection, not about the listener: retry at once.
fn is_transient_accept_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}
