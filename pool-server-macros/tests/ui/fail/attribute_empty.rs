use pool_server::route;

#[route]
fn users() -> &'static str {
    "users"
}

fn main() {}
