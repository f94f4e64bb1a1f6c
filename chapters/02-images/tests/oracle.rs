//! The independent oracle: minidock's merged overlay view of an image must
//! equal what umoci unpacks from the same OCI layout.

mod common;

use std::process::Command;

use minidock_images::Rootfs;
use minidock_testkit::{
    assert_same_tree, require_root, require_tool, run_ok, Compression, LeakCheck,
};

fn compare_with_umoci(compressions: [Compression; 3], seed: u64) {
    require_root();
    let umoci = require_tool("umoci", "umoci");
    let (dir, store) = common::store();
    let leaks = LeakCheck::start(dir.path().to_str().unwrap());

    let spec = common::rich_image(compressions, seed);
    let layout = dir.path().join("layout");
    let written = spec.write_oci_layout(&layout, "v1");
    // umoci 0.4 reads only gzip and plain layers: it gets the same image
    // (same uncompressed layers, so the same diff-ids and config) with
    // gzip everywhere.
    let mut gzip_spec = spec.clone();
    for layer in &mut gzip_spec.layers {
        if layer.compression == Compression::Zstd {
            layer.compression = Compression::Gzip;
        }
    }
    let umoci_layout = dir.path().join("umoci-layout");
    let umoci_written = gzip_spec.write_oci_layout(&umoci_layout, "v1");
    assert_eq!(umoci_written.config_digest, written.config_digest);
    let bundle = dir.path().join("bundle");
    run_ok(
        Command::new(&umoci)
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:v1", umoci_layout.display()))
            .arg(&bundle),
    );

    let loaded = store.load(&layout).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id.to_string(), written.config_digest);
    assert_eq!(
        loaded[0].manifest_digest.to_string(),
        written.manifest_digest
    );
    let image = store.resolve(&loaded[0].id.to_string()).unwrap();
    let diff_ids: Vec<String> = image.layers.iter().map(|d| d.to_string()).collect();
    assert_eq!(diff_ids, written.diff_ids);

    let _unmount_rootfs = common::UnmountOnDrop(dir.path().join("container"));
    let rootfs = Rootfs::mount(&store, &image, &dir.path().join("container")).unwrap();
    let ours = common::snapshot(rootfs.path());
    let theirs = common::snapshot(&bundle.join("rootfs"));
    let result = std::panic::catch_unwind(|| {
        assert_same_tree("minidock overlay", &ours, "umoci unpack", &theirs)
    });
    rootfs.unmount().unwrap();
    leaks.finish();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    // the view really has the interesting parts (so the comparison means something)
    for (path, present) in [
        ("data/remove-me", false),
        ("data/sub/x", false),
        ("data/sub/y", true),
        ("opq/a", false),
        ("opq/deep", false),
        ("opq/new", true),
        ("etc/motd", true),
        ("usr/bin/tool", false),
        ("bin/tool-again", true),
        ("never-existed", false),
    ] {
        assert_eq!(ours.contains_key(path), present, "{path}");
    }
}

#[test]
fn overlay_view_equals_umoci_unpack_gzip_zstd_none() {
    compare_with_umoci([Compression::Gzip, Compression::Zstd, Compression::None], 1);
}

#[test]
fn overlay_view_equals_umoci_unpack_other_compressions() {
    compare_with_umoci([Compression::None, Compression::Gzip, Compression::Zstd], 2);
}

#[test]
fn busybox_image_equals_umoci_unpack() {
    require_root();
    let umoci = require_tool("umoci", "umoci");
    let (dir, store) = common::store();
    let leaks = LeakCheck::start(dir.path().to_str().unwrap());
    let layout = dir.path().join("layout");
    minidock_testkit::busybox_image().write_oci_layout(&layout, "latest");
    let bundle = dir.path().join("bundle");
    run_ok(
        Command::new(&umoci)
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:latest", layout.display()))
            .arg(&bundle),
    );
    let loaded = store.load(&layout).unwrap();
    let image = store.resolve(&loaded[0].id.to_string()).unwrap();
    let _unmount_rootfs = common::UnmountOnDrop(dir.path().join("c"));
    let rootfs = Rootfs::mount(&store, &image, &dir.path().join("c")).unwrap();
    let ours = common::snapshot(rootfs.path());
    rootfs.unmount().unwrap();
    leaks.finish();
    assert_same_tree(
        "minidock overlay",
        &ours,
        "umoci unpack",
        &common::snapshot(&bundle.join("rootfs")),
    );
    assert!(ours.contains_key("bin/busybox"));
}
