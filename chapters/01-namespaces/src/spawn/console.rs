//! Opt-in step of [`spawn`](super): the console socket of a container
//! with a TTY.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::sys::signal::Signal;

use super::{above_stdio, Container};
use crate::error::Error;
use crate::spec::ProcessSpec;
use crate::terminal;

// ANCHOR: console_socket
/// Opt-in step, with a TTY: the console socket. PID 1 makes a terminal
/// inside the container and sends its master side back on this socket
/// pair (see [`terminal`]); the helper gets one end, the engine keeps the
/// other.
pub(super) struct ConsoleSocket {
    ours: OwnedFd,
    /// The helper's end, until the helper has its own copy.
    theirs: Option<OwnedFd>,
}

impl ConsoleSocket {
    /// The socket pair when the spec asks for a TTY, `None` otherwise.
    pub(super) fn open(spec: &ProcessSpec) -> Result<Option<ConsoleSocket>, Error> {
        if !spec.tty {
            return Ok(None);
        }
        let (ours, theirs) = terminal::console_socketpair().map_err(|source| Error::Channel {
            what: "console socket",
            source,
        })?;
        let theirs = above_stdio(theirs)?;
        Ok(Some(ConsoleSocket {
            ours,
            theirs: Some(theirs),
        }))
    }

    /// The descriptor the helper inherits (its number is passed in
    /// [`terminal::CONSOLE_ENV`]).
    pub(super) fn helper_fd(&self) -> i32 {
        self.theirs.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    /// The helper has its copy of the container's end; ours must go, or
    /// a PID 1 that fails before sending would leave us waiting.
    pub(super) fn helper_started(mut self) -> Self {
        self.theirs = None;
        self
    }

    /// Receives the terminal's master side on our end. PID 1 sent it
    /// before its `execve`, which is what ended the status pipe: it is
    /// waiting in the socket.
    pub(super) fn receive_terminal(self, container: &mut Container) -> Result<(), Error> {
        match terminal::receive_master(self.ours.as_fd()) {
            Ok(master) => {
                container.terminal = Some(File::from(master));
                Ok(())
            }
            Err(source) => {
                container.kill(Signal::SIGKILL)?;
                container.wait()?;
                Err(Error::Channel {
                    what: "receiving the container's terminal",
                    source,
                })
            }
        }
    }
}
// ANCHOR_END: console_socket
