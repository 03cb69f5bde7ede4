use pool_server::route;

#[route("GET /users/id}")]
fn user() -> &'static str {
    "user"
}

fn main() {}
