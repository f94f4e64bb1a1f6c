//! Paths of a layer entry, resolved so that they cannot leave the layer.
//!
//! A layer is a tar file made by someone else. Its entries name paths, and
//! a hostile layer names paths that lead out of the directory we unpack it
//! into: `../../etc/cron.d/x`, `/etc/passwd`, or — the subtle one — a
//! symlink `a -> /etc` followed by an entry `a/passwd`. Joining strings
//! (`root.join(path)`) and then calling `open` follows that symlink out of
//! the layer.
//!
//! So paths are never joined as strings. Each entry's path is split into
//! components (refusing `..` and absolute paths outright), its parent
//! directory is opened with `openat2(2)` relative to a file descriptor of
//! the layer root, with flags that make the kernel refuse any symlink on the
//! way, and the entry itself is created relative to that parent descriptor
//! with the `*at` calls, never following a symlink at the last component
//! either.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

use nix::fcntl::OFlag;

/// Splits a tar entry path into its components, refusing those that could
/// name something outside the layer. `.` and empty components are dropped,
/// so `./usr//bin/` is `["usr", "bin"]` and `./` is the layer root (`[]`).
/// Some tools write the root as `/`: that one absolute path is accepted.
pub(crate) fn entry_components(raw: &[u8]) -> Result<Vec<&[u8]>, String> {
    let is_root = |p: &[u8]| p.split(|&b| b == b'/').all(|c| c.is_empty() || c == b".");
    if raw.first() == Some(&b'/') && !is_root(raw) {
        return Err("absolute paths are not allowed in a layer".into());
    }
    if raw.contains(&0) {
        return Err("a path may not contain a NUL byte".into());
    }
    let mut out = Vec::new();
    for component in raw.split(|&b| b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => return Err("'..' is not allowed in a layer path".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Joins checked components back into a relative path (`.` for none).
pub(crate) fn join(components: &[&[u8]]) -> CString {
    if components.is_empty() {
        return c".".to_owned();
    }
    CString::new(components.join(&b'/')).expect("components were checked for NUL bytes")
}

/// `struct open_how` of `openat2(2)`.
// Used by exercise 2.3 alone: after `start`, a building block for yours.
#[allow(dead_code)]
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Path resolution flags of `openat2(2)` (`linux/openat2.h`).
pub(crate) const RESOLVE_NO_XDEV: u64 = 0x01;
pub(crate) const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub(crate) const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub(crate) const RESOLVE_IN_ROOT: u64 = 0x10;

/// A layer's rule: inside the root, no symlink at any step, no
/// `/proc/self/fd`-style magic link, no mount point crossed.
pub(crate) const IN_LAYER: u64 =
    RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

// ANCHOR: open_in_root
/// Opens `path` (relative to `root`) with the open flags `flags`
/// (`O_CLOEXEC` is added), the kernel resolving every step of the walk
/// by the `RESOLVE_*` flags in `resolve`. With [`RESOLVE_IN_ROOT`], `..`
/// and absolute symlinks stop at `root`: nothing outside can be reached.
///
/// The one `openat2` wrapper of the crate: unpacking a layer walks with
/// [`IN_LAYER`], `docker cp` with symlinks allowed (they still resolve
/// inside the container's root).
pub(crate) fn open_in_root(
    root: BorrowedFd<'_>,
    path: &CStr,
    flags: OFlag,
    resolve: u64,
) -> io::Result<OwnedFd> {
    // exercise 2.3 resolve-in-root: open `path` below `root` with openat2 so that nothing outside can be reached.
    // hint: fill an OpenHow: the flags given plus O_CLOEXEC (as u64), mode 0, and the resolve flags given
    // hint: libc::syscall(libc::SYS_openat2, root, path, &how, size_of::<OpenHow>()) returns the fd or -1
    use std::os::fd::{AsRawFd, FromRawFd};
    let how = OpenHow {
        flags: (flags | OFlag::O_CLOEXEC).bits() as u64,
        mode: 0,
        resolve,
    };
    // SAFETY: openat2 reads `how` (a live, correctly laid out open_how of the
    // size we pass) and the NUL-terminated `path`; it returns a new fd or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this fd and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    // end exercise
}

/// Opens the directory `path` (relative, already checked) below `root`
/// by the layer's rule ([`IN_LAYER`]).
///
/// A symlink on the way gives `ELOOP`, a file gives `ENOTDIR`, a missing
/// component `ENOENT`.
pub(crate) fn open_dir_in_root(root: BorrowedFd<'_>, path: &CStr) -> io::Result<OwnedFd> {
    open_in_root(root, path, OFlag::O_DIRECTORY | OFlag::O_RDONLY, IN_LAYER)
}
// ANCHOR_END: open_in_root

/// Explains an error of [`open_dir_in_root`] in a layer's terms.
pub(crate) fn explain_open_error(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => {
            "its path goes through a symlink: writing through a symlink is not allowed".into()
        }
        Some(libc::ENOTDIR) => "its parent path contains something that is not a directory".into(),
        Some(libc::EXDEV) => "its path crosses a mount point".into(),
        Some(libc::ENOSYS) => {
            "this kernel lacks openat2 (Linux 5.6 or newer is needed to unpack layers safely)"
                .into()
        }
        _ => format!("cannot open its parent directory: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn components() {
        let ok: &[(&[u8], &[&[u8]])] = &[
            (b"a/b/c", &[b"a", b"b", b"c"]),
            (b"./a//b/./", &[b"a", b"b"]),
            (b"./", &[]),
            (b".", &[]),
            (b"/", &[]),
            (b"/./", &[]),
            (b"a/.wh..wh..opq", &[b"a", b".wh..wh..opq"]),
            (b"...", &[b"..."]),
            (b"..a/b..", &[b"..a", b"b.."]),
        ];
        for (raw, want) in ok {
            assert_eq!(
                &entry_components(raw).unwrap(),
                want,
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
        for raw in [
            &b"../x"[..],
            b"a/../../x",
            b"/etc/passwd",
            b"/./x",
            b"a/..",
            b"a\0b",
        ] {
            assert!(
                entry_components(raw).is_err(),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
        assert_eq!(join(&[]).as_bytes(), b".");
        assert_eq!(join(&[b"a", b"b"]).as_bytes(), b"a/b");
    }

    #[test]
    fn open_in_root_refuses_symlinks_on_the_way() {
        use std::os::fd::AsFd;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("real/sub")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.path().join("abs")).unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("rel")).unwrap();
        std::fs::write(dir.path().join("file"), b"").unwrap();
        let root = std::fs::File::open(dir.path()).unwrap();
        let root = root.as_fd();
        assert!(open_dir_in_root(root, c"real/sub").is_ok());
        assert!(open_dir_in_root(root, c".").is_ok());
        for (path, errno) in [
            (c"abs", libc::ELOOP),
            (c"rel/sub", libc::ELOOP),
            (c"file", libc::ENOTDIR),
            (c"missing", libc::ENOENT),
        ] {
            let err = open_dir_in_root(root, path).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(errno), "{path:?}: {err}");
        }
        // `..` cannot climb above the root even if it were let through
        let up = open_dir_in_root(root, c"../../..").unwrap();
        let st = nix::sys::stat::fstat(up.as_raw_fd()).unwrap();
        let root_st = nix::sys::stat::fstat(root.as_raw_fd()).unwrap();
        assert_eq!((st.st_dev, st.st_ino), (root_st.st_dev, root_st.st_ino));
    }
}
