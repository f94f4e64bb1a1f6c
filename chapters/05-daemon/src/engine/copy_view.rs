//! Where `docker cp` finds a path: in the container's view of its files,
//! not the engine's.
//!
//! The engine sees the container's overlay at `merged/`. The container sees
//! more: its binds and volumes mounted over parts of it, tmpfs and kernel
//! file systems. A path is therefore resolved the way the container's own
//! kernel would resolve it: one component at a time, following symlinks
//! *in the container's view* (an absolute link starts again at the
//! container's `/`, `..` never climbs above it), and moving to a mount's
//! host directory whenever the path enters a mount. So `/link/file`, where
//! the image's `/link` points to a volume mounted at `/data`, is the
//! volume's `file`, not the empty `/data` of the overlay underneath.
//!
//! Every look at a component is made *inside* the root that holds it
//! (chapter 02's `stat_in_root` resolves within its root and never leaves
//! it), and the copy itself is made inside the root found here. A hostile
//! link can at worst point somewhere else in the container; the host's
//! files are never reached through one.

use crate::error::{ApiError, ApiResult};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Linux's limit of symlinks followed in one lookup (`ELOOP` beyond).
const MAX_LINKS: usize = 40;

/// What is mounted at a destination in the container.
#[derive(Debug, Clone)]
pub enum Mounted {
    /// A host directory (a bind, a volume's data): copies go there.
    Dir {
        /// The host directory mounted there.
        source: PathBuf,
        /// Mounted read-only: nothing is copied into it.
        read_only: bool,
    },
    /// Something the engine cannot copy from or into from outside the
    /// container (a tmpfs, `/proc`); the text says what it is.
    Refused(&'static str),
}

/// One container's view: its overlay and what is mounted over it.
#[derive(Debug, Clone)]
pub struct View {
    /// The overlay's mount point (`ROOT/containers/<id>/merged`).
    pub merged: PathBuf,
    /// Destination in the container → what is mounted there.
    pub mounts: Vec<(PathBuf, Mounted)>,
}

/// Where a container path is on the host: the root directory that holds
/// it, and the path inside that root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The host directory that holds the path (the overlay, or a mount's
    /// source), which the copy is confined to.
    pub root: PathBuf,
    /// The path inside `root`.
    pub inner: String,
}

impl View {
    // ANCHOR: locate
    /// `path` (as a client gives it) as a root and a path inside it.
    /// Symlinks on the way are followed in the container's view; the last
    /// component is followed only when `follow_last` says so (`cp` into a
    /// directory follows it, `cp` out of a symlink copies the link) or the
    /// path ends with `/` or `/.`. `writing` refuses a read-only mount.
    pub fn locate(&self, path: &str, follow_last: bool, writing: bool) -> ApiResult<Located> {
        let dot = path.ends_with("/.");
        let follow_last = follow_last || dot || path.ends_with('/');
        let resolved = self.resolve(path, follow_last)?;
        let mut located = self.root_of(&resolved, path, writing)?;
        if dot {
            // "copy what is inside": the store reads a final "." that way
            located.inner = match located.inner.as_str() {
                "/" => "/.".to_string(),
                inner => format!("{inner}/."),
            };
        }
        Ok(located)
    }

    /// `path` free of symlinks, `.` and `..`, as an absolute container path.
    fn resolve(&self, path: &str, follow_last: bool) -> ApiResult<PathBuf> {
        let mut todo: VecDeque<OsString> = parts(Path::new(path));
        let mut resolved = PathBuf::from("/");
        let mut links = 0;
        while let Some(part) = todo.pop_front() {
            if part == ".." {
                resolved.pop(); // at "/", stays at "/"
                continue;
            }
            let candidate = resolved.join(&part);
            if todo.is_empty() && !follow_last {
                return Ok(candidate);
            }
            match self.link_target(&candidate, path)? {
                None => resolved = candidate,
                Some(target) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(ApiError::BadParameter(format!(
                            "cannot copy {path}: too many levels of symbolic links"
                        )));
                    }
                    if target.is_absolute() {
                        resolved = PathBuf::from("/");
                    }
                    for part in parts(&target).into_iter().rev() {
                        todo.push_front(part);
                    }
                }
            }
        }
        Ok(resolved)
    }
    // ANCHOR_END: locate

    /// The target of `candidate` (a container path whose parents are free
    /// of symlinks) when it is a symlink, read inside its root.
    fn link_target(&self, candidate: &Path, asked: &str) -> ApiResult<Option<PathBuf>> {
        let located = self.root_of(candidate, asked, false)?;
        Ok(
            minidock_images::copy::stat_in_root(&located.root, &located.inner)
                .ok()
                .filter(|s| !s.link_target.is_empty())
                .map(|s| PathBuf::from(s.link_target)),
        )
    }

    /// The root that holds `resolved` (a path free of symlinks): the
    /// deepest mount over it, or the overlay.
    fn root_of(&self, resolved: &Path, asked: &str, writing: bool) -> ApiResult<Located> {
        let deepest = self
            .mounts
            .iter()
            .filter(|(destination, _)| resolved.starts_with(destination))
            .max_by_key(|(destination, _)| destination.components().count());
        match deepest {
            Some((destination, Mounted::Refused(what))) => Err(ApiError::BadParameter(format!(
                "cannot copy {asked}: {} is {what}; minidock copies the container's own \
                 file system, its volumes and its bind mounts only",
                destination.display()
            ))),
            Some((
                destination,
                Mounted::Dir {
                    read_only: true, ..
                },
            )) if writing => Err(ApiError::BadParameter(format!(
                "cannot copy into {asked}: {} is mounted read-only",
                destination.display()
            ))),
            Some((destination, Mounted::Dir { source, .. })) => {
                let rest = resolved.strip_prefix(destination).unwrap_or(resolved);
                Ok(Located {
                    root: source.clone(),
                    inner: format!("/{}", rest.display()),
                })
            }
            None => Ok(Located {
                root: self.merged.clone(),
                inner: resolved.display().to_string(),
            }),
        }
    }
}

/// The components of `path` that a lookup walks: names and `..`.
fn parts(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// An overlay stand-in with a volume at /data, a read-only bind at
    /// /ro and a tmpfs at /run, and links of every kind into them.
    fn view() -> (tempfile::TempDir, View) {
        let dir = tempfile::tempdir().unwrap();
        let merged = dir.path().join("merged");
        let volume = dir.path().join("volume");
        let ro = dir.path().join("ro");
        for d in [&merged, &volume, &ro] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::create_dir_all(merged.join("data")).unwrap();
        std::fs::create_dir_all(merged.join("etc")).unwrap();
        symlink("/data", merged.join("abs")).unwrap();
        symlink("../data/sub", merged.join("etc/rel")).unwrap();
        symlink("../../../../../../data", merged.join("climb")).unwrap();
        symlink("loop2", merged.join("loop1")).unwrap();
        symlink("loop1", merged.join("loop2")).unwrap();
        symlink("/run/x", merged.join("torun")).unwrap();
        symlink("/ro", merged.join("toro")).unwrap();
        std::fs::create_dir_all(volume.join("sub")).unwrap();
        // a link inside the volume back out to the overlay's /etc
        symlink("/etc", volume.join("back")).unwrap();
        let view = View {
            merged,
            mounts: vec![
                (
                    "/data".into(),
                    Mounted::Dir {
                        source: volume,
                        read_only: false,
                    },
                ),
                (
                    "/ro".into(),
                    Mounted::Dir {
                        source: ro,
                        read_only: true,
                    },
                ),
                ("/run".into(), Mounted::Refused("a tmpfs")),
            ],
        };
        (dir, view)
    }

    fn at(root: &Path, inner: &str) -> Located {
        Located {
            root: root.to_path_buf(),
            inner: inner.to_string(),
        }
    }

    #[test]
    fn links_into_a_mount_resolve_in_the_mount() {
        let (dir, view) = view();
        let volume = dir.path().join("volume");
        let merged = dir.path().join("merged");
        let get = |p: &str| view.locate(p, false, false).unwrap();
        assert_eq!(get("/abs/file"), at(&volume, "/file"));
        assert_eq!(get("/etc/rel/file"), at(&volume, "/sub/file"));
        // `..` and absolute links never climb above the container's root
        assert_eq!(get("/climb/file"), at(&volume, "/file"));
        assert_eq!(get("/../../abs/../abs/x"), at(&volume, "/x"));
        // a link in the volume that points back into the overlay
        assert_eq!(get("/data/back/hosts"), at(&merged, "/etc/hosts"));
        // the last component is the link itself, unless asked to follow
        assert_eq!(get("/abs"), at(&merged, "/abs"));
        assert_eq!(get("/abs/."), at(&volume, "/."));
        assert_eq!(view.locate("/abs", true, true).unwrap(), at(&volume, "/"));
        assert_eq!(get("/data/missing/x"), at(&volume, "/missing/x"));
    }

    #[test]
    fn hostile_links_are_refused_or_stay_inside() {
        let (_dir, view) = view();
        let err =
            |p: &str, writing: bool| view.locate(p, writing, writing).unwrap_err().to_string();
        assert!(err("/loop1/x", false).contains("too many levels"));
        assert!(err("/torun", true).contains("/run is a tmpfs"));
        assert!(err("/torun/y", false).contains("/run is a tmpfs"));
        assert!(err("/toro/y", true).contains("/ro is mounted read-only"));
        assert!(view.locate("/toro/y", false, false).is_ok());
    }
}
