//! What a connection does with its socket, as one trait: a TCP stream on
//! the wire; in the connection's tests, an in-memory pipe whose readiness
//! is chosen at random; later, a TLS session over the stream. Every call is
//! non-blocking: "not now" is `WouldBlock`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use mio::net::TcpStream;
use rustix::net::{sockopt, SendFlags};

pub(crate) trait Transport {
    /// Reads what is there; `Ok(0)` is the client's EOF.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes what it takes of `buf`. `more`: the body follows at once (a
    /// file after its head), so a small segment may wait for it.
    fn write(&mut self, buf: &[u8], more: bool) -> io::Result<usize>;
    /// Sends up to `count` bytes of `file` from `offset`, advancing it; or,
    /// where it cannot go straight from the file, appends them to `out` for
    /// the caller to write.
    fn send_file(
        &mut self,
        file: &File,
        offset: &mut u64,
        count: usize,
        out: &mut Vec<u8>,
    ) -> io::Result<usize>;
    /// No more output: the client sees EOF once it has read the rest.
    fn shutdown_write(&mut self) -> io::Result<()>;
    /// Closing will reset the connection rather than end it cleanly.
    fn reset_on_close(&mut self) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(self, buf)
    }

    fn write(&mut self, buf: &[u8], more: bool) -> io::Result<usize> {
        if more {
            // The kernel holds the head for the file's first bytes instead
            // of sending a small segment.
            rustix::net::send(&*self, buf, SendFlags::MORE).map_err(io::Error::from)
        } else {
            Write::write(self, buf)
        }
    }

    /// Zero-copy where the OS has it: the kernel moves the bytes.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn send_file(
        &mut self,
        file: &File,
        offset: &mut u64,
        count: usize,
        _out: &mut Vec<u8>,
    ) -> io::Result<usize> {
        loop {
            match rustix::fs::sendfile(&*self, file, Some(offset), count) {
                Err(rustix::io::Errno::INTR) => {}
                other => return other.map_err(io::Error::from),
            }
        }
    }

    /// Elsewhere: read the window into the write buffer, which the caller
    /// flushes as any other output.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn send_file(
        &mut self,
        file: &File,
        offset: &mut u64,
        count: usize,
        out: &mut Vec<u8>,
    ) -> io::Result<usize> {
        read_file_into(file, offset, count, out)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    fn reset_on_close(&mut self) -> io::Result<()> {
        sockopt::set_socket_linger(&*self, Some(Duration::ZERO)).map_err(io::Error::from)
    }
}

/// Reads `count` bytes of `file` at `offset` into `out`, advancing `offset`.
#[cfg(any(
    test,
    feature = "internals",
    not(any(target_os = "linux", target_os = "android"))
))]
pub(crate) fn read_file_into(
    file: &File,
    offset: &mut u64,
    count: usize,
    out: &mut Vec<u8>,
) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let start = out.len();
    out.resize(start + count, 0);
    let n = file.read_at(&mut out[start..], *offset)?;
    out.truncate(start + n);
    *offset += n as u64;
    Ok(n)
}
