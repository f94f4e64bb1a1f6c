//! The real `docker` CLI builds, commits, exports and imports against
//! `minidockd` (the classic builder: `DOCKER_BUILDKIT=0`), and skopeo and
//! umoci read what was built.

mod common;

use common::{docker_cli_available, ok, stdout, Daemon};
use minidock_testkit::require_tool;
use std::fs;
use std::process::Command;

#[test]
fn docker_build_commit_export_import_against_minidockd() {
    if !docker_cli_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox AS build\nARG WHAT=world\nCOPY hello.txt /src/\nRUN cat /src/hello.txt > /out && echo \"$WHAT\" >> /out\n\
         FROM busybox\nCOPY --from=build /out /app/out\nWORKDIR /app\nCMD [\"cat\", \"out\"]\n",
    )
    .unwrap();
    fs::write(ctx.join("hello.txt"), "hello\n").unwrap();
    let build = |extra: &[&str]| {
        let mut cmd = daemon.docker();
        cmd.env("DOCKER_BUILDKIT", "0")
            .args(["build", "-t", "built:1", "--build-arg", "WHAT=docker"])
            .args(extra)
            .arg(&ctx);
        ok(&mut cmd)
    };
    let first = build(&[]);
    assert!(
        first.contains("Step 1/8 : FROM busybox AS build"),
        "{first}"
    );
    assert!(first.contains("Successfully tagged built:1"), "{first}");
    let again = build(&[]);
    assert_eq!(again.matches("Using cache").count(), 6, "{again}");
    let run = ok(daemon.docker().args(["run", "--rm", "built:1"]));
    assert_eq!(run, "hello\ndocker\n");
    let quiet = build(&["-q"]);
    assert!(quiet.trim().starts_with("sha256:"), "{quiet}");

    // a failing build: the CLI exits non-zero with the builder's message
    fs::write(ctx.join("Dockerfile"), "FROM busybox\nRUN exit 7\n").unwrap();
    let failed = daemon
        .docker()
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-t", "broken"])
        .arg(&ctx)
        .output()
        .unwrap();
    assert!(!failed.status.success());
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("returned a non-zero code: 7"),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );

    // commit with a change, then run the new image
    ok(daemon.docker().args([
        "run",
        "--name",
        "maker",
        "busybox",
        "sh",
        "-c",
        "echo committed > /f && rm /etc/group",
    ]));
    ok(daemon.docker().args([
        "commit",
        "-c",
        "CMD [\"sh\", \"-c\", \"cat /f; test -e /etc/group || echo no-group\"]",
        "-m",
        "by a test",
        "-a",
        "tester",
        "maker",
        "committed:1",
    ]));
    let out = ok(daemon.docker().args(["run", "--rm", "committed:1"]));
    assert_eq!(out, "committed\nno-group\n");
    let history = ok(daemon
        .docker()
        .args(["history", "--format", "{{.Comment}}", "committed:1"]));
    assert_eq!(history.lines().next(), Some("by a test"), "{history}");

    // export, then import with a change: the same files
    let exported = dir.path().join("maker.tar");
    ok(daemon
        .docker()
        .args(["export", "-o", exported.to_str().unwrap(), "maker"]));
    ok(daemon.docker().args([
        "import",
        "-c",
        "CMD [\"cat\", \"/f\"]",
        "-m",
        "imported",
        exported.to_str().unwrap(),
        "imported:1",
    ]));
    let out = ok(daemon.docker().args(["run", "--rm", "imported:1"]));
    assert_eq!(out, "committed\n");

    // skopeo and umoci read the built image, digests and diff-ids checked
    let skopeo = require_tool("skopeo", "skopeo");
    let umoci = require_tool("umoci", "umoci");
    let saved = dir.path().join("built.tar");
    ok(daemon
        .docker()
        .args(["save", "-o", saved.to_str().unwrap(), "built:1"]));
    let layout = dir.path().join("oci");
    let copied = Command::new(&skopeo)
        .arg("copy")
        .arg(format!("docker-archive:{}", saved.display()))
        .arg(format!("oci:{}:built", layout.display()))
        .output()
        .unwrap();
    assert!(
        copied.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let bundle = dir.path().join("bundle");
    let unpacked = Command::new(&umoci)
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:built", layout.display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        unpacked.status.success(),
        "umoci: {}",
        String::from_utf8_lossy(&unpacked.stderr)
    );
    assert_eq!(
        fs::read_to_string(bundle.join("rootfs/app/out")).unwrap(),
        "hello\ndocker\n"
    );
    // the build cache is pruned through the classic endpoint; a rebuild
    // then runs every step again
    let pruned = ok(daemon.docker().args(["builder", "prune", "-a", "-f"]));
    assert!(pruned.contains("Total"), "{pruned}");
    fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nCOPY hello.txt /\nCMD [\"cat\", \"/hello.txt\"]\n",
    )
    .unwrap();
    let first = build(&[]);
    let second = build(&[]);
    assert_eq!(second.matches("Using cache").count(), 2, "{second}");
    ok(daemon.docker().args(["builder", "prune", "-a", "-f"]));
    let after = build(&[]);
    assert_eq!(after.matches("Using cache").count(), 0, "{first}{after}");
    let _ = stdout;
}
