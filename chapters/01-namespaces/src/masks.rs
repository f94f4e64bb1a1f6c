//! Masked and read-only paths: the holes in `/proc` and `/sys`.
//!
//! procfs and sysfs are not fully namespaced. `/proc/kcore` is the host's
//! physical memory, `/proc/sysrq-trigger` reboots the host, `/sys/firmware`
//! exposes its firmware tables. Docker therefore *masks* some paths
//! (something empty is mounted on top) and makes others read-only. This
//! runs after `pivot_root`, so every path is the container's.

use std::fs;
use std::path::Path;

use nix::mount::{mount, MsFlags};

use crate::error::SetupError;
use crate::rootfs::remount_read_only;

fn display(p: &Path) -> Option<String> {
    Some(p.display().to_string())
}

// ANCHOR: masked
/// Hides each path: a directory gets an empty read-only tmpfs on top, a
/// file gets `/dev/null` bind-mounted over it (reads give nothing, writes
/// vanish). Paths this kernel does not have are skipped.
///
/// `/dev/null` is checked first: if the rootfs had managed to put a
/// regular file or a symlink there, masking with it would be no masking at
/// all (runc makes the same check).
pub fn mask_paths<P: AsRef<Path>>(paths: &[P]) -> Result<(), SetupError> {
    // exercise 1.8 masked-paths: hide each masked path: read-only tmpfs on directories, /dev/null over files.
    // hint: a path is hidden by mounting something over it: an empty read-only file system over a directory, the null device over a file; a path that does not exist needs no hiding
    // hint: a bind mount of /dev/null only hides a file if it really is the null device (character device 1:3): check that first (is_char_device); fs::symlink_metadata tells a directory from a file without following a link
    // hint: both are nix::mount::mount calls: source and type "tmpfs" with MS_RDONLY over a directory, source /dev/null with MS_BIND over a file; each error becomes a SetupError naming the path
    let null = Path::new("/dev/null");
    if !crate::rootfs::is_char_device(null, 1, 3) {
        return Err(SetupError::refused(
            "mask paths",
            display(null),
            "/dev/null is not the 1:3 character device; refusing to mask with it",
        ));
    }
    for path in paths {
        let path = path.as_ref();
        let meta = match fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(SetupError::refused("lstat", display(path), e.to_string())),
        };
        let result = if meta.is_dir() {
            mount(
                Some("tmpfs"),
                path,
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                None::<&str>,
            )
        } else {
            mount(
                Some(null),
                path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
        };
        result.map_err(|e| SetupError::sys("mask", display(path), e))?;
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: masked

/// Makes each existing path read-only: bind it onto itself, then remount
/// that bind mount with `MS_RDONLY`.
pub fn readonly_paths<P: AsRef<Path>>(paths: &[P]) -> Result<(), SetupError> {
    for path in paths {
        let path = path.as_ref();
        match fs::symlink_metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(SetupError::refused("lstat", display(path), e.to_string())),
        }
        mount(
            Some(path),
            path,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| SetupError::sys("bind read-only path", display(path), e))?;
        remount_read_only(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exercise 1.8 on its own: in a thread's private mount namespace, a masked file reads
    /// empty, a masked directory is empty and read-only, and a path that does not exist is
    /// skipped.
    #[test]
    fn mask_paths_hides_files_and_directories() {
        minidock_testkit::require_root();
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().to_path_buf();
        fs::write(dir.join("secret"), "host data").unwrap();
        fs::create_dir(dir.join("hidden")).unwrap();
        fs::write(dir.join("hidden/inner"), "host data").unwrap();
        let (file, listing, write) = minidock_testkit::solo::in_new_namespaces(
            nix::sched::CloneFlags::CLONE_NEWNS,
            move || {
                mask_paths(&[dir.join("secret"), dir.join("hidden"), dir.join("absent")])
                    .expect("mask_paths");
                let file = fs::read_to_string(dir.join("secret")).expect("read the masked file");
                let listing = fs::read_dir(dir.join("hidden"))
                    .map(|d| d.count())
                    .expect("list");
                let write = fs::write(dir.join("hidden/new"), "x").map_err(|e| e.raw_os_error());
                (file, listing, write)
            },
        );
        assert_eq!(
            file, "",
            "exercise 1.8 masked-paths: a masked file still shows its data"
        );
        assert_eq!(
            listing, 0,
            "exercise 1.8 masked-paths: a masked directory still lists its files"
        );
        assert_eq!(
            write,
            Err(Some(libc::EROFS)),
            "exercise 1.8 masked-paths: a masked directory must be read-only"
        );
    }
}
