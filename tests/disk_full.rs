//! A spooled upload that does not fit gets 507 and a log line,
//! never a hang, and the server goes on. "Full" is the process's file size
//! limit here (RLIMIT_FSIZE), which fails writes as a full disk does; it is
//! process-wide, hence this test binary of its own.

#[allow(dead_code)]
mod support;

use pool_server::Response;
use rlimit::Resource;
use signal_hook::consts::SIGXFSZ;

use support::serve;

#[test]
fn an_upload_past_the_room_left_gets_507() {
    // Past the limit the kernel sends SIGXFSZ, which would end the process;
    // with a handler installed the write fails with EFBIG instead.
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    signal_hook::flag::register(SIGXFSZ, flag).unwrap();
    let (_, hard) = Resource::FSIZE.get().unwrap();
    Resource::FSIZE.set(1024 * 1024, hard).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let server = serve(move |b| {
        b.max_body_size(16 * 1024 * 1024)
            .temp_dir(path)
            .handler(|req| Response::text(req.body_len().to_string()))
    });
    let mut client = server.client();
    // Just past the limit, so that what the server still discards after
    // refusing stays well under its lingering-close budget (no reset).
    const LEN: usize = 1024 * 1024 + 64 * 1024;
    client.send(format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\r\n\r\n").as_bytes());
    let _ = client.try_send(&vec![b'u'; LEN]);
    let response = client.response();
    assert_eq!(response.status, 507, "{response:?}");
    assert!(response.connection_has("close"), "{response:?}");

    let mut client = server.client();
    let ok = client.request(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(ok.text(), "2");
}
