use pool_server::route;

#[route("GET /users/{name}")]
fn user(name: &str) -> String {
    name.to_owned()
}

fn main() {}
