//! A daemon killed in the middle of `create` restarts with no half-made
//! container: `minidockd` runs with a fail point armed
//! (`MINIDOCK_FAILPOINT=create-after-mount`, see
//! `minidock_lifecycle::failpoint`), so it aborts right after mounting the
//! new container's root file system and before committing the container.
//! The next daemon on the same root lists nothing, leaves no mount, and
//! runs containers as usual (its leak check covers mounts, cgroups and
//! processes of the test's directory).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::Daemon;
use minidock_testkit::{assert_aborted_at, container_dirs, mounts_under, FAILPOINT_ENV};

#[test]
fn a_daemon_killed_mid_create_restarts_with_nothing_half_made() {
    let point = "create-after-mount";
    let daemon = Daemon::start_with_env(&[(FAILPOINT_ENV, point)]);
    daemon.load_busybox();
    let name = format!("crash{}", rand::random::<u32>());
    let out = daemon.run(&["create", "--name", &name, "busybox", "echo", "hi"]);
    assert!(
        !out.status.success(),
        "create should fail: the daemon dies in it; stdout: {}",
        common::stdout(&out)
    );
    let (status, dir, leaks) = daemon.crashed(Duration::from_secs(20));
    // The daemon's stderr is its log: it must say it aborted at the point.
    let log = std::fs::read_to_string(dir.join("minidockd.log")).unwrap_or_default();
    assert_aborted_at(status, &log, point);
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
