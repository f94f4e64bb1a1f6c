//! `--init`: a tiny init as the container's PID 1.
//!
//! PID 1 of a PID namespace has two duties most programs do not know about
//! (see [`crate::init`]): it must reap the orphans the kernel gives it, or
//! they stay zombies; and the kernel delivers it only the signals it has a
//! handler for, so `docker stop` does nothing to a `sleep` that is PID 1.
//! Docker's `--init` puts `tini` in front of the command. minidock's init
//! is PID 1 itself: at the last step, right before `execve`, it forks; the
//! child becomes the command, and PID 1 stays behind as an init that
//! forwards signals to it, reaps every child, and exits with the command's
//! status. It has by then already become the container's user, with its
//! capabilities and seccomp filter, like the command.

use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

use crate::error::SetupError;
use crate::supervise::{exit_code, forward_signals_to, FORWARDED_SIGNALS};

/// Splits this process into the init and the command. Returns `Ok(())` in
/// the child, which goes on to `execve`; the parent never returns.
pub fn become_init_of_command() -> Result<(), SetupError> {
    // Signals that arrive before the parent's handlers are in place wait
    // (blocked) rather than being lost.
    let mut forwarded = SigSet::empty();
    for signal in FORWARDED_SIGNALS {
        forwarded.add(*signal);
    }
    let mut before = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&forwarded), Some(&mut before))
        .map_err(|e| SetupError::sys("sigprocmask", None, e))?;
    // SAFETY: PID 1's setup is single-threaded (the init helper checked
    // it before forking PID 1), so the child may run any code.
    match unsafe { fork() }.map_err(|e| SetupError::sys("fork", Some("init".into()), e))? {
        ForkResult::Child => {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(|e| SetupError::sys("prctl PR_SET_PDEATHSIG", None, e))?;
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&before), None)
                .map_err(|e| SetupError::sys("sigprocmask", None, e))?;
            Ok(())
        }
        ForkResult::Parent { child } => {
            // Nothing of the engine's may stay open in a process that lives
            // as long as the container (the engine waits for the status
            // pipe to close to know the command started).
            if let Err(e) = forward_signals_to(child)
                .and_then(|()| crate::fds::close_above_stdio())
                .and_then(|()| {
                    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&before), None)
                        .map_err(|e| SetupError::sys("sigprocmask", None, e))
                })
            {
                eprintln!("minidock init: {e}");
            }
            std::process::exit(reap_until(child))
        }
    }
}

/// Reaps every child until `command` has exited; returns its Docker-style
/// exit code. When PID 1 exits the kernel ends the rest of the namespace.
fn reap_until(command: Pid) -> i32 {
    loop {
        match waitpid(Pid::from_raw(-1), None) {
            Ok(status @ (WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _)))
                if pid == command =>
            {
                return exit_code(status).unwrap_or(255);
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return 255, // no child left: cannot happen before `command` exited
        }
    }
}
