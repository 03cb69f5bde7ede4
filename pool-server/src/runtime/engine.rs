//! The running parts of a server: its readiness loops, the listeners they
//! accept on, and the worker threads that hold the loops in turn and run the
//! handlers (see [`workers`](super::workers)).
//!
//! With one loop the server listens on one socket. With more, each loop has
//! a listener of its own on the same address (`SO_REUSEPORT`), and the
//! kernel spreads new connections over them, so no loop wakes for another's
//! clients and no acceptor thread hands sockets around.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use rustix::net::{sockopt, AddressFamily, SocketFlags, SocketType};

use super::event_loop::EventLoop;
use super::handoff::Shared;
use super::workers::Crew;
use crate::application::service::Service;
use crate::config::Limits;
use crate::error::Error;

/// Listen backlog of each listener; the kernel caps it at `somaxconn`.
const BACKLOG: i32 = 1024;

pub(crate) struct Engine {
    loops: Vec<EventLoop>,
    workers: usize,
    shared: Arc<Shared>,
}

impl Engine {
    pub(crate) fn new(
        listeners: Vec<TcpListener>,
        workers: usize,
        limits: Limits,
        service: Service,
    ) -> Result<(Engine, Arc<Shared>), Error> {
        if workers == 0 {
            return Err(Error::config("the pool needs at least one worker"));
        }
        if limits.queue_capacity == 0 {
            return Err(Error::config("the queue needs room for at least one job"));
        }
        let (loops, shared) = EventLoop::new_set(listeners, workers, limits, service)?;
        let engine = Engine {
            loops,
            workers,
            shared: Arc::clone(&shared),
        };
        Ok((engine, shared))
    }

    /// Starts the workers and watches them from this thread until shutdown
    /// has drained every loop; then waits for the workers until the latest
    /// drain deadline. Workers still inside a handler then are left running,
    /// detached, and requests still queued are answered 503.
    pub(crate) fn run(self, signals: bool) -> Result<(), Error> {
        let Engine {
            mut loops,
            workers,
            shared,
        } = self;
        if signals {
            loops[0].handle_signals()?;
        }
        let crew = Arc::new(Crew::new(
            loops,
            Arc::clone(&shared),
            shared.limits.queue_capacity,
        ));
        let (exit_tx, exited) = mpsc::channel();
        let mut running = 0;
        let mut failure = None;
        for id in 0..workers {
            let crew = Arc::clone(&crew);
            let exit_tx = exit_tx.clone();
            let spawned = thread::Builder::new()
                .name(format!("pool-worker-{id}"))
                .spawn(move || {
                    crew.work();
                    let _ = exit_tx.send(());
                });
            match spawned {
                Ok(_) => running += 1,
                Err(err) => {
                    failure = Some(Error::io("cannot spawn a worker thread", err));
                    shared.hurry_shutdown();
                    break;
                }
            }
        }
        crew.started(running);
        crew.watch();
        let (mut loops, deadline, failed) = crew.finished();
        for event_loop in &mut loops {
            event_loop.close_all();
        }
        crew.stop();
        while running > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if exited.recv_timeout(left).is_err() {
                break;
            }
            running -= 1;
        }
        if running > 0 {
            log::warn!("{running} worker(s) still busy at the shutdown deadline; left running");
        }
        // The jobs `stop` dropped came back `Unserved`.
        for event_loop in &mut loops {
            event_loop.refuse_leftovers();
        }
        failure.or(failed).map_or(Ok(()), Err)
    }
}

/// Binds `n` listeners to the first of `addrs` that works: one plain
/// socket when `n` is 1, else `n` sockets sharing the port through
/// `SO_REUSEPORT` (the first picks it when the port is 0).
pub(crate) fn bind(addrs: &[SocketAddr], n: usize) -> io::Result<Vec<TcpListener>> {
    if n == 1 {
        return TcpListener::bind(addrs).map(|listener| vec![listener]);
    }
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to bind");
    for addr in addrs {
        match bind_shared(*addr, n) {
            Ok(listeners) => return Ok(listeners),
            Err(err) => last = err,
        }
    }
    Err(last)
}

fn bind_shared(addr: SocketAddr, n: usize) -> io::Result<Vec<TcpListener>> {
    let first = reuseport_listener(addr)?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..n {
        listeners.push(reuseport_listener(addr)?);
    }
    Ok(listeners)
}

fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let socket = rustix::net::socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None)?;
    // As std's `TcpListener::bind` does, so a restart binds at once.
    sockopt::set_socket_reuseaddr(&socket, true)?;
    sockopt::set_socket_reuseport(&socket, true)?;
    rustix::net::bind(&socket, &addr)?;
    rustix::net::listen(&socket, BACKLOG)?;
    Ok(TcpListener::from(socket))
}
