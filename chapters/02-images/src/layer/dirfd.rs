//! Small operations on a directory descriptor that creating a layer's
//! files needs: make or reuse a directory, make room for an entry, and set
//! extended attributes — never through a symlink.

use std::ffi::{CStr, CString};
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::Mode;
use nix::unistd::UnlinkatFlags;

use super::safe::{explain_open_error, open_dir_in_root};

/// The extended attributes of an entry (pax `SCHILY.xattr.NAME` records)
/// that a layer may set: `user.*` and file capabilities
/// (`security.capability`, as `ping` has). `trusted.*` is never taken from
/// a layer — `trusted.overlay.*` would let it forge overlayfs metadata — and
/// other `security.*` attributes belong to the host's policy.
pub(super) fn wanted_xattrs<R: Read>(
    entry: &mut tar::Entry<'_, R>,
) -> io::Result<Vec<(CString, Vec<u8>)>> {
    let mut out = Vec::new();
    let Some(extensions) = entry.pax_extensions()? else {
        return Ok(out);
    };
    for ext in extensions {
        let ext = ext?;
        let Some(name) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") else {
            continue;
        };
        if name.starts_with(b"user.") || name == b"security.capability" {
            if let Ok(name) = CString::new(name) {
                out.push((name, ext.value_bytes().to_vec()));
            }
        }
    }
    Ok(out)
}

/// Sets extended attributes on an open file or directory.
pub(super) fn set_xattrs(fd: &impl AsFd, xattrs: &[(CString, Vec<u8>)]) -> Result<(), String> {
    for (name, value) in xattrs {
        // SAFETY: fsetxattr reads the NUL-terminated name and `value.len()`
        // bytes of `value`, both alive for the call.
        let rc = unsafe {
            libc::fsetxattr(
                fd.as_fd().as_raw_fd(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        if rc != 0 {
            return Err(format!(
                "set extended attribute {name:?}: {}",
                io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}
// ANCHOR: replace_non_dir

/// Makes room for a new non-directory entry: a later tar entry replaces an
/// earlier one of the same name. An empty directory is replaced too; a
/// non-empty one is an error.
pub(super) fn replace_non_dir(dir: BorrowedFd<'_>, name: &CStr) -> Result<(), String> {
    match nix::unistd::unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(Errno::EISDIR) => {
            nix::unistd::unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::RemoveDir)
                .map_err(|e| format!("replace directory {name:?}: {e}"))
        }
        Err(e) => Err(format!("replace {name:?}: {e}")),
    }
}
// ANCHOR_END: replace_non_dir

// ANCHOR: make_dir
/// Creates a directory, or reuses one an earlier entry created. Returns it
/// opened, without following a symlink.
pub(super) fn make_dir(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, String> {
    match nix::sys::stat::mkdirat(Some(dir.as_raw_fd()), name, Mode::from_bits_truncate(0o700)) {
        Ok(()) => {}
        Err(Errno::EEXIST) => {
            let st =
                nix::sys::stat::fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW)
                    .map_err(|e| format!("stat: {e}"))?;
            let kind = st.st_mode & libc::S_IFMT;
            if kind == libc::S_IFLNK {
                // Legitimate layers never list a path twice; a directory
                // over a symlink is how hostile ones chmod through a link.
                return Err(
                    "a directory entry over a symlink that this layer created earlier".into(),
                );
            }
            if kind != libc::S_IFDIR {
                replace_non_dir(dir, name)?;
                nix::sys::stat::mkdirat(
                    Some(dir.as_raw_fd()),
                    name,
                    Mode::from_bits_truncate(0o700),
                )
                .map_err(|e| format!("mkdir: {e}"))?;
            }
        }
        Err(e) => return Err(format!("mkdir: {e}")),
    }
    open_dir_in_root(dir, name).map_err(|e| explain_open_error(&e))
}
// ANCHOR_END: make_dir
