//! `require_root` passes as root and panics with the README hint otherwise.

use minidock_testkit::require_root;

#[test]
fn require_root_matches_the_effective_uid() {
    let euid = nix::unistd::geteuid();
    println!("euid={euid}");
    let result = std::panic::catch_unwind(require_root);
    if nix::unistd::geteuid().is_root() {
        assert!(result.is_ok(), "require_root panicked as root");
    } else {
        let err = result.expect_err("require_root passed without root");
        let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
        assert_eq!(msg, "needs root: run the test command as root (see README)");
    }
}

/// Dropping to an unprivileged uid in a child process shows the failing side
/// even when the suite runs as root.
#[test]
fn require_root_panics_for_a_normal_user() {
    require_root();
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "--exact",
            "require_root_matches_the_effective_uid",
            "--nocapture",
        ])
        .output()
        .expect("run setpriv");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("euid=65534"),
        "setpriv did not drop root: {stdout}"
    );
    assert!(
        out.status.success(),
        "as uid 65534 the check should have seen the panic: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
