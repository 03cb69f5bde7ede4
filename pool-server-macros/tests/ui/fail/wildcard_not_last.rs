use pool_server::route;

#[route("GET /files/{*path}/raw")]
fn raw(path: String) -> String {
    path
}

fn main() {}
