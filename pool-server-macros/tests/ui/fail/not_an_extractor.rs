use pool_server::route;

#[route("GET /users/{id}")]
fn user(id: u64, name: String) -> String {
    format!("{id} {name}")
}

fn main() {}
