//! `minidock build`, `commit`, `export` and `import --change` end to end.

mod common;

use common::{stderr, Daemon};
use std::fs;
use std::os::unix::fs::symlink;

#[test]
fn build_a_directory_with_ignored_files_and_an_outside_symlink() {
    let d = Daemon::start();
    d.load_busybox();
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nARG WHO\nCOPY . /ctx/\nRUN echo \"hi $WHO\" > /greeting\nUSER 65534\nCMD [\"sh\", \"-c\", \"cat /greeting; ls -A /ctx; readlink /ctx/outside; id -u\"]\n",
    )
    .unwrap();
    fs::write(ctx.join(".dockerignore"), "*.secret\n").unwrap();
    fs::write(ctx.join("a.secret"), "no").unwrap();
    fs::write(ctx.join("keep"), "yes").unwrap();
    symlink("/etc", ctx.join("outside")).unwrap();
    let path = ctx.to_str().unwrap();
    let out = d.ok(&["build", "-t", "mine:1", "--build-arg", "WHO=you", path]);
    assert!(out.contains("Step 1/6 : FROM busybox"), "{out}");
    assert!(out.contains("Successfully tagged mine:1"), "{out}");
    let run = d.ok(&["run", "--rm", "mine:1"]);
    assert_eq!(
        run,
        "hi you\n.dockerignore\nDockerfile\nkeep\noutside\n/etc\n65534\n"
    );

    // unchanged: all from the cache; -q prints the id only
    let again = d.ok(&["build", "-t", "mine:1", "--build-arg", "WHO=you", path]);
    assert_eq!(again.matches("Using cache").count(), 5, "{again}");
    let quiet = d.ok(&["build", "-q", "--build-arg", "WHO=you", path]);
    assert!(
        quiet.trim().starts_with("sha256:") && quiet.lines().count() == 1,
        "{quiet}"
    );

    // the intermediate images are hidden, as Docker hides them
    let listed = d.ok(&["images", "-q"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");

    // a broken Dockerfile: the error names the line
    fs::write(ctx.join("Dockerfile.bad"), "FROM busybox\nCOPY\n").unwrap();
    let bad = d.run(&[
        "build",
        "-f",
        ctx.join("Dockerfile.bad").to_str().unwrap(),
        path,
    ]);
    assert_ne!(bad.status.code(), Some(0));
    assert!(stderr(&bad).contains("line 2"), "{}", stderr(&bad));
}

#[test]
fn commit_with_a_change_and_export_import_round_trip() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "src",
        "busybox",
        "sh",
        "-c",
        "echo made > /made",
    ]);
    let id = d.ok(&[
        "commit",
        "-c",
        "CMD [\"cat\", \"/made\"]",
        "-m",
        "note",
        "src",
        "made:1",
    ]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(d.ok(&["run", "--rm", "made:1"]), "made\n");

    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("src.tar");
    d.ok(&["export", "-o", tar.to_str().unwrap(), "src"]);
    d.ok(&[
        "import",
        "-c",
        "ENTRYPOINT [\"cat\"]",
        "-c",
        "CMD [\"/made\"]",
        "-m",
        "round trip",
        tar.to_str().unwrap(),
        "back:1",
    ]);
    assert_eq!(d.ok(&["run", "--rm", "back:1"]), "made\n");
    // the same files as the container: busybox's and the one it made
    let listed = d.ok(&[
        "run",
        "--rm",
        "--entrypoint",
        "ls",
        "back:1",
        "/bin/busybox",
        "/made",
    ]);
    assert_eq!(listed, "/bin/busybox\n/made\n");
}
