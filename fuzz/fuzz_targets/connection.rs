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
use pool_server::__internals::{BodyDecoder, MemoryConnections};
use pool_server_fuzz::seed_and_rest;

thread_local! {
    static CONNECTIONS: RefCell<MemoryConnections> = RefCell::new(MemoryConnections::new());
}

/// One final response: status, fields but `Date`, body.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    fields: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Answer {
    fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Splits what the client received into final responses, skipping
/// `100 Continue`.
fn answers(mut out: &[u8]) -> Vec<Answer> {
    let mut seen = Vec::new();
    while !out.is_empty() {
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let mut res = httparse::Response::new(&mut slots);
        let Ok(httparse::Status::Complete(n)) = res.parse(out) else {
            panic!("not a response: {:?}", String::from_utf8_lossy(out));
        };
        let status = res.code.unwrap();
        let fields: Vec<(String, Vec<u8>)> = res
            .headers
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
            .filter(|(name, _)| name != "date")
            .collect();
        out = &out[n..];
        if status == 100 {
            assert!(fields.is_empty(), "100 Continue has no fields");
            continue;
        }
        let mut answer = Answer {
            status,
            fields,
            body: Vec::new(),
        };
        if answer.field("x-method") == Some(b"HEAD") {
            // The head says what a GET would get; no body follows.
        } else if let Some(len) = answer.field("content-length") {
            let len: usize = std::str::from_utf8(len).unwrap().parse().unwrap();
            answer.body = out[..len].to_vec();
            out = &out[len..];
        } else if answer.field("transfer-encoding").is_some() {
            let (used, done) = BodyDecoder::chunked()
                .decode(out, &mut answer.body, u64::MAX, 1024)
                .expect("a well-formed chunked body");
            assert!(done, "a chunked body that ends");
            out = &out[used..];
        } else {
            // Delimited by the close.
            answer.body = out.to_vec();
            out = &[];
        }
        seen.push(answer);
    }
    seen
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
        let closes = |a: &Answer| a.field("connection") == Some(b"close");
        if let Some(i) = expected.iter().position(closes) {
            assert_eq!(i + 1, expected.len(), "answers after a close");
        }
    });
});
