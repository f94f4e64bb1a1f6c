//! A container with a TTY: PID 1 opens a terminal on the container's own
//! `/dev/ptmx` and sends its master side back over the console socket. The
//! terminal has a name inside (`/dev/pts/0`), is PID 1's controlling
//! terminal, so a shell gets job control and `^C` becomes `SIGINT`.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::fs::MetadataExt;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use common::{init, random_text, Fixture};
use minidock_namespaces::{Container, ProcessSpec, Stdio};
use minidock_testkit::LeakCheck;

/// A container running `spec` with a new pseudo-terminal as stdin, stdout
/// and stderr. Returns it, the master side, and the slave's device number.
fn spawn_on_pty(spec: ProcessSpec) -> (Container, File, u64) {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let slave = File::from(pty.slave);
    let meta = slave.metadata().expect("stat pty slave");
    assert!(meta.file_type().is_char_device());
    let clone = || Stdio::File(slave.try_clone().expect("dup pty slave"));
    let spec = spec.stdin(clone()).stdout(clone()).stderr(clone());
    let container = spec.spawn(&init()).unwrap_or_else(|e| panic!("spawn: {e}"));
    // Our copies of the slave go now: the master reads EIO (the end) once
    // the container's side is closed.
    drop(spec);
    drop(slave);
    (container, File::from(pty.master), meta.rdev())
}

/// A container running `spec` with a terminal of its own; returns it
/// and the master side it sent back.
fn spawn_with_tty(spec: ProcessSpec) -> (Container, File) {
    let spec = spec
        .tty(true)
        .stdin(Stdio::Null)
        .stdout(Stdio::Null)
        .stderr(Stdio::Null);
    let mut container = spec.spawn(&init()).unwrap_or_else(|e| panic!("spawn: {e}"));
    let master = container
        .take_terminal()
        .expect("a TTY container sends its terminal");
    (container, master)
}

/// The number N of the terminal `/dev/pts/N` whose master side this is.
fn pty_number(master: &File) -> u32 {
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int through the pointer.
    let r = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut n) };
    assert_eq!(r, 0, "TIOCGPTN: {}", std::io::Error::last_os_error());
    n
}

/// Everything the master side reads, chunk by chunk, from a thread.
fn read_in_background(master: &File) -> Receiver<Vec<u8>> {
    let mut reader = master.try_clone().expect("dup pty master");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        // EIO: the last slave descriptor was closed.
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Collects output until it contains `needle`; panics after `timeout`.
fn read_until(rx: &Receiver<Vec<u8>>, seen: &mut String, needle: &str, timeout: Duration) {
    let start = Instant::now();
    while !seen.contains(needle) {
        let left = timeout.saturating_sub(start.elapsed());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            Err(e) => panic!("no {needle:?} within {timeout:?} ({e}); got {seen:?}"),
        }
    }
}

/// `tty_nr` of `/proc/PID/stat` for a device number: the major in bits
/// 8–15, the minor in bits 0–7 and 20–31.
fn tty_nr(rdev: u64) -> i64 {
    let (major, minor) = (i64::from(libc::major(rdev)), i64::from(libc::minor(rdev)));
    (major << 8) | (minor & 0xff) | ((minor & !0xff) << 12)
}

/// PID 1's `pgrp session tty_nr tpgid`, as it reads them itself (a
/// session outside the PID namespace reads 0, no foreground group -1).
const PID1_STAT: &str = r#"set -- $(sed 's/.*) //' /proc/1/stat); echo "stat $3 $4 $5 $6 end""#;

fn pid1_stat(fx: &Fixture, tty: bool) -> (Vec<i64>, i64) {
    let (mut container, master, rdev) = if tty {
        let (container, master) = spawn_with_tty(fx.sh(PID1_STAT));
        // Unix98 terminals have major 136; a new devpts instance numbers
        // its terminals from 0.
        let number = pty_number(&master);
        assert_eq!(number, 0, "the first terminal of the container's devpts");
        let rdev = libc::makedev(136, number);
        (container, master, rdev)
    } else {
        spawn_on_pty(fx.sh(PID1_STAT))
    };
    let rx = read_in_background(&master);
    let mut seen = String::new();
    read_until(&rx, &mut seen, " end", Duration::from_secs(20));
    assert_eq!(container.wait().unwrap(), 0, "{seen:?}");
    let line = seen.lines().find(|l| l.starts_with("stat ")).unwrap();
    let fields = line
        .split_whitespace()
        .skip(1)
        .take(4)
        .map(|f| f.parse().unwrap_or_else(|_| panic!("{line:?}")))
        .collect();
    (fields, tty_nr(rdev))
}

#[test]
fn with_tty_the_pty_is_pid1s_controlling_terminal_in_its_own_session() {
    let fx = Fixture::new();
    let leaks = LeakCheck::start(&fx.prefix());
    let (stat, pty) = pid1_stat(&fx, true);
    // pgrp 1, session 1 (PID 1 leads both), the pty as controlling
    // terminal, and PID 1's group in its foreground.
    assert_eq!(stat, vec![1, 1, pty, 1], "pgrp session tty_nr tpgid");

    // Without it a host pty is only stdio: not the session's terminal.
    let (stat, pty) = pid1_stat(&fx, false);
    assert_ne!(stat[1], 1, "no session of its own: {stat:?}");
    assert_ne!(stat[2], pty, "not the controlling terminal: {stat:?}");
    leaks.finish();
}

#[test]
fn ctrl_c_on_the_terminal_interrupts_pid1() {
    let fx = Fixture::new();
    let leaks = LeakCheck::start(&fx.prefix());
    let word = random_text(12);
    let script =
        r#"trap "echo got-int-$W; exit 7" INT; echo ready-$W; while :; do sleep 0.1; done"#
            .replace("$W", &word);
    let (mut container, mut master) = spawn_with_tty(fx.sh(&script));
    let rx = read_in_background(&master);
    let mut seen = String::new();
    read_until(
        &rx,
        &mut seen,
        &format!("ready-{word}"),
        Duration::from_secs(20),
    );
    // ^C, as a terminal sends it: the line discipline turns it into
    // SIGINT for the foreground process group.
    master.write_all(&[0x03]).unwrap();
    read_until(
        &rx,
        &mut seen,
        &format!("got-int-{word}"),
        Duration::from_secs(20),
    );
    assert_eq!(container.wait().unwrap(), 7, "{seen:?}");
    leaks.finish();
}

#[test]
fn the_terminal_is_the_containers_own_and_has_a_name_inside() {
    let fx = Fixture::new();
    let leaks = LeakCheck::start(&fx.prefix());
    let word = random_text(12);
    let script = r#"echo "name $(tty)"; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo "stdio-is-tty";
        echo "pts $(ls /dev/pts | tr '\n' ' ')";
        stat -c "console %t:%T" /dev/console; stat -c "console %t:%T" /dev/pts/0;
        echo ready-$W; read x; echo "size $(stty size)"; echo end-$W"#
        .replace("$W", &word);
    let (mut container, mut master) = spawn_with_tty(fx.sh(&script));
    let rx = read_in_background(&master);
    let mut seen = String::new();
    read_until(
        &rx,
        &mut seen,
        &format!("ready-{word}"),
        Duration::from_secs(20),
    );
    let (rows, cols) = (
        10 + rand::random::<u16>() % 60,
        40 + rand::random::<u16>() % 160,
    );
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize struct, valid for the call.
    let r = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    assert_eq!(r, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
    master.write_all(b"go\n").unwrap();
    read_until(
        &rx,
        &mut seen,
        &format!("end-{word}"),
        Duration::from_secs(20),
    );
    assert_eq!(container.wait().unwrap(), 0, "{seen:?}");
    let text = seen.replace('\r', "");
    // ttyname() finds the terminal under the container's own /dev/pts.
    assert!(text.contains("name /dev/pts/0\n"), "{text:?}");
    assert!(text.contains("stdio-is-tty\n"), "{text:?}");
    // Only the container's devpts instance: its one terminal and ptmx,
    // none of the host's terminals.
    assert!(text.contains("pts 0 ptmx \n"), "{text:?}");
    // /dev/console is the same terminal (bind-mounted), as in runc.
    let consoles: Vec<&str> = text.lines().filter(|l| l.starts_with("console ")).collect();
    assert_eq!(consoles.len(), 2, "{text:?}");
    assert_eq!(consoles[0], consoles[1], "{text:?}");
    assert_eq!(consoles[0], "console 88:0", "major 136 = 0x88: {text:?}");
    assert!(text.contains(&format!("size {rows} {cols}\n")), "{text:?}");
    leaks.finish();
}
