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
//!
//! The terminal must also come from the container's own devpts instance
//! (its `/dev/pts`, a `newinstance` mount): a host terminal's name means
//! nothing inside, so `tty` would print "not a tty". PID 1 therefore opens
//! it itself on the container's `/dev/ptmx` and sends the master side to
//! the engine over a *console socket* ([`set_up_console`],
//! [`receive_master`]), as runc and crun do.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use nix::sys::stat::Mode;

use crate::error::SetupError;

/// Environment variable naming the init helper's end of the console
/// socket (a descriptor number), set only for a container with a TTY.
pub const CONSOLE_ENV: &str = "_MINIDOCK_INIT_CONSOLE";

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

// ANCHOR: console
/// Gives this process (PID 1 after `pivot_root`, or an exec'd process that
/// joined the container's mount namespace) a new terminal of the
/// container's own, and sends its master side to the engine.
///
/// The terminal must come from the container's devpts instance, not the
/// host's: the container mounted a new one at `/dev/pts`, so a host
/// terminal's name (`/dev/pts/7`) means nothing inside, and `tty` would
/// print "not a tty". runc calls the socket that carries the master the
/// *console socket*. Steps, each failure naming itself:
///
/// 1. open `/dev/ptmx` (the container's, a symlink to `pts/ptmx`) and
///    unlock the new terminal;
/// 2. open its slave side by name, `/dev/pts/N`;
/// 3. with `bind_console`, bind it onto `/dev/console` (PID 1 only);
/// 4. make the slave stdin, stdout and stderr, and the controlling
///    terminal of a new session ([`take_controlling_terminal`]);
/// 5. send the master over `socket` (`SCM_RIGHTS`) and close our copy.
pub fn set_up_console(socket: OwnedFd, bind_console: bool) -> Result<(), SetupError> {
    let (master, slave_path) = open_pty()?;
    let slave = nix::fcntl::open(
        &slave_path,
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SetupError::sys("open terminal", display(&slave_path), e))?;
    // SAFETY: open returned a new descriptor that nothing else owns.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    if bind_console {
        bind_onto_console(&slave_path)?;
    }
    for fd in 0..=2 {
        nix::unistd::dup2(slave.as_raw_fd(), fd)
            .map_err(|e| SetupError::sys("dup2 terminal", Some(format!("onto fd {fd}")), e))?;
    }
    drop(slave);
    take_controlling_terminal()?;
    send_master(socket.as_fd(), master.as_fd())
}
// ANCHOR_END: console

/// Opens a new terminal on `/dev/ptmx`, unlocks it, and returns its
/// master side and its slave's name.
fn open_pty() -> Result<(OwnedFd, PathBuf), SetupError> {
    let ptmx = "/dev/ptmx";
    let master = nix::fcntl::open(
        ptmx,
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SetupError::sys("open terminal master", Some(ptmx.into()), e))?;
    // SAFETY: open returned a new descriptor that nothing else owns.
    let master = unsafe { OwnedFd::from_raw_fd(master) };
    // unlockpt(3): a new terminal is locked until its master says so.
    // (grantpt(3) has nothing to do on devpts: the slave is created with
    // the mount's mode and group already.)
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int through the pointer, valid here.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } == -1 {
        return Err(SetupError::sys(
            "ioctl TIOCSPTLCK (unlock terminal)",
            Some(ptmx.into()),
            Errno::last(),
        ));
    }
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int through the pointer.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) } == -1 {
        return Err(SetupError::sys(
            "ioctl TIOCGPTN (terminal number)",
            Some(ptmx.into()),
            Errno::last(),
        ));
    }
    Ok((master, PathBuf::from(format!("/dev/pts/{number}"))))
}

/// `/dev/console` is the terminal the kernel and old programs write to;
/// in a container it is the container's terminal, bind-mounted there.
fn bind_onto_console(slave: &Path) -> Result<(), SetupError> {
    let console = Path::new("/dev/console");
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(console)
        .map_err(|e| SetupError::refused("create", display(console), e.to_string()))?;
    nix::mount::mount(
        Some(slave),
        console,
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| SetupError::sys("bind terminal onto /dev/console", display(slave), e))
}

fn display(p: &Path) -> Option<String> {
    Some(p.display().to_string())
}

/// Sends `master` over the console socket, with one byte of data
/// (`SCM_RIGHTS` needs at least one).
pub fn send_master(socket: BorrowedFd, master: BorrowedFd) -> Result<(), SetupError> {
    let fds = [master.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let data = [IoSlice::new(b"t")];
    loop {
        match sendmsg::<()>(socket.as_raw_fd(), &data, &cmsg, MsgFlags::empty(), None) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(SetupError::sys("send terminal to the engine", None, e)),
        }
    }
}

// ANCHOR: receive_master
/// The engine's side: receives the terminal's master side from the
/// console socket. Blocks until it comes or every other copy of the
/// socket is closed (the sender failed: `UnexpectedEof`).
pub fn receive_master(socket: BorrowedFd) -> io::Result<OwnedFd> {
    let mut byte = [0u8; 1];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let (bytes, received) = loop {
        let mut data = [IoSliceMut::new(&mut byte)];
        match recvmsg::<()>(
            socket.as_raw_fd(),
            &mut data,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => {
                let mut received = Vec::new();
                for cmsg in msg.cmsgs().map_err(io::Error::from)? {
                    if let ControlMessageOwned::ScmRights(fds) = cmsg {
                        // SAFETY: the kernel just installed these
                        // descriptors in this process; nothing else owns them.
                        received.extend(
                            fds.into_iter()
                                .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                        );
                    }
                }
                break (msg.bytes, received);
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let mut received = received.into_iter();
    match (received.next(), received.next()) {
        (Some(master), None) => Ok(master),
        (None, _) if bytes == 0 => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the container closed the console socket without sending its terminal",
        )),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "expected exactly one terminal descriptor on the console socket",
        )),
    }
}
// ANCHOR_END: receive_master

/// A pair of connected unix sockets, close-on-exec: the engine keeps the
/// first to [`receive_master`], the process in the container gets the
/// second to [`set_up_console`].
pub fn console_socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?)
}

/// Takes ownership of the console socket the engine passed as descriptor
/// `fd` (named in an environment variable), marking it close-on-exec so
/// the command never inherits it. PID 1 and an exec helper both start so.
pub fn adopt_console_socket(fd: RawFd) -> Result<OwnedFd, SetupError> {
    // SAFETY: F_SETFD only changes the descriptor's flags; a bad number
    // gives EBADF, which is reported.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == -1 {
        return Err(SetupError::sys(
            "console socket",
            Some(fd.to_string()),
            nix::errno::Errno::last(),
        ));
    }
    // SAFETY: the engine passed this descriptor for us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_descriptor_crosses_the_console_socket() {
        let (ours, theirs) = console_socketpair().unwrap();
        let file = tempfile::tempfile().unwrap();
        send_master(theirs.as_fd(), file.as_fd()).unwrap();
        let got = receive_master(ours.as_fd()).unwrap();
        let a = nix::sys::stat::fstat(file.as_raw_fd()).unwrap();
        let b = nix::sys::stat::fstat(got.as_raw_fd()).unwrap();
        assert_eq!((a.st_dev, a.st_ino), (b.st_dev, b.st_ino));
        assert_ne!(got.as_raw_fd(), file.as_raw_fd());
        drop(theirs);
        let e = receive_master(ours.as_fd()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
    }
}
