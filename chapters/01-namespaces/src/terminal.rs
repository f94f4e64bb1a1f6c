//! The controlling terminal: what makes `docker run -it` feel like a shell.
//!
//! A terminal is more than a file to read and write. The kernel ties each
//! terminal to at most one *session* (a group of process groups, usually a
//! login shell and everything it started): the session's **controlling
//! terminal**. Only then does the terminal act on the session's behalf:
//!
//! * a `^C` (byte `0x03`) typed on it becomes `SIGINT` for the terminal's
//!   *foreground process group*, `^Z` becomes `SIGTSTP`, `^\` `SIGQUIT`;
//! * `/dev/tty` opens it, and `tcgetpgrp`/`tcsetpgrp` tell and choose the
//!   foreground group — which is what a shell's job control does every time
//!   it runs a command or `fg`.
//!
//! A pseudo-terminal handed to a process as its stdin is none of that by
//! itself: the process inherited its parent's session, which has another
//! controlling terminal or none. An interactive shell as PID 1 then prints
//! "can't access tty; job control turned off", and `^C` is just a byte.
//! So PID 1 of a container with a TTY does what `login` and `sshd` do: it
//! starts a new session of its own (`setsid`, which also makes it the
//! leader of a new process group) and makes its stdin that session's
//! controlling terminal (`ioctl(0, TIOCSCTTY)`). runc does the same.

use nix::errno::Errno;

use crate::error::SetupError;

// ANCHOR: controlling_terminal
/// Makes the terminal on stdin the controlling terminal of a new session
/// led by this process. Call it in a process that is not a process group
/// leader (a freshly forked child), with a terminal as fd 0 that is no
/// other session's controlling terminal.
pub fn take_controlling_terminal() -> Result<(), SetupError> {
    nix::unistd::setsid().map_err(|e| SetupError::sys("setsid", None, e))?;
    // SAFETY: TIOCSCTTY takes an int argument (0: do not steal the
    // terminal from another session) and touches no memory of ours.
    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } == -1 {
        return Err(SetupError::sys(
            "ioctl TIOCSCTTY",
            Some("stdin".into()),
            Errno::last(),
        ));
    }
    Ok(())
}
// ANCHOR_END: controlling_terminal
