//! A `pull` killed at any of its write steps leaves nothing behind: the
//! `pull` example pulls from a real registry on 127.0.0.1 with a fail
//! point armed (`MINIDOCK_FAILPOINT`, see `minidock_images::failpoint`),
//! dies of SIGABRT right there, and the sweep the engine runs at start-up
//! brings the store back to exactly what it was before; then the pull,
//! tried again, succeeds.

use std::path::PathBuf;
use std::process::Command;

use minidock_images::{failpoint, Reference, Store};
use minidock_testkit::{
    assert_same_tree, busybox_image, crash_at, example, random_name, require_root, tree_snapshot,
    Compression, Entry, LayerSpec, Registry, FAILPOINT_ENV,
};

/// Every point a pull passes, in order.
const POINTS: &[&str] = &[
    "blob-before-commit",
    "pull-after-blobs",
    "layer-before-rename",
    "layer-after-rename",
    "index-before-rename",
];

/// The `pull` example, which `cargo test` builds next to the tests.
fn pull_example() -> PathBuf {
    example("pull", "minidock-registry")
}

#[test]
fn a_pull_killed_at_each_write_step_leaves_the_store_as_it_was() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    // The store already holds busybox; the image pulled shares its layer
    // and adds one of its own.
    let base = busybox_image();
    let base_layout = base.write_oci_layout(&tmp.path().join("base"), "latest");
    Store::open(&root).unwrap().load(&base_layout.dir).unwrap();
    let mut spec = base.clone();
    spec.layers.push(LayerSpec::new(
        Compression::Gzip,
        vec![
            Entry::dir("app", 0o755),
            Entry::file("app/data", vec![7u8; 300_000], 0o644),
        ],
    ));
    let layout = spec.write_oci_layout(&tmp.path().join("layout"), "v1");
    let registry = Registry::start();
    let repo = random_name("crash/app");
    registry.push_oci(&layout.dir, "v1", &repo, "1.0");
    let reference = format!("{}/{repo}:1.0", registry.addr());
    let before = tree_snapshot(&root);
    assert_eq!(
        failpoint::ENV,
        FAILPOINT_ENV,
        "the kit arms the store's fail point"
    );

    for point in POINTS {
        crash_at(
            Command::new(pull_example())
                .arg(&reference)
                .arg("--root")
                .arg(&root)
                .arg("--insecure-registry")
                .arg(registry.addr())
                .arg("--quiet"),
            point,
        );
        Store::open(&root).unwrap().sweep().unwrap();
        assert_same_tree(
            "the store before",
            &before,
            &format!("after a crash at {point} and a sweep"),
            &tree_snapshot(&root),
        );
    }

    // And the pull, tried again, works.
    let out = Command::new(pull_example())
        .arg(&reference)
        .arg("--root")
        .arg(&root)
        .arg("--insecure-registry")
        .arg(registry.addr())
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::open(&root).unwrap();
    let image = store.resolve(&reference).unwrap();
    assert!(image
        .references
        .contains(&Reference::parse(&reference).unwrap()));
    assert_eq!(image.manifest_digest.to_string(), layout.manifest_digest);
}
