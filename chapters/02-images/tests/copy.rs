//! `docker cp`'s two halves on a plain directory standing in for a
//! container's root: nothing is read or written outside it, whatever
//! symlinks the container planted.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

use minidock_images::copy::{
    archive_from_root, extract_into_root, extract_into_scratch_dir, stat_in_root,
};
use minidock_images::Error;
use minidock_testkit::require_root;

/// Entry path → (kind, content or link target).
fn entries(tar_bytes: &[u8]) -> BTreeMap<String, (char, String)> {
    let mut out = BTreeMap::new();
    let mut archive = tar::Archive::new(tar_bytes);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let kind = entry.header().entry_type();
        let value = if kind.is_symlink() {
            String::from_utf8_lossy(&entry.link_name_bytes().unwrap()).into_owned()
        } else {
            let mut s = String::new();
            entry.read_to_string(&mut s).unwrap();
            s
        };
        let k = if kind.is_dir() {
            'd'
        } else if kind.is_symlink() {
            'l'
        } else {
            'f'
        };
        out.insert(path, (k, value));
    }
    out
}

fn archive(root: &Path, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    archive_from_root(root, path, &mut out).unwrap();
    out
}

/// A tar with raw entries, names written byte for byte (the tar crate's
/// own API refuses `..`).
fn raw_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(1000);
        header.set_gid(1000);
        header.set_mtime(1_700_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

#[test]
fn a_directory_comes_out_whole_and_its_symlinks_are_not_followed() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("data/sub")).unwrap();
    fs::write(root.join("data/a.txt"), "alpha").unwrap();
    fs::write(root.join("data/sub/b.txt"), "beta").unwrap();
    symlink("/", root.join("data/escape")).unwrap();
    let got = entries(&archive(root, "/data/"));
    let want: BTreeMap<String, (char, String)> = [
        ("data", ('d', "")),
        ("data/a.txt", ('f', "alpha")),
        ("data/escape", ('l', "/")),
        ("data/sub", ('d', "")),
        ("data/sub/b.txt", ('f', "beta")),
    ]
    .into_iter()
    .map(|(k, (t, v))| (k.to_string(), (t, v.to_string())))
    .collect();
    assert_eq!(got, want);

    let stat = stat_in_root(root, "/data").unwrap();
    assert!(stat.is_dir() && stat.name == "data", "{stat:?}");
    let link = stat_in_root(root, "/data/escape").unwrap();
    assert_eq!((link.link_target.as_str(), link.is_dir()), ("/", false));
    assert!(matches!(
        stat_in_root(root, "/nope"),
        Err(Error::CopyNotFound(p)) if p == "/nope"
    ));
}

#[test]
fn symlinks_on_the_way_resolve_inside_the_root() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir(root.join("etc")).unwrap();
    fs::write(root.join("etc/hostname"), "the container's\n").unwrap();
    // An absolute symlink and a climbing one: both mean the root's /etc.
    symlink("/etc", root.join("abs")).unwrap();
    symlink("../../../../etc", root.join("up")).unwrap();
    for path in ["/abs/hostname", "/up/hostname", "/../../etc/hostname"] {
        let got = entries(&archive(root, path));
        assert_eq!(
            got.get("hostname"),
            Some(&('f', "the container's\n".to_string())),
            "{path}"
        );
    }
}

#[test]
fn copying_in_stays_in_the_directory_and_belongs_to_root() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("dest")).unwrap();
    fs::write(root.join("file"), "x").unwrap();
    symlink("/", root.join("dest/out")).unwrap();
    let canary = dir.path().join("canary");
    fs::write(&canary, "untouched").unwrap();

    // an ordinary copy: owner 0:0 whatever the tar says; `.wh.` is a name
    let tar = raw_tar(&[("hello.txt", b"hi\n"), (".wh.keep", b"not a whiteout")]);
    extract_into_root(&root, "/dest", &mut tar.as_slice(), (0, 0)).unwrap();
    let meta = fs::metadata(root.join("dest/hello.txt")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.permissions().mode() & 0o777),
        (0, 0, 0o644)
    );
    assert_eq!(
        fs::read_to_string(root.join("dest/.wh.keep")).unwrap(),
        "not a whiteout"
    );

    // hostile entries: up and out, absolute, and through a planted symlink
    for name in [
        "../../canary",
        "/tmp/minidock-copy-test",
        "out/tmp/minidock-copy-test",
    ] {
        let tar = raw_tar(&[(name, b"gotcha")]);
        let err = extract_into_root(&root, "/dest", &mut tar.as_slice(), (0, 0)).unwrap_err();
        assert!(err.to_string().contains("refused"), "{name}: {err}");
    }
    assert_eq!(fs::read_to_string(&canary).unwrap(), "untouched");
    assert!(!Path::new("/tmp/minidock-copy-test").exists());

    // and every attack of the test kit: refused, or kept inside
    let planted = minidock_testkit::Canary::plant(&dir.path().join("canary-dir"));
    for layer in minidock_testkit::hostile_layers(planted.dir()) {
        if let Err(err) = extract_into_root(&root, "/dest", &mut layer.tar.as_slice(), (0, 0)) {
            assert!(err.to_string().contains("refused"), "{}: {err}", layer.name);
        }
        planted.assert_untouched();
        // the canary file and dir themselves are the targets of "change"
        // attacks, which assert_untouched covers; other paths must not exist
        if let Some(path) = &layer.canary {
            let target = Path::new(path);
            if target != planted.dir()
                && target != planted.dir().join(minidock_testkit::CANARY_FILE)
            {
                assert!(
                    fs::symlink_metadata(target).is_err(),
                    "{} created {path}",
                    layer.name
                );
            }
        }
    }

    let tar = raw_tar(&[("x", b"x")]);
    let err = extract_into_root(&root, "/file", &mut tar.as_slice(), (0, 0)).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
    assert!(matches!(
        extract_into_root(&root, "/missing", &mut tar.as_slice(), (0, 0)),
        Err(Error::CopyNotFound(_))
    ));
}

/// A scratch directory (a build context) gets the same checks as a
/// container's root, without staging or flushing: files land, owned by
/// the owner given, and every hostile entry is refused or kept inside.
#[test]
fn extracting_into_a_scratch_directory_stays_inside_it() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("scratch");
    fs::create_dir(&scratch).unwrap();
    let tar = raw_tar(&[("src/a.txt", b"a\n"), (".wh.keep", b"not a whiteout")]);
    extract_into_scratch_dir(&scratch, &mut tar.as_slice(), (0, 0)).unwrap();
    assert_eq!(
        fs::read_to_string(scratch.join("src/a.txt")).unwrap(),
        "a\n"
    );
    let meta = fs::metadata(scratch.join("src/a.txt")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0));
    assert_eq!(
        fs::read_to_string(scratch.join(".wh.keep")).unwrap(),
        "not a whiteout"
    );

    let canary = dir.path().join("canary");
    fs::write(&canary, "untouched").unwrap();
    for name in ["../canary", "/tmp/minidock-scratch-test"] {
        let fresh = tempfile::tempdir_in(dir.path()).unwrap();
        let tar = raw_tar(&[(name, b"gotcha")]);
        let err = extract_into_scratch_dir(fresh.path(), &mut tar.as_slice(), (0, 0)).unwrap_err();
        assert!(err.to_string().contains("refused"), "{name}: {err}");
    }
    assert_eq!(fs::read_to_string(&canary).unwrap(), "untouched");
    assert!(!Path::new("/tmp/minidock-scratch-test").exists());

    let planted = minidock_testkit::Canary::plant(&dir.path().join("canary-dir"));
    for layer in minidock_testkit::hostile_layers(planted.dir()) {
        let fresh = tempfile::tempdir_in(dir.path()).unwrap();
        if let Err(err) = extract_into_scratch_dir(fresh.path(), &mut layer.tar.as_slice(), (0, 0))
        {
            assert!(err.to_string().contains("refused"), "{}: {err}", layer.name);
        }
        planted.assert_untouched();
        if let Some(path) = &layer.canary {
            let target = Path::new(path);
            if target != planted.dir()
                && target != planted.dir().join(minidock_testkit::CANARY_FILE)
            {
                assert!(
                    fs::symlink_metadata(target).is_err(),
                    "{} created {path}",
                    layer.name
                );
            }
        }
    }
}

/// The names under `dir`, recursively, with file contents: a snapshot to
/// compare before and after.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = path.strip_prefix(dir).unwrap().display().to_string();
        if entry.file_type().unwrap().is_dir() {
            out.insert(format!("{name}/"), String::new());
            for (sub, content) in tree(&path) {
                out.insert(format!("{name}/{sub}"), content);
            }
        } else {
            out.insert(name, fs::read_to_string(&path).unwrap_or_default());
        }
    }
    out
}

#[test]
fn a_copy_that_fails_halfway_changes_nothing() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("dest/sub")).unwrap();
    fs::write(root.join("dest/keep.txt"), "kept").unwrap();
    fs::write(root.join("dest/sub/old.txt"), "old").unwrap();
    fs::write(root.join("dest/file"), "a file").unwrap();
    let before = tree(&root);

    // A refused entry after good ones.
    let tar = raw_tar(&[
        ("a.txt", b"A"),
        ("sub/new.txt", b"N"),
        ("keep.txt", b"overwritten"),
        ("../../escape", b"x"),
    ]);
    let err = extract_into_root(&root, "/dest", &mut tar.as_slice(), (0, 0)).unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    assert_eq!(tree(&root), before, "a refused entry left changes");

    // An archive cut off in the middle of its second file.
    let whole = raw_tar(&[("a.txt", b"A"), ("b.txt", &[b'b'; 4000])]);
    let cut = &whole[..512 + 512 + 512 + 1000];
    let err = extract_into_root(&root, "/dest", &mut &cut[..], (0, 0)).unwrap_err();
    assert!(err.to_string().contains("/dest"), "{err}");
    assert_eq!(tree(&root), before, "a truncated archive left changes");

    // A directory over a file: refused before anything moved.
    let tar = raw_tar(&[("a.txt", b"A"), ("file/x", b"x")]);
    let err = extract_into_root(&root, "/dest", &mut tar.as_slice(), (0, 0)).unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot overwrite non-directory /dest/file"),
        "{err}"
    );
    assert_eq!(tree(&root), before, "a conflict left changes");

    // And a good archive lands whole, merged into what is there.
    let tar = raw_tar(&[("a.txt", b"A"), ("sub/new.txt", b"N"), ("keep.txt", b"new")]);
    extract_into_root(&root, "/dest", &mut tar.as_slice(), (0, 0)).unwrap();
    let mut want = before.clone();
    want.insert("dest/a.txt".into(), "A".into());
    want.insert("dest/sub/new.txt".into(), "N".into());
    want.insert("dest/keep.txt".into(), "new".into());
    assert_eq!(tree(&root), want);
}
