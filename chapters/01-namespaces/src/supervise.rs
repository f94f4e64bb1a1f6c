//! What a helper does for the one process it started in the container
//! (PID 1 for the init helper, the command for `--init`'s tiny init, an
//! exec'd process in chapter 03): pass on the signals it receives, wait for
//! the process's end, and turn that end into Docker's exit code.
//!
//! PID 1 of a PID namespace gets only the signals it has a handler for, and
//! a helper outside the container is what `docker stop` signals: so the
//! helper catches them and forwards each one.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::error::SetupError;

/// PID 1's host PID, for the signal handler.
static CONTAINER_PID: AtomicI32 = AtomicI32::new(0);

/// Signals the helper forwards to PID 1: what `docker stop` and a
/// terminal send. SIGKILL and SIGSTOP cannot be caught; a SIGKILL to the
/// helper reaches PID 1 through `PR_SET_PDEATHSIG`.
pub const FORWARDED_SIGNALS: &[Signal] = &[
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

extern "C" fn forward(signal: libc::c_int) {
    let pid = CONTAINER_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe. A failure (PID 1 already
        // gone) needs no handling: the wait below will see it.
        unsafe { libc::kill(pid, signal) };
    }
}

/// Passes the signals a helper receives (`docker stop`, a terminal's ^C)
/// on to `child`, the process it started in the container: PID 1 here, an
/// exec'd process in chapter 03. One child per helper process.
pub fn forward_signals_to(child: Pid) -> Result<(), SetupError> {
    CONTAINER_PID.store(child.as_raw(), Ordering::SeqCst);
    let action = SigAction::new(
        SigHandler::Handler(forward),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in FORWARDED_SIGNALS {
        // SAFETY: `forward` only reads an atomic and calls kill, both
        // async-signal-safe.
        unsafe { sigaction(*signal, &action) }
            .map_err(|e| SetupError::sys("sigaction", Some(signal.to_string()), e))?;
    }
    Ok(())
}

/// Waits for `child` to end and returns its exit code by Docker's
/// convention; the signals stop going to it from then on.
pub fn wait_for(child: Pid) -> Result<i32, SetupError> {
    loop {
        match waitpid(child, None) {
            Ok(status) => {
                if let Some(code) = exit_code(status) {
                    CONTAINER_PID.store(0, Ordering::SeqCst);
                    return Ok(code);
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(SetupError::sys("waitpid", Some(child.to_string()), e)),
        }
    }
}

// ANCHOR: exit_code
/// Docker's convention for a container's exit code: the command's own
/// code, or 128 + N when signal N killed it (`137` = SIGKILL). `None` for
/// statuses that are not an end (stopped, continued).
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    // exercise 1.12 exit-status: turn a wait status into Docker's exit code.
    // hint: waitpid reports how a child changed: it exited with a code, a signal killed it, or it only stopped or continued, which is no end at all
    // hint: nix's WaitStatus has a variant for each; Docker's convention keeps an exit's own code and turns a death by signal N into 128 + N (137 for SIGKILL, 9)
    // hint: one match: the exit variant and the signal variant each give Some(…) (a Signal converts to its number with `as i32`), every other status None
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, signal, _) => Some(128 + signal as i32),
        _ => None,
    }
    // end exercise
}
// ANCHOR_END: exit_code

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn exit_code_follows_dockers_convention() {
        let pid = Pid::from_raw(1234);
        let mut rng = rand::thread_rng();
        for _ in 0..20 {
            let code = rng.gen_range(0..=255);
            assert_eq!(exit_code(WaitStatus::Exited(pid, code)), Some(code));
        }
        for signal in [
            Signal::SIGKILL,
            Signal::SIGTERM,
            Signal::SIGSEGV,
            Signal::SIGUSR2,
        ] {
            assert_eq!(
                exit_code(WaitStatus::Signaled(pid, signal, false)),
                Some(128 + signal as i32)
            );
        }
        assert_eq!(exit_code(WaitStatus::Stopped(pid, Signal::SIGSTOP)), None);
    }
}
