use pool_server::route;

#[route("FETCH /users")]
fn users() -> &'static str {
    "users"
}

fn main() {}
