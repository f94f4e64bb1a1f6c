//! Images: load, save, import, tags, resolve, remove with reference counting.

mod common;

use std::collections::HashSet;
use std::fs;
use std::process::Command;

use minidock_images::{Digest, Error, ImageChanges, Reference, Removed, Rootfs, Store};
use minidock_testkit::{
    assert_same_tree, busybox_rootfs, require_root, require_tool, run_ok, Compression, Entry,
    ImageSpec, LayerSpec, LeakCheck,
};

fn blob_count(store: &Store) -> usize {
    fs::read_dir(store.root().join("blobs/sha256"))
        .unwrap()
        .count()
}

fn layer_count(store: &Store) -> usize {
    fs::read_dir(store.layers_dir()).unwrap().count()
}

#[test]
fn load_docker_save_tar() {
    require_root();
    let (dir, store) = common::store();
    let spec = common::rich_image(
        [Compression::Gzip, Compression::Zstd, Compression::None],
        11,
    );
    let tar = dir.path().join("image.tar");
    let written = spec.write_docker_save(&tar, "example.com/team/app:1.0");
    let loaded = store.load(&tar).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id.to_string(), written.config_digest);
    assert_eq!(
        loaded[0].manifest_digest.to_string(),
        written.manifest_digest
    );
    let want = Reference::parse("example.com/team/app:1.0").unwrap();
    assert_eq!(loaded[0].references, vec![want.clone()]);

    let image = store.resolve("example.com/team/app:1.0").unwrap();
    assert_eq!(image.id, loaded[0].id);
    assert_eq!(image.references, vec![want]);
    let diff_ids: Vec<String> = image.layers.iter().map(|d| d.to_string()).collect();
    assert_eq!(diff_ids, written.diff_ids);
    assert_eq!(
        image
            .config
            .config()
            .as_ref()
            .unwrap()
            .working_dir()
            .as_deref(),
        Some("/data")
    );
    assert_eq!(image.created.as_deref(), Some("2024-01-01T00:00:00Z"));
    for d in image.layer_dirs(&store) {
        assert!(d.is_dir(), "{}", d.display());
    }
    // short id, full id, manifest digest, and name@digest all find it
    let id = image.id.to_string();
    for name in [
        id.clone(),
        id["sha256:".len()..].to_string(),
        image.id.short().to_string(),
        written.manifest_digest.clone(),
        format!("example.com/team/app@{}", written.manifest_digest),
    ] {
        assert_eq!(store.resolve(&name).unwrap().id, image.id, "{name}");
    }
    let err = store.resolve("example.com/team/app:2.0").unwrap_err();
    assert_eq!(err.to_string(), "No such image: example.com/team/app:2.0");
    assert_eq!(
        store.resolve("busybox").unwrap_err().to_string(),
        "No such image: busybox:latest"
    );
}

#[test]
fn load_legacy_only_docker_save_tar() {
    require_root();
    let (dir, store) = common::store();
    // Older Docker wrote only manifest.json: strip the OCI parts of a save.
    let spec = minidock_testkit::busybox_image();
    let full = dir.path().join("full.tar");
    let written = spec.write_docker_save(&full, "busybox:legacy");
    let legacy = dir.path().join("legacy.tar");
    let mut out = tar::Builder::new(Vec::new());
    let mut input = tar::Archive::new(fs::File::open(&full).unwrap());
    for entry in input.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        if path == "index.json" || path == "oci-layout" {
            continue;
        }
        let mut header = entry.header().clone();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        out.append_data(&mut header, &path, &data[..]).unwrap();
    }
    fs::write(&legacy, out.into_inner().unwrap()).unwrap();
    let loaded = store.load(&legacy).unwrap();
    assert_eq!(loaded[0].id.to_string(), written.config_digest);
    assert_eq!(
        loaded[0].references,
        vec![Reference::parse("busybox:legacy").unwrap()]
    );
    let image = store.resolve("busybox:legacy").unwrap();
    assert_eq!(image.layers.len(), 1);
    assert!(image.layer_dirs(&store)[0].join("bin/busybox").is_file());
}

#[test]
fn a_tampered_archive_is_refused_and_leaves_nothing() {
    require_root();
    let (dir, store) = common::store();
    let layout = dir.path().join("layout");
    let written = minidock_testkit::busybox_image().write_oci_layout(&layout, "latest");
    // flip a byte of the layer blob
    let blob = layout
        .join("blobs/sha256")
        .join(&written.layer_digests[0]["sha256:".len()..]);
    let mut bytes = fs::read(&blob).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0xff;
    fs::write(&blob, bytes).unwrap();
    let err = store.load(&layout).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert_eq!(blob_count(&store), 0);
    assert_eq!(layer_count(&store), 0);
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn save_then_load_round_trips_and_other_tools_read_it() {
    require_root();
    let skopeo = require_tool("skopeo", "skopeo");
    let umoci = require_tool("umoci", "umoci");
    let (dir, store) = common::store();
    let spec = common::rich_image(
        [Compression::Gzip, Compression::Gzip, Compression::None],
        21,
    );
    let written = spec.write_oci_layout(&dir.path().join("layout"), "v1");
    let id = store.load(&dir.path().join("layout")).unwrap()[0]
        .id
        .clone();
    let manifest: Digest = written.manifest_digest.parse().unwrap();
    store
        .tag(
            &Reference::parse("localhost:5000/rich:v1").unwrap(),
            &manifest,
        )
        .unwrap();
    store
        .tag(&Reference::parse("rich:latest").unwrap(), &manifest)
        .unwrap();

    let out = dir.path().join("saved.tar");
    store
        .save(&["localhost:5000/rich:v1", "rich"], &out)
        .unwrap();

    // back into a fresh store: same id, same digests, same names
    let other = Store::open(&dir.path().join("other")).unwrap();
    let loaded = other.load(&out).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id, id);
    assert_eq!(
        loaded[0].manifest_digest.to_string(),
        written.manifest_digest
    );
    let mut names: Vec<String> = loaded[0].references.iter().map(|r| r.familiar()).collect();
    names.sort();
    assert_eq!(names, ["localhost:5000/rich:v1", "rich:latest"]);
    let image = other.resolve("rich").unwrap();
    let layer_blobs: Vec<String> = image
        .manifest
        .layers()
        .iter()
        .map(|l| l.digest().to_string())
        .collect();
    assert_eq!(layer_blobs, written.layer_digests);

    // skopeo reads both formats of the same file
    let inspect = run_ok(
        Command::new(&skopeo)
            .arg("inspect")
            .arg(format!("docker-archive:{}:rich:latest", out.display())),
    );
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 3, "{inspect}");
    let inspect = run_ok(
        Command::new(&skopeo)
            .arg("inspect")
            .arg(format!("oci-archive:{}:v1", out.display())),
    );
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(
        v["Digest"].as_str(),
        Some(written.manifest_digest.as_str()),
        "{inspect}"
    );
    let config = run_ok(
        Command::new(&skopeo)
            .arg("inspect")
            .arg("--config")
            .arg(format!("oci-archive:{}:v1", out.display())),
    );
    let v: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(v["config"]["WorkingDir"].as_str(), Some("/data"));

    // umoci unpacks the OCI half (extracted as a layout directory)
    let extracted = dir.path().join("extracted");
    fs::create_dir(&extracted).unwrap();
    tar::Archive::new(fs::File::open(&out).unwrap())
        .unpack(&extracted)
        .unwrap();
    run_ok(
        Command::new(&umoci)
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:latest", extracted.display()))
            .arg(dir.path().join("bundle")),
    );
    assert!(dir.path().join("bundle/rootfs/opq/new").is_file());
}

#[test]
fn import_a_rootfs_tar() {
    require_root();
    let (dir, store) = common::store();
    let leaks = LeakCheck::start(dir.path().to_str().unwrap());
    let rootfs = dir.path().join("rootfs");
    busybox_rootfs(&rootfs);
    // the system tar makes the input, not minidock
    let tar_path = dir.path().join("rootfs.tar");
    run_ok(
        Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tar_path)
            .arg("."),
    );
    let reference = Reference::parse("imported:1").unwrap();
    let changes = ImageChanges {
        cmd: Some(vec!["sh".into()]),
        env: vec!["A=b".into()],
        message: Some("from a tar".into()),
        ..ImageChanges::default()
    };
    let id = store
        .import(
            fs::File::open(&tar_path).unwrap(),
            Some(&reference),
            &changes,
        )
        .unwrap();
    let image = store.resolve("imported:1").unwrap();
    assert_eq!(image.id, id);
    assert_eq!(image.layers.len(), 1);
    assert_eq!(
        image.layers[0],
        Digest::sha256_of(&fs::read(&tar_path).unwrap())
    );
    assert_eq!(
        image.manifest.layers()[0].media_type().to_string(),
        minidock_images::layer_media_types::OCI_LAYER_GZIP
    );
    let exec = image.config.config().clone().unwrap();
    assert_eq!(exec.cmd().as_deref(), Some(&["sh".to_string()][..]));
    assert_eq!(exec.env().as_deref(), Some(&["A=b".to_string()][..]));
    assert_eq!(
        image.config.history()[0].comment().as_deref(),
        Some("from a tar")
    );

    let _unmount_mounted = common::UnmountOnDrop(dir.path().join("c"));
    let mounted = Rootfs::mount(&store, &image, &dir.path().join("c")).unwrap();
    let ours = common::snapshot(mounted.path());
    mounted.unmount().unwrap();
    leaks.finish();
    assert_same_tree(
        "imported image",
        &ours,
        "rootfs",
        &common::snapshot(&rootfs),
    );
}

#[test]
fn a_shared_layer_lives_until_its_last_image_goes() {
    require_root();
    let (dir, store) = common::store();
    let shared = LayerSpec::new(
        Compression::Gzip,
        vec![
            Entry::dir("shared", 0o755),
            Entry::file("shared/f", b"s".to_vec(), 0o644),
        ],
    );
    let make = |name: &str, seed: u64| ImageSpec {
        layers: vec![
            shared.clone(),
            LayerSpec::new(
                Compression::Zstd,
                vec![Entry::file(name, common::pseudo_random(1000, seed), 0o644)],
            ),
        ],
        ..ImageSpec::default()
    };
    let a = make("a", 1).write_docker_save(&dir.path().join("a.tar"), "a:1");
    let b = make("b", 2).write_docker_save(&dir.path().join("b.tar"), "b:1");
    store.load(&dir.path().join("a.tar")).unwrap();
    store.load(&dir.path().join("b.tar")).unwrap();
    assert_eq!(a.diff_ids[0], b.diff_ids[0]);
    assert_eq!(layer_count(&store), 3);
    // manifests 2 + configs 2 + layers 3 (one shared)
    assert_eq!(blob_count(&store), 7);
    let shared_dir = store.layer_dir(&a.diff_ids[0].parse().unwrap());

    // a second tag only untags
    let a_manifest: Digest = a.manifest_digest.parse().unwrap();
    store
        .tag(&Reference::parse("a:2").unwrap(), &a_manifest)
        .unwrap();
    let removed = store.remove("a:2", false, &HashSet::new()).unwrap();
    assert_eq!(
        removed,
        vec![Removed::Untagged(Reference::parse("a:2").unwrap())]
    );

    // in use by a container: refused, or only untagged with force
    let a_id = store.resolve("a:1").unwrap().id;
    let in_use: HashSet<_> = [a_id.clone()].into();
    let err = store.remove("a:1", false, &in_use).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert_eq!(
        store.remove("a:1", true, &in_use).unwrap(),
        vec![Removed::Untagged(Reference::parse("a:1").unwrap())]
    );
    assert_eq!(store.resolve(&a_id.to_string()).unwrap().references, vec![]);
    assert_eq!(layer_count(&store), 3);

    // gone for real: its own layer and blobs go, the shared ones stay
    assert_eq!(
        store
            .remove(&a_id.to_string(), false, &HashSet::new())
            .unwrap(),
        vec![Removed::Deleted(a_id)]
    );
    assert_eq!(layer_count(&store), 2);
    assert!(shared_dir.join("shared/f").is_file());
    assert_eq!(blob_count(&store), 4);
    assert_eq!(store.list().unwrap().len(), 1);

    let b_id = store.resolve("b:1").unwrap().id;
    let removed = store.remove("b:1", false, &HashSet::new()).unwrap();
    assert_eq!(
        removed,
        vec![
            Removed::Untagged(Reference::parse("b:1").unwrap()),
            Removed::Deleted(b_id)
        ]
    );
    assert_eq!(layer_count(&store), 0);
    assert_eq!(blob_count(&store), 0);
    assert!(store.list().unwrap().is_empty());
    assert!(matches!(
        store.remove("b:1", false, &HashSet::new()),
        Err(Error::NoSuchImage(_))
    ));
}

#[test]
fn removing_by_id_an_image_with_several_tags_needs_force() {
    require_root();
    let (dir, store) = common::store();
    let written = minidock_testkit::busybox_image()
        .write_docker_save(&dir.path().join("b.tar"), "busybox:latest");
    let loaded = store.load(&dir.path().join("b.tar")).unwrap();
    let manifest: Digest = written.manifest_digest.parse().unwrap();
    store
        .tag(&Reference::parse("busybox:other").unwrap(), &manifest)
        .unwrap();
    let mut listed = store.list().unwrap();
    assert_eq!(listed.len(), 1);
    listed[0].references.sort();
    assert_eq!(listed[0].references.len(), 2);
    let id = loaded[0].id.to_string();
    let err = store.remove(&id, false, &HashSet::new()).unwrap_err();
    assert!(err.to_string().contains("must be forced"), "{err}");
    let removed = store.remove(&id[7..19], true, &HashSet::new()).unwrap();
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert!(store.list().unwrap().is_empty());
    assert_eq!(blob_count(&store), 0);
}

#[test]
fn a_multi_platform_index_registers_this_machines_manifest() {
    require_root();
    let (dir, store) = common::store();
    let layout = dir.path().join("layout");
    let written = minidock_testkit::busybox_image().write_oci_layout(&layout, "latest");
    let manifest_size = serde_json::to_vec(&written.manifest).unwrap().len();
    let arch = minidock_images::host_architecture();
    let other = if arch == "arm64" { "amd64" } else { "arm64" };
    // an index with our platform and one whose manifest is not even there
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": minidock_testkit::INDEX_MEDIA_TYPE,
        "manifests": [
            {"mediaType": minidock_testkit::MANIFEST_MEDIA_TYPE, "digest": Digest::sha256_of(b"elsewhere").to_string(),
             "size": 9, "platform": {"architecture": other, "os": "linux"}},
            {"mediaType": minidock_testkit::MANIFEST_MEDIA_TYPE, "digest": written.manifest_digest,
             "size": manifest_size, "platform": {"architecture": arch, "os": "linux"}},
        ],
    });
    let index_bytes = serde_json::to_vec(&index).unwrap();
    let index_digest = Digest::sha256_of(&index_bytes);
    fs::write(
        layout.join("blobs/sha256").join(index_digest.hex()),
        &index_bytes,
    )
    .unwrap();
    let top = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": minidock_testkit::INDEX_MEDIA_TYPE, "digest": index_digest.to_string(),
                       "size": index_bytes.len(),
                       "annotations": {minidock_testkit::REF_NAME: "localhost:5000/multi:1"}}],
    });
    fs::write(layout.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();

    let loaded = store.load(&layout).unwrap();
    assert_eq!(
        loaded[0].manifest_digest.to_string(),
        written.manifest_digest
    );
    assert_eq!(loaded[0].id.to_string(), written.config_digest);
    assert_eq!(
        loaded[0].references,
        vec![Reference::parse("localhost:5000/multi:1").unwrap()]
    );
    for name in [
        "localhost:5000/multi:1".to_string(),
        format!("localhost:5000/multi@{index_digest}"),
        index_digest.to_string(),
    ] {
        assert_eq!(store.resolve(&name).unwrap().id, loaded[0].id, "{name}");
    }
    assert!(store.has_blob(&index_digest));
    store
        .remove("localhost:5000/multi:1", false, &HashSet::new())
        .unwrap();
    assert_eq!(blob_count(&store), 0, "the index goes with the image");
}
