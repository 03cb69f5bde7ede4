use pool_server::route;

#[route("GET /users/{ids}")]
fn users(ids: Vec<u64>) -> String {
    format!("{ids:?}")
}

fn main() {}
