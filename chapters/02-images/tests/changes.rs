//! `docker diff`'s reading of an upper directory against layers, on plain
//! directories standing in for an overlay.

use std::fs;
use std::os::unix::fs::symlink;

use minidock_images::changes::{changes, ChangeKind};
use minidock_testkit::require_root;

#[test]
fn added_changed_and_deleted_paths_read_like_docker_diff() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let (lower, top, upper) = (
        dir.path().join("l1"),
        dir.path().join("l2"),
        dir.path().join("up"),
    );
    fs::create_dir_all(lower.join("etc")).unwrap();
    fs::write(lower.join("etc/passwd"), "root:x:0:0\n").unwrap();
    fs::write(lower.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
    fs::create_dir_all(top.join("bin")).unwrap();
    fs::write(top.join("bin/sh"), "").unwrap();
    // a layer's symlink to the host's root must not be followed
    symlink("/", top.join("evil")).unwrap();

    fs::create_dir_all(upper.join("etc")).unwrap();
    fs::write(upper.join("etc/passwd"), "root:x:0:0\nnew:x:1:1\n").unwrap();
    fs::write(upper.join("etc/new"), "").unwrap();
    nix::sys::stat::mknod(
        &upper.join("etc/hosts"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
        0,
    )
    .unwrap();
    fs::create_dir_all(upper.join("tmp/work")).unwrap();
    fs::create_dir_all(upper.join("evil/etc")).unwrap();
    fs::write(upper.join("evil/etc/passwd"), "").unwrap();

    let got: Vec<String> = changes(&upper, &[top, lower])
        .unwrap()
        .into_iter()
        .map(|c| format!("{} {}", c.kind.letter(), c.path))
        .collect();
    assert_eq!(
        got,
        [
            "C /etc",
            "D /etc/hosts",
            "A /etc/new",
            "C /etc/passwd",
            "C /evil",
            // /etc and /etc/passwd exist on the host: through `evil -> /`
            // they would read as changed
            "A /evil/etc",
            "A /evil/etc/passwd",
            "A /tmp",
            "A /tmp/work",
        ]
    );
    assert_eq!(ChangeKind::Deleted as u8, 2);
}
