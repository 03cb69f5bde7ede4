//! Request bodies of any size: past `body_buffer_size` the loop
//! spools them to an unnamed temporary file as they arrive; the handler
//! reads them back intact, and the file is gone on every path.

#[allow(dead_code)]
mod support;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use pool_server::{Request, Response};
use sha2::{Digest, Sha256};

use support::{open_in, serve, Serve, IO_TIMEOUT};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Answers with the SHA-256 of the body read through `body_reader`, its
/// length, and whether `body()` agrees.
fn digest(req: &Request) -> Response {
    let mut hasher = Sha256::new();
    let mut reader = req.body_reader();
    let mut chunk = vec![0; 64 * 1024];
    loop {
        let n = reader.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&chunk[..n]);
    }
    let whole = Sha256::digest(req.body());
    Response::text(format!(
        "{} {} {}",
        hex(&hasher.finalize()),
        req.body_len(),
        hex(&whole)
    ))
}

fn body(len: usize) -> Vec<u8> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + IO_TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen in time");
        thread::sleep(Duration::from_millis(10));
    }
}

/// A server that spools past 16 KiB into `dir`; its handler answers the
/// digest and how many files in `dir` it saw open while it ran.
fn upload_server(dir: PathBuf) -> Serve {
    serve(move |b| {
        b.max_body_size(64 * 1024 * 1024)
            .body_buffer_size(16 * 1024)
            .temp_dir(dir.clone())
            .handler(move |req| {
                let spooled = open_in(&dir);
                let text = String::from_utf8(digest(req).body().to_vec()).unwrap();
                Response::text(format!("{text} spooled={spooled}"))
            })
    })
}

#[test]
fn a_large_upload_arrives_intact_and_its_file_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let server = upload_server(dir.path().to_owned());
    let data = body(8 * 1024 * 1024 + 3);
    let want = hex(&Sha256::digest(&data));

    let mut client = server.client();
    let head = format!(
        "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        data.len()
    );
    client.send(head.as_bytes());
    client.send(&data);
    let response = client.response();
    assert_eq!(
        response.text(),
        format!("{want} {} {want} spooled=1", data.len())
    );

    // Chunked, on the same connection.
    client.send(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for piece in data.chunks(100_000) {
        client.send(format!("{:x}\r\n", piece.len()).as_bytes());
        client.send(piece);
        client.send(b"\r\n");
    }
    client.send(b"0\r\n\r\n");
    assert_eq!(
        client.response().text(),
        format!("{want} {} {want} spooled=1", data.len())
    );

    wait_for("the temporary files' removal", || open_in(dir.path()) == 0);
}

#[test]
fn a_small_body_stays_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = upload_server(dir.path().to_owned());
    let data = body(1000);
    let want = hex(&Sha256::digest(&data));
    let mut client = server.client();
    client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    client.send(&data);
    assert_eq!(
        client.response().text(),
        format!("{want} 1000 {want} spooled=0")
    );
}

#[test]
fn a_client_that_leaves_mid_upload_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = upload_server(dir.path().to_owned());
    let mut stream = support::connect(server.addr());
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        .unwrap();
    stream.write_all(&body(1_000_000)).unwrap();
    wait_for("the spool file", || open_in(dir.path()) == 1);
    drop(stream);
    wait_for("the spool file's removal", || open_in(dir.path()) == 0);

    // The server goes on serving.
    let mut client = server.client();
    client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(client.response().status, 200);
}

#[test]
fn a_body_that_cannot_be_stored_gets_a_500_and_the_server_goes_on() {
    // A missing directory is refused by build()...
    let missing = pool_server::Server::builder()
        .bind("127.0.0.1:0")
        .temp_dir("/nonexistent/pool-server-spool")
        .build();
    assert!(missing.is_err_and(|err| err.is_config()));
    // ...so take away a directory that was there: files cannot be made.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let server = serve(move |b| b.body_buffer_size(1024).temp_dir(path).handler(digest));
    drop(dir);
    let mut client = server.client();
    client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    client.send(&body(5000));
    let response = client.response();
    assert_eq!(response.status, 500, "{response:?}");
    assert!(response.connection_has("close"));

    let mut client = server.client();
    client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(client.response().status, 200);
}

/// A handler keeps an upload under its final name: the spooled file is
/// named, not copied, and stays whole after the request is gone.
#[test]
fn a_handler_keeps_an_upload_under_a_name() {
    let spool = tempfile::tempdir().unwrap();
    let kept_dir = spool.path().join("kept");
    std::fs::create_dir(&kept_dir).unwrap();
    let kept = kept_dir.join("upload.bin");
    let target = kept.clone();
    let dir = spool.path().to_owned();
    let server = serve(move |b| {
        b.max_body_size(64 * 1024 * 1024)
            .body_buffer_size(16 * 1024)
            .temp_dir(dir)
            .handler(move |req| match req.persist_body(&target) {
                Ok(n) => Response::text(format!("kept {n}")),
                Err(err) => {
                    Response::text(err.to_string()).with_status(pool_server::StatusCode::CONFLICT)
                }
            })
    });
    let data = body(3 * 1024 * 1024 + 1);
    let mut client = server.client();
    let head = format!(
        "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        data.len()
    );
    client.send(head.as_bytes());
    client.send(&data);
    assert_eq!(client.response().text(), format!("kept {}", data.len()));
    // The request, and its handle on the file, are gone; the name stays.
    drop(client);
    drop(server);
    assert_eq!(
        hex(&Sha256::digest(std::fs::read(&kept).unwrap())),
        hex(&Sha256::digest(&data))
    );
    assert_eq!(open_in(spool.path()), 0, "no spool file is left open");
}
