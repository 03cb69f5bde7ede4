use pool_server::{fallback, routes, Request, StatusCode};

#[fallback]
fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

#[fallback]
fn gone(req: &Request) -> (StatusCode, String) {
    (StatusCode::GONE, req.path().to_owned())
}

fn main() {
    let _ = routes![not_found, gone];
}
