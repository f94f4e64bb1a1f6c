//! `--privileged`: the host's devices in the container's `/dev`.
//!
//! A privileged container is meant to reach the hardware (a loop device, a
//! USB stick, `/dev/kmsg`): Docker creates a node for every device of the
//! host's `/dev` and lifts the device cgroup. Here the same nodes are made
//! with `mknod` (same type, numbers, mode and owner) on a `/dev` mounted
//! without `nodev`. Done before `pivot_root`, while the host's `/dev` is
//! still in view. This is as dangerous as it sounds: root in such a
//! container can read the host's disks.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use nix::sys::stat::{mknod, Mode, SFlag};

use crate::error::SetupError;

/// Directories of the host's `/dev` that are not devices of the host but
/// file systems of its own (the container gets its own instances).
/// `console` is the container's own terminal, when it has one.
const SKIPPED: &[&str] = &[
    "pts",
    "shm",
    "mqueue",
    "fd",
    "console",
    ".lxc",
    ".lxd-mounts",
    ".udev",
];

/// Copies every character and block device under `host` (the host's
/// `/dev`) into `dev`, keeping the paths; names `dev` already has are kept.
pub fn add_all(host: &Path, dev: &Path) -> Result<usize, SetupError> {
    let mut made = 0;
    let entries = fs::read_dir(host)
        .map_err(|e| SetupError::refused("list devices", show(host), e.to_string()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        let from = entry.path();
        let to = dev.join(&name);
        let Ok(meta) = fs::symlink_metadata(&from) else {
            continue; // gone meanwhile
        };
        let kind = meta.file_type();
        if kind.is_dir() {
            if !to.exists() {
                fs::create_dir(&to)
                    .map_err(|e| SetupError::refused("mkdir", show(&to), e.to_string()))?;
            }
            made += add_all(&from, &to)?;
        } else if (kind.is_char_device() || kind.is_block_device()) && !to.exists() {
            let flag = if kind.is_char_device() {
                SFlag::S_IFCHR
            } else {
                SFlag::S_IFBLK
            };
            let perm = Mode::from_bits_truncate(meta.mode() & 0o7777);
            mknod(&to, flag, perm, meta.rdev())
                .map_err(|e| SetupError::sys("mknod", show(&to), e))?;
            std::os::unix::fs::lchown(&to, Some(meta.uid()), Some(meta.gid()))
                .map_err(|e| SetupError::refused("chown", show(&to), e.to_string()))?;
            made += 1;
        }
    }
    Ok(made)
}

fn show(p: &Path) -> Option<String> {
    Some(p.display().to_string())
}
