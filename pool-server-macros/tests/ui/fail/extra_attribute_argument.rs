use pool_server::route;

#[route("GET /users", name = "users")]
fn users() -> &'static str {
    "users"
}

fn main() {}
