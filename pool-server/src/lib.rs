//! An embeddable HTTP/1.1 server: a fixed pool of worker threads behind one
//! readiness loop.
//!
//! Handlers are plain blocking functions. A worker runs one only when a whole
//! request (head and body) has arrived; idle keep-alive connections, slow
//! senders and slow readers wait in the event loop and hold no worker, so a
//! few workers serve thousands of connections. Requests are parsed with
//! [httparse](https://crates.io/crates/httparse); [`Method`], [`StatusCode`],
//! [`HeaderMap`] and [`header`] are the [http](https://crates.io/crates/http)
//! crate's types, re-exported.
//!
//! Annotate functions with [`route`], list them with [`routes!`], and run:
//!
//! ```no_run
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use pool_server::{route, routes, Request, Server, State, StatusCode};
//!
//! #[route("GET /")]
//! fn index() -> &'static str {
//!     "Hello"
//! }
//!
//! #[route("GET /users/{id}")]
//! fn user(id: u64) -> String {
//!     format!("user {id}")
//! }
//!
//! #[route("POST /echo")]
//! fn echo(req: &Request) -> Vec<u8> {
//!     req.body().to_vec()
//! }
//!
//! #[route("POST /hits")]
//! fn hit(hits: State<AtomicU64>) -> (StatusCode, String) {
//!     let n = hits.fetch_add(1, Ordering::Relaxed) + 1;
//!     (StatusCode::CREATED, n.to_string())
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     Server::builder()
//!         .bind("127.0.0.1:7878")
//!         .workers(4)
//!         .state(AtomicU64::new(0))
//!         .routes(routes![index, user, echo, hit])
//!         .build()? // binds now; clashing routes or missing state fail here
//!         .run()?; // serves until SIGINT or SIGTERM, then shuts down gracefully
//!     Ok(())
//! }
//! ```
//!
//! Without routes, one closure can answer everything; with routes, it answers
//! the paths no route knows:
//!
//! ```no_run
//! use pool_server::{Request, Response, Server, StatusCode};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! Server::builder()
//!     .handler(|req: &Request| match req.path() {
//!         "/" => Response::text("hello"),
//!         _ => Response::status_only(StatusCode::NOT_FOUND),
//!     })
//!     .build()?
//!     .run()?;
//! # Ok(())
//! # }
//! ```
//!
//! In tests, [`Server::spawn`] runs the server in the background and its
//! [`ServerHandle`] stops it (for the application alone, without a socket,
//! see [`test::TestClient`]):
//!
//! ```
//! use std::io::{Read, Write};
//! use pool_server::{Response, Server};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::builder()
//!     .bind("127.0.0.1:0")
//!     .workers(2)
//!     .handler(|_| Response::text("hi"))
//!     .build()?
//!     .spawn()?;
//! let mut stream = std::net::TcpStream::connect(server.local_addr())?;
//! stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! let mut reply = String::new();
//! stream.read_to_string(&mut reply)?;
//! assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(reply.ends_with("\r\n\r\nhi"));
//! server.shutdown()?;
//! # Ok(())
//! # }
//! ```
//!
//! # Map of the modules
//!
//! The crate root holds the server ([`Server`], [`Builder`], [`ServerHandle`]),
//! the request and response ([`Request`], [`Response`]), routing ([`route`],
//! [`routes!`], [`fallback`], [`Routes`], [`Scope`]), the extractors
//! ([`State`], [`Extension`], `Json`, `Query`, `Form`, [`FromRequest`]),
//! [`IntoResponse`], the metrics ([`Stats`], [`StatsHandle`], [`RouteStats`])
//! and the worker pool on its own ([`ThreadPool`]). The modules:
//!
//! | module | what it holds |
//! |---|---|
//! | [`guard`] | checks on a request's head that run before its body is read |
//! | [`middleware`] | code around every request ([`Middleware`], [`Next`], [`middleware::from_fn`]) |
//! | [`cookies`] | cookie jars: plain, signed and private (encrypted) |
//! | `sessions` | a [`Session`](sessions::Session) of serde values in a private cookie (feature `json`) |
//! | [`cors`] | cross-origin requests and preflights, with tower-http's `CorsLayer` semantics |
//! | [`security_headers`] | `X-Content-Type-Options`, `Referrer-Policy`, `X-Frame-Options`, and HSTS over HTTPS |
//! | [`request_id`] | an `X-Request-Id` kept or made for every request, for handlers and the access log |
//! | [`access_log`] | one Combined Log Format line per request, through the `log` crate |
//! | [`compression`] | brotli or gzip response bodies, streamed ones included |
//! | [`files`] | static files and directories, with validators, conditional requests and ranges |
//! | [`sse`] | server-sent events, pushed from any thread |
//! | [`stream`] | response bodies fed from other threads |
//! | [`test`](mod@test) | [`TestClient`](test::TestClient): requests through the application without a socket |
//! | [`config`] | the limits and timeouts, with their defaults |
//!
//! The sections below are the reference for what has no module of its own:
//! [routing](#routing), [requests and responses](#requests-and-responses),
//! [errors you may see](#errors-you-may-see), [proxies and
//! hosts](#proxies-and-hosts), [responses of any size](#responses-of-any-size),
//! [uploads](#uploads), [metrics](#metrics) and [how the server
//! works](#how-the-server-works).
//!
//! # Routing
//!
//! `#[route("METHOD /path")]` goes on a plain function, which stays callable
//! as written. `routes![index, user, api::items]` lists the functions (by
//! path, as you would call them) and builds a [`Routes`] table for
//! [`Builder::routes`], which can be called several times. The string is
//! checked at compile time. The method is `GET`, `POST`, `PUT`, `PATCH`,
//! `DELETE`, `HEAD`, `OPTIONS` or `TRACE` (`CONNECT` is not routed, see
//! below). Each segment of the path is one of:
//!
//! - text, matched exactly against the path as the client sent it (write
//!   `%20`, not a space; `{{` and `}}` stand for literal braces);
//! - `{name}`: a parameter, any non-empty segment;
//! - `{*name}`: a wildcard, only as the last segment: the rest of the path,
//!   at least one byte, slashes included.
//!
//! ## Matching
//!
//! - Text beats `{param}`, which beats `{*wildcard}`, segment by segment. With
//!   `/users/new`, `/users/{id}` and `/users/{*rest}`, the path `/users/new`
//!   goes to the first, `/users/42` to the second and `/users/42/x` to the
//!   third.
//! - A trailing slash is significant: `/a` and `/a/` are different routes.
//!   The query string plays no part in matching.
//! - Parameters and wildcards are percent-decoded, then parsed with `FromStr`
//!   into the argument's type. A value that does not parse gets
//!   `400 Bad Request` with the text ``invalid path parameter `id`: expected
//!   u64``; one that is not UTF-8 once decoded gets ``invalid path parameter
//!   `id`: not UTF-8 once percent-decoded``.
//! - A path no route has goes to the fallback (a [`#[fallback]`](fallback)
//!   function or [`Builder::handler`]) if there is one, else gets 404 with an
//!   empty body.
//! - A known path with another method gets 405 with `Allow`, such as
//!   `Allow: GET, HEAD, DELETE, OPTIONS`.
//! - `HEAD` is answered by the `GET` route: the same status and headers, no
//!   body. A `HEAD` route of its own may return the body the `GET` would send
//!   (its length is sent, its bytes are not), or an empty body with the
//!   `Content-Length` it would have, such as the size of a file it did not
//!   read:
//!   `Response::status_only(StatusCode::OK).with_header(header::CONTENT_LENGTH, size)`.
//!   For every other method the server sets `Content-Length` to the length of
//!   the body, whatever the handler set.
//! - `OPTIONS` without an `OPTIONS` route gets 204 with `Allow`; `OPTIONS *`
//!   lists the methods of every route.
//! - `CONNECT` asks for a tunnel to `host:port` (RFC 9110 §9.3.6): its target
//!   is that authority, not a path, and a 2xx answer turns the connection into
//!   the tunnel. pool-server opens no tunnels, so neither a route nor the
//!   fallback sees a `CONNECT`: `CONNECT example.com:443` gets `501 Not
//!   Implemented`, a `CONNECT` with any other target gets 400, and so does a
//!   `host:port` target with another method. `#[route("CONNECT …")]` is a
//!   compile error. (In axum too, a proxy answers `CONNECT` in a service in
//!   front of the router, with hyper's upgrades, rather than with a route.)
//! - Two routes with the same method and equivalent paths (`/u/{a}` and
//!   `/u/{b}`) are an error: at compile time within one `routes!`, at
//!   `build()` across tables.
//!
//! ## Arguments
//!
//! An argument named like a path parameter receives it. Any other argument is
//! an extractor, a type that implements [`FromRequest`]. Extractors run in
//! argument order before the function; the first that rejects the request
//! sends its response instead, and the function is not called. Patterns work
//! too: `Json(item): Json<Item>`.
//!
//! | argument | gives | when it rejects |
//! |---|---|---|
//! | named like `{id}` or `{*id}`: `u64`, `String`, `IpAddr`… | the value, percent-decoded and parsed with `FromStr` | 400 |
//! | `&Request` | the whole request | never |
//! | `&HeaderMap` | the header fields | never |
//! | `&Method` | the method | never |
//! | [`State<T>`](State) | the value registered with [`Builder::state`] (derefs to `T`) | never: checked at `build()` |
//! | [`Extension<T>`](Extension) | a value a middleware or guard left in the request's extensions | 500 when none is there |
//! | `Query<T>` | the query string, deserialized with serde; no query reads as empty, so `Option` fields may be left out | 400 ``invalid query string: …`` |
//! | `Json<T>` | the body, deserialized with serde | 415 without `Content-Type: application/json` (or `application/…+json`), 400 for malformed JSON, 422 for the wrong shape |
//! | `Form<T>` | an `application/x-www-form-urlencoded` body | 415 for another content type, 422 for a body that does not fit `T` |
//! | [`StatsHandle`] | a handle on the server's metrics | 500 when the server is gone |
//! | `Option<E>` | `None` where extractor `E` would reject | never |
//! | your type | what its `FromRequest` impl returns | its rejection |
//!
//! `Json`, `Query` and `Form` come with the `json` feature, on by default
//! (serde, serde_json and serde_urlencoded); `default-features = false`
//! removes them and those dependencies. The built-in extractors reject with
//! [`Rejection`], which carries a status ([`Rejection::status`]) and a
//! message naming the field at fault ([`Rejection::message`]). A wrapper
//! extractor can call the inner one's `from_request` and turn its
//! `Rejection` into its own response; for one form of error answer
//! everywhere, [`Builder::error_body`] is simpler.
//!
//! A state is registered once per type; every worker shares it, so wrap what
//! changes in a `Mutex`, an `RwLock` or an atomic. A route that needs a state
//! nobody registered makes `build()` fail, as does registering a type twice;
//! take `Option<State<T>>` for a state that may be absent.
//! [`Builder::shared_state`] registers an `Arc` the program keeps a handle to.
//!
//! ## Your own extractor
//!
//! Implement [`FromRequest`] for your type: `from_request` reads the request
//! (and the state) from its [`RequestContext`] and returns the value, or a
//! rejection of any [`IntoResponse`] type that is sent instead of calling the
//! function:
//!
//! ```
//! use pool_server::extract::{FromRequest, RequestContext};
//! use pool_server::{route, StatusCode};
//!
//! /// The bearer token of the `Authorization` header.
//! struct Token(String);
//!
//! impl FromRequest<'_> for Token {
//!     type Rejection = (StatusCode, &'static str);
//!
//!     fn from_request(cx: &RequestContext<'_>) -> Result<Self, Self::Rejection> {
//!         cx.request()
//!             .header("authorization")
//!             .and_then(|value| value.strip_prefix("Bearer "))
//!             .map(|token| Token(token.to_owned()))
//!             .ok_or((StatusCode::UNAUTHORIZED, "log in first"))
//!     }
//! }
//!
//! #[route("GET /me")]
//! fn me(token: Token) -> String {
//!     format!("your token is {}", token.0)
//! }
//! ```
//!
//! An extractor that reads a state gets it with
//! [`RequestContext::state`], which returns an `Option` (`None` when nobody
//! registered a `T`). It declares the type in `requirements`, so `build()`
//! fails when the state is missing, instead of the extractor finding `None`
//! at run time:
//!
//! ```
//! use std::collections::HashSet;
//! use pool_server::extract::{FromRequest, RequestContext, Requirements};
//! use pool_server::{route, StatusCode};
//!
//! /// The API keys the server accepts, registered with `.state(ApiKeys(..))`.
//! struct ApiKeys(HashSet<String>);
//!
//! /// A request that carried one of them.
//! struct Authorized;
//!
//! impl FromRequest<'_> for Authorized {
//!     type Rejection = StatusCode;
//!
//!     fn from_request(cx: &RequestContext<'_>) -> Result<Self, StatusCode> {
//!         let keys = cx.state::<ApiKeys>().ok_or(StatusCode::INTERNAL_SERVER_ERROR)?;
//!         match cx.request().header("x-api-key") {
//!             Some(key) if keys.0.contains(key) => Ok(Authorized),
//!             _ => Err(StatusCode::UNAUTHORIZED),
//!         }
//!     }
//!
//!     fn requirements(needs: &mut Requirements) {
//!         needs.state::<ApiKeys>();
//!     }
//! }
//!
//! #[route("GET /secret")]
//! fn secret(_: Authorized) -> &'static str {
//!     "42"
//! }
//! ```
//!
//! To check a key on every route of a group at once, a middleware on a
//! [`Scope`] ([`Scope::wrap`]) or a [guard] is the better fit: no
//! route can forget it.
//!
//! ## Return values
//!
//! Anything that implements [`IntoResponse`]:
//!
//! | return type | response |
//! |---|---|
//! | `&'static str`, `String`, `Cow<'static, str>` | 200, `text/plain; charset=utf-8` |
//! | `Vec<u8>`, `&'static [u8]`, [`Bytes`] | 200, `application/octet-stream` |
//! | `Json<T>` | 200, `application/json` |
//! | [`StatusCode`] | that status, empty body |
//! | `()` | 200, empty body |
//! | `(StatusCode, T)` | `T`'s response with that status |
//! | `(jar, T)`, with a [cookie jar](cookies) | `T`'s response with a `Set-Cookie` per cookie added or removed |
//! | `Option<T>` | `T`'s response, or 404 with an empty body for `None` |
//! | `Result<T, E>` | `T`'s or `E`'s response |
//! | `std::io::Error` (so a route may return `std::io::Result<T>`) | 404 for a missing file, 403 for a forbidden one, 500 for anything else, each logged |
//! | [`Response`] | itself |
//! | your type | what its `IntoResponse` impl returns (an error enum, say) |
//!
//! ## The fallback
//!
//! [`#[fallback]`](fallback) marks a function that answers the paths no route
//! knows. It takes the same extractors as a route (all its arguments are
//! extractors, since there is no path to take parameters from) and returns
//! any `IntoResponse`. List it in `routes!` beside the routes; `build()`
//! checks the states it needs. [`Builder::handler`] stays for a plain
//! closure, `Fn(&Request) -> Response`; a server has one or the other. A
//! known path with another method still gets the router's 405, and
//! [`RequestContext::matched_path`] is empty in a fallback. In a scope's
//! routes, a `#[fallback]` answers the unknown paths under the scope's prefix.
//!
//! # Requests and responses
//!
//! [`Request`] gives the `method()`, `path()`, `query()`, `version()`,
//! `headers()`, `header(name)`, the buffered `body()` and the `peer_addr()`
//! (and, behind a trusted proxy, `client_addr()` and `scheme()`).
//! [`Response::text`], `html`, `json`, `bytes` and `status_only` make a
//! response, and `with_status`, `with_header` (replaces a field) and
//! `append_header` (adds one more, as for `Set-Cookie`) adjust it. Header
//! names and values are what the `http` crate's builders take:
//! `header::LOCATION` or `"location"`, a `&str`, a `String` or a
//! `HeaderValue`. An invalid name or value does not panic: it is logged and
//! the response becomes an empty 500. A 1xx status is not a final answer
//! (`101` would switch protocols, which the server does not do), so a
//! handler that returns one is logged and the client gets 500, as for a code
//! of 600 or more.
//!
//! The server adds `Content-Length` and `Date`. It owns framing: whatever a
//! handler gets wrong there is corrected on the way out and logged once per
//! response (with method and path), so the connection always stays in step.
//! A handler's `Transfer-Encoding` is dropped; a `Content-Length` that
//! disagrees with the body is replaced by the body's length; a 204, 205 or
//! 304 goes out with no body (a 204 with no `Content-Length`, a 205 with
//! `Content-Length: 0`); a handler's `Connection: close` closes the
//! connection after the response, and any other `Connection` option is
//! dropped; a header value with a CR, LF or NUL, which only `unsafe` code can
//! put in a `HeaderValue`, is dropped.
//!
//! # Errors you may see
//!
//! Mistakes in `#[route]` and `routes!` are compile errors that point at the
//! code at fault (the string, an argument, the return type):
//!
//! | you wrote | the compiler says |
//! |---|---|
//! | `#[route]`, `#[route(GET, "/users")]` | ``expected the method and path as one string, such as `#[route("GET /users/{id}")]` `` |
//! | `#[route("GET /users", name = "users")]` | ``unexpected argument; `#[route]` takes only the string, such as `#[route("GET /users/{id}")]` `` |
//! | `"FETCH /users"` | ``unknown method `FETCH`; expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, TRACE`` |
//! | `"CONNECT /proxy"` | ``` `CONNECT` cannot be routed: it asks for a tunnel to `host:port`, which pool-server does not provide (it answers CONNECT with 501 Not Implemented)``` |
//! | `"get /users"` | ``methods are uppercase: write `GET` instead of `get` `` |
//! | `"/users"` | ``missing method: write `GET /users` (or another method) before the path`` |
//! | `"GET users"` | ``paths must start with `/`: write `/users` `` |
//! | `"GET /search?q={q}"` | ``paths cannot contain a query (`?`); read the query string with the `Query<T>` extractor`` |
//! | `"GET /users/{}"` | ``empty parameter `{}`; name it after a function argument, as in `{id}` `` |
//! | `"GET /files/{*}"` | ``empty wildcard `{*}`; name it, as in `{*rest}` `` |
//! | `"GET /users/{id"` | ``unclosed `{id` in path; close the parameter with `}`, or write `{{` for a literal brace`` |
//! | `"GET /users/id}"` | ``unmatched `}` in path; write `}}` for a literal brace`` |
//! | `"GET /pairs/{id}/{id}"` | ``duplicate parameter `id`; give each parameter its own name`` |
//! | `"GET /files/{*path}/raw"` | ``the wildcard `{*path}` must be the last segment of the path`` |
//! | `"GET /users/user-{id}"` | ``a parameter must be a whole segment: write `/{id}`, not `/user-{id}` `` |
//! | `"GET /users/{user-id}"` | ``parameter name `user-id` is not an identifier; name it after a function argument, as in `{user_id}` `` |
//! | `{post}` without a `post` argument | ``path parameter `post` has no function argument named `post`; add one, such as `post: String` `` |
//! | `name: &str` for `{name}` | ``path parameter `name` is parsed with `FromStr`, which cannot borrow: take it as an owned type such as `String` `` |
//! | `ids: Vec<u64>` for `{ids}` | ``the trait bound `Vec<u64>: FromStr` is not satisfied`` |
//! | `name: String` with no `{name}` | ``` `String` is not an extractor, so it cannot be an argument of a route function``` |
//! | `fn user() -> User` | ``` `User` cannot be returned from a route function``` |
//! | `async fn` | ``route functions cannot be `async`; they run on the server's worker threads, so write a plain `fn` `` |
//! | `fn users<T: Default>()` | ``route functions cannot be generic; the router needs one concrete function per route`` |
//! | `unsafe fn` | ``route functions cannot be `unsafe`; wrap the unsafe code in a safe function`` |
//! | `#[route]` on a struct | ``` `#[route]` goes on a function, such as `fn index() -> &'static str` ``` |
//! | `routes![users]` where `users` has no `#[route]` | ``cannot find value `__pool_server_route_users` in this scope`` |
//! | one `routes!` with `GET /users/{id}` and `GET /users/{name}` | ``routes `app::user` (GET /users/{id}) and `app::user_by_name` (GET /users/{name}) have the same method and equivalent paths; remove or change one of them`` (a constant-evaluation error, E0080) |
//! | two `#[fallback]`s in one `routes!` | ``` `app::a` and `app::b` are both `#[fallback]`s; keep one of them``` |
//!
//! [`Builder::build`] returns a configuration error ([`Error::is_config`])
//! whose text starts with `invalid server configuration: `:
//!
//! | cause | the rest of the message |
//! |---|---|
//! | the same method and path in two `routes!` tables | ``routes `app::user` (GET /users/{id}) and `app::user_by_name` (GET /users/{name}) have the same method and equivalent paths; remove or change one of them`` |
//! | `State<T>` without `.state(...)` | ``route `app::hit` (POST /hits) needs state `AtomicU64`; register one with `.state(...)` `` |
//! | `.state(...)` twice with one type | ``state `String` is registered twice; register each type once`` |
//! | a scope's route and another route with the same method and whole path | ``routes `app::item` (GET /api/items/{key}) and `app::item_by_id` (GET /api/items/{id}, in scope `/api`) have the same method and equivalent paths; remove or change one of them`` |
//! | `Scope::new("/api/")` (or `"api"`, `"/users/{id}"`, `"/a//b"`) | ``scope `/api/`: the prefix cannot end with `/`: write `/api` (a `/` route answers the prefix itself)`` |
//! | a `#[fallback]` and `.handler(...)`, or two `#[fallback]`s in one place | ``` `Builder::handler` and `app::not_found` (#[fallback]) both answer the paths no route knows; keep one of them``` |
//!
//! Here `app` stands for the module that holds the function. `build()` also
//! fails, and does not panic, for zero workers or loops, an out-of-range
//! limit (see [`config`]), a `temp_dir` that is not a directory, a bad
//! `serve_dir` prefix or directory, an invalid `refusal_body`, a ready
//! middleware's settings that cannot work (such as a [`cors::Cors`] that
//! allows credentials with any `*`), and an address that cannot be bound
//! ([`Error::is_bind`]).
//!
//! # Proxies and hosts
//!
//! Behind a proxy, [`Builder::trusted_proxies`] (such as `["10.0.0.0/8"]`)
//! makes [`Request::client_addr`] and [`Request::scheme`] follow
//! `X-Forwarded-For` and `X-Forwarded-Proto` for requests from those peers:
//! what nginx (`proxy_add_x_forwarded_for`), HAProxy (`option forwardfor`),
//! Traefik, Caddy and the cloud load balancers keep. The client is the
//! rightmost forwarded hop that is not itself trusted; a proxy that sends
//! only `X-Forwarded-Proto` sets the scheme alone. Only that one field is
//! read, as nginx's `real_ip_header` reads one: those proxies pass a client's
//! own `Forwarded` through untouched. Behind a proxy that maintains
//! `Forwarded` (RFC 7239; HAProxy's `option forwarded`), say
//! `.proxy_header(ProxyHeader::Forwarded)`; for `X-Real-IP` and the like,
//! [`ProxyHeader::Other`]. From any other peer nothing is read, and
//! `peer_addr()` stays the socket's address. The access log, the cookie jars'
//! `Secure` attribute and [`security_headers`]' HSTS go by what the trusted
//! proxy said.
//!
//! A `Host` that is no valid host (`evil.com/path`, `a b`) is refused with
//! 400, as RFC 9112 §3.2 asks, and an absolute-form target
//! (`GET http://a.example/x`) puts its authority in `Host` for the handler.
//!
//! # Responses of any size
//!
//! A body need not be in memory. [`Response::stream`] sends what an
//! `impl Read + Send + 'static` yields, [`Response::file`] the whole of an
//! open `File`, and [`Response::from_stream`] what other threads send (see
//! [`stream`] and [`sse`]). All are `application/octet-stream` until you set
//! `Content-Type`, except `from_stream`, which has none.
//!
//! ```no_run
//! use std::fs::File;
//! use std::io::{self, Read};
//!
//! use pool_server::{header, route, routes, Response, Server, StatusCode};
//!
//! #[route("GET /zeros")]
//! fn zeros() -> Response {
//!     let len = 10 << 30; // 10 GiB, made as they are sent
//!     Response::stream(io::repeat(0).take(len))
//!         .with_len(len)
//!         .with_header(header::CONTENT_DISPOSITION, "attachment; filename=\"zeros.bin\"")
//! }
//!
//! #[route("GET /log")]
//! fn log() -> Result<Response, StatusCode> {
//!     // Failures before the response is returned can still be a status.
//!     let file = File::open("/var/log/app.log").map_err(|_| StatusCode::NOT_FOUND)?;
//!     let response = Response::file(file).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
//!     Ok(response.with_header(header::CONTENT_TYPE, "text/plain; charset=utf-8"))
//! }
//!
//! fn main() -> Result<(), pool_server::Error> {
//!     Server::builder().routes(routes![zeros, log]).build()?.run()
//! }
//! ```
//!
//! - A reader is read on a worker, one window of `write_window` bytes
//!   (64 KiB) at a time, for as long as the socket takes them. Without
//!   `with_len(n)` the body goes chunked to HTTP/1.1 clients and, for
//!   HTTP/1.0 ones, until the connection closes. With it, or with a
//!   `Content-Length: n` header set by the handler, `Content-Length: n` is
//!   sent; a reader that yields fewer bytes, or more, gets the connection
//!   closed at its end or after `n` bytes (and a log line). A
//!   [`BodyStream`](stream::BodyStream)'s length is never known: a
//!   `Content-Length` on one is ignored and logged.
//! - A file goes out from the event loop with `sendfile`, with
//!   `Last-Modified`, and holds no worker at all. For content types, `ETag`,
//!   conditional requests and ranges, use [`files::ServeFile`] or
//!   [`files::ServeDir`].
//! - A `HEAD` request answered by such a route gets the head, with the
//!   `Content-Length` when one is known, and no body.
//! - What a slow reader costs: once its socket's send buffer is full, the
//!   connection goes back to the event loop with at most one window (64 KiB)
//!   of output, and no worker waits on it; the next window is read when the
//!   client has taken the last. A client that reads nothing for
//!   `write_timeout` (30 s) is disconnected. Each turn moves a few windows at
//!   most, so a fast client does not starve the others.
//! - Errors mid-body: the status and head are already sent, so a failing
//!   `read` cannot become a 500. The connection is closed without the end of
//!   the body (no last chunk, or fewer bytes than `Content-Length`; for an
//!   HTTP/1.0 client, whose body ends with the connection, a reset instead of
//!   a FIN), so the client sees a truncated body, never a complete-looking
//!   one. Check what can fail (open the file, say) before returning the
//!   response. A [`stream::Sender`] that cannot finish its body calls
//!   `abort()` for the same ending (a compressed body gets no trailer
//!   either), and so does a sender dropped while its thread panics.
//! - At shutdown, a response in progress goes on until `shutdown_timeout`
//!   (30 s), then its connection is closed; open streams are ended and their
//!   connections closed.
//!
//! # Uploads
//!
//! A handler runs once the whole request has arrived, body included. A body
//! of up to `body_buffer_size` (64 KiB) is kept in memory. A larger one is
//! written by the event loop, as it arrives, to an unnamed temporary file in
//! `temp_dir` (by default `std::env::temp_dir()`), which is removed when the
//! request is dropped, and also when the client leaves halfway. Bodies held
//! in memory by all connections together are capped by `body_memory_limit`
//! (64 MiB); past it, new bodies go to disk whatever their size. So an upload
//! costs disk, not memory, and no worker while it arrives. `max_body_size`
//! (2 MiB by default, 413 past it; per route or scope with
//! [`Routes::max_body_size`] and [`Scope::max_body_size`]) still applies:
//! raise it to accept large uploads.
//!
//! ```no_run
//! use std::fs::File;
//! use std::io;
//!
//! use pool_server::{route, routes, Request, Server, StatusCode};
//!
//! #[route("PUT /backup")]
//! fn backup(req: &Request) -> Result<String, StatusCode> {
//!     let mut file = File::create("/srv/backup.tar").map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
//!     let copied = io::copy(&mut req.body_reader(), &mut file)
//!         .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
//!     Ok(format!("{copied} bytes saved"))
//! }
//!
//! fn main() -> Result<(), pool_server::Error> {
//!     Server::builder()
//!         .max_body_size(16 << 30) // 16 GiB
//!         .temp_dir("/srv/spool") // on the same disk, not a small tmpfs
//!         .routes(routes![backup])
//!         .build()?
//!         .run()
//! }
//! ```
//!
//! - [`Request::body_reader`] reads the body from memory or from its file, a
//!   buffer at a time; each call starts again at the beginning.
//!   [`Request::body_len`] costs nothing.
//! - [`Request::body`] returns the whole body as `&[u8]`: a spooled body is
//!   then read into memory on the first call and kept until the request is
//!   dropped, so it costs its whole size in memory. If that read fails, it is
//!   logged and the body reads as empty. Prefer `body_reader()` for anything
//!   large; `Json<T>` reads `body()`.
//! - Storage failures: when a body cannot be written to `temp_dir`, the
//!   client gets `507 Insufficient Storage` if the disk is full or over
//!   quota, and `500` otherwise; the cause is logged and no handler runs.
//!   `build()` fails when `temp_dir` is not a directory, but cannot know that
//!   it stays writable, so keep it on a disk with room (not a small tmpfs).
//! - A body the route will never read is not read either: a [guard]'s
//!   refusal, a 404, a 405 or an `OPTIONS` answer goes out and the connection
//!   closes, as nginx does; a declared length over the route's limit is 413
//!   from the head, and a chunked body is refused as soon as it passes it.
//!
//! # Metrics
//!
//! [`ServerHandle::stats`], or [`Server::stats_handle`] while `run` serves, or
//! a [`StatsHandle`] taken as a route argument, gives a [`Stats`] snapshot. It
//! covers open connections by state (idle, reading, dispatched, writing,
//! streaming), queue depth and capacity, busy and total workers, responses by
//! status class, requests shed with 503, the loop's refusals by status (408
//! counts request timeouts), idle closes, write timeouts, bytes read and
//! written, uptime, and per route (by method and pattern, never the raw
//! path; requests no route matched by method only) the answers by status
//! class and a latency histogram ([`RouteStats`]). [`Stats::to_prometheus`]
//! renders it in the Prometheus text format. Counting costs no lock: each
//! connection keeps its own tallies, and the loop adds them to shared
//! atomics.
//!
//! # How the server works
//!
//! ```text
//!             accept                      request incomplete: buffer and wait
//!  listener ─────────► readiness loop (1 thread, mio) ◄───────────────────────┐
//!                        │  owns every connection no worker holds              │
//!                        │  non-blocking reads, timers, 408/413/431/503        │
//!                        │  finishes responses that did not fit the socket     │
//!                        │ whole request buffered                              │
//!                        ▼                                                     │
//!             bounded queue (queue_capacity) ── full? loop answers 503, closes │
//!                        │                                                     │
//!                        ▼                                                     │
//!             workers 1..n: handler → encode → write                           │
//!                        └──── connection handed back (keep-alive) ────────────┘
//! ```
//!
//! A connection has one owner at a time. The loop owns it while the request
//! is being read and while the connection is idle. Once the whole request has
//! arrived, the connection moves into a job on the bounded queue, and the
//! worker that takes the job owns it. The worker runs the handler and writes
//! the response. If the response does not fit in the socket's send buffer,
//! the worker hands the rest to the loop, which finishes the write. The
//! connection then goes back to the loop to wait for its next request.
//!
//! A connection that has nothing left to do goes back without waking the
//! loop: the client's next bytes wake it, which saves a thread wake-up per
//! keep-alive request (a count of the readiness events the loop saw for the
//! connection, and the few that share its count, while it was away tells a
//! worker when the loop may have missed them, and then it wakes the loop).
//! The requests a worker served go back with the connection, emptied, and the
//! loop parses the next heads into them, so request memory is allocated and
//! freed on the loop's thread; a worker keeps the emptied header maps of the
//! responses it sent for the next ones it builds, so a keep-alive request
//! costs one allocation (the job). Between requests a connection holds no
//! buffer: its read and write buffers go back to a few spares of the thread
//! that used them, so an idle connection costs under 500 bytes of the
//! server's memory (plus the kernel's socket).
//!
//! The loop never runs handler code and never blocks. A worker never waits on
//! a socket. When the queue is full, the loop answers 503 itself and closes
//! the connection, so an overloaded server sheds load without tying up
//! workers. A panicking handler is logged and its worker keeps serving.
//!
//! [`Builder::loops`] runs n readiness loops (default 1, or the
//! `POOL_SERVER_LOOPS` environment variable). Each loop has a listening
//! socket of its own on the same address (`SO_REUSEPORT`), so the kernel
//! spreads new connections over them and no loop wakes for another's
//! clients; a connection stays with the loop that accepted it, and every
//! worker hands it back to that loop. All loops feed the one worker pool.
//! `max_connections`, the body-memory limit, 503 shedding and graceful
//! shutdown hold across them: the connection count is one shared counter, and
//! a loop that paused at the limit is woken when another frees a slot. One
//! loop is enough until it saturates a core (the repository's
//! `bench/README.md` has the measured cost per request).
//!
//! On SIGINT or SIGTERM ([`Server::run`]), or [`ServerHandle::shutdown`]
//! ([`Server::spawn`]), the server stops accepting, answers every request
//! that had arrived (those still in the listen backlog too) with
//! `Connection: close`, closes idle connections and joins its threads,
//! within `shutdown_timeout`. A request no worker started by then gets 503,
//! and no handler starts after `run` or `shutdown` returned. When `run`
//! returns, SIGINT and SIGTERM have their default action again;
//! [`Builder::handle_signals`]`(false)` keeps `run` away from signals
//! altogether, for a program that handles them itself. A client that
//! half-closes its side after its request is answered and closed at once.
//!
//! [`Scope`]: routing::Scope
//! [`Scope::max_body_size`]: routing::Scope::max_body_size
//! [`Scope::wrap`]: routing::Scope::wrap
//! [`FromRequest`]: extract::FromRequest
//! [`RequestContext`]: extract::RequestContext
//! [`RequestContext::matched_path`]: extract::RequestContext::matched_path
//! [`RequestContext::state`]: extract::RequestContext::state
//! [`Rejection`]: extract::Rejection
//! [`Rejection::status`]: extract::Rejection::status
//! [`Rejection::message`]: extract::Rejection::message
//! [`ThreadPool`]: pool::ThreadPool

pub mod config;
pub mod stream;

// The layers, bottom up; each imports only from those above it here. The
// public request, response and error types and `config` sit beneath all
// three.
mod error;
mod request;
mod response;

mod protocol;

mod application;

mod runtime;

/// Crate-private code for the fuzz targets and benchmarks. Not API.
#[cfg(feature = "internals")]
#[doc(hidden)]
#[path = "internals.rs"]
pub mod __internals;

pub use bytes::Bytes;
pub use http::{header, Extensions, HeaderMap, Method, StatusCode, Version};

pub use crate::application::cookies;
// The extractors nearly every route takes, here as well as in `extract`;
// `Json` is a response too.
#[cfg(feature = "json")]
pub use crate::application::extract::Json;
pub use crate::application::extract::{Extension, State};
pub use crate::application::files;
pub use crate::application::into_response::IntoResponse;
pub use crate::application::middleware::{Middleware, Next};
pub use crate::application::route_metrics::RouteStats;
// What `routes!` returns, here as well as in `routing`, as axum's `Router`.
pub use crate::application::router::Routes;
#[cfg(feature = "json")]
pub use crate::application::sessions;
pub use crate::application::{access_log, compression, guard, middleware, sse};
pub use crate::error::Error;
pub use crate::protocol::forwarded::ProxyHeader;
pub use crate::request::{BodyReader, Request};
pub use crate::response::Response;
pub use crate::runtime::handle::{ServerHandle, StatsHandle};
pub use crate::runtime::metrics::Stats;
pub use crate::runtime::pool;
pub use crate::runtime::server::{Builder, Server};
pub use crate::runtime::test_client as test;
pub use pool_server_macros::{fallback, route, routes};

// Ready middleware for what browsers ask of a server.
pub use crate::application::{cors, request_id, security_headers};

pub mod extract {
    //! The arguments a route function takes besides its path parameters,
    //! and [`FromRequest`] to write more.

    pub use crate::application::extract::{
        Extension, FromRequest, Rejection, RequestContext, Requirements, State,
    };
    #[cfg(feature = "json")]
    pub use crate::application::extract::{Form, Json, Query};
}

pub mod routing {
    //! The tables [`routes!`](crate::routes) builds, and the [`Scope`]s that
    //! mount them under a prefix with middleware of their own.

    pub use crate::application::router::{Routes, Scope};
}

/// What the code generated by [`route`] and [`routes!`] refers to. Not
/// public API: it changes whenever the macros do.
#[doc(hidden)]
pub mod __private {
    pub use crate::application::extract::{path_param, FromRequest, RequestContext, Requirements};
    pub use crate::application::into_response::into_response;
    pub use crate::application::router::{assert_distinct, routes, HandlerFn, Route, Segment};
}

/// The README's Rust snippets, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
