//! How many bytes a directory tree holds: `SizeRw` of `docker ps -s`, and
//! what a prune reclaims.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The sizes of the files and symlinks under `dir`, each inode counted once
/// (hard links share one), never following a symlink. A tree that vanishes
/// while it is walked counts what was seen; an unreadable one counts 0.
pub fn tree_size(dir: &Path) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                pending.push(entry.path());
            } else if seen.insert((meta.dev(), meta.ino())) {
                total += meta.size();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_count_once_and_symlinks_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::write(d.join("a/b/f"), vec![0u8; 1000]).unwrap();
        std::fs::hard_link(d.join("a/b/f"), d.join("a/g")).unwrap();
        std::fs::write(d.join("h"), b"12345").unwrap();
        // a symlink to a big tree: its own size (the target's length) only
        std::os::unix::fs::symlink("/usr", d.join("s")).unwrap();
        assert_eq!(tree_size(d), 1000 + 5 + 4);
        assert_eq!(tree_size(&d.join("missing")), 0);
    }
}
