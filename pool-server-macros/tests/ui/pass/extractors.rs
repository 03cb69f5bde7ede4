//! Every built-in extractor, a user-defined one, and extractors mixed with
//! path parameters. This only checks that they compile; what they answer
//! over a socket (the `Admin` rejection, `&HeaderMap`, `&Method`) is tested
//! in `tests/routing.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use pool_server::extract::{FromRequest, Query, Rejection, RequestContext};
use pool_server::{route, routes, HeaderMap, Json, Method, Request, Server, State, StatusCode};
use serde::Deserialize;

#[route("POST /echo")]
fn echo(req: &Request) -> Vec<u8> {
    req.body().to_vec()
}

#[route("GET /agent")]
fn agent(headers: &HeaderMap) -> String {
    format!("{:?}", headers.get("user-agent"))
}

#[route("GET /method")]
fn method(method: &Method) -> String {
    method.to_string()
}

#[route("POST /hits")]
fn hit(hits: State<AtomicU64>) -> String {
    hits.fetch_add(1, Ordering::Relaxed).to_string()
}

#[route("GET /names/{id}")]
fn name(id: u32, State(names): State<Mutex<HashMap<u32, String>>>) -> Option<String> {
    names.lock().unwrap().get(&id).cloned()
}

#[route("GET /maybe")]
fn maybe(config: Option<State<String>>) -> String {
    config.map_or_else(|| "none".to_owned(), |c| c.to_string())
}

#[derive(Deserialize)]
struct Page {
    offset: Option<u32>,
}

#[route("GET /items")]
fn items(page: Query<Page>) -> String {
    format!("{:?}", page.offset)
}

#[derive(Deserialize)]
struct NewItem {
    name: String,
}

#[route("POST /items/{list}")]
fn create(list: String, Json(item): Json<NewItem>, req: &Request) -> String {
    format!("{} in {list} from {}", item.name, req.peer_addr())
}

/// A user-defined extractor with its own rejection.
struct Admin;

impl FromRequest<'_> for Admin {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'_>) -> Result<Self, Rejection> {
        match cx.request().header("x-admin") {
            Some("yes") => Ok(Admin),
            _ => Err(Rejection::new(StatusCode::FORBIDDEN, "admins only")),
        }
    }
}

#[route("DELETE /items/{id}")]
fn delete(_admin: Admin, id: u64) -> StatusCode {
    let _ = id;
    StatusCode::NO_CONTENT
}

fn main() -> Result<(), pool_server::Error> {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .state(AtomicU64::new(0))
        .state(Mutex::new(HashMap::<u32, String>::new()))
        .routes(routes![
            echo, agent, method, hit, name, maybe, items, create, delete
        ])
        .build()?;
    drop(server);
    Ok(())
}
