//! The whole connection (framing, the application, encoding, bodies from a
//! reader and from a file, lingering close) over an in-memory socket whose
//! readiness is chosen at random: the client's bytes arrive in random
//! pieces, reads and writes take random amounts or would block. Whatever
//! the readiness, the client gets the same answers, in order.

use super::memory::{answers, Harness, Pipe, FILE_LEN, READER_LEN};
use crate::protocol::framer::MAX_PIPELINE;

fn run(sent: &[u8], seed: Option<u64>) -> Pipe {
    Harness::new().run(sent, seed)
}

const EXCHANGE: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world\
GET /file HTTP/1.1\r\nHost: x\r\n\r\n\
HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n\
GET /reader HTTP/1.1\r\nHost: x\r\n\r\n\
POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n\
GET /last HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn a_connection_answers_the_same_whatever_the_readiness() {
    let reference = run(EXCHANGE, None);
    let expected = answers(&reference.out);
    let statuses: Vec<u16> = expected.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200; 7]);
    assert_eq!(expected[0].body, b"GET /a ");
    assert_eq!(expected[1].body, b"POST /echo hello world");
    assert_eq!(expected[2].body.len(), FILE_LEN);
    assert!(expected[2]
        .body
        .starts_with(b"abcdefghijklmnopqrstuvwxyzabc"));
    assert!(expected[3].body.is_empty());
    assert_eq!(expected[4].body, vec![b'r'; READER_LEN]);
    assert_eq!(expected[5].body, b"POST /chunks abcdefg");
    assert_eq!(expected[6].body, b"GET /last ");
    assert!(!reference.reset && !reference.shut);
    for seed in 1..=200 {
        let pipe = run(EXCHANGE, Some(seed));
        assert_eq!(answers(&pipe.out), expected, "seed {seed}");
        // The client closed first: no lingering, and never a reset.
        assert!(!pipe.reset && !pipe.shut, "seed {seed}");
    }
}

#[test]
fn a_refusal_closes_after_the_answers_before_it_whatever_the_readiness() {
    let sent = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
GET /b HTTP/1.1\r\nHost: x\r\n\r\n\
POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab\
GET /never HTTP/1.1\r\nHost: x\r\n\r\n";
    let reference = run(sent, None);
    let expected = answers(&reference.out);
    let statuses: Vec<u16> = expected.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 200, 400]);
    let close = ("connection".to_owned(), "close".to_owned());
    assert!(expected[2].fields.contains(&close), "{expected:?}");
    assert!(reference.shut && !reference.reset);
    for seed in 1..=200 {
        let pipe = run(sent, Some(seed));
        assert_eq!(answers(&pipe.out), expected, "seed {seed}");
        // Unread input: our side shuts down and lingers, rather than
        // reset the answer away.
        assert!(pipe.shut && !pipe.reset, "seed {seed}");
    }
}

#[test]
fn pipelined_past_the_bound_every_request_is_answered_in_order() {
    let mut sent = Vec::new();
    for i in 0..3 * MAX_PIPELINE {
        sent.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    for seed in [None, Some(7), Some(8), Some(9)] {
        let pipe = run(&sent, seed);
        let got = answers(&pipe.out);
        assert_eq!(got.len(), 3 * MAX_PIPELINE, "seed {seed:?}");
        for (i, answer) in got.iter().enumerate() {
            assert_eq!(
                answer.body,
                format!("GET /{i} ").as_bytes(),
                "seed {seed:?}"
            );
        }
    }
}
