//! Handles on a built server: [`ServerHandle`] for one running in the
//! background, [`StatsHandle`] to read its metrics from any thread.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use std::sync::{OnceLock, Weak};
use std::time::Instant;

use http::StatusCode;

use super::handoff::Shared;
use super::metrics::{Metrics, Stats};
#[cfg(doc)]
use super::server::Server;
use crate::application::extract::{FromRequest, Rejection, RequestContext};
use crate::application::service::Service;
use crate::error::Error;

/// Reads a server's [`Stats`]; made by [`Server::stats_handle`], or taken
/// by a route as an argument, which needs nothing set up:
///
/// ```
/// use pool_server::test::TestClient;
/// use pool_server::{route, routes, Response, Server, StatsHandle};
///
/// #[route("GET /metrics")]
/// fn metrics(stats: StatsHandle) -> Response {
///     Response::text(stats.stats().to_prometheus())
///         .with_header("content-type", "text/plain; version=0.0.4")
/// }
///
/// let client = TestClient::new(Server::builder().routes(routes![metrics])).unwrap();
/// client.get("/metrics").send();
/// let text = client.get("/metrics").send().text();
/// assert!(text.contains(r#"pool_server_route_responses_total{method="GET",route="/metrics",class="2xx"} 1"#));
/// ```
///
/// Under a [`TestClient`](crate::test::TestClient), which has no
/// connections, queue or workers, those read zero; the responses and the
/// per-route figures are counted as on a server. Cheap to clone and to call.
#[derive(Clone)]
pub struct StatsHandle {
    source: Source,
}

#[derive(Clone)]
enum Source {
    Server(Arc<Shared>),
    /// A [`TestClient`](crate::test::TestClient)'s application.
    Detached(Arc<Service>, Instant),
}

impl StatsHandle {
    pub(super) fn server(shared: Arc<Shared>) -> StatsHandle {
        StatsHandle {
            source: Source::Server(shared),
        }
    }

    /// For a [`TestClient`](crate::test::TestClient) made at `started`.
    pub(crate) fn detached(service: Arc<Service>, started: Instant) -> StatsHandle {
        StatsHandle {
            source: Source::Detached(service, started),
        }
    }

    /// A snapshot of the server's connections, queue, workers and counters.
    pub fn stats(&self) -> Stats {
        match &self.source {
            Source::Server(shared) => shared.stats(),
            Source::Detached(service, started) => {
                Metrics::new(0, 0, 0).detached(service.route_stats(), started.elapsed())
            }
        }
    }
}

/// Where a route's [`StatsHandle`] argument comes from: registered as a
/// state with the routes, filled once the server (or test client) exists.
/// It holds no strong reference, which would keep the server alive in a
/// cycle through its own routing table.
#[derive(Default)]
pub(crate) struct StatsSlot(OnceLock<WeakSource>);

enum WeakSource {
    Server(Weak<Shared>),
    Detached(Weak<Service>, Instant),
}

impl StatsSlot {
    pub(crate) fn fill_server(&self, shared: &Arc<Shared>) {
        let _ = self.0.set(WeakSource::Server(Arc::downgrade(shared)));
    }

    pub(crate) fn fill_detached(&self, service: &Arc<Service>, started: Instant) {
        let _ = self
            .0
            .set(WeakSource::Detached(Arc::downgrade(service), started));
    }

    fn handle(&self) -> Option<StatsHandle> {
        let source = match self.0.get()? {
            WeakSource::Server(shared) => Source::Server(shared.upgrade()?),
            WeakSource::Detached(service, started) => {
                Source::Detached(service.upgrade()?, *started)
            }
        };
        Some(StatsHandle { source })
    }
}

impl<'r> FromRequest<'r> for StatsHandle {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        cx.state::<StatsSlot>()
            .and_then(StatsSlot::handle)
            .ok_or_else(|| {
                Rejection::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server's stats are not available",
                )
            })
    }
}

impl fmt::Debug for StatsSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatsSlot")
            .field("filled", &self.0.get().is_some())
            .finish()
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
        self.shared.stats()
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
