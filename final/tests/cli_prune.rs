//! `container prune`, `image prune`, `system prune` against a real daemon:
//! they delete exactly what nothing uses, ask first, and count what they
//! reclaimed.

mod common;

use common::{lines, stdout, Daemon};
use std::path::{Path, PathBuf};

/// A one-file root file system tar whose file holds `content`.
fn tiny_rootfs_tar(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(format!("{name}.tar"));
    let mut builder = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    builder
        .append_data(&mut header, "file.txt", content)
        .unwrap();
    builder.finish().unwrap();
    path
}

/// The names of all containers.
fn names(d: &Daemon) -> Vec<String> {
    let names = d.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    lines(&names).iter().map(|n| n.to_string()).collect()
}

/// `REPOSITORY:TAG` of every image, sorted.
fn images(d: &Daemon) -> Vec<String> {
    let list = d.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut all: Vec<String> = lines(&list).iter().map(|l| l.to_string()).collect();
    all.sort();
    all
}

#[test]
fn container_prune_removes_the_stopped_ones_and_asks_first() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "exited",
        "busybox",
        "sh",
        "-c",
        "echo 1234 > /written",
    ]);
    d.ok(&["create", "--name", "created", "busybox", "true"]);
    d.ok(&["run", "-d", "--name", "running", "busybox", "sleep", "1000"]);
    let id = |name: &str| d.ok(&["inspect", "-f", "{{.Id}}", name]).trim().to_string();
    let (exited, created) = (id("exited"), id("created"));

    // No answer (or "n"): nothing happens.
    let out = d.run_with_stdin(&["container", "prune"], b"n\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
    );
    assert_eq!(lines(&d.ok(&["ps", "-aq"])).len(), 3);

    // "y": the exited and the created one go; the running one stays. The
    // space is what the exited one wrote (5 bytes).
    let out = d.run_with_stdin(&["container", "prune"], b"y\n");
    let text = stdout(&out);
    let text = text.split_once("[y/N] ").unwrap().1;
    let mut deleted: Vec<&str> = lines(text)[1..3].to_vec();
    deleted.sort();
    let mut expected = vec![exited.as_str(), created.as_str()];
    expected.sort();
    assert_eq!(lines(text)[0], "Deleted Containers:", "{text}");
    assert_eq!(deleted, expected, "{text}");
    assert!(text.ends_with("\nTotal reclaimed space: 5B\n"), "{text}");
    assert_eq!(names(&d), ["running"]);

    // Filters: a label that nothing has prunes nothing.
    d.ok(&["stop", "-t", "0", "running"]);
    assert_eq!(
        d.ok(&["container", "prune", "-f", "--filter", "label=keep=no"]),
        "Total reclaimed space: 0B\n"
    );
    let out = d.run(&["container", "prune", "-f", "--filter", "status=exited"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("invalid filter 'status'"));
    d.ok(&["container", "prune", "-f"]);
    assert_eq!(d.ok(&["ps", "-aq"]), "");
}

#[test]
fn image_prune_deletes_dangling_images_and_with_all_every_unused_one() {
    let d = Daemon::start();
    d.load_busybox();
    let dir = d.scratch();
    let first = tiny_rootfs_tar(&dir, "first", b"the first\n");
    let second = tiny_rootfs_tar(&dir, "second", b"the second one\n");
    d.ok(&["import", first.to_str().unwrap(), "tiny:1"]);
    let first_id = d
        .ok(&["inspect", "-f", "{{.Id}}", "tiny:1"])
        .trim()
        .to_string();
    // The tag moves to the second import: the first image is dangling.
    d.ok(&["import", second.to_str().unwrap(), "tiny:1"]);
    assert_eq!(images(&d), ["<none>:<none>", "busybox:latest", "tiny:1"]);
    d.ok(&["create", "--name", "user", "busybox", "true"]);

    let out = d.ok(&["image", "prune", "-f"]);
    assert!(
        out.starts_with(&format!("Deleted Images:\ndeleted: {first_id}\n")),
        "{out}"
    );
    assert!(!out.contains("Total reclaimed space: 0B"), "{out}");
    assert_eq!(images(&d), ["busybox:latest", "tiny:1"]);

    // -a: every image no container uses; busybox has a container.
    let out = d.ok(&["image", "prune", "-a", "-f"]);
    assert!(
        out.starts_with("Deleted Images:\nuntagged: tiny:1\ndeleted: sha256:"),
        "{out}"
    );
    assert_eq!(images(&d), ["busybox:latest"]);

    // system prune -a: the container, then the image it held.
    let out = d.ok(&["system", "prune", "-a", "-f"]);
    assert!(out.starts_with("Deleted Containers:\n"), "{out}");
    assert!(
        out.contains("Deleted Images:\nuntagged: busybox:latest\n"),
        "{out}"
    );
    assert_eq!(d.ok(&["images", "-q"]), "");
    assert_eq!(d.ok(&["ps", "-aq"]), "");
}
