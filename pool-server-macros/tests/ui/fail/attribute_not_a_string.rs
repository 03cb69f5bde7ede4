use pool_server::route;

#[route(GET, "/users")]
fn users() -> &'static str {
    "users"
}

fn main() {}
