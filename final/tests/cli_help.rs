//! The help texts, pinned by snapshots: they are the client's user
//! interface, so a change to a flag or its wording shows up in review.
//! Runs the built binary, without a daemon.

use assert_cmd::Command;

fn help(args: &[&str]) -> String {
    let out = Command::cargo_bin("minidock")
        .expect("the minidock binary is built")
        .env_remove("MINIDOCK_HOST")
        .args(args)
        .output()
        .expect("minidock runs");
    assert!(out.status.success(), "{args:?} failed: {out:?}");
    assert!(out.stderr.is_empty(), "{args:?} wrote to stderr: {out:?}");
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&["--help"]));
}

#[test]
fn command_help() {
    for command in [
        "run", "create", "exec", "ps", "logs", "inspect", "images", "pull", "start", "stop", "rm",
        "login", "stats",
    ] {
        insta::assert_snapshot!(format!("{command}_help"), help(&[command, "--help"]));
    }
}

#[test]
fn run_and_create_keep_dash_h_for_the_hostname() {
    // As in Docker: `-h` is --hostname there, so it must not print help.
    let out = Command::cargo_bin("minidock")
        .unwrap()
        .args(["-H", "unix:///nonexistent/minidock.sock", "run", "-h"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a value is required for '--hostname"),
        "{out:?}"
    );
}
