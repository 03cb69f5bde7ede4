use pool_server::route;

#[route("GET /users")]
fn users<T: Default>() -> &'static str {
    "users"
}

fn main() {}
