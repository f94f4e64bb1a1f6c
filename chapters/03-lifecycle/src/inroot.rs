// ANCHOR: inroot_open
//! Paths inside a container's root file system, resolved as the container
//! would resolve them.
//!
//! The engine sometimes has to read or create files *inside* a rootfs from
//! the host: `/etc/passwd` for `--user`, the working directory Docker
//! creates when it is missing. A rootfs comes from an image and may be
//! hostile: `etc -> /host/etc` or `work -> ../../..`. `openat2` with
//! `RESOLVE_IN_ROOT` makes the kernel resolve every `..` and every symlink
//! as if the rootfs were `/`, so nothing outside can be reached.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Component, Path};

use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use crate::error::{Error, IoContext};

fn open_in_root(root: &File, rel: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    // openat2 refuses flags that do not go with O_PATH (openat ignores them)
    let extra = if flags.contains(OFlag::O_PATH) {
        OFlag::O_CLOEXEC
    } else {
        OFlag::O_CLOEXEC | OFlag::O_NOCTTY
    };
    let how = OpenHow::new()
        .flags(flags | extra)
        .mode(Mode::empty())
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = openat2(root.as_raw_fd(), rel, how)?;
    // SAFETY: openat2 just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
// ANCHOR_END: inroot_open
// ANCHOR: read_in_root

fn open_root(root: &Path) -> Result<File, Error> {
    File::open(root).ctx("open rootfs", root)
}

/// Most bytes read from a file of the image's `/etc`.
const MAX_ETC_FILE: u64 = 4 << 20;

/// Reads `rel` inside `root` as if `root` were `/`: symlinks and `..` cannot
/// leave it. `Ok(None)` when the file does not exist; an error when it is not
/// a regular file (a FIFO would block, a device could be endless).
pub fn read_in_root(root: &Path, rel: &str) -> Result<Option<String>, Error> {
    let path = root.join(rel);
    let root_dir = open_root(root)?;
    let file = match open_in_root(
        &root_dir,
        Path::new(rel),
        OFlag::O_RDONLY | OFlag::O_NONBLOCK,
    ) {
        Ok(fd) => File::from(fd),
        Err(nix::errno::Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(std::io::Error::from(e)).ctx("open inside the rootfs", path),
    };
    let meta = file.metadata().ctx("stat", &path)?;
    if !meta.is_file() {
        return Err(Error::User(format!(
            "{} in the container is not a regular file",
            Path::new("/").join(rel).display()
        )));
    }
    let mut text = String::new();
    file.take(MAX_ETC_FILE)
        .read_to_string(&mut text)
        .ctx("read", &path)?;
    Ok(Some(text))
}
// ANCHOR_END: read_in_root

// ANCHOR: mkdir_all_in_root
/// Creates directory `path` (absolute, as the container sees it) and its
/// missing parents inside `root`, mode 0755, like Docker does for a missing
/// working directory. Existing components are followed inside the root.
pub fn mkdir_all_in_root(root: &Path, path: &Path) -> Result<(), Error> {
    let root_dir = open_root(root)?;
    let mut done = std::path::PathBuf::from("/");
    for component in path.components() {
        let name = match component {
            Component::Normal(n) => n,
            Component::RootDir | Component::CurDir => continue,
            Component::ParentDir | Component::Prefix(_) => {
                return Err(Error::InvalidWorkingDir(path.to_path_buf()))
            }
        };
        let next = done.join(name);
        match open_in_root(&root_dir, &next, OFlag::O_PATH | OFlag::O_DIRECTORY) {
            Ok(_) => {}
            Err(nix::errno::Errno::ENOENT) => {
                let parent = open_in_root(&root_dir, &done, OFlag::O_PATH | OFlag::O_DIRECTORY)
                    .map_err(|e| Error::Io {
                        op: "open inside the rootfs",
                        path: root.join(done.strip_prefix("/").unwrap_or(&done)),
                        source: e.into(),
                    })?;
                match nix::sys::stat::mkdirat(
                    Some(parent.as_raw_fd()),
                    name,
                    Mode::from_bits_truncate(0o755),
                ) {
                    Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
                    Err(e) => {
                        return Err(Error::Io {
                            op: "create directory inside the rootfs",
                            path: root.join(next.strip_prefix("/").unwrap_or(&next)),
                            source: e.into(),
                        })
                    }
                }
            }
            Err(e) => {
                return Err(Error::Io {
                    op: "open inside the rootfs",
                    path: root.join(next.strip_prefix("/").unwrap_or(&next)),
                    source: e.into(),
                })
            }
        }
        done = next;
    }
    Ok(())
}
// ANCHOR_END: mkdir_all_in_root

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn creates_missing_directories_inside_the_root_only() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        // a hostile link that points outside when followed on the host
        std::os::unix::fs::symlink(outside.path(), root.path().join("escape")).unwrap();
        // followed inside the root, the link dangles: refused, nothing created
        assert!(mkdir_all_in_root(root.path(), Path::new("/escape/work/dir")).is_err());
        assert_eq!(
            fs::read_dir(outside.path()).unwrap().count(),
            0,
            "nothing may be created outside"
        );
        // once its target exists inside the root, the link leads there
        let inside = root.path().join(outside.path().strip_prefix("/").unwrap());
        fs::create_dir_all(&inside).unwrap();
        mkdir_all_in_root(root.path(), Path::new("/escape/work/dir")).unwrap();
        assert!(inside.join("work/dir").is_dir());
        assert_eq!(
            fs::read_dir(outside.path()).unwrap().count(),
            0,
            "nothing may be created outside"
        );
        mkdir_all_in_root(root.path(), Path::new("/srv/app")).unwrap();
        assert!(root.path().join("srv/app").is_dir());
        mkdir_all_in_root(root.path(), Path::new("/srv/app")).unwrap();
        assert!(mkdir_all_in_root(root.path(), Path::new("/srv/../x")).is_err());
    }
}
