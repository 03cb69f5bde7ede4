//! An embeddable HTTP/1.1 server: a fixed pool of worker threads behind one
//! readiness loop.
//!
//! Handlers are plain blocking functions. A worker runs one only when a whole
//! request (head and body) has arrived; idle keep-alive connections, slow
//! senders and slow readers wait in the event loop and hold no worker, so a
//! few workers serve thousands of connections.
//!
//! ```no_run
//! use pool_server::{Request, Response, Server, StatusCode};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     Server::builder()
//!         .bind("127.0.0.1:7878")
//!         .workers(4)
//!         .handler(|req: &Request| match req.path() {
//!             "/" => Response::text("hello"),
//!             _ => Response::status_only(StatusCode::NOT_FOUND),
//!         })
//!         .build()? // binds now
//!         .run()?; // serves until SIGINT or SIGTERM, then shuts down gracefully
//!     Ok(())
//! }
//! ```
//!
//! In tests, [`Server::spawn`] runs the server in the background and its
//! [`ServerHandle`] stops it:
//!
//! ```
//! use std::io::{Read, Write};
//! use pool_server::{Response, Server};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::builder()
//!     .bind("127.0.0.1:0")
//!     .workers(2)
//!     .handler(|_| Response::text("hi"))
//!     .build()?
//!     .spawn()?;
//! let mut stream = std::net::TcpStream::connect(server.local_addr())?;
//! stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! let mut reply = String::new();
//! stream.read_to_string(&mut reply)?;
//! assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(reply.ends_with("\r\n\r\nhi"));
//! server.shutdown()?;
//! # Ok(())
//! # }
//! ```
//!
//! Limits and timeouts, with their defaults, are in [`config`].

pub mod config;

mod body;
mod conn;
mod date;
mod encode;
mod error;
mod event_loop;
mod parse;
mod pool;
mod request;
mod response;
mod server;

pub use bytes::Bytes;
pub use http::{header, HeaderMap, Method, StatusCode, Version};

pub use crate::error::Error;
pub use crate::pool::{ExecuteError, Job, ThreadPool};
pub use crate::request::Request;
pub use crate::response::Response;
pub use crate::server::{Builder, Server, ServerHandle};
