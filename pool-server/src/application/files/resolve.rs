//! From a request path, still percent-encoded, to a file inside a root
//! directory, or a refusal. Three steps: [`relative`] checks every segment
//! without touching the disk, [`confine`] canonicalizes the joined path
//! (resolving symlinks) and checks that it is still under the root, then
//! [`Root::open`] opens the canonical path so that the check still holds
//! when the file is opened.
//!
//! The path is never handed to the OS as the client wrote it: it is split
//! on `/`, each segment decoded and checked on its own, and only segments
//! that are one plain file name are pushed onto the root. So `..`, an
//! absolute path or a drive prefix can never replace or climb out of the
//! root, however it was encoded.
//!
//! Between [`confine`] and the open, someone who can write under the root
//! may swap a directory or file for a symlink (out of the root, or to a
//! dotfile). On Linux the open is `openat2` beneath a descriptor of the
//! root with `RESOLVE_BENEATH` and `RESOLVE_NO_SYMLINKS`: the canonical
//! path has no symlink left, so the kernel walks exactly the components
//! `confine` checked, or refuses. Elsewhere, and where `openat2` is
//! unavailable (kernels before 5.6, some seccomp filters), the canonical
//! path is opened by name as before, and that swap is not caught.

use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use http::StatusCode;

use crate::application::params::percent_decode;

/// Why a path is refused; each maps to the status the client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// 404: a traversal attempt, a dotfile, a missing file, or one outside
    /// the root. The same answer as for a file that does not exist, so a
    /// probe learns nothing about what lies outside.
    NotFound,
    /// 400: bytes that no file name under the root may contain: an
    /// encoded `/` or `\`, a backslash, NUL, or a name that is not UTF-8.
    BadRequest,
}

impl Refused {
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Refused::NotFound => StatusCode::NOT_FOUND,
            Refused::BadRequest => StatusCode::BAD_REQUEST,
        }
    }
}

/// The relative path that `rel` (after the mount prefix, percent-encoded,
/// with or without a leading `/`) names, built from checked segments only.
/// A trailing `/` is allowed (the caller decides what it means for a
/// directory) and leaves no segment behind.
pub(crate) fn relative(rel: &str, dotfiles: bool) -> Result<PathBuf, Refused> {
    let rel = rel.strip_prefix('/').unwrap_or(rel);
    let mut path = PathBuf::new();
    if rel.is_empty() {
        return Ok(path);
    }
    let mut segments = rel.split('/').peekable();
    let mut first = true;
    while let Some(raw) = segments.next() {
        let last = segments.peek().is_none();
        if raw.is_empty() {
            // `a//b`, or `//etc/passwd` after the prefix: a client that
            // means a file never sends an empty segment; only a trailing
            // slash is allowed.
            if last {
                break;
            }
            return Err(Refused::NotFound);
        }
        let name = percent_decode(raw).ok_or(Refused::BadRequest)?;
        // `%2f`, `%5c`, `\` and NUL: an encoded separator would be a second
        // segment that skipped the checks of this loop; a backslash is a
        // separator on Windows; NUL ends a path in the OS's C interface.
        if name.contains(['/', '\\', '\0']) {
            return Err(Refused::BadRequest);
        }
        if name == "." || name == ".." {
            return Err(Refused::NotFound);
        }
        if !dotfiles && name.starts_with('.') {
            return Err(Refused::NotFound);
        }
        // `C:` would make the join start at a drive on Windows.
        if first && is_drive(&name) {
            return Err(Refused::NotFound);
        }
        // Belt and braces: whatever the platform, the segment must be one
        // plain name (no root, prefix or parent component).
        let mut components = Path::new(&*name).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) => path.push(&*name),
            _ => return Err(Refused::NotFound),
        }
        first = false;
    }
    Ok(path)
}

fn is_drive(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// Canonicalizes `path` (under `root`, or a sibling of a file found there)
/// and checks that it stays inside `root` (itself canonical), unless
/// `outside_ok`. Symlinks are resolved,
/// so one that leads out of the root is refused; with `dotfiles` off, one
/// that leads to a dotfile inside the root is refused too.
pub(crate) fn confine(
    root: &Path,
    path: &Path,
    outside_ok: bool,
    dotfiles: bool,
) -> Result<PathBuf, Refused> {
    let real = path.canonicalize().map_err(|err| {
        if !is_missing(&err) {
            log::debug!("cannot resolve {}: {err}", path.display());
        }
        Refused::NotFound
    })?;
    match real.strip_prefix(root) {
        Ok(inside) => {
            let hidden = inside
                .components()
                .any(|c| c.as_os_str().as_encoded_bytes().starts_with(b"."));
            if hidden && !dotfiles {
                return Err(Refused::NotFound);
            }
        }
        Err(_) if !outside_ok => return Err(Refused::NotFound),
        Err(_) => {}
    }
    Ok(real)
}

/// The served directory: its canonical path, which [`confine`] checks
/// against, and on Linux a descriptor of it that files are opened beneath.
///
/// Opened for each request rather than kept in the `ServeDir`: the
/// directory need not exist when the `ServeDir` is made, a root that is a
/// symlink swapped by a deploy is followed at once (as before), and the
/// descriptor is then always the directory the canonical path names.
pub(crate) struct Root {
    path: PathBuf,
    /// `None` when `openat2` is unavailable: files are opened by path.
    #[cfg(target_os = "linux")]
    dir: Option<rustix::fd::OwnedFd>,
}

/// What a checked path named when it was opened.
pub(crate) enum Entry {
    /// A regular file, open for reading, with its metadata (anything
    /// else that is not a directory fails to open as not found).
    File(File, Metadata),
    /// A directory.
    Dir,
}

impl Root {
    /// Canonicalizes `dir` and, on Linux, opens it.
    pub(crate) fn new(dir: &Path) -> io::Result<Root> {
        let path = dir.canonicalize()?;
        Ok(Root {
            #[cfg(target_os = "linux")]
            dir: linux::open_root(&path)?,
            path,
        })
    }

    /// The canonical path of the root.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `real`, a canonical path that [`confine`] accepted for this
    /// root. On Linux, a symlink that appeared in it since (it had none),
    /// or a way out of the root, fails as `NotFound`: the answer a
    /// refusal by [`confine`] gets.
    pub(crate) fn open(&self, real: &Path) -> io::Result<Entry> {
        #[cfg(target_os = "linux")]
        if let Some(dir) = &self.dir {
            return linux::open_beneath(dir, &self.path, real);
        }
        open_by_path(real)
    }
}

/// The path opened by name: the fallback without `openat2`, and how
/// `ServeFile` opens the one file it was given.
pub(crate) fn open_by_path(real: &Path) -> io::Result<Entry> {
    let nonblocking = rustix::fs::OFlags::NONBLOCK.bits() as i32;
    match fs::OpenOptions::new()
        .read(true)
        .custom_flags(nonblocking)
        .open(real)
    {
        Ok(file) => entry(file),
        // A directory that may be searched but not read (mode 0711) still
        // has an index file to serve.
        Err(err)
            if err.kind() == io::ErrorKind::PermissionDenied
                && fs::metadata(real).is_ok_and(|m| m.is_dir()) =>
        {
            Ok(Entry::Dir)
        }
        Err(err) => Err(err),
    }
}

/// Sorts what was opened by its metadata (fstat, not a second lookup).
/// Only regular files are served: a FIFO, socket or device under the root
/// is not found (as nginx refuses them). Files are opened non-blocking, so
/// a FIFO without a writer cannot hold the worker in `open`; the flag does
/// nothing to a regular file's reads.
fn entry(file: File) -> io::Result<Entry> {
    let meta = file.metadata()?;
    if meta.is_dir() {
        Ok(Entry::Dir)
    } else if meta.is_file() {
        Ok(Entry::File(file, meta))
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            "not a regular file",
        ))
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io;
    use std::path::Path;
    use std::sync::Once;

    use rustix::fd::OwnedFd;
    use rustix::fs::{openat2, Mode, OFlags, ResolveFlags, CWD};
    use rustix::io::Errno;

    use super::Entry;

    /// A descriptor of the canonical `path`, or `None` when `openat2` is
    /// unavailable: ENOSYS before Linux 5.6, EPERM from the seccomp filter
    /// of older container runtimes, which deny syscalls they do not know.
    pub(super) fn open_root(path: &Path) -> io::Result<Option<OwnedFd>> {
        // A canonical path has no symlink: one found now would make the
        // descriptor another directory than the one `path` names.
        let how = ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        match openat2(CWD, path, flags, Mode::empty(), how) {
            Ok(dir) => Ok(Some(dir)),
            Err(err @ (Errno::NOSYS | Errno::PERM)) => {
                static WARNED: Once = Once::new();
                WARNED.call_once(|| {
                    log::warn!(
                        "openat2 is unavailable ({err}): static files are opened by path, \
                         and a symlink swapped in while a request is served is not caught"
                    );
                });
                Ok(None)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Opens the canonical `real` under `dir`, the descriptor of `root`.
    pub(super) fn open_beneath(dir: &OwnedFd, root: &Path, real: &Path) -> io::Result<Entry> {
        // Inside the root, relative to its descriptor, and the kernel
        // refuses any way out; outside (`confine` allowed it, so
        // `follow_symlinks_outside` is on), by the absolute path.
        let (path, beneath) = match real.strip_prefix(root) {
            Ok(inside) if inside.as_os_str().is_empty() => (Path::new("."), true),
            Ok(inside) => (inside, true),
            Err(_) => (real, false),
        };
        // `real` is canonical: a symlink in it now was swapped in after the
        // check, and may lead out of the root or to a dotfile.
        let mut how = ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        if beneath {
            how |= ResolveFlags::BENEATH;
        }
        let open = |flags: OFlags| openat2(dir, path, flags | OFlags::CLOEXEC, Mode::empty(), how);
        match open(OFlags::RDONLY | OFlags::NONBLOCK) {
            Ok(fd) => super::entry(File::from(fd)),
            Err(Errno::LOOP | Errno::XDEV) => {
                log::debug!("{} changed after it was checked", real.display());
                Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "the path changed after it was checked",
                ))
            }
            // A directory that may be searched but not read (mode 0711)
            // still has an index file to serve.
            Err(Errno::ACCESS) if open(OFlags::PATH | OFlags::DIRECTORY).is_ok() => Ok(Entry::Dir),
            Err(err) => Err(err.into()),
        }
    }
}

/// Errors that mean "no such file" to the client.
pub(crate) fn is_missing(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn segments_are_checked_before_the_disk_is_touched() {
        use Refused::{BadRequest, NotFound};
        let ok = |p: &str| Ok(PathBuf::from(p));
        let cases: &[(&str, bool, Result<PathBuf, Refused>)] = &[
            ("", false, ok("")),
            ("/", false, ok("")),
            ("a.txt", false, ok("a.txt")),
            ("/a.txt", false, ok("a.txt")),
            ("/sub/b.txt", false, ok("sub/b.txt")),
            ("/sub/", false, ok("sub")),
            ("/a%20b.txt", false, ok("a b.txt")),
            ("/caf%C3%A9", false, ok("café")),
            ("/100%", false, ok("100%")),
            ("/a..b", false, ok("a..b")),
            ("/...", true, ok("...")),
            // Traversal, however it is written.
            ("/..", false, Err(NotFound)),
            ("/../etc/passwd", false, Err(NotFound)),
            ("/sub/../../x", false, Err(NotFound)),
            ("/%2e%2e/x", false, Err(NotFound)),
            ("/%2E%2E/x", false, Err(NotFound)),
            ("/.%2e/x", false, Err(NotFound)),
            ("/./a.txt", false, Err(NotFound)),
            ("/..", true, Err(NotFound)),
            // Encoded separators and backslashes.
            ("/..%2fetc%2fpasswd", false, Err(BadRequest)),
            ("/sub%2fb.txt", false, Err(BadRequest)),
            ("/sub%2Fb.txt", false, Err(BadRequest)),
            ("/..%5c..%5cx", false, Err(BadRequest)),
            ("/sub%5Cb.txt", false, Err(BadRequest)),
            ("/sub\\b.txt", false, Err(BadRequest)),
            ("/..\\x", false, Err(BadRequest)),
            // NUL and bytes that are not UTF-8.
            ("/a.txt%00.png", false, Err(BadRequest)),
            ("/%ff", false, Err(BadRequest)),
            // Absolute paths and drive prefixes.
            ("//etc/passwd", false, Err(NotFound)),
            ("/sub//b.txt", false, Err(NotFound)),
            ("/C:/Windows", false, Err(NotFound)),
            ("/c%3a/x", false, Err(NotFound)),
            // Dotfiles, unless enabled.
            ("/.env", false, Err(NotFound)),
            ("/.git/config", false, Err(NotFound)),
            ("/sub/.hidden", false, Err(NotFound)),
            ("/%2eenv", false, Err(NotFound)),
            ("/.env", true, ok(".env")),
        ];
        for (rel, dotfiles, expected) in cases {
            assert_eq!(
                relative(rel, *dotfiles),
                *expected,
                "{rel:?} dotfiles={dotfiles}"
            );
        }
    }

    /// A root with a file, a subdirectory, a dotfile, and symlinks that
    /// stay inside or lead out; a secret file lies beside the root.
    fn tree() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        let root = base.join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("a.txt"), "a").unwrap();
        fs::write(root.join("sub/b.txt"), "b").unwrap();
        fs::write(root.join(".secret"), "s").unwrap();
        fs::write(base.join("outside.txt"), "o").unwrap();
        symlink(root.join("a.txt"), root.join("in-link")).unwrap();
        symlink(base.join("outside.txt"), root.join("out-link")).unwrap();
        symlink(&base, root.join("out-dir")).unwrap();
        symlink(root.join(".secret"), root.join("to-dotfile")).unwrap();
        (tmp, root)
    }

    #[test]
    fn resolved_paths_stay_inside_the_root_unless_allowed() {
        let (_tmp, root) = tree();
        let cases: &[(&str, bool, bool, Option<&str>)] = &[
            ("a.txt", false, false, Some("a.txt")),
            ("sub/b.txt", false, false, Some("sub/b.txt")),
            ("sub", false, false, Some("sub")),
            ("", false, false, Some("")),
            ("missing", false, false, None),
            ("a.txt/x", false, false, None),
            ("in-link", false, false, Some("a.txt")),
            ("out-link", false, false, None),
            ("out-dir/outside.txt", false, false, None),
            ("out-link", true, false, Some("../outside.txt")),
            ("out-dir/outside.txt", true, false, Some("../outside.txt")),
            ("to-dotfile", false, false, None),
            ("to-dotfile", false, true, Some(".secret")),
        ];
        for (rel, outside_ok, dotfiles, expected) in cases {
            let got = confine(&root, &root.join(rel), *outside_ok, *dotfiles);
            let expected = expected.map(|p| {
                root.join(p)
                    .components()
                    .fold(PathBuf::new(), |mut acc, c| {
                        if c == Component::ParentDir {
                            acc.pop();
                        } else {
                            acc.push(c);
                        }
                        acc
                    })
            });
            assert_eq!(got.ok(), expected, "{rel:?} outside_ok={outside_ok}");
        }
    }

    /// The contents of what `root.open` found, or `None` for a directory.
    #[cfg(target_os = "linux")]
    fn opened(root: &Root, real: &Path) -> io::Result<Option<String>> {
        use std::io::Read;
        match root.open(real)? {
            Entry::File(mut file, meta) => {
                let mut text = String::new();
                file.read_to_string(&mut text)?;
                assert_eq!(meta.len(), text.len() as u64, "{real:?}");
                Ok(Some(text))
            }
            Entry::Dir => Ok(None),
        }
    }

    /// What `confine` accepts is opened, with the descriptor or without
    /// (the fallback where `openat2` is unavailable).
    #[cfg(target_os = "linux")]
    #[test]
    fn checked_paths_open_what_they_named() {
        let (_tmp, root) = tree();
        let with_fd = Root::new(&root).unwrap();
        assert!(with_fd.dir.is_some(), "openat2 is missing on this kernel");
        let by_path = Root {
            path: with_fd.path.clone(),
            dir: None,
        };
        let cases: &[(&str, bool, Option<&str>)] = &[
            ("a.txt", false, Some("a")),
            ("sub/b.txt", false, Some("b")),
            ("in-link", false, Some("a")),
            ("out-link", true, Some("o")),
            ("out-dir/outside.txt", true, Some("o")),
            ("sub", false, None),
            ("", false, None),
            ("out-dir", true, None),
        ];
        for root_kind in [&with_fd, &by_path] {
            for (rel, outside_ok, expected) in cases {
                let real = confine(&root, &root.join(rel), *outside_ok, false).unwrap();
                let got = opened(root_kind, &real).unwrap();
                assert_eq!(got.as_deref(), *expected, "{rel:?}");
            }
        }
    }

    /// The race `openat2` closes: `confine` accepts a path, then a
    /// directory or the file in it is swapped for a symlink (out of the
    /// root, or to a dotfile) before the open. The open must not follow it.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_symlink_swapped_in_after_the_check_is_not_opened() {
        let (_tmp, root) = tree();
        let base = root.parent().unwrap();
        fs::create_dir(base.join("elsewhere")).unwrap();
        fs::write(base.join("elsewhere/b.txt"), "outside").unwrap();
        fs::create_dir(root.join(".private")).unwrap();
        fs::write(root.join(".private/b.txt"), "hidden").unwrap();
        let dir = Root::new(&root).unwrap();
        let swaps: &[(&str, &str, &Path)] = &[
            // A directory of the path, for a link out of the root.
            ("sub/b.txt", "sub", &base.join("elsewhere")),
            // The file itself, for a link out of the root.
            ("a.txt", "a.txt", &base.join("outside.txt")),
            // A directory, for a link to a dot-directory inside.
            ("sub/b.txt", "sub", &root.join(".private")),
            // The file, for a relative link to a dotfile inside.
            ("a.txt", "a.txt", Path::new(".secret")),
        ];
        for (rel, swapped, to) in swaps {
            let real = confine(&root, &root.join(rel), false, false).unwrap();
            let moved = root.join(format!("{swapped}.old"));
            fs::rename(root.join(swapped), &moved).unwrap();
            symlink(to, root.join(swapped)).unwrap();
            let got = opened(&dir, &real);
            let what = format!("{rel:?} with {swapped:?} -> {to:?}: {got:?}");
            assert_eq!(
                got.map_err(|e| e.kind()),
                Err(io::ErrorKind::NotFound),
                "{what}"
            );
            fs::remove_file(root.join(swapped)).unwrap();
            fs::rename(&moved, root.join(swapped)).unwrap();
        }
    }
}
