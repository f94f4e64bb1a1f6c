//! A directory tree as a comparable value. Tests unpack an image with two
//! independent tools (minidock and umoci, say) and compare the snapshots.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::digest::sha256_digest;

/// One node of a tree: its type and what distinguishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Permission bits including setuid/setgid/sticky.
    Dir {
        mode: u32,
    },
    /// Permission bits and `sha256:<hex>` of the contents.
    File {
        mode: u32,
        sha256: String,
    },
    Symlink {
        target: String,
    },
    CharDevice {
        major: u64,
        minor: u64,
    },
    BlockDevice {
        major: u64,
        minor: u64,
    },
    Fifo,
    Socket,
}

/// Every path under `root` (relative, without `root` itself), with its node.
/// Symlinks are read, never followed.
pub fn tree_snapshot(root: &Path) -> BTreeMap<String, Node> {
    let mut tree = BTreeMap::new();
    for item in walkdir::WalkDir::new(root).min_depth(1) {
        let item = item.unwrap_or_else(|e| panic!("walk {}: {e}", root.display()));
        let path = item.path();
        let rel = path
            .strip_prefix(root)
            .expect("walkdir stays under its root")
            .to_string_lossy()
            .into_owned();
        let meta = path
            .symlink_metadata()
            .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
        let mode = meta.permissions().mode() & 0o7777;
        let ft = meta.file_type();
        let rdev = meta.rdev();
        let node = if ft.is_dir() {
            Node::Dir { mode }
        } else if ft.is_symlink() {
            let target =
                fs::read_link(path).unwrap_or_else(|e| panic!("readlink {}: {e}", path.display()));
            Node::Symlink {
                target: target.to_string_lossy().into_owned(),
            }
        } else if ft.is_file() {
            let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            Node::File {
                mode,
                sha256: sha256_digest(&bytes),
            }
        } else if ft.is_char_device() {
            Node::CharDevice {
                major: libc::major(rdev).into(),
                minor: libc::minor(rdev).into(),
            }
        } else if ft.is_block_device() {
            Node::BlockDevice {
                major: libc::major(rdev).into(),
                minor: libc::minor(rdev).into(),
            }
        } else if ft.is_fifo() {
            Node::Fifo
        } else {
            Node::Socket
        };
        tree.insert(rel, node);
    }
    tree
}

/// Panics listing every difference between two snapshots (missing, extra,
/// changed paths), one per line, labelled with `left` and `right` names.
pub fn assert_same_tree(
    left_name: &str,
    left: &BTreeMap<String, Node>,
    right_name: &str,
    right: &BTreeMap<String, Node>,
) {
    let mut diffs = Vec::new();
    for (path, node) in left {
        match right.get(path) {
            None => diffs.push(format!("  {path}: only in {left_name} ({node:?})")),
            Some(other) if other != node => diffs.push(format!(
                "  {path}: {left_name} has {node:?}, {right_name} has {other:?}"
            )),
            Some(_) => {}
        }
    }
    for (path, node) in right {
        if !left.contains_key(path) {
            diffs.push(format!("  {path}: only in {right_name} ({node:?})"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{left_name} and {right_name} differ in {} paths:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
