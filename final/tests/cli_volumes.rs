//! Volumes end to end, as root: real containers, real mounts, the
//! `minidock` CLI and the real `docker` CLI against `minidockd`.

mod common;

use common::{docker_cli_available, ok, stderr, stdout, Daemon};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

/// The names `volume ls -q` prints.
fn volume_names(daemon: &Daemon) -> Vec<String> {
    daemon
        .ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The failure of `minidock ARGS`, which must fail; returns stderr.
fn fails(daemon: &Daemon, args: &[&str]) -> String {
    let out = daemon.run(args);
    assert!(
        !out.status.success(),
        "minidock {args:?} succeeded: {}",
        stdout(&out)
    );
    stderr(&out)
}

/// Imports the busybox rootfs with `extra` applied to it as image `name`:
/// a one-layer image whose files have the owners and modes given on disk.
fn import_image(daemon: &Daemon, name: &str, extra: impl FnOnce(&Path)) {
    let rootfs = daemon.dir.join(format!("rootfs-{name}"));
    minidock_testkit::busybox_rootfs(&rootfs);
    extra(&rootfs);
    let tar_path = daemon.dir.join(format!("{name}.tar"));
    let file = fs::File::create(&tar_path).unwrap();
    let mut builder = tar::Builder::new(file);
    builder.follow_symlinks(false);
    builder.append_dir_all(".", &rootfs).unwrap();
    builder.into_inner().unwrap().flush().unwrap();
    daemon.ok(&["import", tar_path.to_str().unwrap(), name]);
}

/// The data directory of volume `name` on the host.
fn data_of(daemon: &Daemon, name: &str) -> PathBuf {
    daemon.root().join("volumes").join(name).join("_data")
}

#[test]
fn a_named_volume_outlives_its_containers_and_the_daemon() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/f",
    ]);
    assert_eq!(volume_names(&daemon), ["data"]);
    let read = daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "data:/data:ro",
        "busybox",
        "cat",
        "/data/f",
    ]);
    assert_eq!(read, "kept\n");
    assert_eq!(
        fs::read_to_string(data_of(&daemon, "data").join("f")).unwrap(),
        "kept\n"
    );

    // inspect shows the volume as Docker does
    let point = daemon.ok(&["volume", "inspect", "-f", "{{.Mountpoint}}", "data"]);
    assert_eq!(point.trim(), data_of(&daemon, "data").display().to_string());
    let inspect = daemon.ok(&["volume", "inspect", "data"]);
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v[0]["Name"], "data");
    assert_eq!(v[0]["Driver"], "local");
    assert_eq!(v[0]["Scope"], "local");
    assert_eq!(
        v[0]["Mountpoint"],
        data_of(&daemon, "data").display().to_string()
    );

    // a container that uses it (not even running) keeps it: 409, named
    let id = daemon.ok(&["create", "-v", "data:/data", "busybox", "true"]);
    let id = id.trim();
    let mounts = daemon.ok(&["inspect", "-f", "{{json .Mounts}}", id]);
    let mounts: serde_json::Value = serde_json::from_str(&mounts).unwrap();
    assert_eq!(mounts[0]["Type"], "volume");
    assert_eq!(mounts[0]["Name"], "data");
    assert_eq!(mounts[0]["Destination"], "/data");
    assert_eq!(mounts[0]["Driver"], "local");
    assert_eq!(mounts[0]["RW"], true);
    let err = fails(&daemon, &["volume", "rm", "data"]);
    assert!(err.contains("volume is in use"), "{err}");
    assert!(err.contains(id), "{err}");
    assert_eq!(
        daemon.ok(&["volume", "ls", "-q", "--filter", "dangling=true"]),
        ""
    );

    // a crash of the daemon loses nothing
    let (dir, leaks) = daemon.kill9();
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    assert_eq!(volume_names(&daemon), ["data"]);
    let err = fails(&daemon, &["volume", "rm", "data"]);
    assert!(err.contains("volume is in use"), "{err}");
    daemon.ok(&["rm", id]);
    assert_eq!(
        daemon.ok(&["volume", "ls", "-q", "--filter", "dangling=true"]),
        "data\n"
    );
    daemon.ok(&["volume", "rm", "data"]);
    assert!(volume_names(&daemon).is_empty());
    let err = fails(&daemon, &["volume", "rm", "data"]);
    assert!(err.contains("no such volume"), "{err}");
    daemon.ok(&["volume", "rm", "-f", "data"]);
}

#[test]
fn rm_v_takes_anonymous_volumes_and_leaves_named_ones() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let id = daemon.ok(&[
        "create",
        "--name",
        "c1",
        "-v",
        "/anon",
        "-v",
        "named:/named",
        "busybox",
        "true",
    ]);
    let names = volume_names(&daemon);
    assert_eq!(names.len(), 2, "{names:?}");
    let anonymous = names.iter().find(|n| *n != "named").unwrap().clone();
    assert_eq!(anonymous.len(), 64, "{anonymous}");
    let labels = daemon.ok(&["volume", "inspect", &anonymous]);
    assert!(labels.contains("com.docker.volume.anonymous"), "{labels}");
    daemon.ok(&["rm", "-v", id.trim()]);
    assert_eq!(volume_names(&daemon), ["named"]);

    // rm without -v keeps even the anonymous one; run --rm takes it
    daemon.ok(&["create", "--name", "c2", "-v", "/anon", "busybox", "true"]);
    daemon.ok(&["rm", "c2"]);
    assert_eq!(volume_names(&daemon).len(), 2);
    daemon.ok(&["run", "--rm", "-v", "/gone", "busybox", "true"]);
    assert_eq!(volume_names(&daemon).len(), 2);
}

#[test]
fn prune_takes_only_unused_volumes() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    daemon.ok(&["volume", "create", "--label", "team=a", "used"]);
    daemon.ok(&["volume", "create", "idle"]);
    daemon.ok(&[
        "create", "--name", "user", "-v", "used:/u", "-v", "/held", "busybox", "true",
    ]);
    daemon.ok(&[
        "create", "--name", "gone", "-v", "/loose", "busybox", "true",
    ]);
    daemon.ok(&["rm", "gone"]);
    assert_eq!(volume_names(&daemon).len(), 4);
    assert_eq!(
        daemon.ok(&["volume", "ls", "-q", "--filter", "label=team=a"]),
        "used\n"
    );
    assert_eq!(
        daemon.ok(&["volume", "ls", "-q", "--filter", "name=idl"]),
        "idle\n"
    );

    // anonymous and unused only
    let out = daemon.ok(&["volume", "prune", "-f"]);
    assert!(out.contains("Deleted Volumes:"), "{out}");
    let left = volume_names(&daemon);
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(left.contains(&"used".to_string()) && left.contains(&"idle".to_string()));
    // -a: named ones too, never a used one
    daemon.ok(&["volume", "prune", "-a", "-f"]);
    let left = volume_names(&daemon);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"used".to_string()) && !left.contains(&"idle".to_string()));
}

#[test]
fn copy_up_brings_the_image_content_with_owners_and_modes() {
    let daemon = Daemon::start();
    import_image(&daemon, "skel:1", |root| {
        let db = root.join("var/db");
        fs::create_dir_all(db.join("sub")).unwrap();
        fs::write(db.join("conf"), "x=1\n").unwrap();
        fs::set_permissions(db.join("conf"), fs::Permissions::from_mode(0o640)).unwrap();
        symlink("/etc/passwd", db.join("link")).unwrap();
        for p in [db.join("sub"), db.join("conf"), db.clone()] {
            std::os::unix::fs::lchown(&p, Some(1234), Some(5678)).unwrap();
        }
        fs::set_permissions(&db, fs::Permissions::from_mode(0o750)).unwrap();
    });
    let out = daemon.ok(&[
        "run", "--rm", "-v", "db:/var/db", "skel:1", "sh", "-c",
        "stat -c '%n %u:%g %a' /var/db /var/db/conf /var/db/sub; readlink /var/db/link; cat /var/db/conf",
    ]);
    assert_eq!(
        out,
        "/var/db 1234:5678 750\n/var/db/conf 1234:5678 640\n/var/db/sub 1234:5678 755\n/etc/passwd\nx=1\n"
    );
    // on the host too, and the link is a link, not a copy of the host's file
    let data = data_of(&daemon, "db");
    assert!(fs::symlink_metadata(data.join("link"))
        .unwrap()
        .file_type()
        .is_symlink());

    // not empty any more: what the container wrote wins
    daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "db:/var/db",
        "skel:1",
        "sh",
        "-c",
        "echo y=2 > /var/db/conf",
    ]);
    let out = daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "db:/var/db",
        "skel:1",
        "cat",
        "/var/db/conf",
    ]);
    assert_eq!(out, "y=2\n");

    // nocopy: an empty volume
    let out = daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "bare:/var/db:nocopy",
        "skel:1",
        "ls",
        "-A",
        "/var/db",
    ]);
    assert_eq!(out, "");
    let out = daemon.ok(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=bare2,dst=/var/db,volume-nocopy",
        "skel:1",
        "ls",
        "-A",
        "/var/db",
    ]);
    assert_eq!(out, "");
    // an anonymous volume copies up too
    let out = daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "/var/db",
        "skel:1",
        "cat",
        "/var/db/conf",
    ]);
    assert_eq!(out, "x=1\n");
}

#[test]
fn an_images_volume_gets_an_anonymous_volume_with_its_content() {
    use minidock_testkit::{busybox_image, Compression, Entry, LayerSpec};
    let daemon = Daemon::start();
    let mut image = busybox_image();
    image.layers.push(LayerSpec::new(
        Compression::Gzip,
        vec![
            Entry::dir("var/db", 0o700),
            Entry::file("var/db/conf", "from-image\n", 0o600),
        ],
    ));
    image.volumes = vec!["/var/db".into()];
    let tar = daemon.dir.join("withvolume.tar");
    image.write_docker_save(&tar, "withvolume:1");
    daemon.ok(&["load", "-i", tar.to_str().unwrap()]);

    let id = daemon.ok(&["create", "--name", "vv", "withvolume:1", "true"]);
    let mounts = daemon.ok(&["inspect", "-f", "{{json .Mounts}}", id.trim()]);
    let mounts: serde_json::Value = serde_json::from_str(&mounts).unwrap();
    assert_eq!(mounts[0]["Type"], "volume");
    assert_eq!(mounts[0]["Destination"], "/var/db");
    let anonymous = mounts[0]["Name"].as_str().unwrap().to_string();
    assert_eq!(volume_names(&daemon), std::slice::from_ref(&anonymous));
    let conf = data_of(&daemon, &anonymous).join("conf");
    assert_eq!(fs::read_to_string(conf).unwrap(), "from-image\n");

    // run --rm: the container's own anonymous volume goes with it
    let out = daemon.ok(&["run", "--rm", "withvolume:1", "cat", "/var/db/conf"]);
    assert_eq!(out, "from-image\n");
    assert_eq!(volume_names(&daemon), std::slice::from_ref(&anonymous));
    // a named volume at that path takes the place of the anonymous one
    daemon.ok(&["run", "--rm", "-v", "mine:/var/db", "withvolume:1", "true"]);
    assert_eq!(volume_names(&daemon).len(), 2);
    daemon.ok(&["rm", "-v", "vv"]);
    assert_eq!(volume_names(&daemon), ["mine"]);
}

#[test]
fn tmpfs_is_limited_and_read_only_mounts_refuse_writes() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    for flags in [
        &["--tmpfs", "/t:size=64k"][..],
        &["--mount", "type=tmpfs,target=/t,tmpfs-size=64k"],
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&[
            "busybox", "sh", "-c",
            "dd if=/dev/zero of=/t/f bs=1k count=200 2>&1; echo rc=$?; du -k /t/f; grep ' /t ' /proc/mounts",
        ]);
        let out = daemon.ok(&args);
        assert!(out.contains("No space left on device"), "{flags:?}: {out}");
        assert!(!out.contains("rc=0"), "{out}");
        assert!(out.contains("64\t/t/f"), "{flags:?}: {out}");
        assert!(
            out.contains("tmpfs /t tmpfs rw,nosuid,nodev,noexec"),
            "{out}"
        );
    }
    let inspect = daemon.ok(&["create", "--tmpfs", "/run:size=1m", "busybox", "true"]);
    let mounts = daemon.ok(&["inspect", "-f", "{{json .Mounts}}", inspect.trim()]);
    assert!(mounts.contains(r#""Type":"tmpfs""#), "{mounts}");

    daemon.ok(&["volume", "create", "ro"]);
    for flags in [
        &["-v", "ro:/data:ro"][..],
        &["--mount", "type=volume,src=ro,dst=/data,readonly"],
        &["-v", "/tmp:/data:ro"],
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "sh", "-c", "touch /data/x 2>&1; echo rc=$?"]);
        let out = daemon.ok(&args);
        assert!(out.contains("Read-only file system"), "{flags:?}: {out}");
    }
    assert!(!data_of(&daemon, "ro").join("x").exists());
}

#[test]
fn containers_share_volumes_and_volumes_from() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let dir = daemon.scratch();
    fs::write(dir.join("hostfile"), "from-host\n").unwrap();
    let bind = format!("{}:/h", dir.display());
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "aa",
        "-v",
        "shared:/s",
        "-v",
        &bind,
        "busybox",
        "sleep",
        "300",
    ]);
    daemon.ok(&["exec", "aa", "sh", "-c", "echo from-a > /s/f"]);
    let out = daemon.ok(&["run", "--rm", "-v", "shared:/s", "busybox", "cat", "/s/f"]);
    assert_eq!(out, "from-a\n");
    daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "shared:/s",
        "busybox",
        "sh",
        "-c",
        "echo from-b >> /s/f",
    ]);
    assert_eq!(
        daemon.ok(&["exec", "aa", "cat", "/s/f"]),
        "from-a\nfrom-b\n"
    );

    // diff leaves what is in volumes out, as Docker's does
    let diff = daemon.ok(&["diff", "aa"]);
    assert!(!diff.contains("/s/f"), "{diff}");

    // --volumes-from: the volume and the bind, at the same places
    let out = daemon.ok(&[
        "run",
        "--rm",
        "--volumes-from",
        "aa",
        "busybox",
        "cat",
        "/s/f",
        "/h/hostfile",
    ]);
    assert_eq!(out, "from-a\nfrom-b\nfrom-host\n");
    let out = daemon.ok(&[
        "run",
        "--rm",
        "--volumes-from",
        "aa:ro",
        "busybox",
        "sh",
        "-c",
        "{ echo no >> /s/f; } 2>&1; echo rc=$?",
    ]);
    assert!(out.contains("Read-only file system"), "{out}");
    let err = fails(
        &daemon,
        &["run", "--rm", "--volumes-from", "nobody", "busybox", "true"],
    );
    assert!(err.contains("No such container: nobody"), "{err}");
    daemon.ok(&["rm", "-f", "aa"]);
}

#[test]
fn hostile_names_and_symlinked_destinations_create_nothing() {
    let daemon = Daemon::start();
    import_image(&daemon, "trap:1", |root| {
        symlink("/etc", root.join("data")).unwrap();
        fs::create_dir_all(root.join("deep")).unwrap();
        symlink("/", root.join("deep/link")).unwrap();
    });
    for name in ["../escape", "a/b", ".hidden", "x", "_under"] {
        let err = fails(&daemon, &["volume", "create", name]);
        assert!(err.contains("invalid volume name"), "{name}: {err}");
        let err = fails(
            &daemon,
            &["run", "--rm", "-v", &format!("{name}:/d"), "trap:1", "true"],
        );
        assert!(
            err.contains("invalid volume name") || err.contains("invalid mount"),
            "{name}: {err}"
        );
    }
    // through the API too, where the CLI's checks do not help
    let raw = daemon
        .client
        .raw(
            "POST",
            "/v1.44/volumes/create",
            Some(br#"{"Name": "../../etc"}"#),
        )
        .unwrap();
    assert_eq!(raw.status, 400);
    let raw = daemon
        .client
        .raw("DELETE", "/v1.44/volumes/..%2F..%2Fcontainers", None)
        .unwrap();
    assert_eq!(raw.status, 400);
    let err = fails(&daemon, &["volume", "create", "-d", "nfs", "remote"]);
    assert!(err.contains("local driver only"), "{err}");
    let err = fails(
        &daemon,
        &[
            "volume",
            "create",
            "-o",
            "type=ext4",
            "-o",
            "device=/dev/sda",
            "disk",
        ],
    );
    assert!(
        err.contains("type=\\\"ext4\\\"") || err.contains("type=\"ext4\""),
        "{err}"
    );

    for flags in [
        &["-v", "fresh:/data"][..],
        &["-v", "/data/x"],
        &["--tmpfs", "/deep/link/tmp"],
        &["-v", "/tmp:/deep/link"],
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["trap:1", "true"]);
        let err = fails(&daemon, &args);
        assert!(err.contains("is a symlink"), "{flags:?}: {err}");
    }
    assert!(volume_names(&daemon).is_empty());
    assert_eq!(daemon.ok(&["ps", "-aq"]), "");
    let left: Vec<_> = fs::read_dir(daemon.root().join("volumes"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn system_df_counts_images_containers_and_volumes() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    daemon.ok(&[
        "run",
        "--name",
        "ww",
        "-v",
        "big:/big",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/big/f bs=1k count=300 2>/dev/null",
    ]);
    let out = daemon.ok(&["system", "df"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("TYPE"), "{out}");
    assert!(
        lines[1].starts_with("Images") && lines[1].contains(" 1 "),
        "{out}"
    );
    assert!(lines[2].starts_with("Containers"), "{out}");
    assert!(lines[3].starts_with("Local Volumes"), "{out}");
    assert!(lines[3].contains("307.2kB"), "{out}");
    let df: serde_json::Value = serde_json::from_slice(
        &daemon
            .client
            .raw("GET", "/v1.44/system/df", None)
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(df["Volumes"][0]["Name"], "big");
    assert_eq!(df["Volumes"][0]["UsageData"]["Size"], 300 * 1024);
    assert_eq!(df["Volumes"][0]["UsageData"]["RefCount"], 1);
    assert_eq!(df["Containers"][0]["Names"][0], "/ww");
    assert_eq!(df["Images"][0]["Containers"], 1);
}

#[test]
fn the_docker_cli_manages_volumes() {
    if !docker_cli_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    assert_eq!(
        ok(daemon
            .docker()
            .args(["volume", "create", "--label", "k=v", "d1"])),
        "d1\n"
    );
    let ls = ok(daemon.docker().args(["volume", "ls"]));
    assert_eq!(ls, "DRIVER    VOLUME NAME\nlocal     d1\n");
    let inspect = ok(daemon.docker().args([
        "volume",
        "inspect",
        "-f",
        "{{.Driver}} {{.Labels.k}} {{.Scope}}",
        "d1",
    ]));
    assert_eq!(inspect, "local v local\n");
    ok(daemon.docker().args([
        "run",
        "--rm",
        "-v",
        "d1:/d",
        "busybox",
        "sh",
        "-c",
        "echo one > /d/x",
    ]));
    let out = ok(daemon.docker().args([
        "run",
        "--rm",
        "--mount",
        "type=volume,src=d1,dst=/d,readonly",
        "busybox",
        "cat",
        "/d/x",
    ]));
    assert_eq!(out, "one\n");
    let out = ok(daemon.docker().args([
        "run",
        "--rm",
        "--tmpfs",
        "/t:size=64k",
        "--mount",
        "type=tmpfs,dst=/u,tmpfs-size=32k",
        "busybox",
        "sh",
        "-c",
        "grep -E ' /(t|u) ' /proc/mounts | cut -d' ' -f2,4",
    ]));
    assert!(
        out.contains("/t rw,nosuid,nodev,noexec,relatime,size=64k"),
        "{out}"
    );
    assert!(
        out.contains("/u rw,nosuid,nodev,noexec,relatime,size=32k"),
        "{out}"
    );
    // -v /path: an anonymous volume, listed, and gone with rm -v
    let id = ok(daemon
        .docker()
        .args(["create", "-v", "/anon", "busybox", "true"]));
    let mounts = ok(daemon.docker().args([
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Type}} {{.Destination}}{{end}}",
        id.trim(),
    ]));
    assert_eq!(mounts, "volume /anon\n");
    assert_eq!(
        ok(daemon.docker().args(["volume", "ls", "-q"]))
            .lines()
            .count(),
        2
    );
    ok(daemon.docker().args(["rm", "-v", id.trim()]));
    assert_eq!(ok(daemon.docker().args(["volume", "ls", "-q"])), "d1\n");

    let out = daemon
        .docker()
        .args(["volume", "rm", "nothere"])
        .output()
        .unwrap();
    assert!(stderr(&out).contains("no such volume"), "{}", stderr(&out));
    let df = ok(daemon.docker().args(["system", "df"]));
    assert!(df.contains("Local Volumes"), "{df}");
    let pruned = ok(daemon.docker().args(["volume", "prune", "-a", "-f"]));
    assert!(pruned.contains("d1"), "{pruned}");
    assert_eq!(ok(daemon.docker().args(["volume", "ls", "-q"])), "");
    // `--until 0s` is now, to the second: wait for the last events' second to pass
    common::next_second();
    let events = ok(daemon.docker().args([
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "type=volume",
        "--format",
        "{{.Action}} {{.Actor.ID}}",
    ]));
    assert!(events.starts_with("create d1\n"), "{events}");
    assert!(events.contains("destroy d1\n"), "{events}");
}

#[test]
fn docker_compose_keeps_a_named_volume_across_down_and_up() {
    if !common::compose_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let project = daemon.scratch().join("proj");
    fs::create_dir_all(&project).unwrap();
    fs::write(
        project.join("docker-compose.yml"),
        "version: \"3\"\nservices:\n  db:\n    image: busybox\n    network_mode: none\n    \
         command: sh -c 'cat /data/runs 2>/dev/null; echo run >> /data/runs'\n    \
         volumes:\n      - dbdata:/data\nvolumes:\n  dbdata:\n",
    )
    .unwrap();
    let compose = |args: &[&str]| ok(daemon.compose(&project, "vt").args(args));
    compose(&["up", "--no-color"]);
    compose(&["down"]);
    assert_eq!(volume_names(&daemon), ["vt_dbdata"]);
    let second = compose(&["up", "--no-color"]);
    assert!(
        second.contains("| run"),
        "the second run did not see the first's data: {second}"
    );
    compose(&["down", "-v"]);
    assert!(volume_names(&daemon).is_empty());
}

/// How many tmpfs mounts this process's mount table has on `point`.
fn tmpfs_mounts_on(point: &Path) -> usize {
    let needle = format!(" {} tmpfs ", point.display());
    fs::read_to_string("/proc/self/mounts")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&needle))
        .count()
}

/// `docker volume create -o type=tmpfs -o device=tmpfs -o o=size=128k NAME`.
fn create_tmpfs_volume(daemon: &Daemon, name: &str) -> PathBuf {
    daemon.ok(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=128k",
        name,
    ]);
    data_of(daemon, name)
}

#[test]
fn a_tmpfs_volume_is_mounted_while_its_containers_run() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let point = create_tmpfs_volume(&daemon, "mem");
    assert_eq!(tmpfs_mounts_on(&point), 0, "mounted before any use");

    // two containers share one tmpfs, limited to its size
    daemon.ok(&[
        "run", "-d", "--name", "ua", "-v", "mem:/m", "busybox", "sleep", "600",
    ]);
    assert_eq!(
        tmpfs_mounts_on(&point),
        1,
        "the first start did not mount it"
    );
    daemon.ok(&["exec", "ua", "sh", "-c", "echo shared > /m/f"]);
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "ub",
        "--mount",
        "type=volume,src=mem,dst=/m",
        "busybox",
        "sleep",
        "600",
    ]);
    assert_eq!(
        tmpfs_mounts_on(&point),
        1,
        "the second start mounted another tmpfs"
    );
    assert_eq!(daemon.ok(&["exec", "ub", "cat", "/m/f"]), "shared\n");
    let out = daemon.ok(&[
        "exec",
        "ub",
        "sh",
        "-c",
        "dd if=/dev/zero of=/m/big bs=1k count=200 2>&1; echo rc=$?; rm /m/big",
    ]);
    assert!(out.contains("No space left on device"), "{out}");
    assert!(!out.contains("rc=0"), "{out}");

    // the last stop unmounts, and the data goes with it
    daemon.ok(&["stop", "-t", "0", "ua"]);
    assert_eq!(tmpfs_mounts_on(&point), 1, "unmounted under a running user");
    assert_eq!(daemon.ok(&["exec", "ub", "cat", "/m/f"]), "shared\n");
    daemon.ok(&["stop", "-t", "0", "ub"]);
    assert_eq!(tmpfs_mounts_on(&point), 0, "the last stop left it mounted");
    assert!(!point.join("f").exists(), "the data outlived its tmpfs");
    daemon.ok(&["start", "ua"]);
    assert_eq!(tmpfs_mounts_on(&point), 1);
    let out = daemon.run(&["exec", "ua", "cat", "/m/f"]);
    assert!(
        !out.status.success(),
        "a fresh tmpfs kept data: {}",
        stdout(&out)
    );
    // a volume in use by a running container is not removed
    let err = fails(&daemon, &["volume", "rm", "mem"]);
    assert!(err.contains("in use"), "{err}");
    daemon.ok(&["rm", "-f", "ua", "ub"]);
    assert_eq!(tmpfs_mounts_on(&point), 0, "rm -f left it mounted");

    // one run after another: each gets an empty tmpfs, gone when it returns
    daemon.ok(&[
        "run",
        "--rm",
        "-v",
        "mem:/m",
        "busybox",
        "sh",
        "-c",
        "echo x > /m/f",
    ]);
    assert_eq!(tmpfs_mounts_on(&point), 0, "run returned with it mounted");
    let out = daemon.ok(&["run", "--rm", "-v", "mem:/m", "busybox", "ls", "-A", "/m"]);
    assert_eq!(out, "");
    // nothing was written below the mount point meanwhile
    assert_eq!(fs::read_dir(&point).unwrap().count(), 0);
    daemon.ok(&["volume", "rm", "mem"]);
    assert!(!point.exists());
}

#[test]
fn a_restarted_daemon_keeps_the_tmpfs_of_running_containers() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let point = create_tmpfs_volume(&daemon, "mem");
    daemon.ok(&[
        "run", "-d", "--name", "ua", "-v", "mem:/m", "busybox", "sleep", "600",
    ]);
    daemon.ok(&["exec", "ua", "sh", "-c", "echo before > /m/f"]);
    let (dir, leaks) = daemon.kill9();
    assert_eq!(tmpfs_mounts_on(&point), 1);
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    // neither mounted again over the data nor unmounted under `a`
    assert_eq!(tmpfs_mounts_on(&point), 1, "the restart changed the mount");
    assert_eq!(fs::read_to_string(point.join("f")).unwrap(), "before\n");
    daemon.ok(&[
        "run", "-d", "--name", "ub", "-v", "mem:/m", "busybox", "sleep", "600",
    ]);
    assert_eq!(daemon.ok(&["exec", "ub", "cat", "/m/f"]), "before\n");
    // `a` still counts: b's stop is not the last
    daemon.ok(&["stop", "-t", "0", "ub"]);
    assert_eq!(
        tmpfs_mounts_on(&point),
        1,
        "a's use was not counted after the restart"
    );
    daemon.ok(&["exec", "ua", "sh", "-c", "echo after >> /m/f"]);
    assert_eq!(
        fs::read_to_string(point.join("f")).unwrap(),
        "before\nafter\n"
    );
    daemon.ok(&["stop", "-t", "0", "ua"]);
    assert_eq!(tmpfs_mounts_on(&point), 0);

    // the last user ends while no daemon runs: the next daemon unmounts
    daemon.ok(&["start", "ua"]);
    let pid: i32 = daemon
        .ok(&["inspect", "-f", "{{.State.Pid}}", "ua"])
        .trim()
        .parse()
        .unwrap();
    let id = daemon.ok(&["inspect", "-f", "{{.Id}}", "ua"]);
    let state = daemon
        .root()
        .join("containers")
        .join(id.trim())
        .join("state.json");
    let (dir, leaks) = daemon.kill9();
    // the container's init, which this test started
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    common::eventually(
        std::time::Duration::from_secs(20),
        "the shim to record a's exit",
        || {
            fs::read(&state)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .is_some_and(|v| v["Status"] == "exited")
        },
    );
    assert_eq!(tmpfs_mounts_on(&point), 1);
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    assert_eq!(
        tmpfs_mounts_on(&point),
        0,
        "a tmpfs nobody runs with stayed"
    );
    daemon.ok(&["rm", "ua", "ub"]);
    daemon.ok(&["volume", "rm", "mem"]);
}

/// Mounts this test made on the host, unmounted (last first) when dropped,
/// before the daemon's own cleanup looks for leaks.
struct HostMounts(Vec<PathBuf>);

impl HostMounts {
    /// `dir` bind-mounted onto itself, then given propagation `mode`.
    fn own_mount(&mut self, dir: &Path, mode: nix::mount::MsFlags) {
        use nix::mount::{mount, MsFlags};
        fs::create_dir_all(dir).unwrap();
        mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>).unwrap();
        self.0.push(dir.to_path_buf());
        mount(None::<&str>, dir, None::<&str>, mode, None::<&str>).unwrap();
    }
}

impl Drop for HostMounts {
    fn drop(&mut self) {
        for dir in self.0.iter().rev() {
            if let Err(e) = nix::mount::umount2(dir, nix::mount::MntFlags::MNT_DETACH) {
                eprintln!("cannot unmount {}: {e}", dir.display());
            }
        }
    }
}

#[test]
fn bind_propagation_lets_the_hosts_later_mounts_in_when_asked() {
    if !docker_cli_available() {
        return;
    }
    use nix::mount::MsFlags;
    let daemon = Daemon::start();
    daemon.load_busybox();
    let shared = daemon.scratch().join("shared");
    let private = daemon.scratch().join("private");
    let mut mounts = HostMounts(Vec::new());
    mounts.own_mount(&shared, MsFlags::MS_SHARED);
    mounts.own_mount(&private, MsFlags::MS_PRIVATE);
    fs::create_dir(shared.join("sub")).unwrap();
    let (s, p) = (shared.display(), private.display());
    let id = ok(daemon.docker().args([
        "run",
        "-d",
        "--mount",
        &format!("type=bind,src={s},dst=/slave,bind-propagation=rslave"),
        "-v",
        &format!("{s}:/private"),
        "busybox",
        "sleep",
        "1000",
    ]));
    let id = id.trim();
    let shown = ok(daemon.docker().args([
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Destination}} {{.Propagation}};{{end}}",
        id,
    ]));
    assert_eq!(shown, "/private rprivate;/slave rslave;\n");
    // Mounted on the host after the container started.
    let sub = shared.join("sub");
    nix::mount::mount(
        Some("tmpfs"),
        &sub,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=64k"),
    )
    .unwrap();
    mounts.0.push(sub.clone());
    fs::write(sub.join("ready"), "mounted-later\n").unwrap();
    let seen = ok(daemon.docker().args([
        "exec",
        id,
        "sh",
        "-c",
        "cat /slave/sub/ready; cat /private/sub/ready 2>/dev/null || echo absent",
    ]));
    assert_eq!(seen, "mounted-later\nabsent\n");
    ok(daemon.docker().args(["rm", "-f", id]));

    // A linked bind over a mount that sends nothing: Docker's words.
    let out = daemon
        .docker()
        .args([
            "run",
            "--rm",
            "-v",
            &format!("{p}:/x:rshared"),
            "busybox",
            "true",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!(
            "path {p} is mounted on {p} but it is not a shared mount"
        )),
        "{}",
        stderr(&out)
    );
    // ... and on a volume a propagation means nothing: refused by name.
    let out = daemon
        .docker()
        .args(["run", "--rm", "-v", "vp:/x:rslave", "busybox", "true"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("is for bind mounts"),
        "{}",
        stderr(&out)
    );
    assert!(volume_names(&daemon).is_empty());
    drop(mounts);
}

#[test]
fn cp_through_a_containers_symlink_resolves_in_the_containers_view() {
    let d = Daemon::start();
    d.load_busybox();
    let host = d.scratch();
    let ro = host.join("ro");
    fs::create_dir(&ro).unwrap();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "-v",
        "vol:/data",
        "-v",
        &format!("{}:/ro:ro", ro.display()),
        "busybox",
        "sleep",
        "1000",
    ]);
    // The links are the container's own: made by its process, as a
    // hostile one would.
    d.ok(&[
        "exec",
        "box",
        "sh",
        "-c",
        "ln -s /data /abs && mkdir -p /etc/x /data/in && ln -s ../../data/in /etc/x/rel && \
         ln -s ../../../../../../etc /climb && ln -s /ro /toro && \
         echo image > /etc/minidock-marker",
    ]);
    let p = |name: &str| host.join(name).display().to_string();
    let probe = "minidock-cp-probe.txt";
    fs::write(host.join(probe), "from-host\n").unwrap();
    let volume = data_of(&d, "vol");

    // in: through an absolute link, and through a relative one
    d.ok(&["cp", &p(probe), "box:/abs/"]);
    assert_eq!(
        fs::read_to_string(volume.join(probe)).unwrap(),
        "from-host\n"
    );
    d.ok(&["cp", &p(probe), "box:/etc/x/rel/"]);
    assert_eq!(
        fs::read_to_string(volume.join("in").join(probe)).unwrap(),
        "from-host\n"
    );
    assert_eq!(
        d.ok(&["exec", "box", "cat", &format!("/abs/{probe}")]),
        "from-host\n"
    );
    // out: through the link, the volume's file, not the overlay's empty /data
    fs::write(volume.join("out.txt"), "in-volume\n").unwrap();
    d.ok(&["cp", "box:/abs/out.txt", &p("out.txt")]);
    assert_eq!(
        fs::read_to_string(host.join("out.txt")).unwrap(),
        "in-volume\n"
    );

    // A link that climbs stays in the container's root, both ways.
    d.ok(&["cp", "box:/climb/minidock-marker", &p("marker")]);
    assert_eq!(fs::read_to_string(host.join("marker")).unwrap(), "image\n");
    d.ok(&["cp", &p(probe), "box:/climb/"]);
    assert_eq!(
        d.ok(&["exec", "box", "cat", &format!("/etc/{probe}")]),
        "from-host\n"
    );
    assert!(!Path::new("/etc").join(probe).exists());
    // A link into a read-only bind does not make it writable.
    let err = fails(&d, &["cp", &p(probe), "box:/toro/"]);
    assert!(err.contains("/ro is mounted read-only"), "{err}");
    assert!(fs::read_dir(&ro).unwrap().next().is_none());
    d.ok(&["rm", "-f", "box"]);
}

#[test]
fn a_volume_rm_racing_a_create_never_takes_the_volume_from_under_it() {
    let d = Daemon::start();
    d.load_busybox();
    for round in 0..8 {
        d.ok(&["volume", "create", "raced"]);
        let name = format!("c{round}");
        let (created, removed) = std::thread::scope(|s| {
            let create = s.spawn(|| {
                d.run(&[
                    "create", "--name", &name, "-v", "raced:/d", "busybox", "true",
                ])
            });
            let remove = s.spawn(|| d.run(&["volume", "rm", "raced"]));
            (create.join().unwrap(), remove.join().unwrap())
        });
        assert!(created.status.success(), "{}", stderr(&created));
        // One of two orders, never a container whose volume is gone.
        let exists = d.run(&["volume", "inspect", "raced"]).status.success();
        if removed.status.success() {
            // the rm came first: the create made the volume again
            assert!(
                exists,
                "round {round}: the volume was removed under its container"
            );
        } else {
            assert!(stderr(&removed).contains("in use"), "{}", stderr(&removed));
            assert!(exists);
        }
        d.ok(&["rm", &name]);
        d.ok(&["volume", "rm", "raced"]);
    }
}
