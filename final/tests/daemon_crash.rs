//! A daemon killed in the middle of `create` restarts with no half-made
//! container: `minidockd` runs with a fail point armed
//! (`MINIDOCK_FAILPOINT=create-after-mount`, see
//! `minidock_lifecycle::failpoint`), so it aborts right after mounting the
//! new container's root file system and before committing the container.
//! The next daemon on the same root lists nothing, leaves no mount, and
//! runs containers as usual (its leak check covers mounts, cgroups and
//! processes of the test's directory).

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Daemon;

/// Mount points at or below `dir`, from `/proc/self/mountinfo`.
fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .expect("read /proc/self/mountinfo")
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&dir))
        .map(str::to_owned)
        .collect()
}

/// Container directories (named by 64-hex-digit ids) under `root`.
fn container_dirs(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root.join("containers"))
        .expect("read the containers directory")
        .map(|e| e.expect("read an entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.len() == 64))
        .collect()
}

#[test]
fn a_daemon_killed_mid_create_restarts_with_nothing_half_made() {
    let daemon = Daemon::start_with_env(&[("MINIDOCK_FAILPOINT", "create-after-mount")]);
    daemon.load_busybox();
    let name = format!("crash{}", rand::random::<u32>());
    let out = daemon.run(&["create", "--name", &name, "busybox", "echo", "hi"]);
    assert!(
        !out.status.success(),
        "create should fail: the daemon dies in it; stdout: {}",
        common::stdout(&out)
    );
    let log = daemon.log();
    let (status, dir, leaks) = daemon.crashed(Duration::from_secs(20));
    assert_eq!(
        status.signal(),
        Some(libc::SIGABRT),
        "the daemon should abort at the fail point; it ended {status}; log:\n{log}"
    );
    let root = dir.join("root");
    let containers = root.join("containers");
    // The crash really left a mounted, uncommitted container behind.
    assert_eq!(container_dirs(&root).len(), 1, "log:\n{log}");
    assert!(
        !mounts_under(&containers).is_empty(),
        "the overlay should still be mounted after the crash"
    );

    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    assert_eq!(daemon.ok(&["ps", "-a", "-q"]), "");
    assert_eq!(mounts_under(&containers), Vec::<String>::new());
    assert_eq!(container_dirs(&root), Vec::<PathBuf>::new());
    // The name is free, and containers run as before.
    assert_eq!(
        daemon.ok(&["run", "--rm", "--name", &name, "busybox", "echo", "ok"]),
        "ok\n"
    );
    assert_eq!(daemon.ok(&["ps", "-a", "-q"]), "");
    assert_eq!(mounts_under(&containers), Vec::<String>::new());
}
