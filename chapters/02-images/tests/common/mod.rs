//! Shared helpers of the chapter's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use minidock_images::Store;
use minidock_testkit::{Compression, Entry, ImageSpec, LayerSpec, Node};

/// A fresh store in a fresh temporary directory.
pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::Builder::new()
        .prefix("minidock-images-test-")
        .tempdir()
        .expect("temp dir");
    let store = Store::open(&dir.path().join("store")).expect("open store");
    (dir, store)
}

/// Deterministic pseudo-random bytes (xorshift), compressible enough to look
/// like real files and different per seed.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // every fourth byte is text-like, so the data compresses a bit
            if i % 4 == 0 {
                b'a' + (x % 26) as u8
            } else {
                x as u8
            }
        })
        .collect()
}

/// An image exercising everything a layer can do: three layers (gzip,
/// zstd, none), whiteouts of files and directories, an opaque directory,
/// symlinks (relative and absolute), hardlinks, special modes, a
/// few-megabyte file, and metadata changes in upper layers.
pub fn rich_image(compressions: [Compression; 3], seed: u64) -> ImageSpec {
    let big = pseudo_random(3 << 20, seed);
    let base = LayerSpec::new(
        compressions[0],
        vec![
            Entry::dir("bin", 0o755),
            Entry::file("bin/tool", b"#!/bin/sh\necho tool\n".to_vec(), 0o4755),
            Entry::hardlink("bin/tool-again", "bin/tool"),
            Entry::dir("etc", 0o755),
            Entry::file(
                "etc/passwd",
                b"root:x:0:0:root:/root:/bin/sh\n".to_vec(),
                0o644,
            ),
            Entry::file("etc/shadow", b"root:*:19000::::::\n".to_vec(), 0o640),
            Entry::dir("tmp", 0o1777),
            Entry::dir("usr", 0o755),
            Entry::dir("usr/bin", 0o755),
            Entry::symlink("usr/bin/tool", "../../bin/tool"),
            Entry::symlink("passwd-link", "/etc/passwd"),
            Entry::symlink("dangling", "/does/not/exist"),
            Entry::dir("data", 0o755),
            Entry::file("data/big", big, 0o644),
            Entry::file("data/keep", b"keep me\n".to_vec(), 0o600),
            Entry::file("data/remove-me", b"to be deleted\n".to_vec(), 0o644),
            Entry::dir("data/sub", 0o750),
            Entry::file("data/sub/x", pseudo_random(10_000, seed + 1), 0o644),
            Entry::dir("opq", 0o755),
            Entry::file("opq/a", b"a".to_vec(), 0o644),
            Entry::dir("opq/deep", 0o755),
            Entry::file("opq/deep/b", b"b".to_vec(), 0o644),
            Entry::dir("sgid", 0o2775),
            Entry::file("empty", Vec::new(), 0o444),
        ],
    );
    let middle = LayerSpec::new(
        compressions[1],
        vec![
            Entry::dir("data", 0o755),
            Entry::whiteout("data/remove-me"),
            Entry::whiteout("data/sub"),
            Entry::symlink("data/keep-link", "keep"),
            Entry::dir("etc", 0o755),
            Entry::file(
                "etc/passwd",
                b"root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n".to_vec(),
                0o600,
            ),
            Entry::dir("opq", 0o700),
            Entry::opaque("opq"),
            Entry::file("opq/new", b"only this\n".to_vec(), 0o644),
            Entry::dir("newdir", 0o700),
            Entry::file("newdir/file", pseudo_random(5000, seed + 2), 0o755),
            Entry::hardlink("newdir/file-link", "newdir/file"),
            Entry::whiteout("never-existed"),
        ],
    );
    let top = LayerSpec::new(
        compressions[2],
        vec![
            Entry::dir("etc", 0o750),
            Entry::file("etc/motd", b"welcome\n".to_vec(), 0o644),
            Entry::dir("data", 0o755),
            Entry::dir("data/sub", 0o755),
            Entry::file("data/sub/y", b"a new sub\n".to_vec(), 0o644),
            Entry::whiteout("passwd-link"),
            Entry::file("passwd-link", b"now a file\n".to_vec(), 0o644),
            Entry::dir("tmp", 0o1777),
            Entry::file("tmp/scratch", b"scratch\n".to_vec(), 0o666),
            Entry::whiteout("usr/bin/tool"),
            Entry::dir("usr", 0o755),
            Entry::dir("usr/bin", 0o755),
        ],
    );
    ImageSpec {
        layers: vec![base, middle, top],
        cmd: vec!["/bin/tool".into()],
        env: vec![minidock_testkit::DEFAULT_PATH_ENV.into()],
        working_dir: "/data".into(),
        ..ImageSpec::default()
    }
}

/// A tree snapshot; the kit's comparison covers type, mode, content hash
/// and link target.
pub fn snapshot(root: &Path) -> BTreeMap<String, Node> {
    minidock_testkit::tree_snapshot(root)
}

/// Unmounts the overlay of a container directory when dropped, so that a
/// test that fails half-way leaves no mount behind.
pub struct UnmountOnDrop(pub std::path::PathBuf);

impl Drop for UnmountOnDrop {
    fn drop(&mut self) {
        if let Err(e) = minidock_images::unmount_rootfs(&self.0) {
            eprintln!("cleanup: {e}");
        }
    }
}
