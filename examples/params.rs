//! Path parameters, a wildcard and a query string.
//!
//! ```text
//! cargo run --example params
//! curl http://127.0.0.1:7878/users/42              # user 42
//! curl http://127.0.0.1:7878/users/me              # the current user (text beats {id})
//! curl -i http://127.0.0.1:7878/users/abc          # 400 invalid path parameter `id`: expected u64
//! curl -i http://127.0.0.1:7878/users/42/          # 404: a trailing slash is another path
//! curl http://127.0.0.1:7878/hosts/::1             # ::1 is IPv6, loopback
//! curl -i http://127.0.0.1:7878/hosts/localhost    # 400 invalid path parameter `addr`: expected IpAddr
//! curl http://127.0.0.1:7878/files/docs/guide.md   # file docs/guide.md
//! curl http://127.0.0.1:7878/files/a%20b           # file a b (percent-decoded)
//! curl http://127.0.0.1:7878/search                # search for everything, page 1
//! curl 'http://127.0.0.1:7878/search?q=rust+http&page=2'  # search for "rust http", page 2
//! curl -i 'http://127.0.0.1:7878/search?page=two'  # 400 invalid query string: …
//! ```
//!
//! An argument named like a `{param}` is percent-decoded and parsed with
//! `FromStr` into its type; a value that does not parse never reaches the
//! function: the client gets 400 naming the parameter. `{*path}` takes the
//! rest of the path, slashes included. `Query<T>` deserializes the query
//! string with serde; `Option` fields may be left out.

use std::net::IpAddr;

use pool_server::extract::Query;
use pool_server::{route, routes, Server};
use serde::Deserialize;

#[route("GET /users/{id}")]
fn user(id: u64) -> String {
    format!("user {id}")
}

#[route("GET /users/me")]
fn me() -> &'static str {
    "the current user"
}

#[route("GET /hosts/{addr}")]
fn host(addr: IpAddr) -> String {
    let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
    let scope = if addr.is_loopback() {
        "loopback"
    } else {
        "not loopback"
    };
    format!("{addr} is {family}, {scope}")
}

#[route("GET /files/{*path}")]
fn file(path: String) -> String {
    format!("file {path}")
}

/// The query of `/search`: both fields may be left out.
#[derive(Debug, Deserialize)]
struct Search {
    q: Option<String>,
    page: Option<u32>,
}

#[route("GET /search")]
fn search(Query(search): Query<Search>) -> String {
    let page = search.page.unwrap_or(1);
    match search.q {
        Some(q) => format!("search for {q:?}, page {page}"),
        None => format!("search for everything, page {page}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(4)
        .routes(routes![user, me, host, file, search])
        .build()?;
    println!("listening on http://{}", server.local_addr());
    server.run()?;
    Ok(())
}
