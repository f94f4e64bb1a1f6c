//! The crash harness: run a minidock program with one fail point armed,
//! check that it died right there, and look at what it left behind.
//!
//! A fail point (`MINIDOCK_FAILPOINT=<point>`, chapter 01's `failpoint`
//! module) makes the program abort with `SIGABRT` when it reaches that step,
//! as abruptly as `kill -9`: no destructor runs, nothing is cleaned up. The
//! tests then start the next engine on the same root and prove it recovers.
//! Every crash test (chapter 02's load, chapter 03's create, chapter 04's
//! pull, the daemon's) uses these, so "it died where we said" is checked
//! the same way everywhere.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

/// The variable that arms a fail point. The kit uses no minidock crate, so
/// it names the variable itself; `failpoint::ENV` of chapter 01 is the same
/// string (the chapters' crash tests check that).
pub const FAILPOINT_ENV: &str = "MINIDOCK_FAILPOINT";

/// Runs `cmd` with `point` armed (stdin from `/dev/null`) and checks that it
/// died of `SIGABRT` saying the point's name on stderr. Returns its output
/// for further checks.
pub fn crash_at(cmd: &mut Command, point: &str) -> Output {
    let out = cmd
        .env(FAILPOINT_ENV, point)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    assert_aborted_at(out.status, &String::from_utf8_lossy(&out.stderr), point);
    out
}

/// Checks that a process armed with `point` died of `SIGABRT` and said so:
/// any other end (an exit, another signal, an abort elsewhere) means the
/// test did not crash where it meant to.
pub fn assert_aborted_at(status: ExitStatus, stderr: &str, point: &str) {
    assert_eq!(
        status.signal(),
        Some(libc::SIGABRT),
        "with {point} armed it should die of SIGABRT there; it ended {status}; stderr: {stderr}"
    );
    assert!(
        stderr.contains(point),
        "it aborted, but not at {point}: stderr: {stderr}"
    );
}

/// Mount points at or below `dir`, from `/proc/self/mountinfo`.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .expect("read /proc/self/mountinfo")
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&dir))
        .map(str::to_owned)
        .collect()
}

/// Container directories (named by their 64-hex-digit ids) under
/// `root/containers`.
pub fn container_dirs(root: &Path) -> Vec<PathBuf> {
    let dir = root.join("containers");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("read a directory entry").path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                n.len() == 64 && n.to_string_lossy().bytes().all(|b| b.is_ascii_hexdigit())
            })
        })
        .collect();
    dirs.sort();
    dirs
}

/// An example program of the package under test (`cargo test -p PACKAGE`
/// builds its examples into `target/<profile>/examples/`, next to the
/// test binary's `deps/`).
pub fn example(name: &str, package: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lies in target/<profile>/deps")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p {package}` (it builds the examples), or \
         `cargo build -p {package} --examples` before `cargo test --test …`",
        path.display()
    );
    path
}
