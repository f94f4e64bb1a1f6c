//! Is an overlay mounted here? `/proc/self/mountinfo` says, one mount per
//! line, with its mount point escaped.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{IoContext, Result};

/// Whether `path` is the mount point of an overlay, by `/proc/self/mountinfo`.
pub(super) fn is_overlay_mount(path: &Path) -> Result<bool> {
    let info = fs::read_to_string("/proc/self/mountinfo").ctx("read", "/proc/self/mountinfo")?;
    let want = path.as_os_str().as_bytes();
    Ok(info.lines().any(|line| {
        let mut fields = line.split(' ');
        let mount_point = fields.nth(4).map(unescape_mountinfo);
        let fs_type = line
            .split(" - ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next());
        mount_point.as_deref() == Some(want) && fs_type == Some("overlay")
    }))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(field: &str) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_unescaping() {
        assert_eq!(unescape_mountinfo(r"/a\040b\134c"), b"/a b\\c");
        assert_eq!(unescape_mountinfo("/plain"), b"/plain");
        assert_eq!(unescape_mountinfo(r"/end\04"), br"/end\04");
    }
}
