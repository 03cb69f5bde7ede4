//! The application a [`Builder`] describes, assembled without sockets or
//! threads: what the server runs and a [`TestClient`](crate::test::TestClient)
//! takes.

use std::net::SocketAddr;
use std::sync::Arc;

use super::Builder;
use crate::application::error_body::render_errors;
use crate::application::files::Mount;
use crate::application::middleware;
use crate::application::router::{Router, Table};
use crate::application::service::Service;
use crate::application::Handler;
use crate::config::Limits;
use crate::error::Error;
use crate::protocol::forwarded::TrustedProxies;
use crate::request::Request;
use crate::response::Response;
use crate::runtime::handle::StatsSlot;

/// What [`Builder::into_app`] makes of the settings.
pub(crate) struct App {
    pub(crate) service: Service,
    /// For routes that take a `StatsHandle`: filled once the server exists.
    pub(crate) stats_slot: Option<Arc<StatsSlot>>,
    pub(crate) limits: Limits,
    pub(super) addrs: Result<Vec<SocketAddr>, std::io::Error>,
    pub(super) signals: bool,
}

impl Builder {
    /// Everything but the sockets and threads: the handler that answers
    /// requests (router, mounts, fallback and middleware), as the server
    /// and the [`TestClient`](crate::test::TestClient) run it.
    pub(crate) fn into_app(mut self) -> Result<App, Error> {
        middleware::check(&self.layers)?;
        let mounts = self
            .mounts
            .into_iter()
            .map(|(prefix, dir)| Mount::new(&prefix, dir))
            .collect::<Result<Vec<_>, _>>()?;
        let plain = self.routes.is_empty()
            && self.scopes.is_empty()
            && self.states.is_empty()
            && mounts.is_empty();
        let renderer = self.error_body.take().map(Arc::from);
        let stats_slot = (!plain).then(|| {
            let slot = Arc::new(StatsSlot::default());
            self.states.insert(Arc::clone(&slot));
            slot
        });
        let router = if plain {
            None
        } else {
            Some(Arc::new(Router::new(Table {
                routes: self.routes,
                scopes: self.scopes,
                states: self.states,
                mounts,
                fallback: self.handler.take(),
                renderer: renderer.clone(),
            })?))
        };
        let mut endpoint: Box<Handler> = match &router {
            Some(router) => {
                let router = Arc::clone(router);
                Box::new(move |request: &mut Request| router.dispatch(request))
            }
            None => self.handler.take().unwrap_or_else(|| {
                Box::new(|_: &mut Request| Response::from(http::StatusCode::NOT_FOUND))
            }),
        };
        if !self.layers.is_empty() || renderer.is_some() {
            // Middleware and the error renderer see a panic as its 500.
            endpoint = render_errors(middleware::catch_panics(endpoint), renderer);
        }
        let proxies = self
            .proxies
            .iter()
            .map(|text| text.parse().map_err(Error::config))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(App {
            service: Service::new(
                TrustedProxies::new(proxies, self.proxy_header),
                router,
                self.guards,
                self.layers,
                endpoint,
            ),
            stats_slot,
            limits: self.limits,
            addrs: self.addrs,
            signals: self.signals,
        })
    }
}
