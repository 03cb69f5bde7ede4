use pool_server::{fallback, StatusCode};

#[fallback("/api")]
fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

fn main() {}
