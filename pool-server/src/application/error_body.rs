//! The form of the error answers the framework makes on workers (404, 405,
//! a rejected path parameter or extractor, a panic's 500): plain text by
//! default, or what the service's renderer makes of the status and message,
//! set once with [`Builder::error_body`](crate::Builder::error_body).

use std::sync::Arc;

use http::header::CONTENT_TYPE;
use http::StatusCode;

use super::Handler;
use crate::request::Request;
use crate::response::Response;

/// Makes the answer for an error from its status and message.
pub(crate) type Renderer = dyn Fn(StatusCode, &str) -> Response + Send + Sync;

/// `endpoint`, with its error answers given to `renderer`. Without one it is
/// returned as it is.
pub(crate) fn render_errors(
    endpoint: Box<Handler>,
    renderer: Option<Arc<Renderer>>,
) -> Box<Handler> {
    let Some(renderer) = renderer else {
        return endpoint;
    };
    Box::new(move |req: &mut Request| render(&*renderer, endpoint(req)))
}

/// `response` as `renderer` makes it when it is an error answer; other
/// responses (and errors already rendered) are returned as they are.
pub(crate) fn render(renderer: &Renderer, response: Response) -> Response {
    match response.error_message() {
        Some(message) => {
            let mut rendered = renderer(response.status(), message);
            // What the error needs beside its body (`Allow` on a 405,
            // `Connection: close` after a panic) stays.
            for (name, value) in response.headers() {
                if name != CONTENT_TYPE && !rendered.headers().contains_key(name) {
                    rendered.headers_mut().append(name, value.clone());
                }
            }
            rendered
        }
        None => response,
    }
}
