//! The local terminal during `run -it` and `exec -it`: raw mode, its size,
//! and the signal that says the size changed.
//!
//! With `-t` the container gets its own pseudo-terminal, which does the line
//! editing, echo and Ctrl-C handling. The local terminal must therefore step
//! aside: in *raw mode* it passes every key through unchanged (Ctrl-C is just
//! byte 0x03, which the container's terminal turns into SIGINT for the
//! container's foreground process) and prints the container's output
//! exactly as it comes. Raw mode must be undone on every way out, or the
//! user's shell is left without echo: [`RawMode`] restores the saved
//! settings when dropped.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::termios::{self, SetArg, Termios};

/// A terminal in raw mode; dropping it restores the settings it had.
pub struct RawMode<'fd> {
    fd: BorrowedFd<'fd>,
    saved: Termios,
}

impl<'fd> RawMode<'fd> {
    /// Puts the terminal `fd` into raw mode (`cfmakeraw`: no echo, no line
    /// buffering, no signals from keys, no output processing).
    pub fn enable(fd: BorrowedFd<'fd>) -> io::Result<RawMode<'fd>> {
        let saved = termios::tcgetattr(fd)?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSANOW, &raw)?;
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        // Restoring can only fail if the terminal went away, and then there
        // is nothing left to restore; say so rather than stay silent.
        if let Err(e) = termios::tcsetattr(self.fd, SetArg::TCSANOW, &self.saved) {
            eprintln!("minidock: could not restore the terminal settings: {e}");
        }
    }
}

/// The size of the terminal `fd` as (rows, columns), if it is one.
pub fn size(fd: impl AsFd) -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the pointer we pass,
    // which points at a live, properly aligned local.
    let rc = unsafe { libc::ioctl(fd.as_fd().as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_row > 0 && ws.ws_col > 0).then_some((ws.ws_row, ws.ws_col))
}

/// Calls `on_resize(rows, cols)` now and after every SIGWINCH, from a
/// background thread, for as long as the process lives.
///
/// SIGWINCH is blocked in the calling thread (and so in threads it starts
/// later) and received with `sigwait` by the watcher thread: no signal
/// handler runs, so the callback may do anything, such as an HTTP request.
pub fn watch_resize(on_resize: impl Fn(u16, u16) + Send + 'static) -> io::Result<()> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGWINCH);
    set.thread_block()?;
    if let Some((rows, cols)) = size(io::stdout()) {
        on_resize(rows, cols);
    }
    std::thread::Builder::new()
        .name("sigwinch".into())
        .spawn(move || loop {
            match set.wait() {
                Ok(_) => {
                    if let Some((rows, cols)) = size(io::stdout()) {
                        on_resize(rows, cols);
                    }
                }
                Err(_) => return,
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::pty::openpty;
    use nix::sys::termios::{LocalFlags, OutputFlags};

    #[test]
    fn raw_mode_is_undone_on_drop() {
        let pty = openpty(None, None).expect("openpty");
        let before = termios::tcgetattr(pty.slave.as_fd()).unwrap();
        assert!(before
            .local_flags
            .contains(LocalFlags::ECHO | LocalFlags::ICANON));
        {
            let _raw = RawMode::enable(pty.slave.as_fd()).unwrap();
            let now = termios::tcgetattr(pty.slave.as_fd()).unwrap();
            assert!(!now
                .local_flags
                .intersects(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::ISIG));
            assert!(!now.output_flags.contains(OutputFlags::OPOST));
        }
        let after = termios::tcgetattr(pty.slave.as_fd()).unwrap();
        assert_eq!(after.local_flags, before.local_flags);
        assert_eq!(after.input_flags, before.input_flags);
        assert_eq!(after.output_flags, before.output_flags);
    }

    #[test]
    fn size_reads_the_window_size() {
        let ws = nix::pty::Winsize {
            ws_row: 33,
            ws_col: 101,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&ws), None).expect("openpty");
        assert_eq!(size(pty.slave.as_fd()), Some((33, 101)));
        let file = tempfile::tempfile().unwrap();
        assert_eq!(size(&file), None);
    }
}
