//! A network namespace that outlives its processes.
//!
//! Chapter 01 gave each container a new network namespace with `unshare`:
//! it lives as long as a process is in it, and only has `lo`. To wire a
//! container *before* its command starts — and to keep the wiring when the
//! command restarts — the engine makes the namespace first and pins it,
//! as `ip netns add NAME` does: a thread moves into a new namespace and
//! bind-mounts its `/proc/thread-self/ns/net` onto a file. The mount keeps
//! the namespace alive with nobody in it; the container's init later
//! joins it by that path with `setns`. Unmounting the file lets it go, and
//! with it every interface inside.

use crate::error::{Error, Result};
use crate::netlink::{Socket, NETLINK_ROUTE};
use nix::mount::{umount2, MntFlags};
use nix::sched::{setns, CloneFlags};
use std::fs::File;
use std::path::{Path, PathBuf};

// ANCHOR: create
/// Creates a network namespace pinned at `path` (an empty file is made
/// there). Done on a thread of its own: `unshare(CLONE_NEWNET)` moves only
/// the calling thread, and the thread ends right after, so the daemon's
/// other threads never leave the host's namespace.
pub fn create(path: &Path) -> Result<()> {
    create_then(path, |_| Ok(()))
}

/// Like [`create`], and opens a `NETLINK_ROUTE` socket inside the new
/// namespace on the same thread, before it ends: the socket a container's
/// wiring needs, without a second thread that joins the namespace again
/// ([`socket_in`]).
pub fn create_with_socket(path: &Path) -> Result<Socket> {
    create_then(path, |target| {
        Socket::open(NETLINK_ROUTE).map_err(Error::io("open a netlink socket in", target))
    })
}

/// Creates and pins the namespace on a thread of its own, then runs
/// `inside` on that thread, in the new namespace. On failure nothing of
/// it is left.
fn create_then<T: Send + 'static>(
    path: &Path,
    inside: impl FnOnce(&Path) -> Result<T> + Send + 'static,
) -> Result<T> {
    File::create(path).map_err(Error::io("create", path))?;
    let target = path.to_path_buf();
    let done = std::thread::spawn(move || -> Result<T> {
        pin(&target)?;
        inside(&target)
    })
    .join()
    .map_err(|_| Error::Invalid("the namespace thread panicked".into()))
    .and_then(|done| done);
    if done.is_err() {
        remove(path).ok();
    }
    done
}

/// Moves the calling thread into a new network namespace and pins it on
/// `target`.
fn pin(target: &Path) -> Result<()> {
    // exercise 6.3 netns-pin: make a new network namespace and pin it on `target`.
    // hint: this thread alone moves into a fresh network namespace: the call of exercise 1.1, with the one flag for the network
    // hint: a namespace lives as long as something holds it; the thread's own is a file under /proc/thread-self/ns, and mounting that file onto `target` holds it
    // hint: the mount is a bind mount (a source, a target, no file system type); nix has the call in its `mount` module
    nix::sched::unshare(CloneFlags::CLONE_NEWNET)
        .map_err(|e| Error::io("unshare(CLONE_NEWNET) for", target)(e.into()))?;
    nix::mount::mount(
        Some("/proc/thread-self/ns/net"),
        target,
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| Error::io("pin the network namespace on", target)(e.into()))?;
    Ok(())
    // end exercise
}
// ANCHOR_END: create

/// Whether `path` is a pinned namespace (a mount of nsfs), not just the
/// empty file a crash may have left.
pub fn is_pinned(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(here) = std::fs::metadata(path) else {
        return false;
    };
    let Ok(dir) = std::fs::metadata(path.parent().unwrap_or(Path::new("/"))) else {
        return false;
    };
    here.dev() != dir.dev()
}

// ANCHOR: netns_remove
/// Unpins and removes the namespace at `path`; nothing to do if it is
/// gone. The namespace itself ends when its last process leaves.
pub fn remove(path: &Path) -> Result<()> {
    if is_pinned(path) {
        umount2(path, MntFlags::MNT_DETACH)
            .map_err(|e| Error::io("unmount the network namespace", path)(e.into()))?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path)(e)),
    }
}

/// Opens a `NETLINK_ROUTE` socket inside the namespace at `path`: a thread
/// joins the namespace, opens the socket and ends. The socket stays bound
/// to that namespace, so every request on it changes the container's
/// interfaces, not the host's.
pub fn socket_in(path: &Path) -> Result<Socket> {
    let file = File::open(path).map_err(Error::io("open the network namespace", path))?;
    let shown: PathBuf = path.to_path_buf();
    std::thread::spawn(move || -> Result<Socket> {
        setns(&file, CloneFlags::CLONE_NEWNET)
            .map_err(|e| Error::io("setns into", shown.clone())(e.into()))?;
        Socket::open(NETLINK_ROUTE).map_err(Error::io("open a netlink socket in", shown))
    })
    .join()
    .map_err(|_| Error::Invalid("the namespace thread panicked".into()))?
}
// ANCHOR_END: netns_remove
