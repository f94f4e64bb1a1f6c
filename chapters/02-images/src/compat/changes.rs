//! What a container changed in its file system (`docker diff`).
//!
//! The image never changes: everything a container writes lands in the
//! overlay's upper directory. Reading that directory against the image's
//! layers says what happened to each path: a file there that no layer has
//! was *added*; one that a layer has was *changed* (overlayfs copied it up
//! before the write, or the container replaced it); a whiteout — a
//! character device 0/0 — means the container *deleted* what a layer had.
//!
//! The layers are looked into with the same kernel-checked resolution as
//! unpacking uses ([`crate::layer::safe`]): a layer may hold a symlink
//! `etc -> /`, and `layer/etc/passwd` must not be answered from the host.

use std::ffi::{CString, OsStr};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::Mode;

use crate::error::{IoContext, Result};
use crate::layer::safe::{join, open_dir_in_root};

/// What happened to a path, with Docker's numbers (`Kind` of
/// `GET /containers/{id}/changes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// `C`: it was in the image and is different now.
    Modified = 0,
    /// `A`: the container made it.
    Added = 1,
    /// `D`: the container removed it.
    Deleted = 2,
}

impl ChangeKind {
    /// `C`, `A` or `D`, as `docker diff` prints it.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modified => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// One changed path (absolute inside the container).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// The path as the container sees it, e.g. `/etc/hosts`.
    pub path: String,
    /// Whether it was added, modified or deleted.
    pub kind: ChangeKind,
}

/// Opens each layer directory once, to look paths up below it.
fn open_layers(lowers: &[PathBuf]) -> Result<Vec<OwnedFd>> {
    lowers
        .iter()
        .map(|dir| {
            let fd = nix::fcntl::open(
                dir,
                OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(std::io::Error::from)
            .ctx("open layer", dir)?;
            // SAFETY: open just returned this fd.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        })
        .collect()
}

/// Whether some layer has `components` (checked, relative), never
/// following a symlink on the way.
fn in_a_layer(layers: &[OwnedFd], components: &[&[u8]]) -> bool {
    let Some((name, parent)) = components.split_last() else {
        return true; // the root
    };
    let Ok(name) = CString::new(*name) else {
        return false;
    };
    layers.iter().any(|layer| {
        open_dir_in_root(layer.as_fd(), &join(parent))
            .ok()
            .and_then(|dir| {
                nix::sys::stat::fstatat(
                    Some(dir.as_raw_fd()),
                    name.as_c_str(),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                )
                .ok()
            })
            // a whiteout in a layer is not "having" the path
            .is_some_and(|st| !(st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == 0))
    })
}

// ANCHOR: changes
/// The changes in `upper` against the layers `lowers`, sorted by path.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>> {
    let layers = open_layers(lowers)?;
    let mut out = Vec::new();
    let mut pending = vec![(upper.to_path_buf(), Vec::<Vec<u8>>::new())];
    while let Some((dir, prefix)) = pending.pop() {
        for entry in std::fs::read_dir(&dir).ctx("read", &dir)? {
            let entry = entry.ctx("read", &dir)?;
            let meta = entry.metadata().ctx("stat", entry.path())?;
            let mut components = prefix.clone();
            components.push(entry.file_name().as_bytes().to_vec());
            let refs: Vec<&[u8]> = components.iter().map(Vec::as_slice).collect();
            let path = format!(
                "/{}",
                Path::new(OsStr::from_bytes(&refs.join(&b'/'))).display()
            );
            let kind = if meta.file_type().is_char_device() && meta.rdev() == 0 {
                ChangeKind::Deleted
            } else if in_a_layer(&layers, &refs) {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            };
            if meta.is_dir() {
                pending.push((entry.path(), components));
            }
            out.push(Change { path, kind });
        }
    }
    out.sort();
    Ok(out)
}
// ANCHOR_END: changes
