//! Chunked bodies: any bytes decode to the same outcome (body and bytes
//! used, or the same refusal) whether they come at once or in random
//! reads; and what our encoder writes decodes back to the data.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pool_server::__internals::{encode_chunk, BodyDecoder, Refusal, LAST_CHUNK};
use pool_server_fuzz::{pieces, seed_and_rest, Rng};

const MAX_BODY: u64 = 4096;
const MAX_TRAILERS: usize = 512;

/// Body, raw bytes used; `None` when more input was needed.
type Outcome = Result<Option<(Vec<u8>, usize)>, Refusal>;

/// Feeds the reads one at a time, keeping unconsumed bytes as a connection
/// does, and checks the decoder's bounds on the way.
fn feed(reads: &[&[u8]], max_body: u64) -> Outcome {
    let mut decoder = BodyDecoder::chunked();
    let mut body = Vec::new();
    let mut buf = Vec::new();
    let mut used = 0;
    for read in reads {
        buf.extend_from_slice(read);
        let (consumed, done) = decoder.decode(&buf, &mut body, max_body, MAX_TRAILERS)?;
        assert!(consumed <= buf.len());
        assert!(body.len() as u64 <= max_body, "body over its limit");
        buf.drain(..consumed);
        used += consumed;
        if done {
            return Ok(Some((body, used)));
        }
        // What the decoder keeps waiting for is bounded: a size line,
        // the trailers, or the CRLF after data.
        assert!(
            buf.len() <= 4096 + 1 + read.len().max(MAX_TRAILERS) + 2,
            "holds {}",
            buf.len()
        );
    }
    Ok(None)
}

fuzz_target!(|data: &[u8]| {
    let Some((seed, rest)) = seed_and_rest(data, 3) else {
        return;
    };
    let mut rng = Rng::new(&seed[..2]);
    if seed[2] % 2 == 0 {
        let whole = feed(&[rest], MAX_BODY);
        let split = feed(&pieces(rest, &mut rng), MAX_BODY);
        assert_eq!(split, whole, "split decode disagrees");
        if let Ok(Some((body, used))) = &whole {
            assert!(
                body.len() < *used,
                "a chunked body is longer than its encoding"
            );
        }
        return;
    }
    // Round trip: the data in chunks of random sizes, maybe trailers, then
    // the next pipelined request, which is not part of the body.
    let mut encoded = Vec::new();
    let mut left = rest;
    while !left.is_empty() {
        let n = rng.size(64).min(left.len());
        encode_chunk(&mut encoded, &left[..n]);
        left = &left[n..];
    }
    if rng.next() % 2 == 0 {
        encoded.extend_from_slice(b"0\r\nx-trailer: 1\r\n\r\n");
    } else {
        encoded.extend_from_slice(LAST_CHUNK);
    }
    let framed = encoded.len();
    encoded.extend_from_slice(b"GET / HTTP/1.1\r\n");
    let reads = pieces(&encoded, &mut rng);
    let decoded = feed(&reads, MAX_BODY);
    if rest.len() as u64 <= MAX_BODY {
        assert_eq!(decoded, Ok(Some((rest.to_vec(), framed))));
    } else {
        let status = decoded.map_err(|r| r.status().as_u16());
        assert_eq!(status, Err(413), "a body over the limit");
    }
});
