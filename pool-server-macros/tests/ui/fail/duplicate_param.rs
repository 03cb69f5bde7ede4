use pool_server::route;

#[route("GET /pairs/{id}/{id}")]
fn pair(id: u64) -> String {
    id.to_string()
}

fn main() {}
