//! `routes!` with module paths, visibility, methods, a trailing comma, an
//! empty list, routes declared inside a function, and merged tables.

use pool_server::{route, routes, Routes, Server};

mod api {
    pub mod v1 {
        use pool_server::route;

        #[route("GET /api/v1/items")]
        pub fn items() -> &'static str {
            "items"
        }

        #[route("PUT /api/v1/items/{id}")]
        pub(crate) fn replace(id: u32) -> String {
            id.to_string()
        }
    }
}

#[route("GET /")]
fn index() -> &'static str {
    "index"
}

#[route("HEAD /")]
fn index_head() {}

#[route("PATCH /")]
fn patch() {}

#[route("OPTIONS /")]
fn options() {}

#[rustfmt::skip] // keeps the trailing comma this test is about
#[route("DELETE /", )]
fn delete() {}

#[cfg(any())]
#[route("GET /never-compiled")]
fn never() {}

fn main() -> Result<(), pool_server::Error> {
    #[route("GET /inner")]
    fn inner() -> &'static str {
        "declared in main"
    }

    let empty: Routes = routes![];
    assert!(empty.is_empty());
    let table = routes![index, index_head, patch, options, delete, inner,]
        .merge(routes![api::v1::items, crate::api::v1::replace]);
    assert_eq!(table.len(), 8);
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .routes(table)
        .routes(routes![])
        .handler(|_| pool_server::Response::text("fallback"))
        .build()?;
    drop(server);
    Ok(())
}
