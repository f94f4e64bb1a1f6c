//! A container's files from outside: `docker diff` (what changed against
//! the image) and `docker cp` (stat, copy out, copy in), answered in the
//! container's view of its mounts.

use super::index::Entry;
use super::RuntimeContainers;
use crate::compat::types::*;
use crate::error::{ApiError, ApiResult};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `GET /containers/{id}/changes`: the writable layer against the image's.
pub(super) fn changes(service: &RuntimeContainers, id: &str) -> ApiResult<Vec<ContainerChange>> {
    let entry = service.entry(id)?;
    let images = service.inner.runtime.images();
    let image = images
        .resolve(&entry.container().image_id)
        .map_err(ApiError::from)?;
    // The top layer first, as overlayfs stacks them.
    let lowers: Vec<PathBuf> = image
        .layers
        .iter()
        .rev()
        .map(|d| images.layer_dir(d))
        .collect();
    let upper = service
        .inner
        .runtime
        .containers()
        .dir(&entry.id)
        .join("upper");
    let changes = minidock_images::changes::changes(&upper, &lowers)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // The mount points of the engine's own files (`/etc/hosts`, …) are
    // not the container's changes, as in Docker (which keeps them in a
    // layer of their own); nor is their directory, for them alone.
    let engine_files: Vec<String> = entry
        .container()
        .host_config
        .etc_files
        .iter()
        .map(|b| b.destination.display().to_string())
        .collect();
    let kept: Vec<_> = changes
        .into_iter()
        .filter(|c| !engine_files.contains(&c.path))
        .collect();
    let only_for_engine = |path: &str| {
        engine_files
            .iter()
            .any(|f| Path::new(f).parent() == Some(Path::new(path)))
            && !kept.iter().any(|c| c.path.starts_with(&format!("{path}/")))
    };
    Ok(kept
        .iter()
        .filter(|c| {
            !(c.kind == minidock_images::changes::ChangeKind::Modified && only_for_engine(&c.path))
        })
        .map(|c| ContainerChange {
            path: c.path.clone(),
            kind: c.kind as u8,
        })
        .collect())
}

/// `HEAD /containers/{id}/archive`: what `path` is.
pub(super) fn archive_stat(
    service: &RuntimeContainers,
    id: &str,
    path: &str,
) -> ApiResult<ContainerPathStat> {
    let entry = service.entry(id)?;
    let (root, inner) = copy_root(service, &entry, path, false)?;
    let stat =
        minidock_images::copy::stat_in_root(&root, &inner).map_err(|e| copy_error(id, path, e))?;
    let mtime = std::time::UNIX_EPOCH + Duration::from_secs(stat.mtime.max(0) as u64);
    Ok(ContainerPathStat {
        name: stat.name,
        size: stat.size,
        mode: stat.mode,
        mtime: crate::time::rfc3339(mtime),
        link_target: stat.link_target,
    })
}

/// `GET /containers/{id}/archive`: `path` as a tar stream.
pub(super) fn archive_get(
    service: &RuntimeContainers,
    id: &str,
    path: &str,
    out: &mut dyn std::io::Write,
) -> ApiResult<()> {
    let entry = service.entry(id)?;
    let (root, inner) = copy_root(service, &entry, path, false)?;
    minidock_images::copy::archive_from_root(&root, &inner, out)
        .map(drop)
        .map_err(|e| copy_error(id, path, e))
}

/// `PUT /containers/{id}/archive`: a tar stream unpacked into `path`.
pub(super) fn archive_put(
    service: &RuntimeContainers,
    id: &str,
    path: &str,
    tar: &mut dyn std::io::Read,
) -> ApiResult<()> {
    let entry = service.entry(id)?;
    let (root, inner) = copy_root(service, &entry, path, true)?;
    // What is copied in belongs to the container's root, as in Docker.
    minidock_images::copy::extract_into_root(&root, &inner, tar, (0, 0))
        .map_err(|e| copy_error(id, path, e))
}

/// Where `docker cp` finds `path`: the host directory that holds it and
/// the path inside that directory. The engine sees the overlay mount
/// (`merged/`), not the mounts PID 1 made in its own namespace, so the
/// path is resolved in the container's view ([`crate::engine::copy_view`]):
/// a path under a bind mount or a volume — directly or through the
/// container's symlinks — is answered from the mount's host directory
/// (`writing` into a read-only one is refused), and a path under a
/// tmpfs, `/proc`, `/sys` or `/dev` is refused rather than answered
/// wrongly.
fn copy_root(
    service: &RuntimeContainers,
    entry: &Entry,
    path: &str,
    writing: bool,
) -> ApiResult<(PathBuf, String)> {
    use crate::engine::copy_view::{Mounted, View};
    let container = entry.container();
    let binds = container.host_config.binds.iter().map(|b| {
        let mounted = Mounted::Dir {
            source: b.source.clone(),
            read_only: b.read_only,
        };
        (b.destination.clone(), mounted)
    });
    let tmpfs = entry
        .mounts
        .iter()
        .filter(|m| m.kind == "tmpfs")
        .map(|m| PathBuf::from(&m.destination))
        .chain(
            container
                .host_config
                .tmpfs
                .iter()
                .map(|t| t.destination.clone()),
        )
        .map(|d| (d, Mounted::Refused("a tmpfs mounted in the container")));
    let kernel = ["/proc", "/sys", "/dev"].map(|m| {
        (
            PathBuf::from(m),
            Mounted::Refused("a kernel file system mounted in the container"),
        )
    });
    let dir = service.inner.runtime.containers().dir(&entry.id);
    let view = View {
        merged: dir.join("merged"),
        mounts: binds.chain(tmpfs).chain(kernel).collect(),
    };
    // `cp` into a path writes into the directory it names, links
    // followed; `cp` out of a symlink copies the link.
    let located = view.locate(path, writing, writing)?;
    // Not a mount point (a host reboot unmounted it): it is an empty
    // directory that must not be mistaken for the container's files.
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
    let unmounted = dev(&view.merged).is_none() || dev(&view.merged) == dev(&dir);
    if located.root == view.merged && unmounted {
        return Err(ApiError::Conflict(format!(
            "the file system of container {} is not mounted: start it once to mount it",
            entry.container().name
        )));
    }
    Ok((located.root, located.inner))
}

/// `docker cp`'s errors: a missing path is Docker's 404.
/// `asked` is the path as the client gave it (the store saw the part of it
/// inside a volume or bind mount).
fn copy_error(id: &str, asked: &str, err: minidock_images::Error) -> ApiError {
    match err {
        minidock_images::Error::CopyNotFound(_) => {
            ApiError::NotFound(format!("Could not find the file {asked} in container {id}"))
        }
        minidock_images::Error::Copy { .. } => ApiError::BadParameter(err.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}
