//! `minidock cp` against a real daemon: files and directories both ways,
//! Docker's naming rules, symlinks kept as symlinks, tar on stdout, and
//! clear errors.

mod common;

use common::{stderr, Daemon};
use std::fs;
use std::os::unix::fs::MetadataExt;

#[test]
fn cp_copies_files_and_directories_both_ways() {
    let d = Daemon::start();
    d.load_busybox();
    let host = d.scratch();
    let data = host.join("bound");
    fs::create_dir(&data).unwrap();
    let bind = format!("{}:/bound", data.display());
    d.ok(&[
        "run", "-d", "--name", "box", "-v", &bind, "busybox", "sleep", "1000",
    ]);
    d.ok(&[
        "exec", "box", "sh", "-c",
        "mkdir -p /data/sub && echo hello > /data/a.txt && echo deep > /data/sub/b.txt && ln -s / /data/escape",
    ]);
    let p = |name: &str| host.join(name).display().to_string();

    // out: a file to a new name, a directory into an existing directory
    d.ok(&["cp", "box:/data/a.txt", &p("copy.txt")]);
    assert_eq!(
        fs::read_to_string(host.join("copy.txt")).unwrap(),
        "hello\n"
    );
    d.ok(&["cp", "box:/data", &p("")]);
    assert_eq!(
        fs::read_to_string(host.join("data/sub/b.txt")).unwrap(),
        "deep\n"
    );
    let escape = host.join("data/escape");
    assert!(fs::symlink_metadata(&escape)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_link(&escape).unwrap().to_str(), Some("/"));
    // the content of a directory (`/.`) into a new one
    d.ok(&["cp", "box:/data/sub/.", &p("flat")]);
    assert_eq!(
        fs::read_to_string(host.join("flat/b.txt")).unwrap(),
        "deep\n"
    );

    // in: a file into a directory, a directory under a new name
    fs::write(host.join("in.txt"), "from the host\n").unwrap();
    fs::create_dir(host.join("tree")).unwrap();
    fs::write(host.join("tree/t.txt"), "tree file\n").unwrap();
    d.ok(&["cp", &p("in.txt"), "box:/data/"]);
    d.ok(&["cp", &p("tree"), "box:/newtree"]);
    assert_eq!(
        d.ok(&[
            "exec",
            "box",
            "sh",
            "-c",
            "cat /data/in.txt /newtree/t.txt; stat -c %u:%g /data/in.txt"
        ]),
        "from the host\ntree file\n0:0\n"
    );
    // a file over an existing file
    fs::write(host.join("in.txt"), "again\n").unwrap();
    d.ok(&["cp", &p("in.txt"), "box:/data/a.txt"]);
    assert_eq!(d.ok(&["exec", "box", "cat", "/data/a.txt"]), "again\n");

    // `-`: a tar on stdout
    let out = d.run(&["cp", "box:/data/sub/b.txt", "-"]);
    assert_eq!(out.status.code(), Some(0));
    let mut archive = tar::Archive::new(out.stdout.as_slice());
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["b.txt"]);

    // errors name what failed
    let missing = d.run(&["cp", "box:/nope", &p("x")]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("Could not find the file /nope in container box"),
        "{}",
        stderr(&missing)
    );
    // a bind mount is answered from its host directory
    let bound = d.run(&["cp", "box:/bound/x", &p("x")]);
    assert_eq!(bound.status.code(), Some(1));
    assert!(
        stderr(&bound).contains("Could not find the file /bound/x in container box"),
        "{}",
        stderr(&bound)
    );
    d.ok(&["cp", &p("copy.txt"), "box:/bound/in.txt"]);
    assert_eq!(fs::read_to_string(data.join("in.txt")).unwrap(), "hello\n");
    let proc = d.run(&["cp", "box:/proc/1/status", &p("x")]);
    assert!(
        stderr(&proc).contains("a kernel file system"),
        "{}",
        stderr(&proc)
    );
    let dir_to_file = d.run(&["cp", "box:/data", &p("copy.txt")]);
    assert_eq!(dir_to_file.status.code(), Some(1));
    assert!(
        stderr(&dir_to_file).contains("cannot copy directory"),
        "{}",
        stderr(&dir_to_file)
    );
    assert!(!host.join("x").exists());
    let owner = fs::metadata(host.join("copy.txt")).unwrap().uid();
    assert_eq!(owner, nix::unistd::Uid::effective().as_raw());
    d.ok(&["rm", "-f", "box"]);
}

#[test]
fn diff_shows_the_thin_layer_and_history_the_image() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "changer",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /work && echo x > /work/new && rm /bin/echo && ln -sf busybox /bin/cat",
    ]);
    let diff = d.ok(&["diff", "changer"]);
    assert_eq!(
        diff, "C /bin\nC /bin/cat\nD /bin/echo\nA /work\nA /work/new\n",
        "{diff}"
    );
    // the image itself did not change: a new container has no diff
    d.ok(&["create", "--name", "fresh", "busybox", "true"]);
    assert_eq!(d.ok(&["diff", "fresh"]), "");
    d.ok(&["rm", "changer", "fresh"]);

    let history = d.ok(&["history", "busybox"]);
    let lines: Vec<&str> = history.lines().collect();
    assert!(lines[0].starts_with("IMAGE "), "{history}");
    assert!(lines.len() >= 2, "{history}");
    assert_eq!(
        d.ok(&["history", "-q", "busybox"]).lines().count(),
        lines.len() - 1
    );
}
