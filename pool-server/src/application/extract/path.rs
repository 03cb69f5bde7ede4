//! Path parameters, as generated code reads them.

use std::str::FromStr;

use http::StatusCode;

use super::{Rejection, RequestContext};
use crate::application::params::percent_decode;

/// The value of path parameter `index` (named `name`, of type `type_name`
/// in the route function), percent-decoded and parsed. Called by generated
/// code; a bad value is answered with 400 and a message naming the
/// parameter.
#[doc(hidden)]
pub fn path_param<T: FromStr>(
    cx: &RequestContext<'_>,
    index: usize,
    name: &str,
    type_name: &str,
) -> Result<T, Rejection> {
    let raw = cx.params.get(index).unwrap_or_default();
    let Some(decoded) = percent_decode(raw) else {
        return Err(bad_request(format!(
            "invalid path parameter `{name}`: not UTF-8 once percent-decoded"
        )));
    };
    decoded.parse().map_err(|_| {
        bad_request(format!(
            "invalid path parameter `{name}`: expected {type_name}"
        ))
    })
}

fn bad_request(message: String) -> Rejection {
    Rejection::new(StatusCode::BAD_REQUEST, message)
}
