//! Path parameters: any `FromStr` type, matched by name in any order,
//! raw identifiers, a wildcard, and literal `{{braces}}`. This only checks
//! that they compile; what they match over a socket is tested in
//! `tests/routing.rs`.

use std::net::IpAddr;

use pool_server::{route, routes};

#[route("GET /users/{id}")]
fn user(id: u64) -> String {
    format!("user {id}")
}

#[route("GET /orgs/{org}/members/{name}")]
fn member(name: String, org: String) -> String {
    format!("{name} of {org}")
}

#[route("GET /hosts/{addr}/up/{up}")]
fn host(addr: IpAddr, up: bool) -> String {
    format!("{addr} {up}")
}

#[route("GET /kinds/{type}")]
fn kind(r#type: char) -> String {
    r#type.to_string()
}

#[route("GET /files/{*path}")]
fn file(mut path: String) -> String {
    path.insert(0, '/');
    path
}

#[route("GET /literal/{{braces}}")]
fn braces() -> &'static str {
    "{braces}"
}

fn main() {
    let table = routes![user, member, host, kind, file, braces];
    assert_eq!(table.len(), 6);
}
