//! A `load` killed at any of its write steps leaves nothing behind: the
//! `unpack` example loads an image with a fail point armed
//! (`MINIDOCK_FAILPOINT`, see `minidock_images::failpoint`), dies of SIGABRT
//! right there, and the sweep the engine runs at start-up brings the store
//! back to exactly what it was before, byte for byte; then the load, tried
//! again, succeeds. Both archive forms: an OCI layout and a `docker save`
//! tar.

use std::path::PathBuf;
use std::process::Command;

use minidock_images::{failpoint, Reference, Store};
use minidock_testkit::{
    assert_same_tree, busybox_image, crash_at, example, require_root, tree_snapshot, Compression,
    Entry, LayerSpec, FAILPOINT_ENV,
};

// ANCHOR: crash_points
/// Every point a load passes, in order.
const POINTS: &[&str] = &[
    "blob-before-commit",
    "load-after-blobs",
    "layer-before-rename",
    "layer-after-rename",
    "index-before-rename",
];
// ANCHOR_END: crash_points

/// The `unpack` example, which `cargo test` builds next to the tests.
fn unpack() -> PathBuf {
    example("unpack", "minidock-images")
}

#[test]
fn a_load_killed_at_each_write_step_leaves_the_store_as_it_was() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    // The store already holds busybox; the image loaded shares its layer
    // and adds one of its own.
    let base = busybox_image();
    let base_layout = base.write_oci_layout(&dir.path().join("base"), "latest");
    Store::open(&root).unwrap().load(&base_layout.dir).unwrap();
    let mut spec = base.clone();
    spec.layers.push(LayerSpec::new(
        Compression::Gzip,
        vec![
            Entry::dir("app", 0o755),
            Entry::file("app/data", vec![7u8; 300_000], 0o644),
        ],
    ));
    let layout = spec.write_oci_layout(&dir.path().join("layout"), "crash:test");
    let saved = dir.path().join("saved.tar");
    spec.write_docker_save(&saved, "crash:test");
    let before = tree_snapshot(&root);
    assert_eq!(
        failpoint::ENV,
        FAILPOINT_ENV,
        "the kit arms the store's fail point"
    );

    // ANCHOR: crash_loop
    for archive in [&layout.dir, &saved] {
        for point in POINTS {
            // Dies of SIGABRT right at `point`, or the harness says how it ended.
            crash_at(
                Command::new(unpack()).arg("load").arg(&root).arg(archive),
                point,
            );
            let store = Store::open(&root).unwrap();
            store.sweep().unwrap();
            assert_same_tree(
                "the store before",
                &before,
                &format!("after a crash at {point} and a sweep"),
                &tree_snapshot(&root),
            );
        }
    }
    // ANCHOR_END: crash_loop

    // And the load, tried again, works.
    let store = Store::open(&root).unwrap();
    let loaded = store.load(&saved).unwrap();
    let reference = Reference::parse("crash:test").unwrap();
    assert_eq!(loaded[0].references, vec![reference.clone()]);
    assert!(store.resolve(&reference.to_string()).is_ok());
}
