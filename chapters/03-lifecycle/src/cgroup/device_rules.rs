//! Which device nodes a container may use: the devices cgroup's rules.
//!
//! A device node is only a name for a (type, major, minor) triple: anyone
//! allowed to `mknod` can make `/tmp/disk` that *is* the host's first disk
//! (block 8:0). Chapter 01 gives the container a `/dev` with a few harmless
//! nodes and mounts everything else `nodev`, but a volume from the host is
//! not `nodev`, and a container with `CAP_MKNOD` could create a disk node
//! there and open it. The devices cgroup closes that door in the kernel:
//! every `open` and `mknod` of a device node is checked against the
//! group's list, whatever the file system.
//!
//! The list is Docker's default: deny everything, then allow the nodes of
//! chapter 01's `/dev` (read, write and `mknod` of those exact devices).
//! Unlike Docker this list has no `mknod` wildcard, so `mknod` of any other
//! device fails with `EPERM`.

use std::fmt;

/// `b`, `c` or `a` (both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A block device (`b`: disks).
    Block,
    /// A character device (`c`: terminals, `/dev/null`, …).
    Char,
    /// Both kinds (`a`).
    All,
}

/// What a rule allows, as the bits of the kernel's `BPF_DEVCG_ACC_*`.
pub const MKNOD: u8 = 1;
/// Open the device for reading.
pub const READ: u8 = 2;
/// Open the device for writing.
pub const WRITE: u8 = 4;
/// `rwm`.
pub const ALL_ACCESS: u8 = MKNOD | READ | WRITE;

/// One allow rule: a kind, a major and a minor number (`None` = any), and
/// the accesses it grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    /// Which kind of device the rule is about.
    pub kind: DeviceKind,
    /// The major number (the driver), `None` for any.
    pub major: Option<u32>,
    /// The minor number (the device of that driver), `None` for any.
    pub minor: Option<u32>,
    /// The accesses granted: [`MKNOD`], [`READ`], [`WRITE`], or'd together.
    pub access: u8,
}

const fn char_device(major: u32, minor: Option<u32>) -> DeviceRule {
    DeviceRule {
        kind: DeviceKind::Char,
        major: Some(major),
        minor,
        access: ALL_ACCESS,
    }
}

// ANCHOR: default_rules
/// The devices every container may use; everything else is denied.
pub const DEFAULT_RULES: &[DeviceRule] = &[
    char_device(1, Some(3)), // /dev/null
    char_device(1, Some(5)), // /dev/zero
    char_device(1, Some(7)), // /dev/full
    char_device(1, Some(8)), // /dev/random
    char_device(1, Some(9)), // /dev/urandom
    char_device(5, Some(0)), // /dev/tty
    char_device(5, Some(1)), // /dev/console
    char_device(5, Some(2)), // /dev/ptmx
    char_device(136, None),  // /dev/pts/*: the container's terminals
];
// ANCHOR_END: default_rules

/// The v1 syntax of `devices.allow`: `c 1:3 rwm`, `c 136:* rwm`.
impl fmt::Display for DeviceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            DeviceKind::Block => 'b',
            DeviceKind::Char => 'c',
            DeviceKind::All => 'a',
        };
        let number = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let mut access = String::new();
        for (bit, letter) in [(READ, 'r'), (WRITE, 'w'), (MKNOD, 'm')] {
            if self.access & bit != 0 {
                access.push(letter);
            }
        }
        write!(
            f,
            "{kind} {}:{} {access}",
            number(self.major),
            number(self.minor)
        )
    }
}

impl DeviceRule {
    /// Whether this rule grants `access` (bits) to the device.
    pub fn allows(&self, kind: DeviceKind, major: u32, minor: u32, access: u8) -> bool {
        (self.kind == DeviceKind::All || self.kind == kind)
            && self.major.is_none_or(|m| m == major)
            && self.minor.is_none_or(|m| m == minor)
            && access & !self.access == 0
    }
}

/// Whether `rules` allow the access: the reference the eBPF program is
/// tested against.
pub fn allowed(rules: &[DeviceRule], kind: DeviceKind, major: u32, minor: u32, access: u8) -> bool {
    rules.iter().any(|r| r.allows(kind, major, minor, access))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_print_in_the_v1_syntax() {
        let v1: Vec<String> = DEFAULT_RULES.iter().map(|r| r.to_string()).collect();
        assert_eq!(v1[0], "c 1:3 rwm");
        assert_eq!(v1.last().unwrap(), "c 136:* rwm");
        let read_only = DeviceRule {
            kind: DeviceKind::Block,
            major: None,
            minor: None,
            access: READ,
        };
        assert_eq!(read_only.to_string(), "b *:* r");
    }

    #[test]
    fn the_defaults_allow_the_dev_nodes_and_nothing_like_a_disk() {
        let rules = DEFAULT_RULES;
        assert!(allowed(rules, DeviceKind::Char, 1, 3, READ | WRITE));
        assert!(allowed(rules, DeviceKind::Char, 136, 7, READ | WRITE));
        assert!(allowed(rules, DeviceKind::Char, 1, 3, MKNOD));
        assert!(!allowed(rules, DeviceKind::Block, 8, 0, READ));
        assert!(!allowed(rules, DeviceKind::Block, 8, 0, MKNOD));
        assert!(
            !allowed(rules, DeviceKind::Block, 1, 3, READ),
            "kind matters"
        );
        assert!(!allowed(rules, DeviceKind::Char, 1, 1, READ), "/dev/mem");
        assert!(
            !allowed(rules, DeviceKind::Char, 10, 229, READ),
            "/dev/fuse"
        );
    }
}
