//! Spare I/O buffers. A connection between requests holds no buffer: its
//! read and write buffers go back to a few spares of the thread that used
//! them, and the next request, on any connection, takes one instead of
//! allocating. That keeps an idle connection to a few hundred bytes
//! without an allocation per request.

use std::cell::RefCell;
use std::mem;

use super::KEEP_BUFFER;

/// Spares one event loop keeps: a loop has many connections between a read
/// and their hand-off, a worker one at a time.
pub(crate) const LOOP_SPARES: usize = 32;
const WORKER_SPARES: usize = 1;

thread_local! {
    static WORKER: RefCell<Spares> = RefCell::new(Spares::new(WORKER_SPARES));
}

/// Empty buffers that kept their allocation, at most `max` of them.
pub(crate) struct Spares {
    free: Vec<Vec<u8>>,
    max: usize,
}

impl Spares {
    pub(crate) fn new(max: usize) -> Spares {
        Spares {
            free: Vec::new(),
            max,
        }
    }

    /// Gives `buf` a spare allocation if it has none.
    pub(crate) fn lend(&mut self, buf: &mut Vec<u8>) {
        if buf.capacity() == 0 {
            if let Some(spare) = self.free.pop() {
                *buf = spare;
            }
        }
    }

    /// Takes the allocation of the empty `buf`; a large one is freed.
    pub(crate) fn reclaim(&mut self, buf: &mut Vec<u8>) {
        debug_assert!(buf.is_empty(), "only empty buffers are reclaimed");
        let buf = mem::take(buf);
        if buf.capacity() > 0 && buf.capacity() <= KEEP_BUFFER && self.free.len() < self.max {
            self.free.push(buf);
        }
    }

    /// Runs `f` with the spares of this worker thread.
    pub(crate) fn on_worker<R>(f: impl FnOnce(&mut Spares) -> R) -> R {
        WORKER.with(|spares| f(&mut spares.borrow_mut()))
    }
}
