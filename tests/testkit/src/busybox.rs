//! The host's busybox: one static binary that provides a shell and ~270
//! commands. It is the raw material of every test image, because it needs no
//! shared libraries inside the container and Debian ships it as
//! `busybox-static`.

use std::path::{Path, PathBuf};
use std::process::Command;

const MISSING: &str = "busybox-static is missing: apt-get install busybox-static";

/// Path of a statically linked busybox on the host.
///
/// Looks at `/bin/busybox` first, then at `busybox` on `PATH`. Panics when
/// none is found, or when the one found is dynamically linked: a dynamic
/// busybox copied into a rootfs without its libraries fails with a baffling
/// "No such file or directory" when the container starts.
pub fn busybox_path() -> PathBuf {
    let mut candidates = vec![PathBuf::from("/bin/busybox")];
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("busybox")));
    }
    let found = candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{MISSING}"));
    match is_static_elf(&found) {
        Some(true) => found,
        Some(false) => panic!(
            "{} is dynamically linked (it has an ELF interpreter); tests copy it into \
             containers without its libraries. {MISSING}",
            found.display()
        ),
        None => panic!("{} is not an ELF executable. {MISSING}", found.display()),
    }
}

/// `Some(true)` when `path` is an ELF file without a `PT_INTERP` program
/// header (that is, not dynamically linked); `None` when it is not ELF.
fn is_static_elf(path: &Path) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
        return None;
    }
    let is64 = bytes[4] == 2;
    let little = bytes[5] == 1;
    let read = |at: usize, len: usize| -> Option<u64> {
        let b = bytes.get(at..at + len)?;
        let mut v = 0u64;
        for i in 0..len {
            let byte = if little { b[len - 1 - i] } else { b[i] };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    };
    let (phoff, phentsize, phnum) = if is64 {
        (read(0x20, 8)?, read(0x36, 2)?, read(0x38, 2)?)
    } else {
        (read(0x1c, 4)?, read(0x2a, 2)?, read(0x2c, 2)?)
    };
    for i in 0..phnum {
        let at = usize::try_from(phoff + i * phentsize).ok()?;
        if read(at, 4)? == u64::from(PT_INTERP) {
            return Some(false);
        }
    }
    Some(true)
}

/// The applets of the host busybox as rootfs-relative paths, e.g.
/// `bin/sh`, `usr/bin/env` (from `busybox --list-full`), without
/// `bin/busybox` itself.
pub(crate) fn applets(busybox: &Path) -> Vec<String> {
    let out = Command::new(busybox)
        .arg("--list-full")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} --list-full: {e}", busybox.display()));
    assert!(
        out.status.success(),
        "{} --list-full failed: {}",
        busybox.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().trim_start_matches('/').to_string())
        .filter(|l| !l.is_empty() && l != "bin/busybox")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::is_static_elf;
    use std::path::Path;

    #[test]
    fn a_dynamic_binary_is_told_apart_from_a_static_one() {
        // /bin/sh is dash (or bash), dynamically linked on every Debian.
        assert_eq!(is_static_elf(Path::new("/bin/sh")), Some(false));
        assert_eq!(is_static_elf(Path::new("/bin/busybox")), Some(true));
        assert_eq!(is_static_elf(Path::new("/etc/passwd")), None);
    }
}
