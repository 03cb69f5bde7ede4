use pool_server::route;

#[route("GET /users")]
struct Users;

fn main() {}
