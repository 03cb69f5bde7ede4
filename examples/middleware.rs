//! Middleware and route groups: an API key checked once for every route of
//! the `/api` scope, a `Server-Timing` header on every answer, and the
//! access log.
//!
//! ```text
//! cargo run --example middleware
//! curl -i http://127.0.0.1:7878/                                   # public, no key
//! curl -i http://127.0.0.1:7878/api/notes                          # 401
//! curl -i -H 'x-api-key: demo' http://127.0.0.1:7878/api/notes     # 200
//! curl -i -H 'x-api-key: demo' -d 'buy milk' http://127.0.0.1:7878/api/notes
//! curl -i -H 'x-api-key: demo' http://127.0.0.1:7878/api/notes/0
//! curl -i -H 'x-api-key: demo' http://127.0.0.1:7878/api/nothing   # the scope's JSON 404
//! curl -i -X OPTIONS http://127.0.0.1:7878/api/notes               # 204 with Allow, no key needed
//! curl -i http://127.0.0.1:7878/nothing                            # the server's fallback
//! ```
//!
//! Each request is logged on standard error in the Combined Log Format
//! (the default `RUST_LOG` here is `info`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use pool_server::access_log::AccessLog;
use pool_server::routing::Scope;
use pool_server::{
    fallback, route, routes, Middleware, Next, Request, Response, Server, State, StatusCode,
};

/// The notes, shared by every worker.
type Notes = Mutex<Vec<String>>;

#[route("GET /")]
fn index() -> &'static str {
    "public page; the API is under /api and needs `x-api-key: demo`\n"
}

#[route("GET /notes")]
fn list(notes: State<Notes>) -> String {
    notes.lock().unwrap().join("\n")
}

#[route("POST /notes")]
fn add(req: &Request, notes: State<Notes>) -> (StatusCode, String) {
    let text = String::from_utf8_lossy(req.body()).into_owned();
    let mut notes = notes.lock().unwrap();
    notes.push(text);
    (StatusCode::CREATED, format!("note {}\n", notes.len() - 1))
}

#[route("GET /notes/{id}")]
fn show(id: usize, notes: State<Notes>) -> Option<String> {
    notes.lock().unwrap().get(id).cloned()
}

/// Unknown paths under `/api`: this runs inside the scope's key check.
#[fallback]
fn api_not_found(req: &Request) -> (StatusCode, Response) {
    let body = format!(
        "{{\"error\":\"no such endpoint\",\"path\":{:?}}}",
        req.path()
    );
    (StatusCode::NOT_FOUND, Response::json(body))
}

/// Unknown paths elsewhere; it counts them in a state, as a route could.
#[fallback]
fn not_found(req: &Request, misses: State<AtomicU64>) -> (StatusCode, String) {
    let n = misses.fetch_add(1, Ordering::Relaxed) + 1;
    let text = format!("nothing at {} (miss number {n})\n", req.path());
    (StatusCode::NOT_FOUND, text)
}

/// Middleware with configuration: the keys it accepts.
struct ApiKey {
    keys: HashSet<String>,
}

impl Middleware for ApiKey {
    fn call(&self, req: &mut Request, next: Next<'_>) -> Response {
        match req.header("x-api-key") {
            Some(key) if self.keys.contains(key) => next.run(req),
            _ => Response::text("missing or unknown x-api-key\n")
                .with_status(StatusCode::UNAUTHORIZED)
                .with_header("www-authenticate", "ApiKey header=\"x-api-key\""),
        }
    }
}

/// A plain function is middleware too.
fn timing(req: &mut Request, next: Next<'_>) -> Response {
    let started = Instant::now();
    let response = next.run(req);
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    response.with_header("server-timing", format!("app;dur={millis:.3}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let api = Scope::new("/api")
        .routes(routes![list, add, show, api_not_found])
        .wrap(ApiKey {
            keys: HashSet::from(["demo".to_owned()]),
        });
    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(2)
        .state(Notes::default())
        .state(AtomicU64::new(0))
        // Server-wide middleware is outermost: the log and the timing see
        // every answer, the scope's 401s included.
        .wrap(AccessLog::combined())
        .wrap(timing)
        .routes(routes![index, not_found])
        .scope(api)
        .build()?;
    println!("listening on http://{}", server.local_addr());
    server.run()?;
    Ok(())
}
