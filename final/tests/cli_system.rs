//! `version`, `info` and `events` against a real daemon.

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

#[test]
fn events_replays_the_past_and_formats_it() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "--name", "evented", "busybox", "true"]);
    d.ok(&["rm", "evented"]);
    let now = format!(
        "{:.9}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    );
    let actions = d.ok(&[
        "events",
        "--since",
        "10m",
        "--until",
        &now,
        "--filter",
        "type=container",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    assert_eq!(
        actions,
        "create evented\nstart evented\ndie evented\ndestroy evented\n"
    );
    let lines = d.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &now,
        "--filter",
        "event=create",
    ]);
    let line = lines.lines().next().unwrap_or_default();
    // 2026-11-28T02:31:00.123456789Z container create <id> (image=busybox, name=evented)
    let (time, rest) = line.split_once(' ').unwrap();
    assert!(time.len() == 30 && time.ends_with('Z'), "{line}");
    assert!(rest.starts_with("container create "), "{line}");
    assert!(rest.ends_with(" (image=busybox, name=evented)"), "{line}");
    let bad = d.run(&["events", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(125));
}
