use pool_server::route;

#[route("GET /files/{*}")]
fn file() -> &'static str {
    "file"
}

fn main() {}
