use pool_server::route;

#[route("GET /users")]
async fn users() -> &'static str {
    "users"
}

fn main() {}
