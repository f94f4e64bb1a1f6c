//! `version` and `info` against a real daemon.

mod common;

use common::Daemon;

#[test]
fn version_and_info_describe_client_and_daemon() {
    let d = Daemon::start();
    let version = d.ok(&["version"]);
    assert!(version.starts_with("Client:\n Version:"), "{version}");
    assert!(version.contains("\nServer: "), "{version}");
    assert!(version.contains("API version:      1.44"), "{version}");

    d.load_busybox();
    d.ok(&["run", "-d", "--name", "up", "busybox", "sleep", "300"]);
    d.ok(&["create", "--name", "down", "busybox", "true"]);
    let info = d.ok(&["info"]);
    assert!(
        info.contains(" Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n"),
        "{info}"
    );
    assert!(info.contains(" Images: 1\n"), "{info}");
    assert!(
        info.contains(&format!(" Docker Root Dir: {}\n", d.root().display())),
        "{info}"
    );
}
