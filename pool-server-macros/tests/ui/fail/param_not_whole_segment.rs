use pool_server::route;

#[route("GET /users/user-{id}")]
fn user(id: u64) -> String {
    id.to_string()
}

fn main() {}
