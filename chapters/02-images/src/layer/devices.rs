//! Device nodes in a layer: the harmless ones a real root file system
//! carries are kept; the rest are refused.
//!
//! A root file system made by `debootstrap` or taken from a machine has a
//! `/dev` with `null`, `zero`, `full`, `random`, `urandom`, `tty`,
//! `console` and `ptmx`, and dockerd imports it whole. Those nodes are
//! never opened in a container: the runtime mounts its own `/dev` over the
//! image's, and the root file system is mounted `nodev`, so no node of
//! the image can be opened at all (chapter 01, `rootfs::remount_nodev`).
//!
//! What stays refused is what would be dangerous the day one of those two
//! defences is missing (a runtime without `nodev`, a volume seeded from the
//! image): every block device (disks), and every character device other
//! than the ones every container is given anyway — `/dev/mem`, `/dev/kmem`,
//! `/dev/port`, `/dev/kmsg` and the like give the host away.

// ANCHOR: device_check
/// The character devices (major, minor) a layer may hold: the ones
/// Docker's default device rules allow every container, and the
/// pseudo-terminals.
const ALLOWED_CHAR: &[(u32, u32, &str)] = &[
    (1, 3, "null"),
    (1, 5, "zero"),
    (1, 7, "full"),
    (1, 8, "random"),
    (1, 9, "urandom"),
    (5, 0, "tty"),
    (5, 1, "console"),
    (5, 2, "ptmx"),
];
/// The major number of pseudo-terminal slaves (`/dev/pts/N`).
const PTS_MAJOR: u32 = 136;

/// Whether a device node entry may be created; the error says why not.
pub(crate) fn check(kind: tar::EntryType, major: u32, minor: u32) -> Result<(), String> {
    match kind {
        tar::EntryType::Char
            if major == PTS_MAJOR
                || ALLOWED_CHAR
                    .iter()
                    .any(|(ma, mi, _)| (*ma, *mi) == (major, minor)) =>
        {
            Ok(())
        }
        tar::EntryType::Char => Err(format!(
            "character device {major}:{minor} is not allowed in a layer: only the devices every \
             container gets ({}) may be in an image",
            ALLOWED_CHAR
                .iter()
                .map(|(_, _, n)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => Err(format!(
            "block device {major}:{minor} is not allowed in a layer: it would give raw access to \
             a disk of the host"
        )),
    }
}
// ANCHOR_END: device_check

#[cfg(test)]
mod tests {
    use super::*;
    use tar::EntryType::{Block, Char};

    #[test]
    fn the_devices_of_a_debootstrap_root_pass_and_the_dangerous_ones_do_not() {
        for (major, minor) in [
            (1, 3),
            (1, 5),
            (1, 7),
            (1, 8),
            (1, 9),
            (5, 0),
            (5, 1),
            (5, 2),
            (136, 0),
        ] {
            assert_eq!(check(Char, major, minor), Ok(()), "{major}:{minor}");
        }
        for (major, minor) in [(1, 1), (1, 2), (1, 4), (1, 11), (4, 0), (10, 200)] {
            let err = check(Char, major, minor).unwrap_err();
            assert!(err.contains(&format!("{major}:{minor}")), "{err}");
        }
        for (major, minor) in [(8, 0), (1, 3), (7, 0)] {
            assert!(check(Block, major, minor)
                .unwrap_err()
                .contains("block device"));
        }
    }
}
