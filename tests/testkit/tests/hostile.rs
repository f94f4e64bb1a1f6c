//! The hostile layers really carry their attacks in the tar bytes, and are
//! otherwise valid archives (GNU tar lists them).

use std::io::Write;
use std::process::{Command, Stdio};

use minidock_testkit::{hostile_layers, random_name, Canary, CANARY_FILE};

/// One tar entry as its header says, without any path sanitising.
#[derive(Debug)]
struct RawEntry {
    name: String,
    link: String,
    kind: tar::EntryType,
    device: Option<(u32, u32)>,
}

/// Every entry of a tar, from the raw headers (GNU long names resolved).
fn raw_entries(tar_bytes: &[u8]) -> Vec<RawEntry> {
    let mut archive = tar::Archive::new(tar_bytes);
    archive
        .entries()
        .expect("a readable tar")
        .map(|e| {
            let e = e.expect("a readable entry");
            let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
            let link = e
                .link_name_bytes()
                .map(|l| String::from_utf8(l.into_owned()).unwrap())
                .unwrap_or_default();
            let h = e.header();
            let is_device =
                h.entry_type().is_character_special() || h.entry_type().is_block_special();
            let dev = if is_device {
                Some((
                    h.device_major().unwrap().expect("device major"),
                    h.device_minor().unwrap().expect("device minor"),
                ))
            } else {
                None
            };
            RawEntry {
                name,
                link,
                kind: h.entry_type(),
                device: dev,
            }
        })
        .collect()
}

#[test]
fn every_attack_is_in_the_bytes() {
    // A long, random canary path also exercises GNU long-name records.
    let base = tempfile::tempdir().unwrap();
    let canary_dir = base
        .path()
        .join(random_name("canary-"))
        .join("x".repeat(60))
        .join("y".repeat(60));
    let canary = Canary::plant(&canary_dir);
    let abs = canary_dir.to_str().unwrap();
    let layers = hostile_layers(&canary_dir);
    let names: Vec<&str> = layers.iter().map(|l| l.name).collect();
    for expected in [
        "dotdot",
        "absolute",
        "symlink-write-through",
        "symlink-dotdot",
        "hardlink-outside",
        "symlink-chmod",
        "symlink-dot",
        "whiteout-dotdot",
        "whiteout-through-symlink",
        "char-device",
        "block-device",
    ] {
        assert!(
            names.contains(&expected),
            "no {expected} layer in {names:?}"
        );
    }

    for layer in &layers {
        let entries = raw_entries(&layer.tar);
        let first = &entries[0];
        let ok = match layer.name {
            "dotdot" => {
                first.name.starts_with("../") && first.name.ends_with(&format!("{abs}/dotdot"))
            }
            "absolute" => first.name == format!("{abs}/absolute"),
            "symlink-write-through" | "whiteout-through-symlink" | "symlink-chmod" => {
                first.kind == tar::EntryType::Symlink && first.link == abs
            }
            "symlink-dotdot" => {
                first.kind == tar::EntryType::Symlink && first.link.starts_with("../")
            }
            "symlink-parent" => first.link == "..",
            "hardlink-outside" => {
                first.kind == tar::EntryType::Link && first.link == format!("{abs}/{CANARY_FILE}")
            }
            "hardlink-dotdot" => {
                first.kind == tar::EntryType::Link && first.link.starts_with("../")
            }
            "symlink-dot" => first.name == "." && first.kind == tar::EntryType::Symlink,
            "whiteout-dotdot" => {
                first.name.starts_with("../")
                    && first.name.ends_with(&format!("/.wh.{CANARY_FILE}"))
            }
            "char-device" => first.kind == tar::EntryType::Char && first.device == Some((1, 1)),
            "block-device" => first.kind == tar::EntryType::Block && first.device == Some((8, 0)),
            other => panic!("untested hostile layer {other}"),
        };
        assert!(
            ok,
            "{}: entries do not carry the attack: {entries:?}",
            layer.name
        );
        if let Some(target) = &layer.canary {
            assert!(
                target.starts_with(abs),
                "{}: canary {target} outside {abs}",
                layer.name
            );
        }
        assert!(!layer.what.is_empty());
    }

    // GNU tar, an independent reader, accepts every archive (checksums,
    // padding and long names are right) and shows the hostile names.
    for layer in &layers {
        let mut child = Command::new("tar")
            .args(["-tvf", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tar");
        child.stdin.take().unwrap().write_all(&layer.tar).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "GNU tar rejects {}: {}",
            layer.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Building the layers touched nothing.
    canary.assert_untouched();
}

#[test]
fn canary_notices_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let canary = Canary::plant(&dir.path().join("c"));
    canary.assert_untouched();
    std::fs::write(canary.dir().join("intruder"), "x").unwrap();
    let caught = std::panic::catch_unwind(|| canary.assert_untouched());
    assert!(
        caught.is_err(),
        "a new file in the canary dir went unnoticed"
    );
    std::fs::remove_file(canary.dir().join("intruder")).unwrap();
    std::fs::write(canary.dir().join(CANARY_FILE), "changed").unwrap();
    assert!(std::panic::catch_unwind(|| canary.assert_untouched()).is_err());
}
