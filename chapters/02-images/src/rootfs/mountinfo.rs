//! Is an overlay mounted here? Two questions about the path itself answer
//! it: which file system it is on (`statfs`), and whether it is the root of
//! a mount (its device is not its parent's). `/proc/self/mountinfo` would
//! answer too, but for it the kernel prints every mount of the namespace,
//! each overlay with its long options, and the engine asks at every create,
//! start and removal of a container.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::statfs::{statfs, OVERLAYFS_SUPER_MAGIC};

use crate::error::{IoContext, Result};

/// Whether `path` is the mount point of an overlay. A missing `path` is
/// not one.
pub(super) fn is_overlay_mount(path: &Path) -> Result<bool> {
    let on = match statfs(path) {
        Ok(on) => on,
        Err(Errno::ENOENT) => return Ok(false),
        Err(e) => return Err(io::Error::from(e)).ctx("statfs", path),
    };
    if on.filesystem_type() != OVERLAYFS_SUPER_MAGIC {
        return Ok(false);
    }
    // On an overlay, but maybe only inside one (the engine's root may
    // itself be on an overlay, in a container): the root of a mount has a
    // device of its own.
    let parent = path.parent().unwrap_or(Path::new("/"));
    let here = fs::metadata(path).ctx("stat", path)?;
    let above = fs::metadata(parent).ctx("stat", parent)?;
    Ok(here.dev() != above.dev())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neither_a_plain_directory_nor_a_missing_path_is_an_overlay_mount() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_overlay_mount(dir.path()).unwrap());
        assert!(!is_overlay_mount(&dir.path().join("missing")).unwrap());
        assert!(!is_overlay_mount(Path::new("/proc")).unwrap());
    }
}
