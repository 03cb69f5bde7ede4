//! HTTP/1.1 as bytes (RFC 9112): finding and parsing request heads, decoding
//! bodies, framing a connection's input into requests, encoding responses,
//! the `Date` value, reading `Accept-Encoding`.
//! Pure code: no sockets, no threads, nothing from the runtime or
//! application layers.

pub(crate) mod accept_encoding;
pub(crate) mod body;
pub(crate) mod date;
pub(crate) mod encode;
pub(crate) mod error;
pub(crate) mod forwarded;
pub(crate) mod framer;
pub(crate) mod host;
pub(crate) mod parse;
