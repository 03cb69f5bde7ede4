use pool_server::routes;

fn users() -> &'static str {
    "users"
}

fn main() {
    let _ = routes![users];
}
