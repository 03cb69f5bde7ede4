//! From a request path, still percent-encoded, to a file inside a root
//! directory, or a refusal. Two steps: [`relative`] checks every segment
//! without touching the disk, then [`confine`] canonicalizes the joined
//! path (resolving symlinks) and checks that it is still under the root.
//!
//! The path is never handed to the OS as the client wrote it: it is split
//! on `/`, each segment decoded and checked on its own, and only segments
//! that are one plain file name are pushed onto the root. So `..`, an
//! absolute path or a drive prefix can never replace or climb out of the
//! root, however it was encoded.

use std::io;
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
}
