//! The overlay root file system: copy-on-write, sharing, many layers.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use minidock_images::{unmount_rootfs, MountMethod, Rootfs, Upper};
use minidock_testkit::{require_root, Compression, Entry, ImageSpec, LayerSpec, LeakCheck};

/// Every file's content hash, mode and owner, every xattr that matters to
/// overlayfs, and every directory entry: a layer directory "byte for byte".
fn fingerprint(root: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    for item in walkdir::WalkDir::new(root).sort_by_file_name() {
        let item = item.unwrap();
        let meta = item.path().symlink_metadata().unwrap();
        let content = if meta.is_file() {
            minidock_testkit::sha256_digest(&fs::read(item.path()).unwrap())
        } else if meta.file_type().is_symlink() {
            fs::read_link(item.path()).unwrap().display().to_string()
        } else {
            String::new()
        };
        out.push(format!(
            "{} {:o} {}:{} {} {} {}",
            item.path().strip_prefix(root).unwrap().display(),
            meta.mode(),
            meta.uid(),
            meta.gid(),
            meta.mtime(),
            meta.rdev(),
            content
        ));
    }
    out
}

#[test]
fn containers_write_to_their_upper_layer_only() {
    require_root();
    let (dir, store) = common::store();
    let leaks = LeakCheck::start(dir.path().to_str().unwrap());
    let spec = common::rich_image([Compression::Gzip, Compression::Zstd, Compression::None], 5);
    spec.write_oci_layout(&dir.path().join("layout"), "v1");
    let id = store.load(&dir.path().join("layout")).unwrap()[0]
        .id
        .clone();
    let image = store.resolve(&id.to_string()).unwrap();
    let before: Vec<Vec<String>> = image
        .layer_dirs(&store)
        .iter()
        .map(|d| fingerprint(d))
        .collect();

    let _unmount_one = common::UnmountOnDrop(dir.path().join("one"));
    let one = Rootfs::mount(&store, &image, &dir.path().join("one")).unwrap();
    let _unmount_two = common::UnmountOnDrop(dir.path().join("two"));
    let two = Rootfs::mount(&store, &image, &dir.path().join("two")).unwrap();
    let m = one.path();
    fs::write(m.join("etc/passwd"), b"changed\n").unwrap();
    std::io::Write::write_all(
        &mut fs::OpenOptions::new()
            .append(true)
            .open(m.join("data/big"))
            .unwrap(),
        b"more",
    )
    .unwrap();
    fs::remove_file(m.join("bin/tool")).unwrap();
    fs::remove_dir_all(m.join("opq")).unwrap();
    fs::create_dir(m.join("fresh")).unwrap();
    fs::write(m.join("fresh/file"), b"new").unwrap();
    // (renaming a lower *directory* gives EXDEV without redirect_dir, as
    // in Docker; `mv` then copies. Files rename fine.)
    fs::rename(m.join("newdir/file"), m.join("renamed")).unwrap();
    fs::set_permissions(
        m.join("tmp"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    fs::set_permissions(
        m.join("empty"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();

    // the other container still sees the image as it is
    assert_eq!(
        fs::read(two.path().join("etc/passwd")).unwrap(),
        fs::read(image.layer_dirs(&store)[1].join("etc/passwd")).unwrap()
    );
    assert!(two.path().join("bin/tool").exists());
    assert!(two.path().join("opq/new").exists());
    assert!(!two.path().join("fresh").exists());
    // and the first sees its changes
    assert_eq!(fs::read(m.join("etc/passwd")).unwrap(), b"changed\n");
    assert!(!m.join("bin/tool").exists() && m.join("bin/tool-again").exists());
    // the changes are in its upper directory: copies and whiteouts
    let upper = one.upper();
    assert_eq!(fs::read(upper.join("etc/passwd")).unwrap(), b"changed\n");
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &fs::symlink_metadata(upper.join("bin/tool"))
            .unwrap()
            .file_type()
    ));

    one.unmount().unwrap();
    two.unmount().unwrap();
    leaks.finish();
    let after: Vec<Vec<String>> = image
        .layer_dirs(&store)
        .iter()
        .map(|d| fingerprint(d))
        .collect();
    assert_eq!(before, after, "a container changed an image layer");
}

#[test]
fn two_containers_share_the_layer_directories() {
    require_root();
    let (dir, store) = common::store();
    let leaks = LeakCheck::start(dir.path().to_str().unwrap());
    minidock_testkit::busybox_image().write_oci_layout(&dir.path().join("layout"), "latest");
    let id = store.load(&dir.path().join("layout")).unwrap()[0]
        .id
        .clone();
    let image = store.resolve(&id.to_string()).unwrap();
    let _unmount_a = common::UnmountOnDrop(dir.path().join("a"));
    let a = Rootfs::mount(&store, &image, &dir.path().join("a")).unwrap();
    let _unmount_b = common::UnmountOnDrop(dir.path().join("b"));
    let b = Rootfs::mount(&store, &image, &dir.path().join("b")).unwrap();
    let lowers = |merged: &Path| -> Vec<String> {
        let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
        let line = info
            .lines()
            .find(|l| l.split(' ').nth(4) == merged.to_str())
            .expect("mounted");
        line.split(',')
            .filter_map(|o| {
                o.strip_prefix("lowerdir+=")
                    .or_else(|| o.strip_prefix("lowerdir="))
            })
            .map(|s| s.to_string())
            .collect()
    };
    let la = lowers(a.path());
    assert_eq!(la, lowers(b.path()));
    let want: Vec<String> = image
        .layer_dirs(&store)
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(la, want);
    // the same busybox inode is visible through both
    use std::os::unix::fs::MetadataExt;
    let ia = fs::metadata(a.path().join("bin/busybox")).unwrap();
    let ib = fs::metadata(b.path().join("bin/busybox")).unwrap();
    let il = fs::metadata(image.layer_dirs(&store)[0].join("bin/busybox")).unwrap();
    assert_eq!(ia.size(), il.size());
    assert_eq!(
        ia.ino(),
        ib.ino(),
        "overlay reports the lower inode for unmodified files"
    );
    a.unmount().unwrap();
    b.unmount().unwrap();
    leaks.finish();
}

fn many_layers(store: &minidock_images::Store, n: usize) -> Vec<PathBuf> {
    // Layers made directly on disk: this test is about mounting.
    (0..n)
        .map(|i| {
            let d = store.layers_dir().join(format!("{i:064x}"));
            fs::create_dir_all(d.join("layers")).unwrap();
            fs::write(d.join(format!("layers/{i}")), i.to_string()).unwrap();
            fs::write(d.join("top"), i.to_string()).unwrap();
            d
        })
        .collect()
}

fn check_many(method: MountMethod) {
    require_root();
    let (dir, store) = common::store();
    let leaks = LeakCheck::start(dir.path().to_str().unwrap());
    let layers = many_layers(&store, 150);
    let _unmount_rootfs = common::UnmountOnDrop(dir.path().join("c"));
    let rootfs = Rootfs::mount_layers(&layers, &dir.path().join("c"), method).unwrap();
    let seen = fs::read_dir(rootfs.path().join("layers")).unwrap().count();
    let top = fs::read_to_string(rootfs.path().join("top")).unwrap();
    rootfs.unmount().unwrap();
    leaks.finish();
    assert_eq!(seen, 150);
    assert_eq!(top, "149", "the last layer is on top");
}

#[test]
fn an_image_with_150_layers_mounts_with_the_new_mount_api() {
    check_many(MountMethod::NewApi);
}

#[test]
fn an_image_with_150_layers_mounts_with_legacy_mount() {
    check_many(MountMethod::Legacy);
}

#[test]
fn an_image_with_150_real_layers_registers_and_mounts() {
    require_root();
    let (dir, store) = common::store();
    let leaks = LeakCheck::start(dir.path().to_str().unwrap());
    let spec = ImageSpec {
        layers: (0..150)
            .map(|i| {
                LayerSpec::new(
                    Compression::Gzip,
                    vec![
                        Entry::file(format!("f{i}"), format!("{i}").into_bytes(), 0o644),
                        Entry::file("top", format!("{i}").into_bytes(), 0o644),
                    ],
                )
            })
            .collect(),
        ..ImageSpec::default()
    };
    spec.write_oci_layout(&dir.path().join("layout"), "many");
    let id = store.load(&dir.path().join("layout")).unwrap()[0]
        .id
        .clone();
    let image = store.resolve(&id.to_string()).unwrap();
    assert_eq!(image.layers.len(), 150);
    let _unmount_rootfs = common::UnmountOnDrop(dir.path().join("c"));
    let rootfs = Rootfs::mount(&store, &image, &dir.path().join("c")).unwrap();
    let count = fs::read_dir(rootfs.path()).unwrap().count();
    let top = fs::read_to_string(rootfs.path().join("top")).unwrap();
    rootfs.unmount().unwrap();
    leaks.finish();
    assert_eq!((count, top.as_str()), (151, "149"));
}

#[test]
fn unmount_by_container_dir_is_idempotent_and_mount_reuses_a_mount() {
    require_root();
    let (dir, store) = common::store();
    let leaks = LeakCheck::start(dir.path().to_str().unwrap());
    let layers = many_layers(&store, 2);
    let c = dir.path().join("c");
    let _unmount_first = common::UnmountOnDrop(c.to_path_buf());
    let first = Rootfs::mount_layers(&layers, &c, MountMethod::Auto).unwrap();
    fs::write(first.path().join("written"), b"x").unwrap();
    // "after a restart": mounting again finds the existing mount
    let _unmount_again = common::UnmountOnDrop(c.to_path_buf());
    let again = Rootfs::mount_layers(&layers, &c, MountMethod::Auto).unwrap();
    assert_eq!(fs::read(again.path().join("written")).unwrap(), b"x");
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert_eq!(
        mounts
            .lines()
            .filter(|l| l.contains(c.to_str().unwrap()))
            .count(),
        1
    );
    unmount_rootfs(&c).unwrap();
    unmount_rootfs(&c).unwrap();
    unmount_rootfs(&dir.path().join("never-mounted")).unwrap();
    leaks.finish();
    assert!(!c.join("merged/written").exists());
    assert!(c.join("upper/written").exists());
}

/// A volatile overlay (`run --rm`): the kernel shows the option, the
/// upper directory gets the writes, and the same directories mount
/// volatile again (the kernel's mark of a volatile upper is accepted), with
/// both mount APIs.
#[test]
fn a_volatile_overlay_mounts_again_volatile() {
    require_root();
    let (dir, store) = common::store();
    let leaks = LeakCheck::start(dir.path().to_str().unwrap());
    let layers = many_layers(&store, 2);
    for method in [MountMethod::Auto, MountMethod::Legacy] {
        let c = dir.path().join(format!("{method:?}"));
        let _unmount = common::UnmountOnDrop(c.to_path_buf());
        let first = Rootfs::mount_layers_with(&layers, &c, method, Upper::Volatile).unwrap();
        fs::write(first.path().join("written"), b"x").unwrap();
        let merged = first.path().to_str().unwrap().to_string();
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
        let line = mounts
            .lines()
            .find(|l| l.split(' ').nth(4) == Some(merged.as_str()))
            .expect("the overlay in mountinfo");
        assert!(line.contains("volatile"), "{method:?}: {line}");
        first.unmount().unwrap();
        assert!(c.join("work/work/incompat/volatile").exists());
        // A durable mount of a volatile upper is what the kernel refuses;
        // a volatile one takes it as it is.
        let again = Rootfs::mount_layers_with(&layers, &c, method, Upper::Volatile).unwrap();
        assert_eq!(fs::read(again.path().join("written")).unwrap(), b"x");
        again.unmount().unwrap();
    }
    leaks.finish();
}
