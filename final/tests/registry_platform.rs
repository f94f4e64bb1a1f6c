//! `pull --platform`: a multi-platform image (an OCI index with one image
//! per platform, pushed by skopeo to the real distribution registry) gives
//! the daemon's platform by default, the one asked for with `--platform`
//! (the `platform` query of `POST /images/create`), and Docker's message
//! when the index has no image for it — through the `minidock` CLI and the
//! real `docker` CLI.

mod common;

use common::{docker_cli_available, stderr, stdout, Daemon};
use minidock_testkit::{
    host_architecture, random_name, Compression, Entry, ImageSpec, LayerSpec, OciImage, Registry,
};

/// A registry holding `REPO:latest`, an index of two one-file images: one
/// for this machine's architecture, one for another. Returns the registry,
/// the image name, the host's image, the other image and its platform.
fn multi_platform_image() -> (Registry, String, OciImage, OciImage, String) {
    let host_arch = host_architecture();
    let other_arch = if host_arch == "amd64" {
        "arm64"
    } else {
        "amd64"
    };
    let layout = tempfile::tempdir().unwrap();
    let one_file = |which: &str, arch: &str| ImageSpec {
        layers: vec![LayerSpec::new(
            Compression::Gzip,
            vec![Entry::file("which", which.as_bytes().to_vec(), 0o644)],
        )],
        architecture: arch.to_string(),
        ..ImageSpec::default()
    };
    let host = one_file("host", host_arch).write_oci_layout(layout.path(), "host");
    let other = one_file("other", other_arch).write_oci_layout(layout.path(), "other");
    let other_platform = format!("linux/{other_arch}");
    ImageSpec::write_oci_index(
        layout.path(),
        "multi",
        &[
            (&other, other_platform.as_str()),
            (&host, &format!("linux/{host_arch}")),
        ],
    );
    let registry = Registry::start();
    let repo = random_name("multi/app");
    registry.push_oci_index(layout.path(), "multi", &repo, "latest");
    let name = format!("{}/{repo}", registry.addr());
    (registry, name, host, other, other_platform)
}

/// `Id` and `Architecture` of a local image.
fn id_and_arch(d: &Daemon, name: &str) -> String {
    d.ok(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}} {{.Architecture}}",
        name,
    ])
    .trim()
    .to_string()
}

#[test]
fn pull_platform_picks_from_a_multi_platform_index() {
    let (_registry, name, host, other, other_platform) = multi_platform_image();
    let other_arch = other_platform.trim_start_matches("linux/");
    let d = Daemon::start();

    // No --platform: the daemon's own.
    d.ok(&["pull", &name]);
    assert_eq!(
        id_and_arch(&d, &name),
        format!("{} {}", host.config_digest, host_architecture())
    );

    // --platform: that platform's image replaces the tag.
    let out = d.ok(&["pull", "--platform", &other_platform, &name]);
    assert!(out.contains("Digest: sha256:"), "{out}");
    assert_eq!(
        id_and_arch(&d, &name),
        format!("{} {other_arch}", other.config_digest)
    );

    // No image for the platform: Docker's message, with what there is.
    let out = d.run(&["pull", "--platform", "linux/s390x", &name]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    let err = stderr(&out);
    assert!(
        err.contains("no matching manifest for linux/s390x in the manifest list entries"),
        "{err}"
    );
    assert!(err.contains(&other_platform), "{err}");
    assert_eq!(
        id_and_arch(&d, &name),
        format!("{} {other_arch}", other.config_digest),
        "a failed pull leaves the tag alone"
    );

    // A platform that is not one: a clear 400 before anything is fetched.
    let out = d.run(&["pull", "--platform", "linux/", &name]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    let err = stderr(&out);
    assert!(err.contains("invalid platform \"linux/\""), "{err}");
}

#[test]
fn docker_pull_platform_through_minidockd() {
    if !docker_cli_available() {
        return;
    }
    let (_registry, name, _host, other, other_platform) = multi_platform_image();
    let d = Daemon::start();
    let mut docker = d.docker();
    let pulled = docker
        .args(["pull", "--platform", &other_platform, &name])
        .output()
        .unwrap();
    assert_eq!(pulled.status.code(), Some(0), "{pulled:?}\n{}", d.log());
    assert!(
        stdout(&pulled).contains(&format!("Status: Downloaded newer image for {name}")),
        "{}",
        stdout(&pulled)
    );
    assert_eq!(
        id_and_arch(&d, &name),
        format!(
            "{} {}",
            other.config_digest,
            other_platform.trim_start_matches("linux/")
        )
    );

    let mut docker = d.docker();
    let missing = docker
        .args(["pull", "--platform", "linux/s390x", &name])
        .output()
        .unwrap();
    assert_ne!(missing.status.code(), Some(0), "{missing:?}");
    assert!(
        stderr(&missing)
            .contains("no matching manifest for linux/s390x in the manifest list entries"),
        "{}",
        stderr(&missing)
    );
}
