//! The shim's output hub: the container's stdout and stderr go into the
//! log and out to every attached client; what clients send (stdin, end of
//! stdin, terminal size) goes to the container.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::attach::{read_frame, write_frame, Frame};
use crate::error::{IoContext, Result};
use crate::logs::{LogWriter, Stream};

/// Locks `m`, taking over a lock that a panicking thread poisoned (the
/// convention of every engine lock, as in chapter 05). The shim must
/// outlive whatever goes wrong in one client's thread: it alone can record
/// the container's exit. Each value behind the hub's locks is changed by
/// one assignment or push, so a poisoned one is still whole.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ANCHOR: hub
/// Shared between the shim's threads: attached clients, where stdin
/// goes, the terminal (TTY mode) and the log.
pub(super) struct Hub {
    pub(super) clients: Mutex<Vec<UnixStream>>,
    pub(super) stdin: Mutex<Option<Box<dyn Write + Send>>>,
    pub(super) pty_master: Mutex<Option<File>>,
    pub(super) log: Mutex<LogWriter>,
}

impl Hub {
    /// Output of the container: into the log, and to every client.
    pub(super) fn output(&self, stream: Stream, data: &[u8]) {
        if let Err(e) = lock(&self.log).write(stream, data) {
            eprintln!("minidock-shim: {e}");
        }
        let frame = match stream {
            Stream::Stdout => Frame::Stdout(data.to_vec()),
            Stream::Stderr => Frame::Stderr(data.to_vec()),
        };
        self.broadcast(&frame);
    }

    pub(super) fn broadcast(&self, frame: &Frame) {
        let mut clients = lock(&self.clients);
        // A client that cannot keep up or hung up is dropped.
        clients.retain_mut(|c| write_frame(c, frame).is_ok());
    }
    // ANCHOR_END: hub

    pub(super) fn add_client(self: &Arc<Self>, client: UnixStream) {
        client.set_write_timeout(Some(Duration::from_secs(10))).ok();
        let Ok(writer) = client.try_clone() else {
            return;
        };
        lock(&self.clients).push(writer);
        let hub = self.clone();
        thread::spawn(move || hub.serve_client(client));
    }

    /// Reads a client's frames: stdin data, end of stdin, terminal size.
    fn serve_client(&self, mut client: UnixStream) {
        while let Ok(Some(frame)) = read_frame(&mut client) {
            match frame {
                Frame::Stdin(data) => {
                    if let Some(w) = lock(&self.stdin).as_mut() {
                        if w.write_all(&data).and_then(|()| w.flush()).is_err() {
                            eprintln!("minidock-shim: the container closed its stdin");
                        }
                    }
                }
                Frame::CloseStdin => {
                    lock(&self.stdin).take();
                }
                Frame::Resize { rows, cols } => {
                    if let Some(master) = lock(&self.pty_master).as_ref() {
                        if let Err(e) = set_window_size(master, rows, cols) {
                            eprintln!("minidock-shim: resize: {e}");
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// `TIOCSWINSZ` on the terminal's master side; the kernel sends SIGWINCH
/// to the container's foreground process group.
fn set_window_size(master: &File, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize struct from the pointer, which
    // is valid for the duration of the call.
    let rc = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

// ANCHOR: pump
/// Copies one output of the container into the hub until end of file.
pub(super) fn pump(hub: Arc<Hub>, mut from: File, stream: Stream) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hub.output(stream, &buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // EIO: the last holder of the terminal's slave side closed it.
                Err(_) => break,
            }
        }
        if let Err(e) = lock(&hub.log).flush(stream) {
            eprintln!("minidock-shim: {e}");
        }
    })
}
// ANCHOR_END: pump

/// Waits up to `timeout` for the first attach client. `poll(2)` wakes
/// the shim the moment the client connects: the engine connects right
/// after reading `Listening`, so any sleep here would delay every
/// `docker run`. It also wakes when the engine is gone: `reports` is the
/// shim's end of the engine's report pipe, which reads as an error
/// (`POLLERR`) once nobody holds the other end — an engine that died
/// between the spawn and the attach will never connect.
pub(super) fn accept_within(
    listener: &UnixListener,
    reports: BorrowedFd<'_>,
    timeout: Duration,
) -> Result<UnixStream> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let start = Instant::now();
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(io::Error::from(io::ErrorKind::TimedOut))
                .ctx("wait for the first attach client on", "attach socket");
        }
        let wait = PollTimeout::try_from(left.as_millis().max(1)).unwrap_or(PollTimeout::MAX);
        let mut fds = [
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(reports, PollFlags::empty()),
        ];
        match poll(&mut fds, wait) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {
                let engine = fds[1].revents().unwrap_or(PollFlags::empty());
                if engine.intersects(PollFlags::POLLERR | PollFlags::POLLHUP) {
                    return Err(io::Error::from(io::ErrorKind::BrokenPipe)).ctx(
                        "wait for the engine that started this shim on",
                        "report pipe",
                    );
                }
                break;
            }
            Err(e) => {
                return Err(io::Error::from(e))
                    .ctx("wait for the first attach client on", "attach socket")
            }
        }
    }
    let (client, _) = listener
        .accept()
        .ctx("accept the first attach client on", "attach socket")?;
    Ok(client)
}
