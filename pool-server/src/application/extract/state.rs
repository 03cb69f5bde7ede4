//! Shared state: the values registered with `Builder::state`, and the
//! [`State<T>`] extractor that hands them to routes.

use std::any::{Any, TypeId};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use http::StatusCode;

use super::{FromRequest, Rejection, RequestContext, Requirements};

/// The shared values registered with `Builder::state`, one per type. A short
/// vector: servers have a handful, and a linear scan beats hashing them.
#[derive(Default)]
pub(crate) struct States {
    entries: Vec<StateEntry>,
}

struct StateEntry {
    type_id: TypeId,
    type_name: &'static str,
    value: Arc<dyn Any + Send + Sync>,
}

impl States {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.entries.push(StateEntry {
            type_id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
            value,
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn contains(&self, type_id: TypeId) -> bool {
        self.entries.iter().any(|entry| entry.type_id == type_id)
    }

    /// The name of a type registered more than once, if any.
    pub(crate) fn duplicate(&self) -> Option<&'static str> {
        self.entries.iter().enumerate().find_map(|(i, entry)| {
            self.entries[..i]
                .iter()
                .any(|earlier| earlier.type_id == entry.type_id)
                .then_some(entry.type_name)
        })
    }

    pub(super) fn get<T: 'static>(&self) -> Option<&Arc<dyn Any + Send + Sync>> {
        let type_id = TypeId::of::<T>();
        self.entries
            .iter()
            .find(|entry| entry.type_id == type_id)
            .map(|entry| &entry.value)
    }
}

impl fmt::Debug for States {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|entry| entry.type_name))
            .finish()
    }
}

/// Shared state of type `T`, registered once with
/// [`Builder::state`](crate::Builder::state) and handed to every route that
/// takes a `State<T>`. Wrap mutable state in a `Mutex` or an atomic.
///
/// A route that takes `State<T>` while no `T` is registered makes
/// [`Builder::build`](crate::Builder::build) fail. Take `Option<State<T>>`
/// for state that may be absent.
///
/// `State<T>` dereferences to `T`, and no further: for a newtype such as
/// `struct UploadDir(PathBuf)`, write `dir.0.join(..)`, or implement
/// `Deref` for the newtype.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use pool_server::{route, State};
///
/// #[route("POST /hits")]
/// fn hit(hits: State<AtomicU64>) -> String {
///     format!("hit {}", hits.fetch_add(1, Ordering::Relaxed) + 1)
/// }
/// ```
pub struct State<T>(pub Arc<T>);

impl<'r, T: Send + Sync + 'static> FromRequest<'r> for State<T> {
    type Rejection = Rejection;

    fn from_request(cx: &RequestContext<'r>) -> Result<Self, Rejection> {
        match cx
            .states
            .get::<T>()
            .map(|value| Arc::clone(value).downcast::<T>())
        {
            Some(Ok(value)) => Ok(State(value)),
            // `build` checked the requirements, so this is a bug, not a
            // client error; answer rather than panic.
            _ => {
                let message = format!(
                    "state `{}` is not registered",
                    short_type_name(std::any::type_name::<T>())
                );
                log::error!("{message}");
                Err(Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, message))
            }
        }
    }

    fn requirements(needs: &mut Requirements) {
        needs.state::<T>();
    }
}

impl<T> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State(Arc::clone(&self.0))
    }
}

impl<T: fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
    }
}

/// A type's name as a user writes it: `Mutex<Vec<AtomicU64>>` rather than
/// `std::sync::Mutex<alloc::vec::Vec<core::sync::atomic::AtomicU64>>`,
/// for messages.
pub(crate) fn short_type_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut token = String::new();
    for c in name.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            token.push(c);
            continue;
        }
        out.push_str(token.rsplit("::").next().unwrap_or(&token));
        token.clear();
        if c != ' ' || !out.is_empty() {
            out.push(c);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_read_as_written() {
        let cases = [
            ("core::sync::atomic::AtomicU64", "AtomicU64"),
            (
                "std::sync::Mutex<alloc::vec::Vec<pool_server::sse::EventSender>>",
                "Mutex<Vec<EventSender>>",
            ),
            ("(u8, &str)", "(u8, &str)"),
            ("[u8; 4]", "[u8; 4]"),
        ];
        for (full, short) in cases {
            assert_eq!(short_type_name(full), short, "{full}");
        }
    }
}
