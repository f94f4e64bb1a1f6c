//! What every test of this chapter needs: root, a busybox rootfs in a fresh
//! temp dir, the init helper, and a way to run a command and collect its
//! output.

#![allow(dead_code)] // each test file uses a different part

use std::path::PathBuf;

use minidock_namespaces::{InitHelper, Output, ProcessSpec, Stdio};
use minidock_testkit::{busybox_rootfs, require_root};
use rand::distributions::Alphanumeric;
use rand::Rng;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub rootfs: PathBuf,
}

impl Fixture {
    /// Needs root; makes `TMP/rootfs` with busybox.
    pub fn new() -> Fixture {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix("minidock-ns-")
            .tempdir()
            .expect("temp dir");
        let rootfs = dir.path().join("rootfs");
        busybox_rootfs(&rootfs);
        Fixture { dir, rootfs }
    }

    /// The temp dir's path, the prefix for leak checks.
    pub fn prefix(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// A spec running `args` in this rootfs.
    pub fn spec<I: IntoIterator<Item = S>, S: Into<String>>(&self, args: I) -> ProcessSpec {
        ProcessSpec::new(&self.rootfs, args)
    }

    /// A spec running `sh -c script`.
    pub fn sh(&self, script: &str) -> ProcessSpec {
        self.spec(["/bin/sh", "-c", script])
    }
}

pub fn init() -> InitHelper {
    InitHelper::new(env!("CARGO_BIN_EXE_minidock-init"))
}

/// Runs with stdout and stderr piped and stdin from /dev/null.
pub fn run(spec: ProcessSpec) -> Output {
    spec.stdin(Stdio::Null)
        .stdout(Stdio::Piped)
        .stderr(Stdio::Piped)
        .spawn(&init())
        .unwrap_or_else(|e| panic!("spawn: {e}"))
        .wait_with_output()
        .expect("wait")
}

/// Runs and insists on exit code 0; returns stdout as text.
pub fn run_ok(spec: ProcessSpec) -> String {
    let out = run(spec);
    assert_eq!(
        out.code,
        0,
        "exit code {}; stdout {:?}; stderr {:?}",
        out.code,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// `len` random letters and digits.
pub fn random_text(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
