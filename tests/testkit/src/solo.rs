//! One exercise on its own, without a container: a thread of the test
//! process enters fresh namespaces and runs the exercise's function there.
//!
//! `unshare` called by one thread of a process moves only that thread
//! (UTS, IPC, network, mount — the mount namespace takes a private copy of
//! the thread's root and working directory with it), and the namespaces go
//! away when the thread ends. So a test can try `set_hostname`,
//! `mount_proc` or `bring_up_loopback` before the learner has written the
//! exercises that make a whole container, and a learner can finish chapter
//! 1's exercises in any order. (A user namespace cannot be entered this way:
//! the kernel refuses `CLONE_NEWUSER` to a process with several threads.)

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};

/// Runs `f` on a new thread that first unshares `flags`; a new mount
/// namespace is made private first (`mount --make-rprivate /`), so that no
/// mount the exercise makes reaches the host's namespace. Returns what `f`
/// returns; a panic in `f` fails the calling test with its own message.
pub fn in_new_namespaces<T, F>(flags: CloneFlags, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let thread = std::thread::spawn(move || {
        unshare(flags).unwrap_or_else(|e| panic!("unshare({flags:?}) on a test thread: {e}"));
        if flags.contains(CloneFlags::CLONE_NEWNS) {
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .unwrap_or_else(|e| panic!("making the test thread's mounts private: {e}"));
        }
        f()
    });
    match thread.join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The mount-point line of `/proc/thread-self/mountinfo` for `path`, as
/// (file system type, mount options + super block options), if `path` is a
/// mount point in the calling thread's mount namespace.
pub fn mount_of(path: &std::path::Path) -> Option<(String, String)> {
    let info = std::fs::read_to_string("/proc/thread-self/mountinfo").ok()?;
    let wanted = path.to_str()?;
    info.lines().rev().find_map(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let sep = fields.iter().position(|f| *f == "-")?;
        (fields.get(4) == Some(&wanted)).then(|| {
            let fstype = fields.get(sep + 1).unwrap_or(&"").to_string();
            let options = format!("{},{}", fields[5], fields.get(sep + 3).unwrap_or(&""));
            (fstype, options)
        })
    })
}
