//! `run -it` through a real pseudo-terminal: the test plays the user at a
//! terminal (the pty's master side) while `minidock` runs on its slave
//! side, as it would in a terminal emulator.

mod common;

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{stderr, Daemon};
use nix::pty::{openpty, Winsize};
use nix::sys::signal::{kill, Signal};
use nix::sys::termios::{tcgetattr, LocalFlags};
use nix::unistd::Pid;

/// The user's side of the terminal: what they type, what they see.
struct Terminal {
    master: std::fs::File,
    seen: Arc<Mutex<Vec<u8>>>,
    child: Child,
}

impl Terminal {
    /// Runs `minidock ARGS` on a new pty of `rows`×`cols`.
    fn spawn(d: &Daemon, args: &[&str], rows: u16, cols: u16) -> (Terminal, OwnedFd) {
        let size = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("openpty");
        let slave = pty.slave;
        let io = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the pty slave"));
        let child = d
            .minidock_std()
            .args(args)
            .stdin(io(&slave))
            .stdout(io(&slave))
            .stderr(io(&slave))
            .spawn()
            .expect("start minidock");
        let master = std::fs::File::from(pty.master);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("dup the pty master");
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            // Ends with EIO once every slave fd is closed.
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        (
            Terminal {
                master,
                seen,
                child,
            },
            slave,
        )
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    fn type_text(&mut self, text: &str) {
        self.master
            .write_all(text.as_bytes())
            .expect("type into the pty");
    }

    /// Waits until the screen, after `from` bytes, contains `wanted`;
    /// returns where it ends.
    fn expect(&self, from: usize, wanted: &str, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let seen = self.seen.lock().unwrap();
                let text = String::from_utf8_lossy(&seen[from.min(seen.len())..]).into_owned();
                if let Some(at) = text.find(wanted) {
                    return from + at + wanted.len();
                }
            }
            assert!(
                Instant::now() < deadline,
                "did not see {wanted:?} within {timeout:?}; the screen shows:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn seen_len(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    fn resize(&self, rows: u16, cols: u16) {
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer, which
        // points at a live local; the fd is the open pty master.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(rc, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
        // minidock is not in the pty's session, so the kernel does not
        // signal it: do what a terminal emulator's kernel would.
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGWINCH).expect("send SIGWINCH");
    }

    fn wait_exit(&mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll minidock") {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "minidock did not exit; the screen shows:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // The test failed with minidock still running: stop it by PID.
            if let Err(e) = self.child.kill() {
                eprintln!("cleanup: kill minidock {}: {e}", self.child.id());
            }
            if let Err(e) = self.child.wait() {
                eprintln!("cleanup: wait for minidock: {e}");
            }
        }
    }
}

#[test]
fn an_interactive_shell_through_a_pty() {
    let d = Daemon::start();
    d.load_busybox();
    let timeout = Duration::from_secs(20);
    let (mut term, slave) = Terminal::spawn(
        &d,
        &["run", "-it", "--rm", "--name", "shell", "busybox", "sh"],
        30,
        100,
    );
    let at = term.expect(0, "# ", timeout);

    // Arithmetic done by the container's shell, echoed by its terminal.
    term.type_text("echo $((6*7))\r");
    let at = term.expect(at, "\r\n42\r\n", timeout);

    // The container's terminal has the size of ours…
    term.type_text("stty size\r");
    let at = term.expect(at, "30 100", timeout);

    // …and follows it when it changes.
    term.resize(40, 120);
    let deadline = Instant::now() + timeout;
    loop {
        let before = term.seen_len();
        term.type_text("stty size\r");
        let end = term.expect(before, "# ", timeout);
        if term.screen()[before..end].contains("40 120") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the resize never arrived:\n{}",
            term.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Ctrl-C reaches the container's foreground process, not minidock.
    term.type_text("sleep 30\r");
    // Ctrl-C must reach `sleep`, not the shell still reading the line: wait
    // until the container runs it.
    common::eventually(timeout, "sleep 30 running in the container", || {
        String::from_utf8_lossy(&d.run(&["top", "shell"]).stdout).contains("sleep 30")
    });
    let started = Instant::now();
    term.type_text("\x03");
    term.type_text("echo status=$?\r");
    term.expect(at, "status=130", timeout);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "Ctrl-C did not interrupt sleep"
    );
    assert!(
        term.child.try_wait().unwrap().is_none(),
        "Ctrl-C ended minidock itself"
    );

    // The shell's exit code is minidock's.
    term.type_text("exit 5\r");
    assert_eq!(term.wait_exit(timeout), 5);

    // And the terminal is back in its cooked mode.
    let modes = tcgetattr(slave.as_fd()).expect("tcgetattr");
    assert!(modes
        .local_flags
        .contains(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::ISIG));
    assert_eq!(d.ok(&["ps", "-aq"]), "", "--rm removed the container");
}

#[test]
fn exec_it_gets_a_terminal_too() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "300"]);
    let timeout = Duration::from_secs(20);
    let (mut term, _slave) = Terminal::spawn(&d, &["exec", "-it", "box", "sh"], 24, 80);
    let at = term.expect(0, "# ", timeout);
    term.type_text("[ -t 0 ] && [ -t 1 ] && echo on-a-$((1+1))-terminal; stty size\r");
    let at = term.expect(at, "on-a-2-terminal", timeout);
    term.expect(at, "24 80", timeout);
    term.type_text("exit 3\r");
    assert_eq!(term.wait_exit(timeout), 3);
}

#[test]
fn it_without_a_terminal_is_refused() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.run_with_stdin(&["run", "-it", "--rm", "busybox", "true"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the input device is not a TTY"),
        "{}",
        stderr(&out)
    );
    // -t alone works without one: the output comes through the tty.
    let out = d.ok(&["run", "-t", "--rm", "busybox", "echo", "tty"]);
    assert_eq!(out, "tty\r\n");
}
