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

/// An image prune sent while a build runs waits for it: the build holds
/// the image store's write gate, so nothing it wrote and has not yet
/// committed (a step's layer, its parent image) can be swept or removed
/// under it. The prune then sees the finished, tagged image and removes it.
#[test]
fn an_image_prune_waits_for_a_build_in_progress() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let d = Daemon::start();
    d.load_busybox();
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path();
    // The RUN takes seconds: a prune that did not wait would be done
    // long before the build is.
    fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nRUN sleep 3 && echo built > /f\nCMD [\"cat\", \"/f\"]\n",
    )
    .unwrap();
    let mut build = d
        .minidock_std()
        .args(["build", "-t", "gated:1", ctx.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, seen) = std::sync::mpsc::channel();
    let stdout = build.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            all.push_str(&line);
            all.push('\n');
            let _ = lines.send(line);
        }
        all
    });
    // Wait until the RUN's container runs: the build is mid-way.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match seen.recv_timeout(left) {
            Ok(line) if line.contains("Running in") => break,
            Ok(_) => {}
            Err(e) => panic!("the build never reached its RUN ({e}):\n{}", d.log()),
        }
    }
    let pruned = d.ok(&["image", "prune", "-a", "-f"]);
    let status = build.wait().unwrap();
    let out = reader.join().unwrap();
    assert!(status.success(), "the build failed:\n{out}\n{}", d.log());
    assert!(out.contains("Successfully tagged gated:1"), "{out}");
    // The prune ran after the build: it found the tagged result unused.
    assert!(
        pruned.contains("untagged: gated:1"),
        "the prune did not wait for the build:\n{pruned}\nbuild:\n{out}"
    );
    let left = d.client.images(true).unwrap();
    assert!(left.is_empty(), "images left after prune -a: {left:?}");
}

/// A RUN step has the daemon's default network: it reaches a web server
/// the test runs in a container on the default bridge (never anything
/// outside the machine).
#[test]
fn a_run_step_reaches_a_container_on_the_default_bridge() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /www && echo served-to-a-build > /www/index.html && exec httpd -f -p 80 -h /www",
    ]);
    let json = d.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "web"]);
    let networks: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let ip = networks["bridge"]["IPAddress"]
        .as_str()
        .unwrap_or_else(|| panic!("web has no bridge address: {json}"))
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    // The server may take a moment to listen: the RUN tries for up to
    // 20 s (busybox `nc`: Debian's static busybox `wget` crashes).
    fs::write(
        dir.path().join("Dockerfile"),
        "FROM busybox\nARG WEB\n\
         RUN for i in $(seq 1 100); do \
         printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $WEB 80 > /got; \
         grep -q served-to-a-build /got && exit 0; sleep 0.2; done; cat /got; exit 1\n\
         CMD [\"cat\", \"/got\"]\n",
    )
    .unwrap();
    let arg = format!("WEB={ip}");
    let out = d.ok(&[
        "build",
        "-t",
        "fetched:1",
        "--build-arg",
        &arg,
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.contains("Successfully tagged fetched:1"), "{out}");
    let got = d.ok(&["run", "--rm", "--network", "none", "fetched:1"]);
    assert!(
        got.contains("200 OK") && got.contains("served-to-a-build"),
        "{got}"
    );
}

/// `FROM --platform` names this machine's platform (directly or as
/// `$BUILDPLATFORM`), the platform args have its values, any other
/// platform is refused by name; `COPY --link` makes its layer on an
/// empty root, so a symlinked directory of the image is not followed.
#[test]
fn from_platform_and_copy_link() {
    let d = Daemon::start();
    d.load_busybox();
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path();
    fs::write(ctx.join("f"), "copied\n").unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM --platform=$BUILDPLATFORM busybox AS b\nARG TARGETARCH\nRUN echo $TARGETARCH > /arch\n\
         FROM --platform=linux/amd64 busybox\nCOPY --from=b /arch /arch\n\
         RUN mkdir /real && ln -s /real /linked\nCOPY --link f /linked/f\n\
         CMD [\"sh\", \"-c\", \"cat /arch /linked/f; test -L /linked && echo followed; ls -A /real\"]\n",
    )
    .unwrap();
    let out = d.ok(&["build", "-t", "plat:1", ctx.to_str().unwrap()]);
    assert!(out.contains("Successfully tagged plat:1"), "{out}");
    let run = d.ok(&["run", "--rm", "plat:1"]);
    assert_eq!(run, "amd64\ncopied\n");

    fs::write(
        ctx.join("Dockerfile.arm"),
        "FROM --platform=linux/arm64 busybox\nRUN true\n",
    )
    .unwrap();
    let bad = d.run(&[
        "build",
        "-f",
        ctx.join("Dockerfile.arm").to_str().unwrap(),
        ctx.to_str().unwrap(),
    ]);
    assert_ne!(bad.status.code(), Some(0));
    let err = stderr(&bad);
    assert!(
        err.contains("line 1")
            && err.contains("--platform=linux/arm64")
            && err.contains("linux/amd64"),
        "{err}"
    );
}
