//! Request bodies as they arrive: in memory up to `body_buffer_size` (and
//! while the server-wide `body_memory_limit` allows), then in an unnamed
//! temporary file, as nginx's `client_body_temp_path` does. The event loop
//! writes the file, so an upload of any size costs bounded memory and no
//! worker; the file has no name and vanishes when its last handle closes, on
//! every path (answered, abandoned, refused, panicked, shut down).

use std::fs::File;
use std::io::{self, Write};
use std::mem;
use std::sync::OnceLock;

use crate::config::Limits;
use crate::protocol::error::RequestError;
use crate::protocol::framer::BodyStore;
use crate::request::{Body, BodyMemory, MemoryCharge};

/// Staging room a spooling body keeps between reads.
const KEEP_STAGING: usize = 128 * 1024;

/// A body being received. The decoder appends to [`staging`](Self::staging);
/// [`settle`](Self::settle) then moves what it appended to where it belongs.
pub(crate) struct Spool {
    /// The bytes in memory: the whole body so far, or, once spooling, the
    /// ones not yet written to `file`.
    staging: Vec<u8>,
    charge: MemoryCharge,
    file: Option<File>,
    /// Bytes written to `file`.
    written: u64,
}

impl BodyStore for Spool {
    type Budget = BodyMemory;

    /// One known to be large goes to disk from its first byte.
    fn open(expected: Option<u64>, limits: &Limits) -> Result<Spool, RequestError> {
        let mut spool = Spool {
            staging: Vec::new(),
            charge: MemoryCharge::none(),
            file: None,
            written: 0,
        };
        if expected.is_some_and(|n| n > limits.body_buffer_size as u64) {
            spool.file = Some(create(limits)?);
        }
        Ok(spool)
    }

    fn staging(&mut self) -> &mut Vec<u8> {
        &mut self.staging
    }

    /// Called after each decode: keeps the body in memory while it is small
    /// and the server-wide budget allows, else writes it to the file.
    fn settle(&mut self, limits: &Limits, memory: &BodyMemory) -> Result<(), RequestError> {
        if self.file.is_none() {
            let grown = self.staging.len().saturating_sub(self.charge.bytes());
            let fits = self.staging.len() <= limits.body_buffer_size;
            if fits && (grown == 0 || memory.try_grow(&mut self.charge, grown)) {
                return Ok(());
            }
            self.file = Some(create(limits)?);
            self.charge = MemoryCharge::none();
        }
        self.write_staged()
    }

    fn finish(mut self) -> Result<Body, RequestError> {
        if self.file.is_none() {
            return Ok(Body::Memory {
                bytes: mem::take(&mut self.staging).into(),
                _charge: mem::replace(&mut self.charge, MemoryCharge::none()),
            });
        }
        self.write_staged()?;
        Ok(Body::File {
            file: self.file.take().expect("checked above"),
            len: self.written,
            loaded: OnceLock::new(),
        })
    }
}

impl Spool {
    fn write_staged(&mut self) -> Result<(), RequestError> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        if let Err(err) = file.write_all(&self.staging) {
            return Err(storage_error("cannot write a request body to disk", &err));
        }
        self.written += self.staging.len() as u64;
        self.staging.clear();
        // A spooling body keeps a couple of reads' worth of memory at most.
        if self.staging.capacity() > KEEP_STAGING {
            self.staging = Vec::new();
        }
        Ok(())
    }
}

fn create(limits: &Limits) -> Result<File, RequestError> {
    let dir = limits.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    tempfile::tempfile_in(&dir).map_err(|err| {
        storage_error(
            &format!("cannot create a temporary file in {}", dir.display()),
            &err,
        )
    })
}

/// Logs why a body could not be stored; the client gets 507 when the disk,
/// a quota or the process's file size limit is full, else 500.
fn storage_error(what: &str, err: &io::Error) -> RequestError {
    log::error!("{what}: {err}");
    match err.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge => {
            RequestError::StorageFull
        }
        _ => RequestError::Storage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(buffer: usize) -> Limits {
        Limits {
            body_buffer_size: buffer,
            ..Limits::default()
        }
    }

    fn receive(spool: &mut Spool, parts: &[&[u8]], limits: &Limits, memory: &BodyMemory) {
        for part in parts {
            spool.staging().extend_from_slice(part);
            spool.settle(limits, memory).unwrap();
        }
    }

    fn contents(body: &Body) -> (bool, Vec<u8>) {
        match body {
            Body::Memory { bytes, .. } => (false, bytes.to_vec()),
            Body::File { file, len, .. } => {
                let mut out = vec![0; *len as usize];
                std::os::unix::fs::FileExt::read_exact_at(file, &mut out, 0).unwrap();
                (true, out)
            }
        }
    }

    #[test]
    fn small_bodies_stay_in_memory_and_give_their_charge_back() {
        let (limits, memory) = (limits(8), BodyMemory::new(100));
        let mut spool = Spool::open(None, &limits).unwrap();
        receive(&mut spool, &[b"abc", b"defgh"], &limits, &memory);
        assert_eq!(memory.used(), 8);
        let body = spool.finish().unwrap();
        assert_eq!(contents(&body), (false, b"abcdefgh".to_vec()));
        drop(body);
        assert_eq!(memory.used(), 0);
    }

    #[test]
    fn a_body_past_the_buffer_moves_to_disk_whole() {
        let (limits, memory) = (limits(8), BodyMemory::new(100));
        let mut spool = Spool::open(None, &limits).unwrap();
        receive(&mut spool, &[b"abcdef", b"ghijkl", b"mn"], &limits, &memory);
        assert_eq!(memory.used(), 0, "a spooled body holds no charge");
        let body = spool.finish().unwrap();
        assert_eq!(contents(&body), (true, b"abcdefghijklmn".to_vec()));
    }

    #[test]
    fn a_known_large_length_goes_to_disk_at_once() {
        let (limits, memory) = (limits(8), BodyMemory::new(100));
        let mut spool = Spool::open(Some(9), &limits).unwrap();
        receive(&mut spool, &[b"abc"], &limits, &memory);
        assert_eq!(memory.used(), 0);
        assert!(contents(&spool.finish().unwrap()).0);
    }

    #[test]
    fn bodies_go_to_disk_once_the_memory_budget_is_spent() {
        let (limits, memory) = (limits(8), BodyMemory::new(10));
        let mut first = Spool::open(None, &limits).unwrap();
        receive(&mut first, &[b"12345678"], &limits, &memory);
        let mut second = Spool::open(None, &limits).unwrap();
        receive(&mut second, &[b"abcdef"], &limits, &memory);
        assert_eq!(memory.used(), 8);
        assert!(!contents(&first.finish().unwrap()).0);
        assert_eq!(
            contents(&second.finish().unwrap()),
            (true, b"abcdef".to_vec())
        );
    }

    #[test]
    fn a_missing_temp_dir_is_a_500_not_a_panic() {
        let limits = Limits {
            body_buffer_size: 1,
            temp_dir: Some("/nonexistent/pool-server".into()),
            ..Limits::default()
        };
        assert_eq!(
            Spool::open(Some(5), &limits).err(),
            Some(RequestError::Storage)
        );
    }
}
