//! File descriptors: only 0, 1 and 2 may cross into the container.
//!
//! Anything else the engine had open — a pipe, a log file, a directory —
//! would be a door out of the container. In CVE-2024-21626 a leaked
//! descriptor of a host directory let a container start with its working
//! directory *outside* its root. So before `execve` every descriptor above 2
//! is marked close-on-exec: still usable for reporting errors until the very
//! last moment, gone once the command runs.

use std::fs;

use crate::error::SetupError;

// ANCHOR: close_fds
/// Marks every descriptor from 3 up close-on-exec.
///
/// `close_range(3, ~0, CLOSE_RANGE_CLOEXEC)` does it in one call (Linux
/// 5.11+); older kernels get the same from a walk over `/proc/self/fd`.
pub fn close_on_exec_above_stdio() -> Result<(), SetupError> {
    // exercise 1.11 close-fds: make sure no descriptor above 2 survives the execve.
    // hint: a descriptor marked close-on-exec is closed by the execve itself: mark every one above 2 and none reaches the command
    // hint: Linux 5.11+ does a whole range in one call with a flag for close-on-exec (see the function's doc); older kernels refuse it with ENOSYS or EINVAL
    // hint: the fallback walks open_fds() and sets FD_CLOEXEC on each number above 2 with fcntl(F_SETFD); EBADF is harmless there (the listing's own fd is gone)
    use nix::errno::Errno;
    // SAFETY: close_range only changes flags of this process's descriptors.
    let r = unsafe { libc::close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as i32) };
    if r == 0 {
        return Ok(());
    }
    match Errno::last() {
        Errno::ENOSYS | Errno::EINVAL => {}
        e => return Err(SetupError::sys("close_range", None, e)),
    }
    for fd in open_fds()? {
        if fd > 2 {
            // SAFETY: fcntl on a number that may already be closed (the
            // directory fd of the listing) is harmless: EBADF, ignored below.
            let r = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            if r < 0 && Errno::last() != Errno::EBADF {
                return Err(SetupError::sys(
                    "fcntl FD_CLOEXEC",
                    Some(fd.to_string()),
                    Errno::last(),
                ));
            }
        }
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: close_fds

/// Closes every descriptor above 2 now. The init helper does this once it
/// has nothing more to say to the engine: it only waits for PID 1 and must
/// not keep the engine's pipes or files open meanwhile.
pub fn close_above_stdio() -> Result<(), SetupError> {
    // SAFETY: closes descriptors of this single-threaded process that no
    // live Rust object uses any more (the caller dropped them).
    let r = unsafe { libc::close_range(3, u32::MAX, 0) };
    if r == 0 {
        return Ok(());
    }
    for fd in open_fds()? {
        if fd > 2 {
            // EBADF for the listing's own, already closed, descriptor is fine.
            nix::unistd::close(fd).ok();
        }
    }
    Ok(())
}

/// The numbers in `/proc/self/fd`.
fn open_fds() -> Result<Vec<i32>, SetupError> {
    let list = fs::read_dir("/proc/self/fd").map_err(|e| {
        SetupError::refused("list fds", Some("/proc/self/fd".into()), e.to_string())
    })?;
    Ok(list
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exercise 1.11 on its own: a thread with a descriptor table of its own opens a file
    /// without close-on-exec; after close_on_exec_above_stdio it is marked, and stdin is not.
    #[test]
    fn close_on_exec_above_stdio_marks_every_descriptor_above_2() {
        let (file_flags, stdin_flags) = std::thread::spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_FILES).expect("unshare(CLONE_FILES)");
            // SAFETY: a NUL-terminated path; the descriptor is closed below.
            let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY) };
            assert!(fd > 2, "open /dev/null: {fd}");
            close_on_exec_above_stdio().expect("close_on_exec_above_stdio");
            // SAFETY: F_GETFD on descriptors of this thread's own table.
            let flags = unsafe {
                (
                    libc::fcntl(fd, libc::F_GETFD),
                    libc::fcntl(0, libc::F_GETFD),
                )
            };
            // SAFETY: fd was opened above and is not used afterwards.
            unsafe { libc::close(fd) };
            flags
        })
        .join()
        .expect("the thread with its own descriptor table");
        assert!(
            file_flags >= 0 && file_flags & libc::FD_CLOEXEC != 0,
            "exercise 1.11 close-fds: a descriptor above 2 is not close-on-exec after close_on_exec_above_stdio"
        );
        assert!(
            stdin_flags >= 0 && stdin_flags & libc::FD_CLOEXEC == 0,
            "stdin was marked close-on-exec"
        );
    }
}
