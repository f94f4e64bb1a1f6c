//! Reading `/proc/self/mountinfo`, the kernel's table of mounts as this
//! process sees them. One line per mount:
//!
//! ```text
//! 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
//! ^id ^parent ^dev ^root ^mount point ^options ^sep ^type ^source ^super options
//! ```
//!
//! Between the mount options and the `-` separator there may be any number
//! of optional fields (`shared:1`, `master:2`), so the parser finds the
//! separator instead of counting fields.

use std::path::PathBuf;

// ANCHOR: cgroup_mountinfo_parse
/// One mount from the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// Where it is mounted, with `\040`-style escapes decoded.
    pub mount_point: PathBuf,
    /// The file system type: `cgroup`, `cgroup2`, `tmpfs`, `overlay`, …
    pub fs_type: String,
    /// Per-superblock options; for cgroup v1 they name the controllers.
    pub super_options: String,
}

/// Parses mountinfo text; lines that do not have the expected shape are
/// skipped (the kernel does not write such lines).
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let sep = fields.iter().position(|f| *f == "-")?;
            if sep < 6 || fields.len() < sep + 4 {
                return None;
            }
            Some(MountInfo {
                mount_point: PathBuf::from(unescape(fields[4])),
                fs_type: fields[sep + 1].to_string(),
                super_options: fields[sep + 3].to_string(),
            })
        })
        .collect()
}
// ANCHOR_END: cgroup_mountinfo_parse

/// The kernel writes space, tab, newline and backslash in paths as
/// three-digit octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("x");
            if let Ok(v) = u8::from_str_radix(digits, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_optional_fields_and_escapes() {
        let text =
            "31 23 0:28 / /sys/fs/cgroup rw,relatime shared:9 master:1 - tmpfs tmpfs rw,mode=755\n\
                    99 31 0:99 / /mnt/with\\040space rw - cgroup cgroup rw,cpu,cpuacct\n\
                    garbage line\n";
        let mounts = parse_mountinfo(text);
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].mount_point, PathBuf::from("/sys/fs/cgroup"));
        assert_eq!(mounts[0].fs_type, "tmpfs");
        assert_eq!(mounts[1].mount_point, PathBuf::from("/mnt/with space"));
        assert_eq!(mounts[1].super_options, "rw,cpu,cpuacct");
    }
}
