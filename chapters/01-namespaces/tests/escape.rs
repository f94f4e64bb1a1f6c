//! Break it: the classic chroot escape.
//!
//! `minidock-chroot-escape` chroots into a subdirectory without entering
//! it, climbs `..` from outside its root, and `chroot(".")`s at the top.
//! Under a plain `chroot` that top is the host's root and it reads a host
//! file. Under this crate's setup (`pivot_root` + detach) the host's root is
//! not mounted in the container at all, so the climb ends at the
//! container's own `/`. If `pivot_root` were replaced by `chroot`, the
//! second half of this test would fail.

mod common;

use std::path::Path;
use std::process::Command;

use common::{random_text, run, Fixture};

/// Copies the escape program and the shared libraries it needs (as `ldd`
/// lists them) into the rootfs, at the same paths.
fn install_escape(rootfs: &Path) -> &'static str {
    let program = env!("CARGO_BIN_EXE_minidock-chroot-escape");
    let ldd = Command::new("ldd").arg(program).output().expect("run ldd");
    assert!(ldd.status.success(), "ldd {program} failed");
    let libs: Vec<String> = String::from_utf8(ldd.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with('/'))
                .map(String::from)
        })
        .collect();
    assert!(!libs.is_empty(), "no libraries found for {program}");
    for lib in libs {
        let dest = rootfs.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&lib, &dest).unwrap_or_else(|e| panic!("copy {lib}: {e}"));
    }
    std::fs::copy(program, rootfs.join("escape")).unwrap();
    "/escape"
}

#[test]
fn the_chroot_escape_reaches_the_host_under_chroot_but_not_under_pivot_root() {
    let fx = Fixture::new();
    let escape = install_escape(&fx.rootfs);
    // A host file outside the rootfs, with content nobody can guess.
    let secret = random_text(32);
    let marker = fx.dir.path().join("host-secret");
    std::fs::write(&marker, &secret).unwrap();

    // 1. Plain chroot (the host's chroot(8)): the escape works.
    let out = Command::new("chroot")
        .arg(&fx.rootfs)
        .arg(escape)
        .arg(&marker)
        .output()
        .expect("run chroot");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        secret,
        "the escape should read the host file under plain chroot; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // 2. The same program as a container: same capability (CAP_SYS_CHROOT
    //    is one of Docker's 14), but nothing to escape to.
    let out = run(fx.spec([escape, marker.to_str().unwrap()]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(&secret), "escaped the container: {stdout}");
    assert_eq!(out.code, 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No such file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // …and it did chroot and climb: it ended at the container's root,
    // where a file only the rootfs has is found.
    let inside = random_text(32);
    std::fs::write(fx.rootfs.join("rootfs-marker"), &inside).unwrap();
    let out = run(fx.spec([escape, "/rootfs-marker"]));
    assert_eq!(out.code, 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), inside);
}
