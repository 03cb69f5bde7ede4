//! The access-log middleware: one Combined Log Format line per
//! request, 404s included, under the `pool_server::access` target. In its
//! own test binary: the logger is process-wide.

#[allow(dead_code)]
mod support;

use std::sync::Mutex;

use pool_server::access_log::AccessLog;
use pool_server::Response;

use support::serve;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        meta.target() == "pool_server::access"
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            LINES.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

#[test]
fn each_request_gets_one_combined_line() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let server = serve(|b| {
        b.wrap(AccessLog::combined())
            .handler(|req| match req.path() {
                "/hello" => Response::text("hello"),
                _ => Response::from(pool_server::StatusCode::NOT_FOUND),
            })
    });
    let mut client = server.client();
    client.request(b"GET /hello?x=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: test \"agent\"\r\nReferer: http://r/\r\n\r\n");
    client.request(b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");

    let lines = LINES.lock().unwrap().clone();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let first = &lines[0];
    assert!(first.starts_with("127.0.0.1 - - ["), "{first}");
    assert!(
        first.contains("] \"GET /hello?x=1 HTTP/1.1\" 200 5 \"http://r/\" \"test \\\"agent\\\"\" "),
        "{first}"
    );
    assert!(
        lines[1].contains("\"GET /missing HTTP/1.1\" 404 0 \"-\" \"-\" "),
        "{}",
        lines[1]
    );
    let micros = first.rsplit(' ').next().unwrap();
    assert!(micros.parse::<u64>().is_ok(), "{first}");
}
