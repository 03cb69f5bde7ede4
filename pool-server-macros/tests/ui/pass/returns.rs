//! Every return form of `IntoResponse`.

use std::borrow::Cow;

use pool_server::{route, routes, Bytes, IntoResponse, Json, Response, StatusCode};
use serde::Serialize;

#[route("GET /static-str")]
fn static_str() -> &'static str {
    "hi"
}

#[route("GET /string")]
fn string() -> String {
    "hi".to_owned()
}

#[route("GET /cow")]
fn cow() -> Cow<'static, str> {
    Cow::Borrowed("hi")
}

#[route("GET /vec")]
fn vec() -> Vec<u8> {
    vec![1, 2, 3]
}

#[route("GET /bytes")]
fn bytes() -> Bytes {
    Bytes::from_static(b"hi")
}

#[route("GET /slice")]
fn slice() -> &'static [u8] {
    b"hi"
}

#[route("GET /response")]
fn response() -> Response {
    Response::html("<p>hi</p>").with_header("x-kind", "html")
}

#[route("GET /status")]
fn status() -> StatusCode {
    StatusCode::ACCEPTED
}

#[route("GET /tuple")]
fn tuple() -> (StatusCode, String) {
    (StatusCode::CREATED, "made".to_owned())
}

#[route("GET /result")]
fn result() -> Result<&'static str, (StatusCode, &'static str)> {
    Err((StatusCode::CONFLICT, "taken"))
}

#[route("GET /option")]
fn option() -> Option<Vec<u8>> {
    None
}

#[derive(Serialize)]
struct Item {
    id: u32,
}

#[route("GET /json")]
fn json() -> Json<Item> {
    Json(Item { id: 1 })
}

#[route("GET /json-created")]
fn json_created() -> (StatusCode, Json<Vec<Item>>) {
    (StatusCode::CREATED, Json(vec![Item { id: 1 }]))
}

#[route("GET /unit")]
fn unit() {}

#[route("GET /explicit-unit")]
fn explicit_unit() -> () {}

#[route("GET /opaque")]
fn opaque() -> impl IntoResponse {
    "opaque"
}

/// A user-defined error type.
enum AppError {
    Missing,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Missing => (StatusCode::NOT_FOUND, "missing").into_response(),
        }
    }
}

#[route("GET /custom/{id}")]
fn custom(id: u8) -> Result<Json<Item>, AppError> {
    match id {
        0 => Err(AppError::Missing),
        id => Ok(Json(Item { id: id.into() })),
    }
}

fn main() {
    let table = routes![
        static_str,
        string,
        cow,
        vec,
        bytes,
        slice,
        response,
        status,
        tuple,
        result,
        option,
        json,
        json_created,
        unit,
        explicit_unit,
        opaque,
        custom,
    ];
    assert_eq!(table.len(), 17);
}
