//! Pull and push against the real distribution registry (`docker-registry`)
//! on 127.0.0.1, with skopeo and umoci as the independent side: skopeo
//! seeds the registry and reads back what minidock pushed, umoci unpacks
//! the source image to compare with what minidock unpacked.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use minidock_images::{Digest, Reference, Store};
use minidock_registry::manifest::{OCI_INDEX, OCI_MANIFEST, REFERENCE_TYPE_ANNOTATION};
use minidock_registry::{
    BlobPush, Client, ClientOptions, Credentials, Platform, PullOptions, RegistryError,
};
use minidock_testkit::{
    assert_same_tree, busybox_image, random_name, require_root, require_tool, run_ok,
    sha256_digest, tree_snapshot, Compression, Entry, ImageSpec, LayerSpec, OciImage, Registry,
};
use rand::RngCore;
use serde_json::{json, Value};
use support::{http_request, names_in};

fn client(tmp: &Path) -> Client {
    Client::new(ClientOptions {
        credentials_file: tmp.join("docker-config.json"),
        ..ClientOptions::default()
    })
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut v);
    v
}

/// busybox plus a layer of random data (compressed as asked).
fn two_layer_image(data_size: usize, compression: Compression) -> ImageSpec {
    let mut spec = busybox_image();
    spec.layers.push(LayerSpec::new(
        compression,
        vec![
            Entry::dir("data", 0o755),
            Entry::file("data/random", random_bytes(data_size), 0o600),
            Entry::symlink("data/link", "random"),
        ],
    ));
    spec
}

fn store_is_empty(store: &Store) -> bool {
    names_in(&store.root().join("blobs/sha256")).is_empty()
        && names_in(&store.root().join("ingest")).is_empty()
}

#[test]
fn pull_of_an_image_pushed_by_skopeo_matches_the_source() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let oci =
        two_layer_image(300_000, Compression::Gzip).write_oci_layout(&tmp.path().join("oci"), "v1");
    let registry = Registry::start();
    let repo = random_name("team/app");
    registry.push_oci(&oci.dir, "v1", &repo, "1.0");

    let store = Store::open(&tmp.path().join("root")).unwrap();
    let reference = Reference::parse(&format!("{}/{repo}:1.0", registry.addr())).unwrap();
    let pulled = client(tmp.path())
        .pull(&store, &reference, &PullOptions::default(), &|_| {})
        .unwrap();

    assert_eq!(pulled.manifest_digest.to_string(), oci.manifest_digest);
    assert_eq!(pulled.index_digest, None);
    assert_eq!(pulled.image_id.digest().to_string(), oci.config_digest);
    for d in oci
        .layer_digests
        .iter()
        .chain([&oci.config_digest, &oci.manifest_digest])
    {
        let d: Digest = d.parse().unwrap();
        assert!(store.has_blob(&d), "{d} missing");
    }
    let image = store.resolve(&reference.to_string()).unwrap();
    let diff_ids: Vec<String> = image.layers.iter().map(Digest::to_string).collect();
    assert_eq!(diff_ids, oci.diff_ids);
    assert!(
        image.references.contains(&reference),
        "{:?}",
        image.references
    );

    // The oracle: umoci unpacks the source layout; the union of minidock's
    // layer directories (no whiteouts in this image) must be the same tree.
    let umoci = require_tool("umoci", "umoci");
    let bundle = tmp.path().join("bundle");
    run_ok(
        Command::new(umoci)
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:v1", oci.dir.display()))
            .arg(&bundle),
    );
    let want = tree_snapshot(&bundle.join("rootfs"));
    let mut got = BTreeMap::new();
    for dir in image.layer_dirs(&store) {
        got.extend(tree_snapshot(&dir));
    }
    assert_same_tree("umoci unpack", &want, "minidock's layers", &got);
}

/// The raw bytes of a manifest in an OCI layout.
fn manifest_bytes(image: &OciImage) -> Vec<u8> {
    let hex = image.manifest_digest.strip_prefix("sha256:").unwrap();
    std::fs::read(image.dir.join("blobs/sha256").join(hex)).unwrap()
}

fn index_entry(image: &OciImage, platform: Value, annotations: Value) -> Value {
    json!({
        "mediaType": OCI_MANIFEST,
        "digest": image.manifest_digest,
        "size": manifest_bytes(image).len(),
        "platform": platform,
        "annotations": annotations,
    })
}

#[test]
fn a_multi_platform_index_gives_the_host_platform_or_the_one_asked_for() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("oci");
    let host = Platform::host();
    let other_arch = if host.architecture == "amd64" {
        "arm64"
    } else {
        "amd64"
    };
    let one_file = |name: &str, arch: &str| ImageSpec {
        layers: vec![LayerSpec::new(
            Compression::Gzip,
            vec![Entry::file("which", name.as_bytes().to_vec(), 0o644)],
        )],
        architecture: arch.to_string(),
        ..ImageSpec::default()
    };
    let host_image = one_file("host", &host.architecture).write_oci_layout(&layout, "host");
    let other_image = one_file("other", other_arch).write_oci_layout(&layout, "other");
    let attestation = one_file("attestation", &host.architecture).write_oci_layout(&layout, "att");

    let registry = Registry::start();
    let repo = random_name("multi/img");
    for tag in ["host", "other", "att"] {
        registry.push_oci(&layout, tag, &repo, tag);
    }
    // The index: an attestation first (marked only by its annotation, with
    // the host's platform, so only the annotation can skip it), the other
    // platform, the host platform, and a BuildKit-style unknown/unknown one.
    let mut host_platform = json!({"os": "linux", "architecture": host.architecture});
    if let Some(v) = &host.variant {
        host_platform["variant"] = json!(v);
    }
    let attestation_annotation = json!({
        REFERENCE_TYPE_ANNOTATION: "attestation-manifest",
        "vnd.docker.reference.digest": host_image.manifest_digest,
    });
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            index_entry(&attestation, host_platform.clone(), attestation_annotation.clone()),
            index_entry(&other_image, json!({"os": "linux", "architecture": other_arch}), json!({})),
            index_entry(&host_image, host_platform, json!({})),
            index_entry(&attestation, json!({"os": "unknown", "architecture": "unknown"}), attestation_annotation),
        ],
    });
    let index_bytes = serde_json::to_vec(&index).unwrap();
    let (status, answer) = http_request(
        &registry.addr(),
        "PUT",
        &format!("/v2/{repo}/manifests/latest"),
        &[("Content-Type", OCI_INDEX)],
        &index_bytes,
    );
    assert_eq!(status, 201, "{answer}");

    let reference = Reference::parse(&format!("{}/{repo}", registry.addr())).unwrap();
    let store = Store::open(&tmp.path().join("root")).unwrap();
    let pulled = client(tmp.path())
        .pull(&store, &reference, &PullOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(
        pulled.manifest_digest.to_string(),
        host_image.manifest_digest
    );
    assert_eq!(
        pulled.index_digest.map(|d| d.to_string()),
        Some(sha256_digest(&index_bytes))
    );
    assert!(
        store.has_blob(&sha256_digest(&index_bytes).parse().unwrap()),
        "index kept"
    );

    let store2 = Store::open(&tmp.path().join("root2")).unwrap();
    let other = PullOptions {
        platform: Some(format!("linux/{other_arch}").parse().unwrap()),
    };
    let pulled = client(tmp.path())
        .pull(&store2, &reference, &other, &|_| {})
        .unwrap();
    assert_eq!(
        pulled.manifest_digest.to_string(),
        other_image.manifest_digest
    );
    let image = store2.resolve(&reference.to_string()).unwrap();
    assert_eq!(image.id.digest().to_string(), other_image.config_digest);

    let store3 = Store::open(&tmp.path().join("root3")).unwrap();
    let s390x = PullOptions {
        platform: Some("linux/s390x".parse().unwrap()),
    };
    let err = client(tmp.path())
        .pull(&store3, &reference, &s390x, &|_| {})
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::NoMatchingPlatform { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("linux/s390x") && text.contains(&format!("linux/{other_arch}")),
        "{text}"
    );
    assert!(
        !text.contains("unknown"),
        "attestations are not platforms: {text}"
    );
}

#[test]
fn basic_auth_with_right_and_wrong_password_and_login() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    let password = random_name("pw-");
    let registry = Registry::start_with_basic_auth("tester", &password);
    let addr = registry.addr();
    let oci =
        two_layer_image(10_000, Compression::Gzip).write_oci_layout(&tmp.path().join("oci"), "v1");
    let repo = random_name("private/app");
    registry.push_oci(&oci.dir, "v1", &repo, "v1");
    let reference = Reference::parse(&format!("{addr}/{repo}:v1")).unwrap();
    let store = Store::open(&tmp.path().join("root")).unwrap();

    // No credentials, then a wrong password: a clear 401, nothing stored.
    let err = client(tmp.path())
        .pull(&store, &reference, &PullOptions::default(), &|_| {})
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("run `minidock login {addr}`")),
        "{err}"
    );
    let wrong = client(tmp.path());
    wrong.set_credentials(&addr, Credentials::new("tester", "wrong"));
    let err = wrong
        .pull(&store, &reference, &PullOptions::default(), &|_| {})
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
    assert!(store_is_empty(&store));

    // login checks before it saves.
    let config = tmp.path().join("docker-config.json");
    let err = client(tmp.path())
        .login(&addr, &Credentials::new("tester", "wrong"))
        .unwrap_err();
    assert!(matches!(err, RegistryError::LoginFailed { .. }), "{err}");
    assert!(!config.exists());
    let right = Credentials::new("tester", &password);
    client(tmp.path()).login(&addr, &right).unwrap();
    let saved: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    assert_eq!(saved["auths"][&addr]["auth"], right.basic_token());

    // A fresh client finds the saved credentials and pulls.
    let pulled = client(tmp.path())
        .pull(&store, &reference, &PullOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(pulled.manifest_digest.to_string(), oci.manifest_digest);
    assert!(client(tmp.path()).logout(&addr).unwrap());
}

/// `skopeo inspect` of a pushed image: (manifest digest, layer digests).
fn skopeo_inspect(addr: &str, repo_tag: &str) -> (String, Vec<String>) {
    let skopeo = require_tool("skopeo", "skopeo");
    let out = run_ok(
        Command::new(skopeo)
            .args(["inspect", "--tls-verify=false"])
            .arg(format!("docker://{addr}/{repo_tag}")),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let layers = v["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    (v["Digest"].as_str().unwrap().to_string(), layers)
}

#[test]
fn push_by_minidock_reads_back_with_skopeo() {
    require_root();
    let tmp = tempfile::tempdir().unwrap();
    // A 9 MiB incompressible layer: bigger than one upload chunk. (gzip, as
    // skopeo would compress a plain tar layer on push and change its digest.)
    let oci =
        two_layer_image(9 << 20, Compression::Gzip).write_oci_layout(&tmp.path().join("oci"), "v1");
    let source = Registry::start();
    let src_repo = random_name("src/app");
    source.push_oci(&oci.dir, "v1", &src_repo, "1");
    let store = Store::open(&tmp.path().join("root")).unwrap();
    let client = client(tmp.path());
    let src_ref = Reference::parse(&format!("{}/{src_repo}:1", source.addr())).unwrap();
    client
        .pull(&store, &src_ref, &PullOptions::default(), &|_| {})
        .unwrap();
    let image = store.resolve(&src_ref.to_string()).unwrap();

    // Same registry, other repository: every blob is mounted, none uploaded.
    let dst_ref = Reference::parse(&format!("{}/dst/app:2", source.addr())).unwrap();
    let pushed = client
        .push_image(&store, &image, &dst_ref, &|_| {})
        .unwrap();
    assert_eq!(pushed.blobs.len(), 3);
    assert!(
        pushed
            .blobs
            .iter()
            .all(|(_, how)| *how == BlobPush::Mounted),
        "{pushed:?}"
    );
    assert_eq!(
        skopeo_inspect(&source.addr(), "dst/app:2"),
        (oci.manifest_digest.clone(), oci.layer_digests.clone())
    );

    // Another registry: everything is uploaded (the big layer in chunks).
    let target = Registry::start();
    let repo = random_name("x/y");
    let target_ref = Reference::parse(&format!("{}/{repo}:3", target.addr())).unwrap();
    let events = std::sync::Mutex::new(Vec::new());
    let pushed = client
        .push_image(&store, &image, &target_ref, &|p| {
            events.lock().unwrap().push(p)
        })
        .unwrap();
    assert_eq!(pushed.manifest_digest.to_string(), oci.manifest_digest);
    assert!(
        pushed
            .blobs
            .iter()
            .all(|(_, how)| *how == BlobPush::Uploaded),
        "{pushed:?}"
    );
    let big: Digest = oci.layer_digests[1].parse().unwrap();
    let chunks = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, minidock_registry::Progress::LayerProgress { digest, .. } if *digest == big))
        .count();
    assert_eq!(chunks, 2, "9 MiB go in two chunks");
    let (digest, layers) = skopeo_inspect(&target.addr(), &format!("{repo}:3"));
    assert_eq!(digest, oci.manifest_digest);
    assert_eq!(layers, oci.layer_digests);

    // skopeo copies it back into an OCI layout: the very same blobs.
    let skopeo = require_tool("skopeo", "skopeo");
    let back = tmp.path().join("back");
    run_ok(
        Command::new(skopeo)
            .args(["copy", "--src-tls-verify=false"])
            .arg(format!("docker://{}/{repo}:3", target.addr()))
            .arg(format!("oci:{}:back", back.display())),
    );
    for d in oci
        .layer_digests
        .iter()
        .chain([&oci.config_digest, &oci.manifest_digest])
    {
        let hex = d.strip_prefix("sha256:").unwrap();
        assert_eq!(
            std::fs::read(back.join("blobs/sha256").join(hex)).unwrap(),
            std::fs::read(oci.dir.join("blobs/sha256").join(hex)).unwrap(),
            "{d}"
        );
    }

    // Pushing again sends no blob.
    let again = client
        .push_image(&store, &image, &target_ref, &|_| {})
        .unwrap();
    assert!(
        again.blobs.iter().all(|(_, how)| *how == BlobPush::Exists),
        "{again:?}"
    );
}
