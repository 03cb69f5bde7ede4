use pool_server::route;

#[route("GET /search?q={q}")]
fn search() -> &'static str {
    "results"
}

fn main() {}
