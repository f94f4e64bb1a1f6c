//! CVE-2019-5736: a container process must not be able to reach the
//! engine's binary through a helper entering the container, nor take the
//! helper over with `ptrace`.
//!
//! The exec helper's child is visible inside the container between its
//! `fork` and its `execve`. The fail point `before-execve` holds it there
//! (chapter 01's `failpoint`), so the test does not depend on timing: a
//! probe in the container finds it and attacks it. Without chapter 01's
//! `dumpable` step the probe reads the host's binary and seizes the helper
//! (`read=ok write=ETXTBSY seize=ok`).

mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::fixture;
use minidock_lifecycle::sealed_binary::{seals_of, SEALS};
use minidock_lifecycle::ExecOptions;

/// How long a helper waits before its `execve` in this test binary.
const HOLD_MS: u64 = 1500;

/// Copies `program` and the shared libraries it needs (as `ldd` lists
/// them) into `rootfs` at the same paths; returns the program's path there.
fn install(rootfs: &Path, program: &str, name: &str) -> String {
    let ldd = Command::new("ldd").arg(program).output().expect("run ldd");
    assert!(ldd.status.success(), "ldd {program} failed");
    let stdout = String::from_utf8(ldd.stdout).unwrap();
    let libs: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with('/')))
        .collect();
    assert!(!libs.is_empty(), "no libraries found for {program}");
    for lib in libs {
        let dest = rootfs.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(lib, &dest).unwrap_or_else(|e| panic!("copy {lib}: {e}"));
    }
    let dest = rootfs.join(name);
    std::fs::copy(program, &dest).unwrap();
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("/{name}")
}

fn exec(args: &[&str]) -> ExecOptions {
    ExecOptions {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn a_container_process_can_neither_open_the_helper_binary_nor_ptrace_the_helper() {
    // Set before the first helper starts; every helper inherits it.
    std::env::set_var(
        "MINIDOCK_FAILPOINT",
        format!("before-execve=delay({HOLD_MS})"),
    );
    let fx = fixture();
    let id = fx.create(&["sleep", "1000"]);
    fx.runtime.start(&id).unwrap();
    let probe = install(
        &fx.rootfs(&id),
        env!("CARGO_BIN_EXE_minidock-exposure-probe"),
        "probe",
    );

    let mut attacker = fx
        .runtime
        .exec(&id, exec(&[&probe, "__minidock_exec"]))
        .unwrap();
    let mut out = BufReader::new(attacker.take_stdout().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n", "the probe did not start");

    // The victim: an exec whose child waits before its execve, inside the
    // container, where the probe finds it.
    let mut victim = fx.runtime.exec(&id, exec(&["true"])).unwrap();
    // From the host: the helper runs from the sealed copy, not from the
    // binary on disk.
    let exe = format!("/proc/{}/exe", victim.id());
    let link = std::fs::read_link(&exe).unwrap();
    assert!(
        link.to_string_lossy().starts_with("/memfd:minidock-helper"),
        "the exec helper runs {}",
        link.display()
    );
    let binary = std::fs::File::open(&exe).unwrap();
    assert_eq!(seals_of(&binary).unwrap() & SEALS, SEALS);

    let mut verdict = String::new();
    out.read_to_string(&mut verdict).unwrap();
    let (code, _, stderr) = attacker.wait_with_output().unwrap();
    assert_eq!(
        code,
        0,
        "probe: {verdict} {}",
        String::from_utf8_lossy(&stderr)
    );
    assert_eq!(verdict.trim(), "read=EACCES write=EACCES seize=EPERM");
    assert_eq!(victim.wait().unwrap(), 0, "the attacked exec still works");
}
