//! Sockets and threads: the readiness loops, each connection's state
//! machine, the worker threads that hold the loops in turn, and the builder
//! that wires them to the application layer's handler. The only layer that
//! does I/O.

pub(crate) mod conn;
pub(crate) mod engine;
pub(crate) mod event_loop;
pub(crate) mod handle;
pub(crate) mod handoff;
pub(crate) mod metrics;
pub(crate) mod outgoing;
pub mod pool;
pub(crate) mod server;
pub(crate) mod signals;
pub(crate) mod spool;
pub mod test_client;
#[cfg(test)]
mod token_model;
pub(crate) mod transport;
pub(crate) mod workers;
