use pool_server::route;

#[route("/users")]
fn users() -> &'static str {
    "users"
}

fn main() {}
