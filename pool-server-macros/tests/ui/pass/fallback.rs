use std::sync::atomic::{AtomicU64, Ordering};

use pool_server::{fallback, route, routes, HeaderMap, Method, Request, State, StatusCode};

#[route("GET /")]
fn index() -> &'static str {
    "home"
}

#[fallback]
fn not_found(
    req: &Request,
    method: &Method,
    headers: &HeaderMap,
    misses: State<AtomicU64>,
    optional: Option<State<String>>,
) -> (StatusCode, String) {
    misses.fetch_add(1, Ordering::Relaxed);
    let agent = headers.get("user-agent").is_some();
    let text = format!("{method} {} {agent} {}", req.path(), optional.is_some());
    (StatusCode::NOT_FOUND, text)
}

fn main() {
    let table = routes![index, not_found];
    assert_eq!(table.len(), 2);
}
