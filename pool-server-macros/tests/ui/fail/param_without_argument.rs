use pool_server::route;

#[route("GET /users/{id}/posts/{post}")]
fn post(id: u64) -> String {
    id.to_string()
}

fn main() {}
