//! Pipelining (RFC 9112 §9.3.2): requests sent back to back on one
//! connection are answered in order, however the bytes are split, and a
//! malformed request ends the pipeline after the answers before it.

#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use support::{serve_echo_path, Client};

/// Four requests, one with a body, the last one closing the connection.
const PIPELINE: &[u8] = b"GET /1 HTTP/1.1\r\n\
                          Host: x\r\n\
                          \r\n\
                          POST /2 HTTP/1.1\r\n\
                          Host: x\r\n\
                          Content-Length: 5\r\n\
                          \r\n\
                          hello\
                          GET /3 HTTP/1.1\r\n\
                          Host: x\r\n\
                          \r\n\
                          GET /4 HTTP/1.1\r\n\
                          Host: x\r\n\
                          Connection: close\r\n\
                          \r\n";

/// Reads the answers to [`PIPELINE`]: each path in order, then EOF.
#[track_caller]
fn assert_pipeline_answered(client: &mut Client) {
    for path in ["/1", "/2", "/3", "/4"] {
        let response = client.response();
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.text(), path, "{client:?}");
    }
    client.assert_closed();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = serve_echo_path();
    let mut client = server.client();

    client.send(PIPELINE);

    assert_pipeline_answered(&mut client);
}

#[test]
fn pipelined_requests_sent_one_byte_at_a_time_are_answered_in_order() {
    let server = serve_echo_path();
    let mut client = server.client();

    for byte in PIPELINE.chunks(1) {
        client.send(byte);
        // Not a synchronisation: a pause makes separate reads likely.
        thread::sleep(Duration::from_micros(300));
    }

    assert_pipeline_answered(&mut client);
}

#[test]
fn malformed_request_in_a_pipeline_is_answered_400_after_the_earlier_ones_then_closed() {
    let server = serve_echo_path();
    let mut client = server.client();

    client.send(
        b"GET /1 HTTP/1.1\r\n\
          Host: x\r\n\
          \r\n\
          GET /2 HTTP/1.1\r\n\
          Host: x\r\n\
          \r\n\
          NONSENSE\r\n\
          \r\n\
          GET /4 HTTP/1.1\r\n\
          Host: x\r\n\
          \r\n",
    );

    let first = client.response();
    let second = client.response();
    let third = client.response();
    assert_eq!(
        (first.status, first.text().as_str()),
        (200, "/1"),
        "{client:?}"
    );
    assert_eq!(
        (second.status, second.text().as_str()),
        (200, "/2"),
        "{client:?}"
    );
    assert_eq!(third.status, 400, "{client:?}");
    assert!(third.connection_has("close"), "{third:?}");
    client.assert_closed();
}

/// Requests of every framing (no body, `Content-Length`, chunked with an
/// extension and a trailer, `Expect: 100-continue` sent without waiting),
/// each answered with its method, path and body.
const MIXED: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
                       POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nbravo!!\
                       PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                       3;x=y\r\ncha\r\n4\r\nrlie\r\n0\r\nT: t\r\n\r\n\
                       \r\n\
                       POST /d HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\ndelta\
                       HEAD /e HTTP/1.1\r\nHost: x\r\n\r\n\
                       DELETE /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

const MIXED_ANSWERS: [&str; 6] = [
    "GET /a ",
    "POST /b bravo!!",
    "PUT /c charlie",
    "POST /d delta",
    "",
    "DELETE /f ",
];

/// However a pipeline is cut into reads, it frames into the same requests:
/// 40 pseudo-random cuttings (a fixed seed, so a failure reproduces).
#[test]
fn a_pipeline_cut_anywhere_frames_the_same_requests() {
    let server = support::serve(|b| {
        b.handler(|req: &pool_server::Request| {
            let body = String::from_utf8_lossy(req.body());
            pool_server::Response::text(format!("{} {} {body}", req.method(), req.path()))
        })
    });
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    for round in 0..40 {
        let mut cuts: Vec<usize> = (0..1 + next(6))
            .map(|_| 1 + next(MIXED.len() - 1))
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut client = server.client();
        let mut from = 0;
        for &cut in cuts.iter().chain([MIXED.len()].iter()) {
            client.send(&MIXED[from..cut]);
            from = cut;
            // Not a synchronisation: a pause makes each cut a read of its own.
            thread::sleep(Duration::from_millis(2));
        }
        for want in MIXED_ANSWERS {
            let mut response = match want {
                "" => client.head_response(),
                _ => client.response(),
            };
            // `Expect: 100-continue` may get its interim answer first.
            while response.status == 100 {
                response = client.response();
            }
            assert_eq!(
                response.status, 200,
                "round {round}, cuts {cuts:?}: {client:?}"
            );
            assert_eq!(
                response.text(),
                want,
                "round {round}, cuts {cuts:?}: {client:?}"
            );
        }
        client.assert_closed();
    }
}

/// The server frames at most 32 pipelined requests ahead of their answers
/// (`MAX_PIPELINE` in conn.rs); the rest wait in its buffer. Sent in one write, all 40
/// arrive before the first answer, so the last 8 must be framed from that
/// buffer after the first 32 are answered, with no new bytes to wake it.
#[test]
fn forty_pipelined_requests_in_one_write_are_all_answered_in_order() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = support::serve(|b| {
        let calls = Arc::clone(&calls);
        b.handler(move |req: &pool_server::Request| {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            pool_server::Response::text(format!("call {n} for {}", req.path()))
        })
    });
    let mut pipeline = String::new();
    for i in 1..=40 {
        let close = if i == 40 { "Connection: close\r\n" } else { "" };
        pipeline.push_str(&format!("GET /{i} HTTP/1.1\r\nHost: x\r\n{close}\r\n"));
    }
    let mut client = server.client();

    client.send(pipeline.as_bytes());

    for i in 1..=40 {
        let response = client.response();
        assert_eq!(response.status, 200, "{client:?}");
        assert_eq!(response.text(), format!("call {i} for /{i}"), "{client:?}");
    }
    client.assert_closed();
}

/// More requests than the server frames ahead of its answers, then the
/// client closes its side: the ones past that bound still wait in the
/// buffer, and EOF must not cut them off.
#[test]
fn a_long_pipeline_sent_before_a_half_close_is_answered_whole() {
    let server = serve_echo_path();
    let mut client = server.client();
    let mut pipeline = Vec::new();
    for i in 0..40 {
        pipeline.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    client.send(&pipeline);
    client
        .stream()
        .shutdown(std::net::Shutdown::Write)
        .expect("half-close");
    for i in 0..40 {
        let response = client.response();
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.text(), format!("/{i}"));
    }
    client.assert_closed();
}
