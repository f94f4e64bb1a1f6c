//! The busybox rootfs is a working root file system.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

use minidock_testkit::{busybox_path, busybox_rootfs, require_root, BUSYBOX_IN_ROOTFS};

#[test]
fn busybox_is_found_and_static() {
    let path = busybox_path();
    assert!(path.is_file(), "{} is not a file", path.display());
    let out = Command::new(&path)
        .arg("true")
        .output()
        .expect("run busybox");
    assert!(out.status.success());
}

#[test]
fn rootfs_has_applets_users_and_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs"); // does not exist yet
    busybox_rootfs(&root);

    for applet in ["bin/sh", "usr/bin/env", "bin/ls"] {
        let target = std::fs::read_link(root.join(applet))
            .unwrap_or_else(|e| panic!("{applet} is not a symlink: {e}"));
        assert_eq!(target.to_str(), Some(BUSYBOX_IN_ROOTFS), "{applet}");
    }
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(passwd.starts_with("root:x:0:0:"), "{passwd}");
    assert!(passwd.contains(":65534:65534:"), "{passwd}");
    assert!(root.join("etc/group").is_file());
    assert!(root.join("etc/hostname").is_file());
    for d in ["proc", "sys", "dev", "root", "home", "etc"] {
        assert!(root.join(d).is_dir(), "{d} missing");
    }
    let tmp = std::fs::metadata(root.join("tmp")).unwrap();
    assert_eq!(tmp.permissions().mode() & 0o7777, 0o1777);
    let bb = std::fs::metadata(root.join("bin/busybox")).unwrap();
    assert_eq!(bb.len(), std::fs::metadata(busybox_path()).unwrap().len());
    assert_eq!(bb.mode() & 0o777, 0o755);
}

#[test]
fn rootfs_runs_a_shell_in_chroot() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    busybox_rootfs(dir.path());
    let a: u32 = rand::random::<u32>() % 1000;
    let b: u32 = rand::random::<u32>() % 1000;
    let out = Command::new("chroot")
        .arg(dir.path())
        .args(["/bin/sh", "-c", &format!("echo $(({a}*{b}))")])
        .output()
        .expect("run chroot");
    assert!(
        out.status.success(),
        "chroot sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        (a * b).to_string()
    );
}
