//! Out of file descriptors (EMFILE), the server pauses accepting instead of
//! spinning on a listener that stays readable, and accepts again once
//! descriptors are free. In its own test binary: it lowers the process's
//! descriptor limit.

#[allow(dead_code)]
mod support;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

use rlimit::Resource;

use support::{serve_echo_path, Client};

/// CPU time this process has used, read from a `/proc/self/stat` opened
/// in advance (with no descriptors left, it could not be opened later).
struct CpuClock(File);

impl CpuClock {
    fn open() -> CpuClock {
        CpuClock(File::open("/proc/self/stat").unwrap())
    }

    /// User plus system time, in clock ticks.
    fn ticks(&mut self) -> u64 {
        let mut stat = String::new();
        self.0.seek(SeekFrom::Start(0)).unwrap();
        self.0.read_to_string(&mut stat).unwrap();
        // After the command name, which ends with ')': utime is the 12th field, stime the 13th.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }
}

/// The descriptor number the next `open` or `socket` would get.
fn lowest_free_fd() -> u64 {
    let probe = File::open("/dev/null").unwrap();
    probe.as_raw_fd() as u64
}

#[test]
fn out_of_descriptors_the_server_backs_off_then_recovers() {
    let server = serve_echo_path();
    let mut clock = CpuClock::open();
    let (soft, hard) = Resource::NOFILE.get().unwrap();
    // Room for one descriptor: the client's socket takes it, so the server's
    // accept fails with EMFILE and keeps failing while the limit stands.
    Resource::NOFILE.set(lowest_free_fd() + 1, hard).unwrap();
    let mut client = Client::new(TcpStream::connect(server.addr()).unwrap());
    client.send(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n");

    let before = clock.ticks();
    client.assert_open(Duration::from_secs(1));
    let used = clock.ticks() - before;
    Resource::NOFILE.set(soft, hard).unwrap();
    // Fails after IO_TIMEOUT: a loop that gave up accepting never answers.
    let response = client.response();

    // A loop spinning on EMFILE burns a whole core: about 100 ticks a second.
    assert!(
        used < 30,
        "{used} clock ticks of CPU in 1 s while out of descriptors"
    );
    assert_eq!(response.status, 200, "{client:?}");
    assert_eq!(response.text(), "/after");
}
