//! Not dumpable: a process on its way into a container hides itself.
//!
//! A process that enters a container starts as the engine's program (the
//! init helper, or chapter 03's exec helper) and becomes the container's
//! command only at its `execve`. Until then, a process already in the
//! container can see it in `/proc` — and `/proc/<pid>/exe` is a link to the
//! *host's* engine binary. In CVE-2019-5736 a container process opened that
//! link and, once the helper had exec'd, wrote its own code into the host's
//! runc binary: the next `docker exec` ran it as root on the host. The same
//! link also lets it read the binary, and `ptrace` lets it take over the
//! helper while the helper still holds host file descriptors.
//!
//! The kernel has one switch for "nobody may look into this process":
//! `PR_SET_DUMPABLE`. A process that is not dumpable gets `/proc/<pid>/`
//! files owned by root and refuses `ptrace` and the `/proc/<pid>/exe`,
//! `fd/`, `mem`, `environ` links to anyone without `CAP_SYS_PTRACE` — which a
//! container never has. It is inherited by `fork` and reset by the final
//! `execve` (a fresh program is dumpable again), so clearing it once, first
//! thing in the helper, covers every step until the command runs. runc does
//! the same (its `nsexec` clears it before joining any namespace).
//!
//! This is half of the answer: chapter 03 also runs the helpers from a
//! sealed in-memory copy of the binary, so that even a process that got
//! hold of the file could not write to it.

use crate::error::SetupError;

// ANCHOR: not_dumpable
/// Makes the calling process not dumpable (see the module's text). Called
/// by a helper before it joins or creates any namespace of a container.
pub fn make_not_dumpable() -> Result<(), SetupError> {
    nix::sys::prctl::set_dumpable(false)
        .map_err(|e| SetupError::sys("prctl PR_SET_DUMPABLE 0", None, e))?;
    // Read it back: a security setting that silently did nothing must stop
    // the start, not be discovered by an attacker.
    match nix::sys::prctl::get_dumpable() {
        Ok(false) => Ok(()),
        Ok(true) => Err(SetupError::refused(
            "prctl PR_SET_DUMPABLE 0",
            None,
            "the process is still dumpable",
        )),
        Err(e) => Err(SetupError::sys("prctl PR_GET_DUMPABLE", None, e)),
    }
}
// ANCHOR_END: not_dumpable

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forked_child_becomes_not_dumpable() {
        // In a child, so the test process itself stays as it was.
        // SAFETY: the child makes two prctl calls and exits with _exit;
        // nothing in it allocates or takes a lock.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                let code = match make_not_dumpable() {
                    Ok(()) => 0,
                    Err(_) => 1,
                };
                // SAFETY: _exit ends the child without running the
                // parent's atexit handlers or destructors.
                unsafe { libc::_exit(code) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
        assert!(
            nix::sys::prctl::get_dumpable().unwrap(),
            "the test process is unchanged"
        );
    }
}
