//! Running the independent tools (umoci, skopeo, runc, docker-registry):
//! a failure shows the command, its exit status and its stderr, because that
//! is what one needs to understand a failing test.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Finds `name` on `PATH` (or the usual sbin dirs), or panics with the
/// `apt-get install PACKAGE` line that provides it.
pub fn require_tool(name: &str, package: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(
        [
            "/usr/local/sbin",
            "/usr/local/bin",
            "/usr/sbin",
            "/usr/bin",
            "/sbin",
            "/bin",
        ]
        .map(PathBuf::from),
    );
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is missing: apt-get install {package}"))
}

/// Runs `cmd` to completion; panics unless it exits 0. Returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run_output(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `cmd` to completion and returns its output, whatever the status.
pub fn run_output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}
