//! The running parts of a server: its readiness loops, the listeners they
//! accept on, and the one worker pool they all feed.
//!
//! With one loop the server listens on one socket. With more, each loop has
//! a listener of its own on the same address (`SO_REUSEPORT`), and the
//! kernel spreads new connections over them, so no loop wakes for another's
//! clients and no acceptor thread hands sockets around.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use rustix::net::{sockopt, AddressFamily, SocketFlags, SocketType};

use super::event_loop::EventLoop;
use super::handoff::Shared;
use super::pool::ThreadPool;
use crate::application::service::Service;
use crate::config::Limits;
use crate::error::Error;

/// Listen backlog of each listener; the kernel caps it at `somaxconn`.
const BACKLOG: i32 = 1024;

pub(crate) struct Engine {
    loops: Vec<EventLoop>,
    pool: ThreadPool,
    shared: Arc<Shared>,
}

impl Engine {
    pub(crate) fn new(
        listeners: Vec<TcpListener>,
        workers: usize,
        limits: Limits,
        service: Service,
    ) -> Result<(Engine, Arc<Shared>), Error> {
        let pool = ThreadPool::with_capacity(workers, limits.queue_capacity)?;
        let (loops, shared) = EventLoop::new_set(listeners, &pool, limits, service)?;
        let engine = Engine {
            loops,
            pool,
            shared: Arc::clone(&shared),
        };
        Ok((engine, shared))
    }

    /// Runs the first loop on this thread and the others on threads of
    /// their own until shutdown, then stops the pool by the latest drain
    /// deadline of any loop.
    pub(crate) fn run(self, signals: bool) -> Result<(), Error> {
        let Engine {
            mut loops,
            mut pool,
            shared,
        } = self;
        let mut first = loops.remove(0);
        let mut others = Vec::with_capacity(loops.len());
        let mut failure = None;
        for (i, mut event_loop) in loops.into_iter().enumerate() {
            let spawned = thread::Builder::new()
                .name(format!("pool-event-loop-{}", i + 1))
                .spawn(move || {
                    let served = event_loop.serve(false);
                    (event_loop, served)
                });
            match spawned {
                Ok(thread) => others.push(thread),
                Err(err) => {
                    failure = Some(Error::io("cannot spawn an event loop thread", err));
                    shared.hurry_shutdown();
                }
            }
        }
        let mut deadline = Instant::now();
        let mut served = vec![first.serve(signals)];
        let mut loops = vec![first];
        for thread in others {
            match thread.join() {
                Ok((event_loop, result)) => {
                    loops.push(event_loop);
                    served.push(result);
                }
                Err(_) => served.push(Err(Error::io(
                    "an event loop panicked",
                    io::Error::other("panic"),
                ))),
            }
        }
        for result in served {
            match result {
                Ok(at) => deadline = deadline.max(at),
                Err(err) => {
                    failure.get_or_insert(err);
                }
            }
        }
        for event_loop in &mut loops {
            event_loop.close_all();
        }
        pool.shutdown(deadline);
        for event_loop in &mut loops {
            event_loop.refuse_leftovers();
        }
        failure.map_or(Ok(()), Err)
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
