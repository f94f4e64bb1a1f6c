//! The devices cgroup: a container may use the nodes of its `/dev` and no
//! other device, not even one it makes itself with `mknod` in a directory
//! of the host (issue: a `mknod` in a bind mount left a disk node on the
//! host). On a v1 host this is `devices.deny`/`devices.allow`; on a v2 host
//! (the VM of `tests/vm/plan.txt`) chapter 03's eBPF device program.

mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::fixture;
use minidock_lifecycle::cgroup::{device_program, parse_mountinfo, DEFAULT_DEVICE_RULES};
use minidock_lifecycle::config::{Bind, HostConfig, UserConfig};
use minidock_lifecycle::ExecOptions;
use minidock_testkit::{random_name, require_root};

fn sh(script: &str) -> ExecOptions {
    ExecOptions {
        args: vec!["sh".into(), "-c".into(), script.into()],
        ..Default::default()
    }
}

#[test]
fn a_container_can_use_its_dev_nodes_and_cannot_make_a_disk_node() {
    let fx = fixture();
    let shared = fx.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let host_config = HostConfig {
        binds: vec![Bind {
            source: shared.clone(),
            destination: "/d".into(),
            read_only: false,
            propagation: Default::default(),
        }],
        ..Default::default()
    };
    let id = fx.create_with(&["sleep", "1000"], UserConfig::default(), host_config);
    fx.runtime.start(&id).unwrap();
    let script = "\
        echo x >/dev/null && echo null=ok; \
        head -c 3 /dev/zero | wc -c; \
        head -c 3 /dev/urandom | wc -c; \
        mknod /d/vda b 253 0 2>&1; echo mknod-block=$?; \
        mknod /tmp/sda b 8 0 2>&1; echo mknod-sda=$?; \
        mknod /tmp/mem c 1 1 2>&1; echo mknod-mem=$?; \
        mknod /tmp/null c 1 3; echo mknod-null=$?";
    let (code, out, err) = fx
        .runtime
        .exec(&id, sh(script))
        .unwrap()
        .wait_with_output()
        .unwrap();
    let out = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{out} {}", String::from_utf8_lossy(&err));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "null=ok",
            "3",
            "3",
            "mknod: /d/vda: Operation not permitted",
            "mknod-block=1",
            "mknod: /tmp/sda: Operation not permitted",
            "mknod-sda=1",
            "mknod: /tmp/mem: Operation not permitted",
            "mknod-mem=1",
            "mknod-null=0",
        ],
        "{out}"
    );
    assert!(
        !shared.join("vda").exists(),
        "a device node was left on the host"
    );
}

/// A cgroup2 mount: the whole tree on a v2 host, the nearly empty unified
/// hierarchy on a hybrid v1 host (where eBPF device programs work too).
fn cgroup2_mount() -> PathBuf {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    parse_mountinfo(&text)
        .into_iter()
        .find(|m| m.fs_type == "cgroup2")
        .map(|m| m.mount_point)
        .expect("no cgroup2 file system is mounted: mount one (cgroup2 on /sys/fs/cgroup/unified)")
}

/// Removes the group when the test ends, passing or failing.
struct Group(PathBuf);

impl Drop for Group {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir(&self.0) {
            eprintln!("remove {}: {e}", self.0.display());
        }
    }
}

/// Runs `script` with the host's shell inside the group at `dir`.
fn run_in(dir: &Path, script: &str) -> (bool, String) {
    let procs = dir.join("cgroup.procs");
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "echo $$ > {} || exit 99; {script}",
            procs.display()
        ))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn the_kernel_enforces_the_ebpf_device_program() {
    require_root();
    let group = Group(cgroup2_mount().join(random_name("minidock-test-dev-")));
    std::fs::create_dir(&group.0).unwrap();
    let node_dir = tempfile::tempdir().unwrap();
    let disk = node_dir.path().join("disk");

    // Before: the host's root may make a block node and open /dev/kmsg.
    let (ok, text) = run_in(
        &group.0,
        &format!("mknod {} b 7 200 && rm {0} && : </dev/kmsg", disk.display()),
    );
    assert!(ok, "without the program: {text}");

    device_program::attach(&group.0, DEFAULT_DEVICE_RULES).unwrap();
    let (ok, text) = run_in(&group.0, "echo x >/dev/null && head -c 2 /dev/zero | wc -c");
    assert!(ok && text.trim() == "2", "/dev/null and /dev/zero: {text}");
    let (ok, text) = run_in(&group.0, ": </dev/kmsg");
    assert!(
        !ok && text.contains("Operation not permitted"),
        "/dev/kmsg: {text}"
    );
    let (ok, text) = run_in(&group.0, &format!("mknod {} b 7 200", disk.display()));
    assert!(
        !ok && text.contains("Operation not permitted"),
        "mknod: {text}"
    );
    assert!(
        !std::fs::symlink_metadata(&disk).is_ok_and(|m| m.file_type().is_block_device()),
        "the block node was made"
    );

    // Attaching again replaces the program (a restarted container).
    device_program::attach(&group.0, DEFAULT_DEVICE_RULES).unwrap();
    let (ok, text) = run_in(&group.0, "echo x >/dev/null");
    assert!(ok, "after a second attach: {text}");
}
