//! The one public error type of pool-server.

use std::borrow::Cow;
use std::fmt;
use std::io;

/// An error from building, starting or stopping a [`Server`](crate::Server).
///
/// Errors are few and coarse: ask with the `is_*` methods, and read
/// [`source()`](std::error::Error::source) for the underlying I/O error.
/// The `Display` text is meant for people and may change between versions.
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// A builder setting is out of range; the text names the setting.
    Config(Cow<'static, str>),
    /// The listening socket could not be bound.
    Bind(io::Error),
    /// A thread, the poller or another OS resource could not be set up.
    Io(&'static str, io::Error),
}

impl Error {
    pub(crate) fn config(what: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind: Kind::Config(what.into()),
        }
    }

    pub(crate) fn bind(err: io::Error) -> Self {
        Error {
            kind: Kind::Bind(err),
        }
    }

    pub(crate) fn io(context: &'static str, err: io::Error) -> Self {
        Error {
            kind: Kind::Io(context, err),
        }
    }

    /// True when a builder setting was invalid (zero workers, a zero limit…).
    pub fn is_config(&self) -> bool {
        matches!(self.kind, Kind::Config(_))
    }

    /// True when the address could not be bound (in use, not permitted…).
    pub fn is_bind(&self) -> bool {
        matches!(self.kind, Kind::Bind(_))
    }

    /// True when the operating system refused a resource (threads, poller).
    pub fn is_io(&self) -> bool {
        matches!(self.kind, Kind::Io(..))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("pool_server::Error")
            .field(&self.kind)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Config(what) => write!(f, "invalid server configuration: {what}"),
            Kind::Bind(err) => write!(f, "cannot bind the listening socket: {err}"),
            Kind::Io(context, err) => write!(f, "{context}: {err}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Config(_) => None,
            Kind::Bind(err) | Kind::Io(_, err) => Some(err),
        }
    }
}

/// The text of a panic payload, for logs.
pub(crate) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> &str {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(a non-string payload)"
    }
}
