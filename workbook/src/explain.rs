//! Failing tests in plain words: a table of known messages and what they mean for a learner.
//!
//! The patterns are matched case-insensitively against the failure's whole output; the first
//! row that matches wins, so the specific rows come before the general ones.

/// The command a learner runs as root: `sudo` resets PATH on Debian and Ubuntu
/// (`secure_path`), so cargo from rustup would not be found without passing PATH along.
pub fn as_root(args: &str) -> String {
    format!("sudo -E env \"PATH=$PATH\" cargo workbook {args}")
}

struct Row {
    /// Every one of these must occur.
    all: &'static [&'static str],
    /// At least one of these must occur (empty: no condition).
    any: &'static [&'static str],
    /// What it means; `{root}` becomes the command to run as root.
    says: &'static str,
}

const EPERM: &[&str] = &["eperm", "operation not permitted"];
const ENOENT: &[&str] = &["enoent", "no such file or directory", "not found"];

const ROWS: &[Row] = &[
    Row {
        all: &["needs root"],
        any: &[],
        says: "needs root: run as root: {root}",
    },
    Row {
        all: &[],
        any: &["unshare", "clone", "setns", "mount", "pivot_root", "sethostname", "chroot", "mknod"],
        says: "",
    },
    Row {
        all: &["busybox"],
        any: ENOENT,
        says: "busybox is missing: apt-get install busybox-static (the tests copy the static /bin/busybox into a rootfs)",
    },
    Row {
        all: &["docker-registry"],
        any: ENOENT,
        says: "the distribution registry is missing: apt-get install docker-registry",
    },
    Row {
        all: &["skopeo"],
        any: ENOENT,
        says: "skopeo is missing: apt-get install skopeo",
    },
    Row {
        all: &["umoci"],
        any: ENOENT,
        says: "umoci is missing: apt-get install umoci",
    },
    Row {
        all: &["pivot_root"],
        any: &["einval", "invalid argument"],
        says: "pivot_root refused (EINVAL): the new root must be a mount point (bind-mount the rootfs onto itself first), \
               no mount on the way may be shared (remount / with MS_REC | MS_PRIVATE first), and put_old must lie below the new root",
    },
    Row {
        all: &[],
        any: &["ebusy", "device or resource busy"],
        says: "something is still in use (EBUSY): unmount the old root with umount2(MNT_DETACH), and make sure no process still runs inside",
    },
    Row {
        all: &["overlay"],
        any: &["enodev", "no such device", "unknown filesystem"],
        says: "overlayfs is not available: modprobe overlay (see cargo workbook doctor)",
    },
    Row {
        all: &["cgroup"],
        any: ENOENT,
        says: "a cgroup file or controller is missing: cargo workbook doctor lists the controllers this machine has",
    },
    Row {
        all: &[],
        any: &["enosys", "function not implemented"],
        says: "the kernel lacks this system call (ENOSYS): the chapters need Linux 5.6 or newer (cargo workbook doctor)",
    },
    Row {
        all: &[],
        any: &["eacces", "permission denied"],
        says: "permission denied (EACCES): run as root ({root}) and check the mode of the path",
    },
    Row {
        all: &[],
        any: &["eaddrinuse", "address already in use"],
        says: "the socket or port is still in use: another test run or a daemon may still be running",
    },
    Row {
        all: &[],
        any: &["timed out", "timeout"],
        says: "something waited too long: a process that never exits, a pipe end left open, or a child never reaped",
    },
    Row {
        all: &["assertion", "left"],
        any: &[],
        says: "a test's expectation did not hold: `left` is what the code produced, `right` what the test expected",
    },
];

/// What EPERM means when the tests already run as root.
const EPERM_AS_ROOT: &str = "the kernel refused with EPERM (operation not permitted) although the tests run as root: \
    a step before it took the privilege away (a capability dropped from the effective set too early, a seccomp filter, \
    a chroot, inside which unshare(CLONE_NEWUSER) is refused) or this machine forbids it (cargo workbook doctor)";

/// What EACCES means when the tests already run as root.
const EACCES_AS_ROOT: &str = "permission denied (EACCES) although the tests run as root: a capability is missing \
    (installing a seccomp filter without no_new_privs needs CAP_SYS_ADMIN in the effective set, a mode check needs \
    CAP_DAC_OVERRIDE) or a mode, a read-only or a noexec mount is in the way";

/// What a failure message means, when it is one of the known kinds. `check_args` is how the
/// learner ran check (`check 1`), to build the command to run instead. Run as root, "run as
/// root" is no advice: EPERM and EACCES then mean that something took a privilege away.
pub fn explain(message: &str, check_args: &str) -> Option<String> {
    explain_for(message, check_args, nix::unistd::geteuid().is_root())
}

/// [`explain`] for a learner who runs the tests as root (`as_root`) or not.
pub fn explain_for(message: &str, check_args: &str, as_root_already: bool) -> Option<String> {
    let lower = message.to_lowercase();
    if let Some(id) = todo_exercise(message) {
        return Some(format!(
            "exercise {id} is still todo!(): implement it (cargo workbook hint {})",
            id.split_whitespace().next().unwrap_or(&id)
        ));
    }
    if lower.contains("not yet implemented") {
        return Some("the code reached a todo!() that is still there".to_string());
    }
    let root = as_root(check_args);
    for row in ROWS {
        let all = row.all.iter().all(|p| lower.contains(p));
        let any = row.any.is_empty() || row.any.iter().any(|p| lower.contains(p));
        if !(all && any) {
            continue;
        }
        if row.says.is_empty() {
            // The row of privileged calls: only an EPERM from them means "needs root".
            if EPERM.iter().any(|p| lower.contains(p)) {
                if as_root_already {
                    return Some(EPERM_AS_ROOT.to_string());
                }
                return Some(format!(
                    "the kernel refused with EPERM (operation not permitted): namespaces and mounts need root: run as root: {root}"
                ));
            }
            continue;
        }
        if as_root_already && row.says.starts_with("permission denied (EACCES)") {
            return Some(EACCES_AS_ROOT.to_string());
        }
        return Some(row.says.replace("{root}", &root));
    }
    if EPERM.iter().any(|p| lower.contains(p)) {
        if as_root_already {
            return Some(EPERM_AS_ROOT.to_string());
        }
        return Some(format!(
            "the kernel refused with EPERM (operation not permitted): run as root: {root}"
        ));
    }
    None
}

/// The exercise a `todo!("exercise 1.3 pivot-root: …")` message names: `1.3 pivot-root`.
pub fn todo_exercise(message: &str) -> Option<String> {
    let start =
        message.find("not yet implemented: exercise ")? + "not yet implemented: exercise ".len();
    let rest = &message[start..];
    let id = rest.split(':').next()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_messages_name_the_exercise() {
        let message = "init failed: not yet implemented: exercise 1.3 pivot-root: make the rootfs the new root.";
        assert_eq!(todo_exercise(message).as_deref(), Some("1.3 pivot-root"));
        assert_eq!(
            explain_for(message, "check 1", false).unwrap(),
            "exercise 1.3 pivot-root is still todo!(): implement it (cargo workbook hint 1.3)"
        );
        assert!(explain_for("not yet implemented", "check 1", false)
            .unwrap()
            .contains("todo!()"));
    }

    #[test]
    fn eperm_from_privileged_calls_means_root() {
        for message in [
            "unshare(CLONE_NEWPID) failed: EPERM: Operation not permitted",
            "mount of proc failed: Operation not permitted (os error 1)",
        ] {
            let says = explain_for(message, "check 1", false).unwrap();
            assert!(says.contains("need root"), "{message}: {says}");
            assert!(
                says.contains("sudo -E env \"PATH=$PATH\" cargo workbook check 1"),
                "{says}"
            );
        }
        let says = explain_for(
            "needs root: run the test command as root (see README)",
            "check 2",
            false,
        )
        .unwrap();
        assert_eq!(
            says,
            "needs root: run as root: sudo -E env \"PATH=$PATH\" cargo workbook check 2"
        );
    }

    /// As root, "run as root" would be no advice: the learner's own code took a privilege away.
    #[test]
    fn eperm_and_eacces_as_root_point_at_a_lost_privilege() {
        for message in [
            "unshare: unshare(0x10000000): Operation not permitted",
            "write: Operation not permitted",
        ] {
            let says = explain_for(message, "check 1", true).unwrap();
            assert!(says.contains("although the tests run as root"), "{says}");
            assert!(!says.contains("sudo"), "{says}");
        }
        let says = explain_for(
            "container setup failed: seccomp SECCOMP_SET_MODE_FILTER: EACCES: Permission denied",
            "check 1",
            true,
        )
        .unwrap();
        assert!(says.contains("CAP_SYS_ADMIN"), "{says}");
        assert!(!says.contains("sudo"), "{says}");
    }

    #[test]
    fn known_environment_problems_say_how_to_fix_them() {
        let cases = [
            (
                "copying /bin/busybox: No such file or directory (os error 2)",
                "apt-get install busybox-static",
            ),
            (
                "pivot_root(\"/tmp/x\", \"/tmp/x/old\"): EINVAL: Invalid argument",
                "mount point",
            ),
            (
                "spawning docker-registry: not found",
                "apt-get install docker-registry",
            ),
            ("mount overlay: ENODEV: No such device", "modprobe overlay"),
            (
                "umount2 old root: EBUSY: Device or resource busy",
                "MNT_DETACH",
            ),
            (
                "assertion `left == right` failed\n  left: 1\n right: 2",
                "`left` is what the code produced",
            ),
        ];
        for (message, expected) in cases {
            let says = explain_for(message, "check 1", false).unwrap_or_default();
            assert!(says.contains(expected), "{message}: {says}");
        }
    }

    #[test]
    fn unknown_messages_are_left_alone() {
        assert_eq!(
            explain_for("the digest differs from the manifest", "check 2", false),
            None
        );
        // EPERM comes first only for privileged calls; an unrelated "clone" word without EPERM
        // must not be read as a root problem.
        assert_eq!(
            explain_for("failed to clone the layer list", "check 2", false),
            None
        );
    }
}
