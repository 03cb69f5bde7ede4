//! The shortest end-to-end check: one request over a real socket.

use std::io::{Read, Write};

#[test]
fn a_spawned_server_answers_and_shuts_down() {
    let server = pool_server::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .handler(|req| pool_server::Response::text(req.path().to_owned()))
        .build()
        .unwrap()
        .spawn()
        .unwrap();
    let mut stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    stream
        .write_all(b"GET /smoke HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.ends_with("\r\n\r\n/smoke"), "{reply}");
    server.shutdown().unwrap();
}
