//! Handles on a built server: [`ServerHandle`] for one running in the
//! background, [`StatsHandle`] to read its metrics from any thread.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::handoff::Shared;
use super::metrics::Stats;
#[cfg(doc)]
use super::server::Server;
use crate::Error;

/// Reads a server's [`Stats`]; made by [`Server::stats_handle`]. Cheap to
/// clone and to call.
#[derive(Clone)]
pub struct StatsHandle {
    pub(super) shared: Arc<Shared>,
}

impl StatsHandle {
    /// A snapshot of the server's connections, queue, workers and counters.
    pub fn stats(&self) -> Stats {
        self.shared.metrics.snapshot()
    }
}

impl fmt::Debug for StatsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatsHandle").finish_non_exhaustive()
    }
}

/// A server running in the background, made by [`Server::spawn`].
///
/// Dropping the handle shuts the server down as [`shutdown`](Self::shutdown) does.
pub struct ServerHandle {
    pub(super) shared: Arc<Shared>,
    pub(super) local_addr: SocketAddr,
    pub(super) thread: Option<JoinHandle<Result<(), Error>>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A snapshot of the server's connections, queue, workers and counters.
    pub fn stats(&self) -> Stats {
        self.shared.metrics.snapshot()
    }

    /// Shuts down gracefully and waits, as [`Server::run`] does on a signal:
    /// stops accepting, answers the requests that had arrived, closes idle
    /// connections and joins every thread, within the shutdown timeout. When
    /// it returns, no handler starts any more (see [`Server::run`]).
    ///
    /// # Errors
    /// When the event loop failed while serving.
    pub fn shutdown(mut self) -> Result<(), Error> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), Error> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.shared.request_shutdown();
        match thread.join() {
            Ok(result) => result,
            Err(_) => Err(Error::io(
                "the event loop panicked",
                std::io::Error::other("panic"),
            )),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Err(err) = self.stop() {
            log::error!("server stopped with an error: {err}");
        }
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .field("running", &self.thread.is_some())
            .finish()
    }
}
