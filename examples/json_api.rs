//! A small JSON API: items kept in memory, in a `Mutex` shared by every
//! worker as state.
//!
//! ```text
//! cargo run --example json_api
//! curl -i -X POST http://127.0.0.1:7878/items \
//!      -H 'Content-Type: application/json' -d '{"name": "milk"}'
//!                                           # 201 {"id":1,"name":"milk","done":false}
//! curl http://127.0.0.1:7878/items          # [{"id":1,"name":"milk","done":false}]
//! curl http://127.0.0.1:7878/items/1        # {"id":1,"name":"milk","done":false}
//! curl -i -X PUT http://127.0.0.1:7878/items/1 \
//!      -H 'Content-Type: application/json' -d '{"name": "milk", "done": true}'
//!                                           # 200 {"id":1,"name":"milk","done":true}
//! curl -i -X DELETE http://127.0.0.1:7878/items/1   # 204 No Content
//! curl -i http://127.0.0.1:7878/items/1     # 404 (so are PUT and DELETE of a missing id)
//! ```
//!
//! What the extractors answer for bad requests, before the route function
//! runs: a body without `Content-Type: application/json` gets 415, malformed
//! JSON 400, JSON of the wrong shape (`{"title": "milk"}`) 422, and an id that
//! is not a `u64` (`/items/x`) 400, each with a plain-text reason.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use pool_server::{route, routes, Json, Server, State, StatusCode};
use serde::{Deserialize, Serialize};

/// An item as the API returns it.
#[derive(Clone, Debug, Serialize)]
struct Item {
    id: u64,
    name: String,
    done: bool,
}

/// The body of `POST /items` and `PUT /items/{id}`.
#[derive(Debug, Deserialize)]
struct NewItem {
    name: String,
    #[serde(default)]
    done: bool,
}

/// Everything the server remembers, registered with `Builder::state`.
#[derive(Debug, Default)]
struct Store {
    next_id: u64,
    items: BTreeMap<u64, Item>,
}

/// Locks the store. A route function that panicked while holding the lock
/// leaves it poisoned; the data is still consistent here (every change is
/// one map operation), so keep serving.
fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

#[route("GET /items")]
fn list(store: State<Mutex<Store>>) -> Json<Vec<Item>> {
    Json(lock(&store).items.values().cloned().collect())
}

#[route("POST /items")]
fn create(store: State<Mutex<Store>>, Json(new): Json<NewItem>) -> (StatusCode, Json<Item>) {
    let mut store = lock(&store);
    store.next_id += 1;
    let item = Item {
        id: store.next_id,
        name: new.name,
        done: new.done,
    };
    store.items.insert(item.id, item.clone());
    (StatusCode::CREATED, Json(item))
}

#[route("GET /items/{id}")]
fn read(id: u64, store: State<Mutex<Store>>) -> Option<Json<Item>> {
    lock(&store).items.get(&id).cloned().map(Json)
}

#[route("PUT /items/{id}")]
fn update(id: u64, store: State<Mutex<Store>>, Json(new): Json<NewItem>) -> Option<Json<Item>> {
    let mut store = lock(&store);
    let item = store.items.get_mut(&id)?;
    item.name = new.name;
    item.done = new.done;
    Some(Json(item.clone()))
}

#[route("DELETE /items/{id}")]
fn delete(id: u64, store: State<Mutex<Store>>) -> StatusCode {
    match lock(&store).items.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(4)
        .state(Mutex::new(Store::default()))
        .routes(routes![list, create, read, update, delete])
        .build()?; // fails if a route needed a state that was not registered
    println!("listening on http://{}", server.local_addr());
    server.run()?;
    Ok(())
}
