//! Spare I/O buffers and requests. A connection between requests holds no
//! buffer: its read and write buffers go back to a few spares of the thread
//! that used them, and the next request, on any connection, takes one instead
//! of allocating. That keeps an idle connection to a few hundred bytes
//! without an allocation per request.
//!
//! Requests are parsed on a loop and dropped on a worker. Freed there, their
//! memory would never come back to the loop's allocator cache: the loop
//! would allocate each request from the shared heap under its lock while
//! workers free into it (glibc: pipelined requests made 0.16 futex calls
//! each, on that lock). So a worker empties each request it served and sends
//! it back with the connection, in a list the loop lent it, and the loop
//! parses the next heads into them.

use std::cell::RefCell;
use std::mem;

use super::KEEP_BUFFER;
use crate::protocol::framer::MAX_PIPELINE;
use crate::request::Request;

/// Spares one event loop keeps: a loop has many connections between a read
/// and their hand-off, a worker one at a time.
pub(crate) const LOOP_SPARES: usize = 32;
const WORKER_SPARES: usize = 1;
/// Served requests a loop keeps for the next heads: as many as 32
/// connections pipelining 16 each keep in flight. Fewer cost pipelined
/// requests 20% more CPU (`wrk` with 16 per write on 32 connections, 64
/// spares: 1.23 µs a request, 512: 1.04): each request beyond the spares is
/// allocated, and one too many freed, per batch. A spare is 312 bytes and its
/// header map's room, about 550 bytes for a load generator's head.
const SPARE_REQUESTS: usize = 16 * MAX_PIPELINE;
/// A request whose header map grew past this many headers is not kept, so
/// the spares stay near 2 MiB at most however large the heads were.
const KEEP_HEADERS: usize = 32;

thread_local! {
    static WORKER: RefCell<Recycler> = RefCell::new(Recycler::new(WORKER_SPARES));
}

/// Emptied requests, each in its box: the box is what the loop reuses (the
/// waiting request is boxed to keep idle connections small), so a
/// `Vec<Request>` would not do.
#[allow(clippy::vec_box)]
pub(crate) type Served = Vec<Box<Request>>;

/// Empty buffers that kept their allocation, at most `max` of them, and on
/// a loop, served requests and the lists that carry them back.
pub(crate) struct Recycler {
    free: Vec<Vec<u8>>,
    max: usize,
    requests: Served,
    lists: Vec<Served>,
}

impl Recycler {
    pub(crate) fn new(max: usize) -> Recycler {
        Recycler {
            free: Vec::new(),
            max,
            requests: Vec::new(),
            lists: Vec::new(),
        }
    }

    /// An emptied request to parse a head into, if one came back.
    pub(crate) fn request(&mut self) -> Option<Box<Request>> {
        self.requests.pop()
    }

    /// An empty list with room for a pipeline's requests, for a worker to
    /// send the ones it served back in.
    pub(crate) fn list(&mut self) -> Served {
        self.lists
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(MAX_PIPELINE))
    }

    /// Keeps the requests a worker sent back, and their list.
    pub(crate) fn keep(&mut self, mut served: Served) {
        for request in served.drain(..) {
            if self.requests.len() < SPARE_REQUESTS && request.headers.capacity() <= KEEP_HEADERS {
                self.requests.push(request);
            }
        }
        if self.lists.len() < self.max {
            self.lists.push(served);
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
    pub(crate) fn on_worker<R>(f: impl FnOnce(&mut Recycler) -> R) -> R {
        WORKER.with(|spares| f(&mut spares.borrow_mut()))
    }
}
