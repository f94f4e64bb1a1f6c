//! `--ipc container:NAME`: the other container's `/dev/shm`.
//!
//! Sharing an IPC namespace shares System V objects and message queues;
//! POSIX shared memory (`shm_open`) lives in `/dev/shm`, a tmpfs of the
//! other container's mount namespace. A plain bind mount cannot reach into
//! another mount namespace (`EINVAL`), so the helper, still single-threaded
//! and outside the container, steps into that namespace, clones its
//! `/dev/shm` as a detached mount (`open_tree(OPEN_TREE_CLONE)`), steps
//! back, and PID 1 attaches the clone in place of its own tmpfs
//! (`move_mount`). Both containers then see the same files.

use std::ffi::CString;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};

use crate::error::SetupError;

const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;

/// The cloned tree, from [`clone_shm_of`] in the helper to
/// [`attach_cloned_shm`] in PID 1 (its fork), or -1.
static CLONED: AtomicI32 = AtomicI32::new(-1);

/// Clones the `/dev/shm` of `pid`'s mount namespace. Run in the helper,
/// before it unshares its own mount namespace.
pub fn clone_shm_of(pid: i32) -> Result<(), SetupError> {
    let open = |path: String| {
        File::open(&path).map_err(|e| SetupError::refused("open", Some(path), e.to_string()))
    };
    let own = open("/proc/self/ns/mnt".to_string())?;
    let theirs = open(format!("/proc/{pid}/ns/mnt"))?;
    setns(&theirs, CloneFlags::CLONE_NEWNS)
        .map_err(|e| SetupError::sys("setns(mnt)", Some(format!("/proc/{pid}/ns/mnt")), e))?;
    let path = CString::new("/dev/shm").expect("no NUL");
    // SAFETY: open_tree reads the path we own and returns a new descriptor.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC as libc::c_uint,
        )
    };
    let cloned = if fd < 0 {
        Err(Errno::last())
    } else {
        Ok(fd as i32)
    };
    // Back home whatever happened: everything after works in our namespace.
    setns(&own, CloneFlags::CLONE_NEWNS)
        .map_err(|e| SetupError::sys("setns(mnt) back", None, e))?;
    let fd = cloned
        .map_err(|e| SetupError::sys("open_tree", Some(format!("/dev/shm of process {pid}")), e))?;
    CLONED.store(fd, Ordering::SeqCst);
    Ok(())
}

/// Mounts the tree [`clone_shm_of`] cloned on `target`. Run in PID 1.
pub fn attach_cloned_shm(target: &Path) -> Result<(), SetupError> {
    let fd = CLONED.swap(-1, Ordering::SeqCst);
    let shown = || Some(target.display().to_string());
    if fd < 0 {
        return Err(SetupError::refused(
            "attach /dev/shm",
            shown(),
            "no /dev/shm was cloned from the other container",
        ));
    }
    let empty = CString::new("").expect("no NUL");
    let to = CString::new(target.as_os_str().as_encoded_bytes())
        .map_err(|e| SetupError::refused("attach /dev/shm", shown(), e.to_string()))?;
    // SAFETY: move_mount reads the two paths we own; `fd` is the tree
    // open_tree gave us, closed right after.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            fd,
            empty.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    let result = if r < 0 { Err(Errno::last()) } else { Ok(()) };
    nix::unistd::close(fd).ok();
    result.map_err(|e| SetupError::sys("move_mount /dev/shm", shown(), e))
}
