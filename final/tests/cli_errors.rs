//! Errors and exit codes that need no daemon: bad flags, a daemon that is
//! not there, an address the client cannot use.

use assert_cmd::Command;

fn minidock(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("minidock")
        .expect("the minidock binary is built")
        .env_remove("MINIDOCK_HOST")
        .args(args)
        .output()
        .expect("minidock runs")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_flags_exit_125() {
    for args in [
        &["run"][..],
        &["run", "--bogus", "busybox"],
        &["ps", "--bogus"],
        &["frobnicate"],
    ] {
        let out = minidock(args);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {out:?}");
        assert!(
            stderr(&out).starts_with("error: "),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("--help"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_missing_daemon_is_named_with_its_socket() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("minidock.sock");
    let host = format!("unix://{}", socket.display());
    let expected =
        format!("Cannot connect to the minidock daemon at {host}. Is minidockd running?");

    let out = minidock(&["-H", &host, "ps"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stderr(&out).trim(), expected);

    // `run` fails before the container exists: 125, with the program's name.
    let out = minidock(&["-H", &host, "run", "--rm", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    assert_eq!(stderr(&out).trim(), format!("minidock: {expected}"));

    // The environment variable works like -H.
    let out = Command::cargo_bin("minidock")
        .unwrap()
        .env("MINIDOCK_HOST", &host)
        .arg("images")
        .output()
        .unwrap();
    assert_eq!(stderr(&out).trim(), expected);
}

#[test]
fn client_side_mistakes_are_reported_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}", dir.path().join("none.sock").display());
    for (args, wanted) in [
        (
            &["run", "-v", "../data:/data", "busybox"][..],
            "invalid volume name \"../data\"",
        ),
        (
            &["run", "--mount", "type=bind,target=/x", "busybox"],
            "a bind needs source=/absolute/host/path",
        ),
        (
            &["run", "--tmpfs", "/run:size=lots", "busybox"],
            "invalid size \"lots\"",
        ),
        (&["run", "-m", "lots", "busybox"], "invalid size: 'lots'"),
        (
            &["run", "--rm", "--restart", "always", "busybox"],
            "Conflicting options: --restart and --rm",
        ),
        (
            &["run", "--cpus", "0.0000000001", "busybox"],
            "value is too precise",
        ),
    ] {
        let mut full = vec!["-H", host.as_str()];
        full.extend_from_slice(args);
        let out = minidock(&full);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {out:?}");
        assert!(stderr(&out).contains(wanted), "{args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("Cannot connect"),
            "{args:?} talked to the daemon"
        );
    }
    let out = minidock(&["-H", "http://127.0.0.1:2375", "ps"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("unix:///path/to.sock or tcp://HOST:PORT"),
        "{}",
        stderr(&out)
    );
}
