//! The builder, the server and the handle of a server running in the background.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

mod app;

use app::App;

use super::engine::{self, Engine};
use super::handle::{ServerHandle, StatsHandle};
use super::handoff::Shared;
use super::metrics::REFUSALS;
use crate::application::error_body::Renderer;
use crate::application::extract::States;
use crate::application::files::ServeDir;
use crate::application::guard::{self, GuardFn};
use crate::application::into_response::IntoResponse;
use crate::application::middleware::Middleware;
use crate::application::router::{Listed, Routes, Scope};
use crate::application::Handler;
use crate::config::Limits;
use crate::error::Error;
use crate::protocol::forwarded::ProxyHeader;
use crate::request::Request;
use crate::response::Response;

/// An HTTP/1.1 server, bound and ready: [`run`](Self::run) it in this thread
/// or [`spawn`](Self::spawn) it in the background.
///
/// ```no_run
/// use pool_server::{Request, Response, Server};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// Server::builder()
///     .bind("127.0.0.1:7878")
///     .workers(4)
///     .handler(|req: &Request| Response::text(format!("you asked for {}", req.path())))
///     .build()?
///     .run()?;
/// # Ok(())
/// # }
/// ```
pub struct Server {
    engine: Engine,
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    signals: bool,
}

/// Configures a [`Server`]; made by [`Server::builder`]. Every setting has a
/// default (see [`config`](crate::config)); [`build`](Self::build) checks them.
pub struct Builder {
    addrs: Result<Vec<SocketAddr>, std::io::Error>,
    workers: Option<usize>,
    loops: Option<usize>,
    limits: Limits,
    handler: Option<Box<Handler>>,
    routes: Vec<Listed>,
    guards: Vec<Arc<GuardFn>>,
    /// `serve_dir` prefixes and directories, checked at `build`.
    mounts: Vec<(String, ServeDir)>,
    states: States,
    signals: bool,
    layers: Vec<Arc<dyn Middleware>>,
    scopes: Vec<Scope>,
    error_body: Option<Box<Renderer>>,
    proxies: Vec<String>,
    proxy_header: ProxyHeader,
    /// A `refusal_body` that cannot be used, reported by `build()`.
    refusal_error: Option<String>,
}

impl Server {
    /// Starts configuring a server. It binds 127.0.0.1:7878 unless told otherwise.
    pub fn builder() -> Builder {
        Builder {
            addrs: Ok(vec![SocketAddr::from(([127, 0, 0, 1], 7878))]),
            workers: None,
            loops: None,
            limits: Limits::default(),
            handler: None,
            routes: Vec::new(),
            guards: Vec::new(),
            mounts: Vec::new(),
            states: States::default(),
            signals: true,
            layers: Vec::new(),
            scopes: Vec::new(),
            error_body: None,
            proxies: Vec::new(),
            proxy_header: ProxyHeader::default(),
            refusal_error: None,
        }
    }

    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves in this thread until SIGINT or SIGTERM arrives (unless
    /// [`Builder::handle_signals`] turned that off), then shuts down
    /// gracefully: stops accepting, answers the requests that had arrived,
    /// closes idle connections and joins every worker, within the
    /// [shutdown timeout](Builder::shutdown_timeout). A second signal stops
    /// at once.
    ///
    /// When it returns, no handler starts any more: requests still queued at
    /// the deadline were answered 503, and a handler still running then is
    /// left to finish on its detached thread, its connection closed after it.
    /// Both signals have their default action again (a later Ctrl-C ends
    /// the program).
    ///
    /// # Errors
    /// When the signal handlers or the poller fail.
    pub fn run(self) -> Result<(), Error> {
        self.engine.run(self.signals)
    }

    /// A handle that reads this server's [`Stats`](crate::Stats) from any
    /// thread, for a reporter thread, also while [`run`](Self::run) serves.
    /// A route takes one as an argument instead (see [`StatsHandle`]).
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle::server(Arc::clone(&self.shared))
    }

    /// Serves from a background thread; the returned handle stops it.
    ///
    /// # Errors
    /// When the thread cannot be spawned.
    pub fn spawn(self) -> Result<ServerHandle, Error> {
        let Server {
            engine,
            shared,
            local_addr,
            ..
        } = self;
        let thread = thread::Builder::new()
            .name("pool-watchdog".into())
            .spawn(move || engine.run(false))
            .map_err(|err| Error::io("cannot spawn the server thread", err))?;
        Ok(ServerHandle {
            shared,
            local_addr,
            thread: Some(thread),
        })
    }
}

impl Builder {
    /// The address to listen on, such as `"127.0.0.1:8080"`, or port 0 for any
    /// free port (read it back with [`Server::local_addr`]). When the name
    /// resolves to several addresses, the first that binds is used.
    pub fn bind(mut self, addr: impl ToSocketAddrs) -> Builder {
        self.addrs = addr.to_socket_addrs().map(Iterator::collect);
        self
    }

    /// The number of worker threads that run handlers; by default the number
    /// of CPUs. Zero is an error at [`build`](Self::build).
    pub fn workers(mut self, n: usize) -> Builder {
        self.workers = Some(n);
        self
    }

    /// The number of readiness loops: each accepts, reads and writes the
    /// connections it accepted, and has no thread of its own: the workers
    /// take turns holding it (see the crate docs, "How the server works").
    /// Every limit holds across them. With more than one, each has its own listening socket on the
    /// address (`SO_REUSEPORT`) and the kernel spreads new connections over
    /// them. One loop carries a lot (see `bench/README.md` for
    /// when a second one pays); zero is an error at [`build`](Self::build).
    ///
    /// By default 1, or the number in the `POOL_SERVER_LOOPS` environment
    /// variable, which lets a deployment (or a test run) choose without a
    /// rebuild.
    pub fn loops(mut self, n: usize) -> Builder {
        self.loops = Some(n);
        self
    }

    /// The function that answers every request when there are no
    /// [`routes`](Self::routes), and the requests whose path no route knows
    /// when there are. Without it those get 404. A fallback that takes
    /// extractors (such as [`State<T>`](crate::State)) is a
    /// [`#[fallback]`](crate::fallback) function listed in `routes!`
    /// instead; [`build`](Self::build) fails when there are both.
    pub fn handler<F>(mut self, handler: F) -> Builder
    where
        F: Fn(&Request) -> Response + Send + Sync + 'static,
    {
        self.handler = Some(Box::new(move |req: &mut Request| handler(req)));
        self
    }

    /// Runs `middleware` around every request the application answers
    /// (routes, mounts, the fallback, and their 404, 405 and `OPTIONS`
    /// answers), on the worker. The first added is the outermost: it sees
    /// the request first and the response last. Responses the event loop
    /// makes by itself (408, 413, 431, 503 and other refusals of unreadable
    /// requests) do not pass through it. See [`Middleware`]. It runs
    /// outside the middleware of a [`Scope`], which sees only the scope's
    /// requests. [`build`](Self::build) fails when a ready middleware's
    /// settings cannot work (see [`cors`](crate::cors)).
    pub fn wrap(mut self, middleware: impl Middleware) -> Builder {
        self.layers.push(Arc::new(middleware));
        self
    }

    /// Checks the head of every request before its body is read (method,
    /// path, headers, [client address](Request::client_addr),
    /// [matched route](Request::matched_path)), on a worker: `Ok(())` lets
    /// it on (with values for the handler in its
    /// [extensions](Request::extensions_mut)), `Err` refuses it with that
    /// answer, and then its body is never read and no `100 Continue` is
    /// sent. Guards run in the order added, before a [`Scope`]'s; see
    /// [`guard`](crate::guard) for the whole story.
    ///
    /// ```
    /// use pool_server::{Request, Server, StatusCode};
    ///
    /// let builder = Server::builder().guard(|req: &mut Request| {
    ///     match req.header("x-api-key") {
    ///         Some("secret") => Ok(()),
    ///         _ => Err((StatusCode::UNAUTHORIZED, "an API key, please")),
    ///     }
    /// });
    /// # drop(builder);
    /// ```
    pub fn guard<F, R>(mut self, guard: F) -> Builder
    where
        F: Fn(&mut Request) -> Result<(), R> + Send + Sync + 'static,
        R: IntoResponse,
    {
        self.guards.push(guard::boxed(guard));
        self
    }

    /// Gives the error answers the framework makes on workers their form:
    /// `render` gets the status and a message (naming the parameter or
    /// field at fault) and returns the response, so that a JSON API answers
    /// JSON everywhere. It applies to 404 and 405 from the router, the
    /// errors of static files (400, 403, 404, 405 and 500 from a
    /// [`serve_dir`](Self::serve_dir) mount, or from
    /// [`ServeDir`](crate::files::ServeDir) and
    /// [`ServeFile`](crate::files::ServeFile) in a handler), rejected path
    /// parameters and extractors (built-in and yours, through
    /// [`Rejection`](crate::extract::Rejection)), and a panic's 500; headers such as
    /// `Allow` are kept. Middleware sees the rendered answer. Without it, a
    /// rejection or a panic's 500 is the message as plain text, and the
    /// other answers have no body.
    ///
    /// ```
    /// use pool_server::{Response, Server, StatusCode};
    ///
    /// let builder = Server::builder().error_body(|status: StatusCode, message: &str| {
    ///     // A real service would escape with serde_json.
    ///     let body = format!("{{\"error\":{message:?}}}");
    ///     Response::json(body).with_status(status)
    /// });
    /// # drop(builder);
    /// ```
    pub fn error_body(
        mut self,
        render: impl Fn(http::StatusCode, &str) -> Response + Send + Sync + 'static,
    ) -> Builder {
        self.error_body = Some(Box::new(render));
        self
    }

    /// The proxies (addresses such as `"10.0.0.7"` or networks such as
    /// `"10.0.0.0/8"`, `"::1"`) whose word on the client is believed, read
    /// from the one field [`proxy_header`](Self::proxy_header) names
    /// (`X-Forwarded-For` and `X-Forwarded-Proto` by default). For a request
    /// from one of them, [`Request::client_addr`] is the rightmost forwarded
    /// address that is not itself a trusted proxy, and [`Request::scheme`]
    /// what the proxy said (a proxy may say only the scheme); from any other
    /// peer those fields are ignored, since anyone can send them.
    /// [`Request::peer_addr`] stays the socket's address. An entry that does
    /// not parse fails [`build`](Self::build).
    ///
    /// The proxy must keep the field honest: nginx with
    /// `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;` and
    /// `proxy_set_header X-Forwarded-Proto $scheme;` (the second replaces a
    /// client's own), HAProxy with `option forwardfor` and
    /// `http-request set-header X-Forwarded-Proto https if { ssl_fc }`.
    ///
    /// ```
    /// use pool_server::Server;
    ///
    /// let builder = Server::builder().trusted_proxies(["127.0.0.1", "10.0.0.0/8"]);
    /// # drop(builder);
    /// ```
    pub fn trusted_proxies<I, S>(mut self, proxies: I) -> Builder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.proxies.extend(proxies.into_iter().map(Into::into));
        self
    }

    /// Which field the [trusted proxies](Self::trusted_proxies) name the
    /// client in: [`ProxyHeader::XForwardedFor`] by default, which nginx,
    /// HAProxy, Traefik, Caddy and the cloud load balancers maintain. The
    /// others are not read at all, as nginx's `real_ip_header` reads one:
    /// those proxies pass a client's own `Forwarded` through untouched, so
    /// reading it would let any client choose its address and scheme.
    ///
    /// ```
    /// use pool_server::{ProxyHeader, Server};
    ///
    /// // Behind HAProxy with `option forwarded`.
    /// let builder = Server::builder()
    ///     .trusted_proxies(["10.0.0.0/8"])
    ///     .proxy_header(ProxyHeader::Forwarded);
    /// # drop(builder);
    /// ```
    pub fn proxy_header(mut self, header: ProxyHeader) -> Builder {
        self.proxy_header = header;
        self
    }

    /// The body and content type of an answer the event loop makes by
    /// itself, where no user code runs: 400 for an unreadable request, 408,
    /// 413, 414, 417, 431, 500 and 507 (a body that could not be stored),
    /// 501, 503 (load shedding, which keeps its `Retry-After`) and 505. By
    /// default each says what went wrong in plain text. Another status fails
    /// [`build`](Self::build), as does a content type that is no valid header
    /// value.
    ///
    /// ```
    /// use pool_server::{Server, StatusCode};
    ///
    /// let builder = Server::builder()
    ///     .refusal_body(StatusCode::SERVICE_UNAVAILABLE, "application/json", r#"{"error":"busy"}"#)
    ///     .refusal_body(StatusCode::PAYLOAD_TOO_LARGE, "application/json", r#"{"error":"too large"}"#);
    /// # drop(builder);
    /// ```
    pub fn refusal_body(
        mut self,
        status: http::StatusCode,
        content_type: &str,
        body: impl Into<bytes::Bytes>,
    ) -> Builder {
        if !REFUSALS.contains(&status.as_u16()) {
            self.refusal_error = Some(format!(
                "refusal_body({status}): the event loop never answers that status itself"
            ));
        }
        match http::HeaderValue::try_from(content_type) {
            Ok(value) => self.limits.refusal_bodies.set(status, value, body.into()),
            Err(_) => {
                self.refusal_error = Some(format!(
                    "refusal_body({status}): {content_type:?} is not a valid content type"
                ));
            }
        }
        self
    }

    /// The bodies of every answer the event loop makes by itself (see
    /// [`refusal_body`](Self::refusal_body)), made once here by `render`
    /// from each status and its reason phrase: one call for a JSON API.
    ///
    /// ```
    /// use pool_server::{Server, StatusCode};
    ///
    /// let builder = Server::builder().refusal_bodies("application/json", |status, reason| {
    ///     format!(r#"{{"error":"{reason}","status":{}}}"#, status.as_u16())
    /// });
    /// # drop(builder);
    /// ```
    pub fn refusal_bodies<B: Into<bytes::Bytes>>(
        mut self,
        content_type: &str,
        render: impl Fn(http::StatusCode, &str) -> B,
    ) -> Builder {
        for code in REFUSALS {
            let status = http::StatusCode::from_u16(code).expect("a valid status");
            let reason = status.canonical_reason().unwrap_or_default();
            self = self.refusal_body(status, content_type, render(status, reason));
        }
        self
    }

    /// Adds the routes that [`routes!`](crate::routes) lists; call it as
    /// often as needed. Requests that match no route's path go to the
    /// [`handler`](Self::handler) if there is one, else get 404; a known path
    /// with another method gets 405 with `Allow`, and `OPTIONS` gets 204
    /// with `Allow`. `HEAD` is answered by the `GET` route, without a body.
    ///
    /// [`build`](Self::build) fails when two routes have the same method and
    /// equivalent paths, or when a route needs a state that was not
    /// registered with [`state`](Self::state).
    pub fn routes(mut self, routes: Routes) -> Builder {
        self.routes.extend(routes.into_vec());
        self
    }

    /// Mounts a [`Scope`]: its routes under its prefix, inside its
    /// middleware, which runs after (inside) the server-wide
    /// [`wrap`](Self::wrap) middleware and only for the requests routed to
    /// the scope. Call it once per scope; two scopes may share a prefix.
    /// [`build`](Self::build) fails for an invalid prefix, and for two
    /// routes with the same method and equivalent whole paths, naming both.
    ///
    /// ```
    /// use pool_server::test::TestClient;
    /// use pool_server::routing::Scope;
    /// use pool_server::{route, routes, Next, Request, Response, Server};
    ///
    /// #[route("GET /items")]
    /// fn items() -> &'static str {
    ///     "[]"
    /// }
    ///
    /// fn tag(req: &mut Request, next: Next<'_>) -> Response {
    ///     next.run(req).with_header("x-api", "v1")
    /// }
    ///
    /// let app = Server::builder().scope(Scope::new("/api/v1").routes(routes![items]).wrap(tag));
    /// let client = TestClient::new(app).unwrap();
    /// let response = client.get("/api/v1/items").send();
    /// assert_eq!(response.headers()["x-api"], "v1");
    /// ```
    pub fn scope(mut self, scope: Scope) -> Builder {
        self.scopes.push(scope);
        self
    }

    /// Serves the files under a directory at `prefix`: with `"/static"`,
    /// `GET /static/css/a.css` sends `css/a.css` from the directory, and
    /// `/static` itself is the directory (redirected to `/static/`). `dir`
    /// is a [`ServeDir`] with its options, or just
    /// a path (`&str`, `String`, `&Path`, `PathBuf`) for the defaults.
    /// Call it once per prefix.
    ///
    /// A request goes, in this order, to:
    /// 1. the route that matches its path (a known path with another method
    ///    gets 405 from the routes, as usual);
    /// 2. the mount whose prefix covers the path, the longest first
    ///    (`/static/img` before `/static`, `/` last). A mount answers every
    ///    path under its prefix: `GET` and `HEAD` with the file or 404 (or
    ///    400 for a path no file may have), `OPTIONS` with 204, any other
    ///    method 405, all with `Allow: GET, HEAD`;
    /// 3. the [`#[fallback]`](crate::fallback) of a [`Scope`] whose prefix
    ///    covers the path and is longer than the mount's, then the server's
    ///    `#[fallback]` or [`handler`](Self::handler), then 404.
    ///
    /// [`build`](Self::build) fails ([`Error::is_config`]) when the prefix
    /// does not start with `/`, holds `?`, `#` or an empty segment, is
    /// mounted twice, or when the directory does not exist or an option is
    /// invalid. A trailing `/` on the prefix is ignored.
    ///
    /// ```no_run
    /// use pool_server::files::ServeDir;
    /// use pool_server::Server;
    ///
    /// # fn main() -> Result<(), pool_server::Error> {
    /// Server::builder()
    ///     .serve_dir("/static", ServeDir::new("public").precompressed(true))
    ///     .serve_dir("/downloads", "/srv/downloads")
    ///     .build()?
    ///     .run()
    /// # }
    /// ```
    pub fn serve_dir(mut self, prefix: &str, dir: impl Into<ServeDir>) -> Builder {
        self.mounts.push((prefix.to_owned(), dir.into()));
        self
    }

    /// Registers the shared value that routes read with
    /// [`State<T>`](crate::State), one per type (registering a type twice
    /// makes [`build`](Self::build) fail). It is shared by every worker, so
    /// wrap what changes in a `Mutex`, an `RwLock` or an atomic.
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Builder {
        self.states.insert(Arc::new(value));
        self
    }

    /// Registers a state the program keeps a handle to, such as the list
    /// of event senders a background thread broadcasts to; routes read it
    /// as [`State<T>`](crate::State), as with [`state`](Self::state).
    pub fn shared_state<T: Send + Sync + 'static>(mut self, value: Arc<T>) -> Builder {
        self.states.insert(value);
        self
    }

    /// Requests that may wait for a busy pool before the server answers 503.
    pub fn queue_capacity(mut self, n: usize) -> Builder {
        self.limits.queue_capacity = n;
        self
    }

    /// Largest request head in bytes (431, or 414 for a long request line).
    pub fn max_head_size(mut self, bytes: usize) -> Builder {
        self.limits.max_head_size = bytes;
        self
    }

    /// Most header fields in a request (431), at most 1,024.
    pub fn max_headers(mut self, n: usize) -> Builder {
        self.limits.max_headers = n;
        self
    }

    /// Largest decoded request body in bytes (413). Bodies past
    /// [`body_buffer_size`](Self::body_buffer_size) are spooled to disk, so
    /// gigabytes cost no memory.
    pub fn max_body_size(mut self, bytes: usize) -> Builder {
        self.limits.max_body_size = bytes;
        self
    }

    /// Largest request body kept in memory; a larger one is written to an
    /// unnamed temporary file as it arrives (still before any worker sees
    /// the request), and removed when the request is dropped.
    pub fn body_buffer_size(mut self, bytes: usize) -> Builder {
        self.limits.body_buffer_size = bytes;
        self
    }

    /// Request body bytes that all connections together may hold in
    /// memory; past it, new bodies are spooled to disk whatever their size.
    pub fn body_memory_limit(mut self, bytes: usize) -> Builder {
        self.limits.body_memory_limit = bytes;
        self
    }

    /// The directory for spooled request bodies; by default
    /// [`std::env::temp_dir`]. It must exist; the files in it have no name.
    pub fn temp_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Builder {
        self.limits.temp_dir = Some(dir.into());
        self
    }

    /// Time allowed for a request head once its first byte arrived (408),
    /// and for the first byte on a new connection (closed silently).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Builder {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// Longest pause between reads of a request body (408).
    pub fn body_read_timeout(mut self, timeout: Duration) -> Builder {
        self.limits.body_read_timeout = timeout;
        self
    }

    /// How long an idle keep-alive connection stays open.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Builder {
        self.limits.keep_alive_timeout = timeout;
        self
    }

    /// Longest pause while a client does not read its response.
    pub fn write_timeout(mut self, timeout: Duration) -> Builder {
        self.limits.write_timeout = timeout;
        self
    }

    /// Most open connections; past it the server stops accepting until one closes.
    pub fn max_connections(mut self, n: usize) -> Builder {
        self.limits.max_connections = n;
        self
    }

    /// How long a graceful shutdown waits for in-flight requests.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Builder {
        self.limits.shutdown_timeout = timeout;
        self
    }

    /// Response bytes a connection may have waiting for its client before
    /// the worker stops answering its next pipelined request.
    pub fn write_window(mut self, bytes: usize) -> Builder {
        self.limits.write_window = bytes;
        self
    }

    /// Whether [`Server::run`] shuts down on SIGINT and SIGTERM; on by
    /// default. Turn it off when the program handles those signals itself;
    /// `run` then serves until the process ends, so stop it from code with
    /// [`Server::spawn`] and [`ServerHandle::shutdown`] instead.
    /// [`Server::spawn`] never handles signals.
    pub fn handle_signals(mut self, on: bool) -> Builder {
        self.signals = on;
        self
    }

    /// Checks the settings, starts the workers and binds the socket.
    ///
    /// # Errors
    /// Zero workers, an out-of-range limit, clashing routes, a missing
    /// state, or settings a ready middleware cannot use, such as a
    /// [`Cors`](crate::cors::Cors) that allows credentials from any origin
    /// ([`Error::is_config`]), an
    /// address that cannot be bound ([`Error::is_bind`]), or threads and
    /// poller the OS refuses ([`Error::is_io`]).
    pub fn build(self) -> Result<Server, Error> {
        let workers = match self.workers {
            Some(0) => return Err(Error::config("workers must be at least 1")),
            Some(n) => n,
            None => thread::available_parallelism().map_or(1, usize::from),
        };
        let loops = match self.loops {
            Some(0) => return Err(Error::config("loops must be at least 1")),
            Some(n) => n,
            None => default_loops(),
        };
        self.limits.validate()?;
        if let Some(why) = &self.refusal_error {
            return Err(Error::config(why.clone()));
        }
        let App {
            service,
            stats_slot,
            limits,
            addrs,
            signals,
        } = self.into_app()?;
        let addrs = addrs.map_err(Error::bind)?;
        let listeners = engine::bind(&addrs, loops).map_err(Error::bind)?;
        let local_addr = listeners[0].local_addr().map_err(Error::bind)?;
        let (engine, shared) = Engine::new(listeners, workers, limits, service)?;
        if let Some(slot) = stats_slot {
            slot.fill_server(&shared);
        }
        Ok(Server {
            engine,
            shared,
            local_addr,
            signals,
        })
    }
}

/// The number of loops when [`Builder::loops`] is not called.
fn default_loops() -> usize {
    match std::env::var("POOL_SERVER_LOOPS") {
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                log::warn!("POOL_SERVER_LOOPS={text:?} is not a positive number; using 1 loop");
                1
            }
        },
        Err(_) => 1,
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("addrs", &self.addrs)
            .field("workers", &self.workers)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
