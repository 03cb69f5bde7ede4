use pool_server::route;

struct User {
    name: String,
}

#[route("GET /user")]
fn user() -> User {
    User {
        name: "ann".to_owned(),
    }
}

fn main() {}
