//! `save` and `load` as other tools see them: an image saved by id has no
//! names (as `docker save <id>` writes it), a bad archive is an error inside
//! the load's JSON stream (as dockerd answers), and archives go both ways
//! between minidock and skopeo (`docker-archive:` and `oci-archive:`), whose
//! docker-archive layout (top-level `<hex>.tar` layers, `<hex>/layer.tar`
//! symlinks) is the one podman save writes too.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;

use common::{docker_cli_available, ok, stderr, Daemon};

fn image_id(d: &Daemon, name: &str) -> String {
    d.ok(&["inspect", "-f", "{{.Id}}", name]).trim().to_string()
}

/// A file of an uncompressed tar, read with the `tar` crate (not minidock).
fn tar_file(archive: &Path, wanted: &str) -> Option<Vec<u8>> {
    let mut tar = tar::Archive::new(std::fs::File::open(archive).expect("open the archive"));
    for entry in tar.entries().expect("a tar") {
        let mut entry = entry.expect("a tar entry");
        if entry.path().unwrap().to_str() == Some(wanted) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            return Some(bytes);
        }
    }
    None
}

fn tar_names(archive: &Path) -> Vec<String> {
    let mut tar = tar::Archive::new(std::fs::File::open(archive).expect("open the archive"));
    tar.entries()
        .expect("a tar")
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

fn skopeo(args: &[&str]) -> String {
    ok(Command::new("skopeo").arg("--insecure-policy").args(args))
}

#[test]
fn save_by_id_writes_no_names_and_loads_back_untagged() {
    let d = Daemon::start();
    d.load_busybox();
    let id = image_id(&d, "busybox");
    let archive = d.scratch().join("by-id.tar");
    d.ok(&["save", "-o", archive.to_str().unwrap(), &id[7..19]]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&tar_file(&archive, "manifest.json").expect("manifest.json"))
            .unwrap();
    assert_eq!(
        manifest[0]["RepoTags"],
        serde_json::Value::Null,
        "{manifest}"
    );
    let repositories = tar_file(&archive, "repositories").expect("repositories");
    assert_eq!(repositories, b"{}");

    // By name it keeps that one name.
    d.ok(&["tag", "busybox", "other:1"]);
    let named = d.scratch().join("named.tar");
    d.ok(&["save", "-o", named.to_str().unwrap(), "other:1"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&tar_file(&named, "manifest.json").unwrap()).unwrap();
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!(["other:1"]));

    d.ok(&["rmi", "busybox", "other:1"]);
    let out = d.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(out.trim(), format!("Loaded image ID: {id}"));
    let tags = d.ok(&["inspect", "-f", "{{json .RepoTags}}", &id]);
    assert_eq!(tags.trim(), "[]");
}

/// dockerd answers `POST /images/load` with 200 and puts the failure in
/// the stream; the docker CLI then prints it and exits 1.
#[test]
fn a_bad_archive_is_an_error_inside_the_load_stream() {
    let d = Daemon::start();
    let garbage = b"this is not a tar archive, not even close\n".repeat(100);
    let mut s = UnixStream::connect(&d.socket).expect("connect");
    write!(
        s,
        "POST /v1.44/images/load HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        garbage.len()
    )
    .unwrap();
    s.write_all(&garbage).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    assert!(body.contains("\"errorDetail\":{\"message\":"), "{answer}");

    let out = d.run(&["load", "-i", "/etc/hostname"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr(&out).contains("not a tar") || stderr(&out).contains("archive"));

    if docker_cli_available() {
        let bad = d.scratch().join("bad.tar");
        std::fs::write(&bad, &garbage).unwrap();
        let out = d
            .docker()
            .args(["load", "-i", bad.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(!stderr(&out).is_empty(), "docker load must say why");
    }
}

#[test]
fn skopeo_archives_load_and_minidock_archives_read_in_skopeo() {
    let d = Daemon::start();
    d.load_busybox();
    let id = image_id(&d, "busybox");
    let diff_ids = d.ok(&["inspect", "-f", "{{json .RootFS.Layers}}", "busybox"]);
    let saved = d.scratch().join("minidock.tar");
    d.ok(&["save", "-o", saved.to_str().unwrap(), "busybox"]);
    let saved_ref = |transport: &str| format!("{transport}:{}", saved.display());

    // minidock → skopeo, both ways of reading the same archive.
    for transport in ["docker-archive", "oci-archive"] {
        let config = skopeo(&["inspect", "--config", &saved_ref(transport)]);
        let config: serde_json::Value = serde_json::from_str(&config).unwrap();
        assert_eq!(
            config["rootfs"]["diff_ids"].to_string(),
            diff_ids.trim(),
            "skopeo reads minidock's archive as {transport}"
        );
    }

    // skopeo → minidock: its docker-archive layout…
    let from_skopeo = d.scratch().join("skopeo-docker.tar");
    skopeo(&[
        "copy",
        &saved_ref("docker-archive"),
        &format!(
            "docker-archive:{}:skopeo/busybox:docker",
            from_skopeo.display()
        ),
    ]);
    let names = tar_names(&from_skopeo);
    assert!(
        names
            .iter()
            .any(|n| n.ends_with(".tar") && !n.contains('/')),
        "skopeo's layout has top-level layer tars: {names:?}"
    );
    let out = d.ok(&["load", "-i", from_skopeo.to_str().unwrap()]);
    assert!(out.contains("Loaded image: skopeo/busybox:docker"), "{out}");
    assert_eq!(image_id(&d, "skopeo/busybox:docker"), id);
    let hi = d.ok(&[
        "run",
        "--rm",
        "skopeo/busybox:docker",
        "echo",
        "from skopeo",
    ]);
    assert_eq!(hi, "from skopeo\n");

    // …and an OCI archive.
    let oci = d.scratch().join("skopeo-oci.tar");
    skopeo(&[
        "copy",
        &saved_ref("docker-archive"),
        &format!("oci-archive:{}:skopeo/busybox:oci", oci.display()),
    ]);
    d.ok(&["load", "-i", oci.to_str().unwrap()]);
    let loaded = d.ok(&["inspect", "-f", "{{json .RootFS.Layers}}", &id]);
    assert_eq!(loaded.trim(), diff_ids.trim());
    // The round trip through skopeo's docker-archive again, from the
    // image minidock loaded out of skopeo's archive.
    let again = d.scratch().join("again.tar");
    d.ok(&[
        "save",
        "-o",
        again.to_str().unwrap(),
        "skopeo/busybox:docker",
    ]);
    let config = skopeo(&[
        "inspect",
        "--config",
        &format!("docker-archive:{}", again.display()),
    ]);
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["rootfs"]["diff_ids"].to_string(), diff_ids.trim());
}
