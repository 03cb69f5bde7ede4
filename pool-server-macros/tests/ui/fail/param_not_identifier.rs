use pool_server::route;

#[route("GET /users/{user-id}")]
fn user() -> &'static str {
    "user"
}

fn main() {}
