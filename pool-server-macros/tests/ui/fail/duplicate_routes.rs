use pool_server::{route, routes};

#[route("GET /users/{id}")]
fn user(id: u64) -> String {
    id.to_string()
}

#[route("GET /users/{name}")]
fn user_by_name(name: String) -> String {
    name
}

fn main() {
    let _ = routes![user, user_by_name];
}
