//! Uploads of any size: `POST /upload` saves the body to a file and answers
//! its length and SHA-256, computed while copying.
//!
//! ```text
//! cargo run --example upload               # saves into the system's temporary directory
//! cargo run --example upload -- /srv/in    # or into a directory of your choice
//! head -c 300M /dev/urandom > big.bin
//! curl -X POST -T big.bin http://127.0.0.1:7878/upload  # streams the file from disk
//!                                          # 314572800 bytes, sha256 <hex>, saved as <path>
//! sha256sum big.bin                        # the same hex
//! curl -i -X POST http://127.0.0.1:7878/upload -d ''  # 0 bytes: the digest of nothing
//! ```
//!
//! The server receives the whole body before the handler runs. Past
//! `body_buffer_size` (64 KiB by default) it writes it, as it arrives, to an
//! unnamed temporary file in `temp_dir`, so a large upload costs disk, not
//! memory, and holds no worker while it arrives. The handler then reads it
//! with `Request::body_reader`, a buffer at a time. Bodies are limited to
//! 8 GiB here (413 past it); the default limit is 2 MiB. Set `RUST_LOG`
//! (for example `RUST_LOG=debug`) to change the log level.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use pool_server::{route, routes, Request, Server, State, StatusCode};
use sha2::{Digest, Sha256};

/// Where uploads go, and the number of the next one.
#[derive(Debug)]
struct Uploads {
    dir: PathBuf,
    next: AtomicU64,
}

impl Uploads {
    /// A new file for an upload; `create_new`, so an earlier one is never
    /// overwritten (the time in the name keeps the counters of two runs
    /// apart).
    fn create(&self) -> io::Result<(PathBuf, File)> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("upload-{now}-{n}.bin"));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok((path, file))
    }
}

#[route("POST /upload")]
fn upload(req: &Request, uploads: State<Uploads>) -> Result<String, (StatusCode, String)> {
    let (path, file) = uploads.create().map_err(refuse)?;
    let (len, digest) = copy_hashing(req.body_reader(), file).map_err(|err| {
        // Leave no partial file behind; the error to report is the copy's.
        let _ = std::fs::remove_file(&path);
        refuse(err)
    })?;
    let line = format!("{len} bytes, sha256 {digest}, saved as {}", path.display());
    println!("{line}");
    Ok(line + "\n")
}

/// Copies `body` into `file`, hashing it on the way; returns the length and
/// the hex digest.
fn copy_hashing(mut body: impl Read, mut file: File) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])?;
        len += n as u64;
    }
    file.flush()?;
    let digest = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((len, digest))
}

/// 507 when the disk is full, as the server itself answers when it cannot
/// spool a body; 500 for any other failure.
fn refuse(err: io::Error) -> (StatusCode, String) {
    log::error!("cannot save an upload: {err}");
    let status = match err.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            StatusCode::INSUFFICIENT_STORAGE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, format!("cannot save the upload: {err}\n"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(std::env::temp_dir, PathBuf::from);
    check_dir(&dir)?;
    // 8 GiB, or all a 32-bit `usize` can count.
    let max_body = usize::try_from(8u64 << 30).unwrap_or(usize::MAX);

    let server = Server::builder()
        .bind("127.0.0.1:7878")
        .workers(4)
        .max_body_size(max_body)
        // Spool into the upload directory too: the system's temporary
        // directory may be a small RAM-backed tmpfs.
        .temp_dir(&dir)
        .state(Uploads {
            dir: dir.clone(),
            next: AtomicU64::new(0),
        })
        .routes(routes![upload])
        .build()?;
    println!(
        "saving uploads into {}; try: curl -X POST -T FILE http://{}/upload",
        dir.display(),
        server.local_addr()
    );
    server.run()?;
    Ok(())
}

/// Fails early, with the path in the message, when `dir` is not a directory:
/// `build` does not check `temp_dir`, so a wrong one would only show as a
/// 500 for every upload past `body_buffer_size`.
fn check_dir(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(format!("{} is not a directory", dir.display()).into())
    }
}
