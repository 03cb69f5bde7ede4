//! The whole connection (`runtime/conn` over `protocol/framer`: reading,
//! framing, the application, encoding, bodies from memory, a reader and a
//! file, refusals, lingering close) on an in-memory socket. The same bytes
//! are served twice: with everything ready at once, and with arrivals,
//! reads and writes of random sizes that sometimes would block, as the
//! seed says. The application echoes each request, or answers `/file` and
//! `/reader`, naming the method in `x-method`.
//!
//! Checked: the connection always closes (never waits forever); what the
//! client receives is a sequence of well-formed responses, nothing after
//! one that closes; and it is the same answers whatever the readiness
//! (`Date` aside, and `100 Continue`, which is due only while the client
//! waits); never a reset.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pool_server::__internals::{answers, Answer, MemoryConnections};
use pool_server_fuzz::seed_and_rest;

thread_local! {
    static CONNECTIONS: RefCell<MemoryConnections> = RefCell::new(MemoryConnections::new());
}

fuzz_target!(|data: &[u8]| {
    let Some((seed, sent)) = seed_and_rest(data, 2) else {
        return;
    };
    let seed = u64::from(u16::from_le_bytes([seed[0], seed[1]])) + 1;
    CONNECTIONS.with(|connections| {
        let mut connections = connections.borrow_mut();
        let ready = connections.serve(sent, None);
        let random = connections.serve(sent, Some(seed));
        assert!(!ready.reset && !random.reset, "a reset");
        let expected = answers(&ready.out);
        assert_eq!(
            answers(&random.out),
            expected,
            "answered differently with other readiness"
        );
        let closes = |a: &Answer| a.field("connection") == Some("close");
        if let Some(i) = expected.iter().position(closes) {
            assert_eq!(i + 1, expected.len(), "answers after a close");
        }
    });
});
