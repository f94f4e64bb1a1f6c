//! The images the kit writes are accepted by independent tools: umoci
//! unpacks them to the expected tree, runc runs the busybox bundle, skopeo
//! reads the manifests and the `docker save` tar.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use minidock_testkit::{
    assert_same_tree, busybox_image, busybox_rootfs, random_name, require_root, require_tool,
    run_ok, run_output, tree_snapshot, Compression, Entry, ImageSpec, LayerSpec, Node,
};
use serde_json::Value;

fn umoci_unpack(layout: &Path, tag: &str, bundle: &Path) {
    let umoci = require_tool("umoci", "umoci");
    run_ok(
        Command::new(umoci)
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:{tag}", layout.display()))
            .arg(bundle),
    );
}

#[test]
fn busybox_layout_unpacks_with_umoci_to_the_rootfs() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let image = busybox_image().write_oci_layout(&layout, "latest");
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&layout, "latest", &bundle);

    let expected = tmp.path().join("expected");
    busybox_rootfs(&expected);
    assert_same_tree(
        "busybox_rootfs",
        &tree_snapshot(&expected),
        "umoci rootfs",
        &tree_snapshot(&bundle.join("rootfs")),
    );

    // umoci took Cmd and Env from the config the kit wrote.
    let config: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["args"], serde_json::json!(["sh"]));
    assert_eq!(image.config["config"]["Cmd"], serde_json::json!(["sh"]));
}

/// Removes a runc container by id, even when the test fails half-way.
struct RuncContainer(String);

impl Drop for RuncContainer {
    fn drop(&mut self) {
        let out = run_output(Command::new("runc").args(["delete", "--force", &self.0]));
        // "does not exist" is the normal case after `runc run` has finished.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || stderr.contains("does not exist") || std::thread::panicking(),
            "runc delete {}: {stderr}",
            self.0
        );
    }
}

#[test]
fn busybox_bundle_runs_under_runc() {
    require_root();
    let runc = require_tool("runc", "runc");
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    busybox_image().write_oci_layout(&layout, "latest");
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&layout, "latest", &bundle);

    let config_path = bundle.join("config.json");
    let mut config: Value = serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    let word = random_name("ok-");
    config["process"]["args"] = serde_json::json!(["/bin/sh", "-c", format!("echo {word}")]);
    config["process"]["terminal"] = Value::Bool(false);
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();

    let id = random_name("testkit-runc-");
    let _cleanup = RuncContainer(id.clone());
    let out = run_output(
        Command::new(runc)
            .arg("run")
            .arg("--bundle")
            .arg(&bundle)
            .arg(&id)
            .stdin(std::process::Stdio::null()),
    );
    assert!(
        out.status.success(),
        "runc could not run the busybox bundle ({}); runc needs root, cgroups and a \
         kernel with namespaces:\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), word);
}

fn skopeo_inspect_raw(reference: &str) -> String {
    let skopeo = require_tool("skopeo", "skopeo");
    run_ok(Command::new(skopeo).args(["inspect", reference]))
}

#[test]
fn skopeo_reads_the_layout_and_the_docker_save_tar() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let tag = random_name("t");
    let image = busybox_image().write_oci_layout(&layout, &tag);
    let inspect: Value = serde_json::from_str(&skopeo_inspect_raw(&format!(
        "oci:{}:{tag}",
        layout.display()
    )))
    .unwrap();
    assert_eq!(inspect["Digest"], image.manifest_digest.as_str());
    assert_eq!(
        inspect["Layers"],
        serde_json::json!(image.layer_digests),
        "{inspect}"
    );
    assert_eq!(
        inspect["Env"],
        serde_json::json!(image.config["config"]["Env"])
    );

    let tar = tmp.path().join("busybox.tar");
    let saved = busybox_image().write_docker_save(&tar, "busybox:latest");
    let inspect: Value = serde_json::from_str(&skopeo_inspect_raw(&format!(
        "docker-archive:{}",
        tar.display()
    )))
    .unwrap();
    // docker-archive reads manifest.json; the layers are the uncompressed tars.
    assert_eq!(
        inspect["Layers"],
        serde_json::json!(saved.diff_ids),
        "{inspect}"
    );
    assert_eq!(saved.layer_digests, saved.diff_ids);
    // The same tar is also an OCI archive, as Docker 25's `docker save` is.
    let inspect: Value = serde_json::from_str(&skopeo_inspect_raw(&format!(
        "oci-archive:{}:latest",
        tar.display()
    )))
    .unwrap();
    assert_eq!(inspect["Digest"], saved.manifest_digest.as_str());
}

/// A lower layer, an upper layer that deletes, hides, replaces and links,
/// in all three compressions.
fn layered_image() -> ImageSpec {
    let lower = LayerSpec::new(
        Compression::Gzip,
        vec![
            Entry::dir("etc", 0o755),
            Entry::file("etc/keep", "kept\n", 0o644),
            Entry::file("etc/gone", "deleted by a whiteout\n", 0o600),
            Entry::dir("opaque", 0o750),
            Entry::file("opaque/old", "hidden by opaque\n", 0o644),
            Entry::file("replace", "lower\n", 0o644),
            Entry::dir("bin", 0o755),
            Entry::file("bin/tool", "#!/bin/sh\n", 0o4755),
        ],
    );
    let upper = LayerSpec::new(
        Compression::Zstd,
        vec![
            Entry::whiteout("etc/gone"),
            Entry::opaque("opaque"),
            Entry::file("opaque/new", "new\n", 0o640),
            Entry::file("replace", "upper\n", 0o600),
            Entry::symlink("etc/link", "keep"),
            Entry::dir("tmp", 0o1777),
        ],
    );
    let top = LayerSpec::new(
        Compression::None,
        vec![
            Entry::file("data", "linked\n", 0o644),
            Entry::hardlink("data-link", "data"),
            Entry::symlink("abs", "/etc/keep"),
        ],
    );
    ImageSpec {
        layers: vec![lower, upper, top],
        cmd: vec!["/bin/tool".into()],
        ..ImageSpec::default()
    }
}

#[test]
fn multi_layer_image_unpacks_with_umoci_to_the_merged_tree() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let spec = layered_image();
    let image = spec.write_oci_layout(&layout, "layers");
    let media: Vec<&str> = image.manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        media,
        [
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd",
            "application/vnd.oci.image.layer.v1.tar",
        ]
    );
    for (i, diff_id) in image.diff_ids.iter().enumerate() {
        assert_eq!(
            *diff_id,
            minidock_testkit::sha256_digest(&spec.layer_tar(i))
        );
    }

    // umoci 0.4 cannot read zstd layers: skopeo (which can) recompresses
    // them to gzip first, which also checks the zstd blob independently.
    let gzip_layout = tmp.path().join("gzip-layout");
    let skopeo = require_tool("skopeo", "skopeo");
    run_ok(
        Command::new(skopeo)
            .args(["copy", "--dest-compress", "--dest-compress-format", "gzip"])
            .arg(format!("oci:{}:layers", layout.display()))
            .arg(format!("oci:{}:layers", gzip_layout.display())),
    );
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&gzip_layout, "layers", &bundle);
    let rootfs = bundle.join("rootfs");
    let file = |mode: u32, text: &str| Node::File {
        mode,
        sha256: minidock_testkit::sha256_digest(text.as_bytes()),
    };
    let expected: BTreeMap<String, Node> = [
        ("etc", Node::Dir { mode: 0o755 }),
        ("etc/keep", file(0o644, "kept\n")),
        (
            "etc/link",
            Node::Symlink {
                target: "keep".into(),
            },
        ),
        ("opaque", Node::Dir { mode: 0o750 }),
        ("opaque/new", file(0o640, "new\n")),
        ("replace", file(0o600, "upper\n")),
        ("bin", Node::Dir { mode: 0o755 }),
        ("bin/tool", file(0o4755, "#!/bin/sh\n")),
        ("tmp", Node::Dir { mode: 0o1777 }),
        ("data", file(0o644, "linked\n")),
        ("data-link", file(0o644, "linked\n")),
        (
            "abs",
            Node::Symlink {
                target: "/etc/keep".into(),
            },
        ),
    ]
    .into_iter()
    .map(|(p, n)| (p.to_string(), n))
    .collect();
    assert_same_tree(
        "expected",
        &expected,
        "umoci rootfs",
        &tree_snapshot(&rootfs),
    );

    use std::os::unix::fs::MetadataExt;
    let a = std::fs::metadata(rootfs.join("data")).unwrap();
    let b = std::fs::metadata(rootfs.join("data-link")).unwrap();
    assert_eq!(a.ino(), b.ino(), "data-link is not a hard link of data");
}

#[test]
fn several_tags_share_one_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let first = layered_image().write_oci_layout(tmp.path(), "one");
    let second = ImageSpec {
        cmd: vec!["other".into()],
        ..layered_image()
    }
    .write_oci_layout(tmp.path(), "two");
    assert_ne!(first.manifest_digest, second.manifest_digest);
    for (tag, image) in [("one", &first), ("two", &second)] {
        let inspect: Value = serde_json::from_str(&skopeo_inspect_raw(&format!(
            "oci:{}:{tag}",
            tmp.path().display()
        )))
        .unwrap();
        assert_eq!(inspect["Digest"], image.manifest_digest.as_str());
    }
}
