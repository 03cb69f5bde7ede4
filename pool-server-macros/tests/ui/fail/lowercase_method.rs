use pool_server::route;

#[route("get /users")]
fn users() -> &'static str {
    "users"
}

fn main() {}
