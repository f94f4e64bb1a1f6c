//! A minimal root file system built from the host's busybox: the smallest
//! tree in which a container can run a shell. Tests use it as the directory
//! form of the busybox image and as the expected result of unpacking it.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use crate::busybox::{applets, busybox_path};

/// `/etc/passwd` of the test rootfs: root, plus `nobody` for user tests.
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
nobody:x:65534:65534:nobody:/home:/bin/false\n";
/// `/etc/group` of the test rootfs.
pub const GROUP: &str = "root:x:0:\nnogroup:x:65534:\n";
/// `/etc/hostname` of the test rootfs.
pub const HOSTNAME: &str = "busybox\n";

/// Empty directories every rootfs has, with their modes. `tmp` is
/// world-writable and sticky like on any Unix system.
pub(crate) const DIRS: &[(&str, u32)] = &[
    ("bin", 0o755),
    ("dev", 0o755),
    ("etc", 0o755),
    ("home", 0o755),
    ("proc", 0o555),
    ("root", 0o700),
    ("sbin", 0o755),
    ("sys", 0o555),
    ("tmp", 0o1777),
    ("usr", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
];

/// Where every applet symlink points: the absolute path busybox has inside
/// the container (as `busybox --install -s` makes them).
pub const BUSYBOX_IN_ROOTFS: &str = "/bin/busybox";

/// Creates a busybox root file system in `dest` (created if missing):
/// `bin/busybox`, one symlink per applet (`bin/sh`, `usr/bin/env`, …),
/// `etc/passwd`, `etc/group`, `etc/hostname`, and the empty directories
/// `proc sys dev tmp root home`.
///
/// Modes are set explicitly, so the tree does not depend on the umask.
pub fn busybox_rootfs(dest: &Path) {
    let busybox = busybox_path();
    let mkdir = |rel: &str, mode: u32| {
        let p = dest.join(rel);
        fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        fs::set_permissions(&p, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
    };
    mkdir("", 0o755);
    for (dir, mode) in DIRS {
        mkdir(dir, *mode);
    }

    let target = dest.join("bin/busybox");
    fs::copy(&busybox, &target)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", busybox.display(), target.display()));
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", target.display()));

    for applet in applets(&busybox) {
        let link = dest.join(&applet);
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        if link.symlink_metadata().is_ok() {
            continue; // listed twice, or already there from an earlier call
        }
        symlink(BUSYBOX_IN_ROOTFS, &link)
            .unwrap_or_else(|e| panic!("symlink {}: {e}", link.display()));
    }

    for (rel, text) in [
        ("etc/passwd", PASSWD),
        ("etc/group", GROUP),
        ("etc/hostname", HOSTNAME),
    ] {
        let p = dest.join(rel);
        fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
    }
}
