//! Layer unpacking: whiteouts, metadata, diff-ids, limits, and every
//! hostile layer of the test kit.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

use minidock_images::{layer_media_types as mt, Digest, Error};
use minidock_testkit::{hostile_layers, require_root, Canary, Compression, Entry, LayerSpec};

fn layer_entries_in(store: &minidock_images::Store) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(store.layers_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn every_hostile_layer_is_refused_naming_its_entry() {
    require_root();
    let (dir, store) = common::store();
    let canary = Canary::plant(&dir.path().join("canary-dir"));
    let layers = hostile_layers(canary.dir());
    assert!(
        layers.len() >= 10,
        "the kit has {} hostile layers",
        layers.len()
    );
    for hostile in layers {
        let blob = store.put_blob(&hostile.tar).unwrap();
        let err = match store.unpack_layer(&blob, mt::OCI_LAYER) {
            Ok(d) => panic!(
                "hostile layer {} ({}) was unpacked as {d}",
                hostile.name, hostile.what
            ),
            Err(e) => e,
        };
        let Error::UnsafeEntry { entry, reason, .. } = &err else {
            panic!(
                "hostile layer {}: not an UnsafeEntry error: {err}",
                hostile.name
            );
        };
        let message = err.to_string();
        assert!(message.contains(&blob.to_string()), "{message}");
        assert!(message.contains(entry.as_str()), "{message}");
        assert!(!reason.is_empty());
        eprintln!("{}: {message}", hostile.name);
        canary.assert_untouched();
        if let Some(path) = &hostile.canary {
            if !path.ends_with(minidock_testkit::CANARY_FILE)
                && path != canary.dir().to_str().unwrap()
            {
                assert!(
                    fs::symlink_metadata(path).is_err(),
                    "{} created {path}",
                    hostile.name
                );
            }
        }
        // nothing half-made stays in the store
        assert!(
            layer_entries_in(&store).is_empty(),
            "{}: {:?}",
            hostile.name,
            layer_entries_in(&store)
        );
    }
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    require_root();
    let (_dir, store) = common::store();
    let layer = LayerSpec::new(
        Compression::Gzip,
        vec![
            Entry::dir("etc", 0o755),
            Entry::whiteout("etc/gone"),
            Entry::dir("var", 0o711),
            Entry::opaque("var"),
            Entry::file("var/new", b"x".to_vec(), 0o600),
            Entry::whiteout("top-level"),
        ],
    );
    let tar = layer.tar();
    let blob = store.put_blob(&Compression::Gzip.compress(&tar)).unwrap();
    let diff_id = store.unpack_layer(&blob, mt::OCI_LAYER_GZIP).unwrap();
    assert_eq!(diff_id, Digest::sha256_of(&tar));
    let root = store.layer_dir(&diff_id);
    for whiteout in ["etc/gone", "top-level"] {
        let meta = fs::symlink_metadata(root.join(whiteout)).unwrap();
        assert!(meta.file_type().is_char_device(), "{whiteout}");
        assert_eq!(meta.rdev(), 0, "{whiteout} must be device 0/0");
    }
    assert!(!root.join("etc/.wh.gone").exists());
    assert!(!root.join("var/.wh..wh..opq").exists());
    let opaque = xattr(&root.join("var"), "trusted.overlay.opaque");
    assert_eq!(opaque.as_deref(), Some(&b"y"[..]));
    assert_eq!(xattr(&root.join("etc"), "trusted.overlay.opaque"), None);
    assert_eq!(
        fs::metadata(root.join("var")).unwrap().permissions().mode() & 0o7777,
        0o711
    );
}

fn xattr(path: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    let p = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = [0u8; 64];
    // SAFETY: lgetxattr writes at most buf.len() bytes into buf.
    let len =
        unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (len >= 0).then(|| buf[..len as usize].to_vec())
}

#[test]
fn owners_modes_times_and_links_are_kept() {
    require_root();
    let (_dir, store) = common::store();
    // The kit writes root-owned entries; make some owned by others here.
    let mut builder = tar::Builder::new(Vec::new());
    let mut add =
        |path: &str, kind: tar::EntryType, mode: u32, uid: u64, link: Option<&str>, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_mode(mode);
            h.set_uid(uid);
            h.set_gid(uid + 1);
            h.set_mtime(1_600_000_000 + uid);
            h.set_size(data.len() as u64);
            match link {
                Some(target) => builder.append_link(&mut h, path, target).unwrap(),
                None => builder.append_data(&mut h, path, data).unwrap(),
            }
        };
    add("home/", tar::EntryType::Directory, 0o755, 0, None, b"");
    add(
        "home/user/",
        tar::EntryType::Directory,
        0o700,
        1000,
        None,
        b"",
    );
    add(
        "home/user/file",
        tar::EntryType::Regular,
        0o4750,
        1000,
        None,
        b"hello",
    );
    add(
        "home/user/link",
        tar::EntryType::Symlink,
        0o777,
        1001,
        Some("file"),
        b"",
    );
    add(
        "home/user/hard",
        tar::EntryType::Link,
        0o644,
        0,
        Some("home/user/file"),
        b"",
    );
    add("pipe", tar::EntryType::Fifo, 0o620, 7, None, b"");
    add(
        "no/parents/listed",
        tar::EntryType::Regular,
        0o644,
        0,
        None,
        b"deep",
    );
    let tar = builder.into_inner().unwrap();
    let blob = store.put_blob(&tar).unwrap();
    let root = store.layer_dir(&store.unpack_layer(&blob, mt::OCI_LAYER).unwrap());

    let file = fs::symlink_metadata(root.join("home/user/file")).unwrap();
    assert_eq!(
        (file.uid(), file.gid(), file.mode() & 0o7777),
        (1000, 1001, 0o4750)
    );
    assert_eq!(file.mtime(), 1_600_001_000);
    assert_eq!(file.nlink(), 2);
    let hard = fs::symlink_metadata(root.join("home/user/hard")).unwrap();
    assert_eq!(hard.ino(), file.ino());
    let link = fs::symlink_metadata(root.join("home/user/link")).unwrap();
    assert!(link.file_type().is_symlink());
    assert_eq!(
        (link.uid(), link.gid(), link.mtime()),
        (1001, 1002, 1_600_001_001)
    );
    assert_eq!(
        fs::read_link(root.join("home/user/link")).unwrap().to_str(),
        Some("file")
    );
    let dir = fs::symlink_metadata(root.join("home/user")).unwrap();
    assert_eq!(
        (dir.uid(), dir.mode() & 0o7777, dir.mtime()),
        (1000, 0o700, 1_600_001_000)
    );
    let pipe = fs::symlink_metadata(root.join("pipe")).unwrap();
    assert!(pipe.file_type().is_fifo());
    assert_eq!((pipe.uid(), pipe.mode() & 0o7777), (7, 0o620));
    assert_eq!(fs::read(root.join("no/parents/listed")).unwrap(), b"deep");
    assert_eq!(
        fs::metadata(root.join("no")).unwrap().mode() & 0o7777,
        0o755
    );
}

#[test]
fn a_wrong_diff_id_is_refused_and_leaves_nothing() {
    require_root();
    let (_dir, store) = common::store();
    let tar = LayerSpec::new(
        Compression::None,
        vec![Entry::file("f", b"data".to_vec(), 0o644)],
    )
    .tar();
    let blob = store.put_blob(&Compression::Zstd.compress(&tar)).unwrap();
    let wrong = Digest::sha256_of(b"some other layer");
    let err = store
        .unpack_layer_expecting(&blob, mt::OCI_LAYER_ZSTD, &wrong)
        .unwrap_err();
    match &err {
        Error::DiffIdMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &wrong);
            assert_eq!(actual, &Digest::sha256_of(&tar));
        }
        other => panic!("not a diff-id mismatch: {other}"),
    }
    assert!(
        layer_entries_in(&store).is_empty(),
        "{:?}",
        layer_entries_in(&store)
    );
    // the right one works, and the second time is a no-op
    let right = Digest::sha256_of(&tar);
    assert_eq!(
        store
            .unpack_layer_expecting(&blob, mt::OCI_LAYER_ZSTD, &right)
            .unwrap(),
        right
    );
    let before = fs::metadata(store.layer_dir(&right)).unwrap().ino();
    assert_eq!(
        store
            .unpack_layer_expecting(&blob, mt::OCI_LAYER_ZSTD, &right)
            .unwrap(),
        right
    );
    assert_eq!(fs::metadata(store.layer_dir(&right)).unwrap().ino(), before);
    assert_eq!(layer_entries_in(&store), vec![right.hex().to_string()]);
}

#[test]
fn compression_is_recognised_by_its_magic_bytes() {
    require_root();
    let (_dir, store) = common::store();
    let tar = LayerSpec::new(
        Compression::None,
        vec![Entry::file("f", b"same".to_vec(), 0o644)],
    )
    .tar();
    let want = Digest::sha256_of(&tar);
    for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let blob = store.put_blob(&c.compress(&tar)).unwrap();
        // the Docker media type says gzip; the bytes decide
        assert_eq!(
            store.unpack_layer(&blob, mt::DOCKER_LAYER_GZIP).unwrap(),
            want,
            "{c:?}"
        );
    }
    let blob = store.put_blob(&tar).unwrap();
    let err = store
        .unpack_layer(&blob, "application/vnd.oci.image.config.v1+json")
        .unwrap_err();
    assert!(err.to_string().contains("not a layer media type"), "{err}");
}

#[test]
fn a_decompression_bomb_hits_the_size_limit() {
    require_root();
    let (_dir, mut store) = common::store();
    store.set_max_layer_size(1 << 20);
    let tar = LayerSpec::new(
        Compression::None,
        vec![Entry::file("zeros", vec![0u8; 8 << 20], 0o644)],
    )
    .tar();
    let gz = Compression::Gzip.compress(&tar);
    assert!(gz.len() < 100_000, "a bomb is small: {}", gz.len());
    let blob = store.put_blob(&gz).unwrap();
    let err = store.unpack_layer(&blob, mt::OCI_LAYER_GZIP).unwrap_err();
    assert!(matches!(err, Error::LayerTooLarge { .. }), "{err}");
    assert!(layer_entries_in(&store).is_empty());
}

#[test]
fn corrupt_and_truncated_streams_are_errors() {
    require_root();
    let (_dir, store) = common::store();
    let tar = LayerSpec::new(
        Compression::None,
        vec![Entry::file("f", common::pseudo_random(200_000, 3), 0o644)],
    )
    .tar();
    let gz = Compression::Gzip.compress(&tar);
    let truncated = store.put_blob(&gz[..gz.len() / 2]).unwrap();
    let err = store
        .unpack_layer(&truncated, mt::OCI_LAYER_GZIP)
        .unwrap_err();
    assert!(
        matches!(err, Error::BadLayer { .. } | Error::UnsafeEntry { .. }),
        "{err}"
    );
    assert!(layer_entries_in(&store).is_empty());
}

#[test]
fn two_unpackers_of_one_layer_leave_one_layer() {
    require_root();
    let (_dir, store) = common::store();
    let entries: Vec<Entry> = (0..200)
        .map(|i| Entry::file(format!("f{i}"), common::pseudo_random(2000, i), 0o644))
        .collect();
    let tar = LayerSpec::new(Compression::None, entries).tar();
    let blob = store.put_blob(&Compression::Gzip.compress(&tar)).unwrap();
    let ids: Vec<Digest> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| store.unpack_layer(&blob, mt::OCI_LAYER_GZIP).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|d| *d == Digest::sha256_of(&tar)));
    assert_eq!(layer_entries_in(&store), vec![ids[0].hex().to_string()]);
    assert_eq!(fs::read_dir(store.layer_dir(&ids[0])).unwrap().count(), 200);
}

#[test]
fn user_xattrs_and_capabilities_are_kept_trusted_ones_never() {
    require_root();
    let (_dir, store) = common::store();
    // security.capability v2 for cap_net_raw (bit 13), effective
    let mut cap = vec![0u8; 20];
    cap[..4].copy_from_slice(&0x0200_0001u32.to_le_bytes());
    cap[4..8].copy_from_slice(&(1u32 << 13).to_le_bytes());
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, kind: tar::EntryType, xattrs: &[(&str, &[u8])]| {
        builder
            .append_pax_extensions(xattrs.iter().copied())
            .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(0o755);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_size(if kind.is_file() { 4 } else { 0 });
        let data: &[u8] = if kind.is_file() { b"ping" } else { b"" };
        builder.append_data(&mut h, path, data).unwrap();
    };
    add(
        "bin/ping",
        tar::EntryType::Regular,
        &[
            ("SCHILY.xattr.security.capability", &cap),
            ("SCHILY.xattr.user.note", b"hello"),
        ],
    );
    // a layer must not be able to forge overlayfs metadata
    add(
        "sneaky/",
        tar::EntryType::Directory,
        &[
            ("SCHILY.xattr.trusted.overlay.opaque", b"y"),
            ("SCHILY.xattr.trusted.overlay.redirect", b"/etc"),
            ("SCHILY.xattr.user.ok", b"1"),
        ],
    );
    let blob = store.put_blob(&builder.into_inner().unwrap()).unwrap();
    let root = store.layer_dir(&store.unpack_layer(&blob, mt::OCI_LAYER).unwrap());
    assert_eq!(
        xattr(&root.join("bin/ping"), "security.capability"),
        Some(cap)
    );
    assert_eq!(
        xattr(&root.join("bin/ping"), "user.note").as_deref(),
        Some(&b"hello"[..])
    );
    assert_eq!(
        xattr(&root.join("sneaky"), "user.ok").as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(xattr(&root.join("sneaky"), "trusted.overlay.opaque"), None);
    assert_eq!(
        xattr(&root.join("sneaky"), "trusted.overlay.redirect"),
        None
    );
}
