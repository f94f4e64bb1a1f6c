//! Image commands end to end: load, images, tag, rmi, save → rmi → load,
//! import, and pull/push against the real registry on 127.0.0.1.

mod common;

use common::{stderr, stdout, Daemon};
use minidock_testkit::{http_get, random_name, Registry};

fn image_id(d: &Daemon, name: &str) -> String {
    d.ok(&["inspect", "-f", "{{.Id}}", name]).trim().to_string()
}

#[test]
fn images_table_after_load_and_tag() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["tag", "busybox", "localhost:5000/tools/busybox:1.0"]);
    let table = d.ok(&["images"]);
    let header = table.lines().next().unwrap();
    assert_eq!(
        header
            .split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>(),
        ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    );
    let id = image_id(&d, "busybox");
    assert!(table.contains(&id[7..19]), "{table}");
    insta::with_settings!({filters => vec![
        (r"\b[0-9a-f]{12}\b", "[ID]"),
        (r"\S+ (years|months|weeks|days|hours|minutes|seconds|second) ago|About an? \S+ ago|Less than a second ago", "[CREATED]"),
        (r"\b\d+(\.\d+)?(B|kB|MB)\b", "[SIZE]"),
        (r" {3,}", "   "),
    ]}, {
        insta::assert_snapshot!("images", table);
    });

    let quiet = d.ok(&["images", "-q"]);
    assert_eq!(quiet.trim(), &id[7..19]);
    let only = d.ok(&["images", "localhost:5000/tools/busybox"]);
    assert_eq!(only.lines().count(), 2, "{only}");
    // -q with a repository: the ids of that repository's rows only.
    let quiet = d.ok(&["images", "-q", "localhost:5000/tools/busybox"]);
    assert_eq!(quiet.trim(), &id[7..19]);
    assert_eq!(d.ok(&["images", "-q", "nosuch"]), "");

    let out = d.ok(&["rmi", "localhost:5000/tools/busybox:1.0"]);
    assert_eq!(out.trim(), "Untagged: localhost:5000/tools/busybox:1.0");
    assert_eq!(image_id(&d, "busybox"), id, "the other tag keeps the image");
}

#[test]
fn save_rmi_load_round_trip_keeps_the_image_id() {
    let d = Daemon::start();
    d.load_busybox();
    let id = image_id(&d, "busybox:latest");
    let archive = d.scratch().join("saved.tar");
    d.ok(&["save", "-o", archive.to_str().unwrap(), "busybox:latest"]);
    assert!(std::fs::metadata(&archive).unwrap().len() > 100_000);

    let out = d.ok(&["rmi", "busybox:latest"]);
    assert!(out.contains("Untagged: busybox:latest"), "{out}");
    assert!(out.contains(&format!("Deleted: {id}")), "{out}");
    let out = d.run(&["inspect", "busybox:latest"]);
    assert_eq!(out.status.code(), Some(1));

    let out = d.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert!(out.contains("Loaded image: busybox:latest"), "{out}");
    assert_eq!(image_id(&d, "busybox:latest"), id);
    assert_eq!(d.ok(&["run", "--rm", "busybox", "echo", "back"]), "back\n");

    // save to stdout, load from stdin.
    let tar = d.minidock().args(["save", "busybox"]).output().unwrap();
    assert!(tar.status.success(), "{}", stderr(&tar));
    d.ok(&["rmi", "busybox"]);
    let out = d.run_with_stdin(&["load"], &tar.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(image_id(&d, "busybox:latest"), id);
}

#[test]
fn rmi_refuses_an_image_in_use_unless_forced() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["create", "--name", "user", "busybox", "true"]);
    let out = d.run(&["rmi", "busybox"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stderr(&out).starts_with("Error response from daemon: "),
        "{}",
        stderr(&out)
    );
    let out = d.run(&["rmi", "nosuch:tag"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn import_a_rootfs_tar_and_run_it() {
    let d = Daemon::start();
    let tar = d.busybox_rootfs_tar();
    let out = d.ok(&["import", tar.to_str().unwrap(), "imported:v1"]);
    assert!(out.contains("sha256:"), "{out}");
    assert_eq!(
        d.ok(&["run", "--rm", "imported:v1", "echo", "imported"]),
        "imported\n"
    );

    // From stdin.
    let bytes = std::fs::read(&tar).unwrap();
    let out = d.run_with_stdin(&["import", "-", "fromstdin"], &bytes);
    assert!(out.status.success(), "{out:?}");
    let table = d.ok(&["images"]);
    assert!(
        table.contains("fromstdin") && table.contains("imported"),
        "{table}"
    );
}

/// Pushes the test kit's busybox into a fresh registry as `REPO:latest`.
fn registry_with_busybox(repo: &str) -> Registry {
    let registry = Registry::start();
    registry.push_busybox(repo, "latest");
    registry
}

#[test]
fn pull_shows_progress_and_run_pulls_a_missing_image() {
    let d = Daemon::start();
    let repo = random_name("bb");
    let registry = registry_with_busybox(&repo);
    let name = format!("{}/{repo}", registry.addr());

    // Not a terminal: one line per status, like docker.
    let out = d.run(&["pull", &name]);
    assert_eq!(out.status.code(), Some(0), "{out:?}\n{}", d.log());
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Using default tag: latest", "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Pull complete") || l.contains("Download complete")),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Digest: sha256:")),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("Status: ")), "{text}");
    assert_eq!(*lines.last().unwrap(), format!("{name}:latest"));
    assert_eq!(d.ok(&["run", "--rm", &name, "echo", "pulled"]), "pulled\n");

    // `run` of an image that is not here: it says so, pulls (progress on
    // stderr) and runs, with stdout the container's alone.
    let repo2 = random_name("bb");
    registry.push_busybox(&repo2, "v2");
    let name2 = format!("{}/{repo2}:v2", registry.addr());
    let out = d.run(&["run", "--rm", &name2, "echo", "auto"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}\n{}", d.log());
    assert_eq!(stdout(&out), "auto\n");
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("Unable to find image '{name2}' locally\n")),
        "{err}"
    );
    // Its one layer is already here (the first pull brought it).
    assert!(
        err.contains(&format!("v2: Pulling from {repo2}\n")),
        "{err}"
    );
    assert!(err.contains(": Already exists\n"), "{err}");
    assert!(err.contains("Digest: sha256:"), "{err}");
}

#[test]
fn push_to_the_registry() {
    let d = Daemon::start();
    d.load_busybox();
    let registry = Registry::start();
    let repo = random_name("pushed");
    let target = format!("{}/{repo}:1.0", registry.addr());
    d.ok(&["tag", "busybox", &target]);
    let out = d.run(&["push", &target]);
    assert_eq!(out.status.code(), Some(0), "{out:?}\n{}", d.log());
    let tags = http_get(&registry.addr(), &format!("/v2/{repo}/tags/list"), None)
        .expect("the registry answers");
    assert_eq!(tags.status, 200, "{tags:?}");
    let body: serde_json::Value = serde_json::from_slice(&tags.body).unwrap();
    assert_eq!(body["tags"], serde_json::json!(["1.0"]));

    // And back: a second daemon pulls what the first pushed.
    let d2 = Daemon::start();
    d2.ok(&["pull", &target]);
    assert_eq!(image_id(&d2, &target), image_id(&d, "busybox"));
}

#[test]
fn login_saves_credentials_that_pull_sends() {
    let d = Daemon::start();
    let user = random_name("user");
    let password = random_name("pw");
    let registry = Registry::start_with_basic_auth(&user, &password);
    let repo = random_name("private");
    registry.push_busybox(&repo, "latest");
    let name = format!("{}/{repo}", registry.addr());

    // Without credentials the registry refuses.
    let out = d.run(&["pull", &name]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");

    // A wrong password is refused by the registry through the daemon's
    // /auth, and nothing is saved: pull still has no credentials.
    let out = d.run_with_stdin(
        &["login", "-u", &user, "--password-stdin", &registry.addr()],
        b"wrong-password\n",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stderr(&out).starts_with("Error response from daemon: ")
            && stderr(&out).contains("wrong user name or password"),
        "{out:?}"
    );
    let out = d.run(&["pull", &name]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");

    // Log in with the password on stdin, as scripts do; pull then sends
    // the saved credentials to the daemon.
    let out = d.run_with_stdin(
        &["login", "-u", &user, "--password-stdin", &registry.addr()],
        format!("{password}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).contains("Login Succeeded"), "{out:?}");

    let out = d.run(&["pull", &name]);
    assert_eq!(out.status.code(), Some(0), "{out:?}\n{}", d.log());
    assert_eq!(
        d.ok(&["run", "--rm", &name, "echo", "private"]),
        "private\n"
    );

    // -p warns, as Docker does, and both password flags at once are refused.
    let out = d.run(&["login", "-u", &user, "-p", &password, &registry.addr()]);
    assert!(
        stderr(&out).contains("WARNING! Using --password via the CLI is insecure"),
        "{out:?}"
    );
    let out = d.run_with_stdin(
        &[
            "login",
            "-u",
            &user,
            "-p",
            "x",
            "--password-stdin",
            &registry.addr(),
        ],
        b"y\n",
    );
    assert_eq!(out.status.code(), Some(125), "{out:?}");

    // logout forgets them: the pull is refused again
    d.ok(&["rmi", &name]);
    assert_eq!(
        d.ok(&["logout", &registry.addr()]),
        format!("Removing login credentials for {}\n", registry.addr())
    );
    assert_eq!(
        d.ok(&["logout", &registry.addr()]),
        format!("Not logged in to {}\n", registry.addr())
    );
    let out = d.run(&["pull", &name]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
}
