//! A container with a TTY: its pseudo-terminal is PID 1's controlling
//! terminal, so a shell gets job control and `^C` becomes `SIGINT`.

mod common;

use std::fs::File;
use std::io::{Read, Write};
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
    let (mut container, master, rdev) = spawn_on_pty(fx.sh(PID1_STAT).tty(tty));
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

    // Without it the pty is only stdio: not the session's terminal.
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
    let (mut container, mut master, _) = spawn_on_pty(fx.sh(&script).tty(true));
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
