use pool_server::route;

#[route("GET /users/{}")]
fn user() -> &'static str {
    "user"
}

fn main() {}
