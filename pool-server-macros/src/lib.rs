//! Procedural macros for [`pool-server`](https://docs.rs/pool-server):
//! [`macro@route`], [`macro@fallback`] and [`routes!`].
//!
//! Use them through `pool_server`, which re-exports them. Set
//! `POOL_SERVER_MACROS_DEBUG=1` while compiling to print every expansion on
//! standard error.

use proc_macro::TokenStream;
use syn::Token;

mod args;
mod codegen;
mod route;
mod routes;

/// Turns a plain function into a route: `#[route("METHOD /path")]`.
///
/// The function stays as written (call it from tests as usual); the
/// attribute adds a hidden constant next to it that [`routes!`] reads.
///
/// ```
/// use pool_server::{route, routes, Request, Server, State, StatusCode};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// #[route("GET /")]
/// fn index() -> &'static str {
///     "Hello"
/// }
///
/// #[route("GET /users/{id}")]
/// fn user(id: u64) -> String {
///     format!("user {id}")
/// }
///
/// #[route("POST /echo")]
/// fn echo(req: &Request) -> Vec<u8> {
///     req.body().to_vec()
/// }
///
/// #[route("GET /files/{*path}")]
/// fn file(path: String) -> (StatusCode, String) {
///     (StatusCode::NOT_FOUND, path)
/// }
///
/// #[route("POST /hits")]
/// fn hit(hits: State<AtomicU64>) -> String {
///     format!("hit {}", hits.fetch_add(1, Ordering::Relaxed) + 1)
/// }
///
/// # fn main() -> Result<(), pool_server::Error> {
/// let server = Server::builder()
///     .bind("127.0.0.1:0")
///     .state(AtomicU64::new(0))
///     .routes(routes![index, user, echo, file, hit])
///     .build()?;
/// # drop(server);
/// # Ok(())
/// # }
/// ```
///
/// # The string
///
/// A method (`GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS` or
/// `TRACE`), one space, and a path starting with `/`. `CONNECT` is refused:
/// it asks for a tunnel, which the server does not provide. Each segment of
/// the path (between slashes) is one of:
///
/// - text, matched exactly against the path as the client sent it (so write
///   `%20`, not a space); `{{` and `}}` stand for literal braces;
/// - `{name}`: a parameter, which matches any non-empty segment;
/// - `{*name}`: a wildcard, only as the last segment, which matches the rest
///   of the path (at least one byte, slashes included).
///
/// When several routes match, text beats `{param}`, which beats `{*wildcard}`,
/// segment by segment. A trailing slash is significant: `/a` and `/a/` are
/// different routes.
///
/// # Arguments
///
/// An argument **named like a parameter** receives that segment,
/// percent-decoded, then parsed with [`FromStr`](std::str::FromStr) into
/// the argument's type (`u64`, `String`, `IpAddr`, your own type…). A value
/// that does not parse is answered with `400 Bad Request` and the text
/// ``invalid path parameter `id`: expected u64``; one that is not UTF-8 once
/// decoded gets ``invalid path parameter `id`: not UTF-8 once percent-decoded``.
///
/// **Any other argument** is an extractor, a type that implements
/// `pool_server::extract::FromRequest`:
///
/// | argument | gives |
/// |---|---|
/// | `&Request` | the whole request |
/// | `&HeaderMap` | the header fields |
/// | `&Method` | the method |
/// | `State<T>` | the value registered with `Builder::state` (checked at `build()`) |
/// | `Query<T>` | the query string, deserialized with serde (400 if malformed) |
/// | `Json<T>` | the body, deserialized with serde (415 without a JSON content type, 400 for bad JSON, 422 for the wrong shape) |
/// | `Option<E>` | `None` where extractor `E` would reject |
/// | your type | whatever your `FromRequest` impl does |
///
/// Arguments are extracted in order; the first rejection is the response.
///
/// # Return type
///
/// Anything that implements `pool_server::IntoResponse`: `&'static str`,
/// `String` (text), `Vec<u8>` (bytes), `Response`, `StatusCode`, `()`,
/// `(StatusCode, T)`, `Result<T, E>`, `Option<T>` (`None` is 404),
/// `Json<T>`, or your own type.
///
/// # Errors
///
/// Mistakes are compile errors that point at the string or at the argument:
///
/// | mistake | message |
/// |---|---|
/// | `"FETCH /"` | ``unknown method `FETCH`; expected one of GET, POST, …`` |
/// | `"get /"` | ``methods are uppercase: write `GET` instead of `get` `` |
/// | `"/users"` | ``missing method: write `GET /users` (or another method) before the path`` |
/// | `"GET users"` | ``paths must start with `/`: write `/users` `` |
/// | `"GET /{}"` / `"GET /{*}"` | ``empty parameter `{}`; …`` / ``empty wildcard `{*}`; …`` |
/// | `"GET /{id"` | ``unclosed `{id` in path; …`` |
/// | `"GET /id}"` | ``unmatched `}` in path; write `}}` for a literal brace`` |
/// | `"GET /{id}/{id}"` | ``duplicate parameter `id`; give each parameter its own name`` |
/// | `"GET /{*rest}/x"` | ``the wildcard `{*rest}` must be the last segment of the path`` |
/// | `"GET /user-{id}"` | ``a parameter must be a whole segment: …`` |
/// | `"GET /{user-id}"` | ``parameter name `user-id` is not an identifier; …`` |
/// | `"GET /a?b"`, spaces, non-ASCII | ``paths cannot contain …`` |
/// | `{id}` without an `id` argument | ``path parameter `id` has no function argument named `id`; …`` |
/// | `#[route("GET /", name = "x")]` | ``unexpected argument; `#[route]` takes only the string, …`` |
/// | `id: &str` for `{id}` | ``path parameter `id` is parsed with `FromStr`, which cannot borrow: …`` |
/// | an argument that is not an extractor | ``` `String` is not an extractor, so it cannot be an argument of a route function``` |
/// | a return type without `IntoResponse` | ``` `User` cannot be returned from a route function``` |
/// | `async fn`, generics, `self`, `unsafe fn` | ``route functions cannot be `async`; …`` and so on |
#[proc_macro_attribute]
pub fn route(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into(), expand_route)
}

/// Turns a plain function into the fallback: the handler for the requests
/// whose path no route knows, with the same arguments (extractors such as
/// `State<T>`, `&Request`, `Query<T>`) and return types as a route.
///
/// List it in [`routes!`] beside the routes. Given to `Builder::routes`, it
/// answers the paths that no route, no `serve_dir` mount and no scope's
/// fallback covers; in a `Scope`'s routes, it answers the unknown paths
/// under the scope's prefix, inside the scope's middleware. A path no route
/// knows has no path parameters, so every argument is an extractor.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use pool_server::test::TestClient;
/// use pool_server::{fallback, route, routes, Request, Server, State, StatusCode};
///
/// #[route("GET /")]
/// fn index() -> &'static str {
///     "home"
/// }
///
/// #[fallback]
/// fn not_found(req: &Request, misses: State<AtomicU64>) -> (StatusCode, String) {
///     let n = misses.fetch_add(1, Ordering::Relaxed) + 1;
///     (StatusCode::NOT_FOUND, format!("no {} (miss {n})", req.path()))
/// }
///
/// let app = Server::builder()
///     .state(AtomicU64::new(0))
///     .routes(routes![index, not_found]);
/// let client = TestClient::new(app).unwrap();
/// let response = client.get("/nope").send();
/// assert_eq!(response.status(), StatusCode::NOT_FOUND);
/// assert_eq!(response.text(), "no /nope (miss 1)");
/// ```
///
/// Two fallbacks in one `routes!` list fail to compile; across lists,
/// `Builder::build` fails, as it does beside `Builder::handler`.
#[proc_macro_attribute]
pub fn fallback(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into(), expand_fallback)
}

/// Builds a `pool_server::Routes` table from functions marked with
/// [`macro@route`] (or [`macro@fallback`]): `routes![index, user, api::items]`.
///
/// Name each function by its path, as you would call it. Give the table to
/// `Builder::routes` (which can be called several times) or to a `Scope`'s
/// `routes`, or combine tables with `Routes::merge`.
///
/// ```
/// use pool_server::{route, routes, Routes};
///
/// mod api {
///     use pool_server::{route, Json};
///
///     #[route("GET /api/items")]
///     pub fn items() -> Json<Vec<&'static str>> {
///         Json(vec!["a", "b"])
///     }
/// }
///
/// #[route("GET /")]
/// fn index() -> &'static str {
///     "Hello"
/// }
///
/// let table: Routes = routes![index, api::items];
/// assert_eq!(table.len(), 2);
/// ```
///
/// # Errors
///
/// - Two routes of one list with the same method and equivalent paths
///   (`GET /u/{a}` and `GET /u/{b}`) fail to compile, naming both:
///   ``routes `app::a` (GET /u/{a}) and `app::b` (GET /u/{b}) have the same
///   method and equivalent paths; remove or change one of them``. Across
///   lists, `Builder::build` returns the same message as an error.
/// - A function without `#[route]` is reported as
///   ``cannot find value `__pool_server_route_name` in this scope``: add
///   the attribute, or check the path.
#[proc_macro]
pub fn routes(input: TokenStream) -> TokenStream {
    expand(input.into(), proc_macro2::TokenStream::new(), |input, _| {
        routes::expand(syn::parse2(input)?)
    })
}

/// Runs one macro and turns its error, if any, into `compile_error!`s.
fn expand(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
    f: impl FnOnce(
        proc_macro2::TokenStream,
        proc_macro2::TokenStream,
    ) -> syn::Result<proc_macro2::TokenStream>,
) -> TokenStream {
    let tokens = f(attr, item).unwrap_or_else(syn::Error::into_compile_error);
    if std::env::var_os("POOL_SERVER_MACROS_DEBUG").is_some() {
        eprintln!("{tokens}");
    }
    tokens.into()
}

fn expand_route(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let lit = parse_attr(attr)?;
    let item: syn::Item = syn::parse2(item)?;
    let syn::Item::Fn(item) = item else {
        return Err(syn::Error::new_spanned(
            item,
            "`#[route]` goes on a function, such as `fn index() -> &'static str`",
        ));
    };
    // Validate the string first, then the signature.
    let result = route::parse(&lit).and_then(|spec| {
        let target = codegen::Target::Route(&spec, &lit);
        let args = args::classify(&item.sig, &target)?;
        Ok(codegen::route(&item, &target, &args))
    });
    keep_item_on_error(item, result)
}

fn expand_fallback(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let item: syn::Item = syn::parse2(item)?;
    let syn::Item::Fn(item) = item else {
        return Err(syn::Error::new_spanned(
            item,
            "`#[fallback]` goes on a function, such as `fn not_found(req: &Request) -> StatusCode`",
        ));
    };
    let target = codegen::Target::Fallback;
    let result = if attr.is_empty() {
        args::classify(&item.sig, &target).map(|args| codegen::route(&item, &target, &args))
    } else {
        Err(syn::Error::new_spanned(
            attr,
            "`#[fallback]` takes no arguments: it answers every path no route knows",
        ))
    };
    keep_item_on_error(item, result)
}

/// Keeps the function in the output even when its attribute failed, so the
/// user sees no unrelated "cannot find function" errors.
fn keep_item_on_error(
    item: syn::ItemFn,
    result: syn::Result<proc_macro2::TokenStream>,
) -> syn::Result<proc_macro2::TokenStream> {
    match result {
        Ok(tokens) => Ok(tokens),
        Err(error) => {
            let mut tokens = quote::ToTokens::into_token_stream(item);
            tokens.extend(error.into_compile_error());
            Ok(tokens)
        }
    }
}

/// The attribute's arguments: exactly one string literal.
fn parse_attr(attr: proc_macro2::TokenStream) -> syn::Result<syn::LitStr> {
    use syn::parse::Parser;

    const EXPECTED: &str =
        "expected the method and path as one string, such as `#[route(\"GET /users/{id}\")]`";
    let parser = |input: syn::parse::ParseStream<'_>| {
        if input.is_empty() {
            return Err(syn::Error::new(proc_macro2::Span::call_site(), EXPECTED));
        }
        let lit: syn::LitStr = input
            .parse()
            .map_err(|err| syn::Error::new(err.span(), EXPECTED))?;
        if input.is_empty() {
            return Ok(lit);
        }
        input.parse::<Token![,]>()?;
        let rest: proc_macro2::TokenStream = input.parse()?;
        if rest.is_empty() {
            return Ok(lit); // a trailing comma
        }
        Err(syn::Error::new_spanned(
            rest,
            "unexpected argument; `#[route]` takes only the string, such as `#[route(\"GET /users/{id}\")]`",
        ))
    };
    parser.parse2(attr)
}
