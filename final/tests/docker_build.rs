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
}

/// Bytes under `dir`, each inode once, symlinks not followed (the test's
/// own count, not the daemon's).
fn disk_bytes(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.path().symlink_metadata().unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            } else if seen.insert((meta.dev(), meta.ino())) {
                total += meta.size();
            }
        }
    }
    total
}

/// A size as the docker CLI prints it (`540.7kB`: powers of 1000).
fn parse_human(text: &str) -> f64 {
    let text = text.split_whitespace().next().unwrap_or_default();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor = match unit {
        "B" | "" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        other => panic!("unknown unit {other:?} in {text:?}"),
    };
    number.parse::<f64>().unwrap() * factor
}

/// `docker system df` counts the build cache with real sizes, and `docker
/// builder prune` frees what no kept image is built on, reporting what it
/// measured.
#[test]
fn docker_system_df_counts_the_build_cache_and_builder_prune_frees_it() {
    if !docker_cli_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("Dockerfile"),
        "FROM busybox\nRUN head -c 600000 /dev/urandom > /big\nRUN echo small > /small\n",
    )
    .unwrap();
    ok(daemon
        .docker()
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-t", "cached:1"])
        .arg(dir.path()));
    let cache_row = || {
        let df = ok(daemon
            .docker()
            .args(["system", "df", "--format", "{{json .}}"]));
        let row: serde_json::Value = df
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["Type"] == "Build Cache")
            .unwrap_or_else(|| panic!("no Build Cache row in {df}"));
        row
    };
    // Two RUN steps, the first holding the 600 kB file, both shared with
    // the tagged image: the docker CLI counts shared bytes under the
    // images, so the cache's own size and what is reclaimable are 0.
    let entries = daemon.client.system_df().unwrap().build_cache;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries.iter().all(|e| e.shared), "{entries:?}");
    assert!(entries.iter().any(|e| e.size >= 600_000), "{entries:?}");
    let row = cache_row();
    assert_eq!(row["TotalCount"], "2", "{row}");
    assert_eq!(parse_human(row["Size"].as_str().unwrap()), 0.0, "{row}");
    assert_eq!(
        parse_human(row["Reclaimable"].as_str().unwrap()),
        0.0,
        "{row}"
    );

    // Without its tag, the first step's image is built on by nothing kept:
    // its entry is the cache's own, and reclaimable.
    ok(daemon.docker().args(["rmi", "cached:1"]));
    let row = cache_row();
    assert_eq!(row["TotalCount"], "1", "{row}");
    let size = parse_human(row["Size"].as_str().unwrap());
    assert!(size >= 600_000.0, "{row}");
    let reclaimable = parse_human(row["Reclaimable"].as_str().unwrap());
    assert_eq!(reclaimable, size, "{row}");
    let store = daemon.root();
    let on_disk = || disk_bytes(&store.join("layers")) + disk_bytes(&store.join("blobs"));
    let before = on_disk();
    let pruned = ok(daemon.docker().args(["builder", "prune", "-f"]));
    let freed = before - on_disk();
    let total = pruned
        .lines()
        .find(|l| l.contains("Total"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no total in {pruned}"));
    let reported = parse_human(total);
    assert!(freed >= 600_000, "freed {freed} bytes: {pruned}");
    assert!(
        (reported - freed as f64).abs() <= freed as f64 * 0.001 + 100.0,
        "reported {reported}, measured {freed}: {pruned}"
    );
    let row = cache_row();
    assert_eq!(row["TotalCount"], "0", "{row}");
    // The base image is untouched and still runs.
    let out = ok(daemon
        .docker()
        .args(["run", "--rm", "busybox", "echo", "ok"]));
    assert_eq!(out, "ok\n");
}

/// The ids of every container, as `docker ps -a -q --no-trunc` lists them.
fn all_containers(daemon: &Daemon) -> Vec<String> {
    let out = ok(daemon.docker().args(["ps", "-a", "-q", "--no-trunc"]));
    out.lines().map(str::to_owned).collect()
}

/// `--rm=false` keeps each RUN's container, a failed step's container is
/// kept unless `--force-rm`, as the classic builder does; the kept ones
/// are listed by `docker ps -a` and removed by `docker rm`.
#[test]
fn docker_build_keeps_intermediate_containers_on_request() {
    if !docker_cli_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nRUN echo a > /a\nRUN echo b > /b\n",
    )
    .unwrap();
    fs::write(ctx.join("Dockerfile.fail"), "FROM busybox\nRUN exit 3\n").unwrap();
    let build = |args: &[&str]| {
        daemon
            .docker()
            .env("DOCKER_BUILDKIT", "0")
            .arg("build")
            .args(args)
            .arg(ctx)
            .output()
            .unwrap()
    };
    let kept = build(&["--rm=false", "-t", "kept:1"]);
    assert!(kept.status.success(), "{}", stdout(&kept));
    let listed = all_containers(&daemon);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let status = ok(daemon
        .docker()
        .args(["ps", "-a", "--format", "{{.Status}}"]));
    assert!(
        status.lines().all(|l| l.starts_with("Exited (0)")),
        "{status}"
    );

    let forced = build(&[
        "--force-rm",
        "-f",
        ctx.join("Dockerfile.fail").to_str().unwrap(),
    ]);
    assert!(!forced.status.success());
    assert_eq!(
        all_containers(&daemon),
        listed,
        "--force-rm left a container"
    );

    let failed = build(&["-f", ctx.join("Dockerfile.fail").to_str().unwrap()]);
    assert!(!failed.status.success());
    let after = all_containers(&daemon);
    assert_eq!(
        after.len(),
        3,
        "the failed step's container was not kept: {after:?}"
    );
    let left: Vec<&String> = after.iter().filter(|c| !listed.contains(c)).collect();
    let state = ok(daemon
        .docker()
        .args(["inspect", "-f", "{{.State.ExitCode}}", left[0]]));
    assert_eq!(state.trim(), "3");

    let mut rm = daemon.docker();
    rm.arg("rm").args(&after);
    ok(&mut rm);
    assert!(all_containers(&daemon).is_empty());
}

/// The Debian `docker-compose` (v1, through docker-py's classic build
/// call) builds a service's image from its `build:` directory.
#[test]
fn docker_compose_builds_a_service() {
    if !docker_cli_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let project = daemon.scratch().join("proj");
    fs::create_dir_all(project.join("app")).unwrap();
    fs::write(
        project.join("app/Dockerfile"),
        "FROM busybox\nARG GREETING=unset\nCOPY msg /msg\nRUN echo \"$GREETING\" >> /msg\nCMD [\"cat\", \"/msg\"]\n",
    )
    .unwrap();
    fs::write(project.join("app/msg"), "from compose\n").unwrap();
    fs::write(
        project.join("docker-compose.yml"),
        "version: \"3\"\nservices:\n  app:\n    build:\n      context: ./app\n      \
         args:\n        GREETING: hello\n    image: composed:1\n    network_mode: none\n",
    )
    .unwrap();
    let compose = |args: &[&str]| {
        let out = daemon.compose(&project, "bt").args(args).output().unwrap();
        let text = stdout(&out) + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "docker-compose {args:?}: {text}");
        text
    };
    let built = compose(&["build"]);
    assert!(built.contains("Successfully tagged composed:1"), "{built}");
    let run = ok(daemon.docker().args(["run", "--rm", "composed:1"]));
    assert_eq!(run, "from compose\nhello\n");
    // a second build comes from the cache
    let again = compose(&["build"]);
    assert_eq!(again.matches("Using cache").count(), 4, "{again}");
}
