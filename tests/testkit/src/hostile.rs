//! Hostile layers: tar archives crafted to escape the directory they are
//! unpacked into. An image is untrusted input; these are the classic attacks
//! (path traversal, symlink and hardlink tricks, device nodes) against which
//! minidock's unpacker must hold.
//!
//! The `tar` crate refuses to *write* `..` and absolute names through its
//! safe API, so the headers here are filled byte by byte: the attack is
//! really in the archive, exactly as a malicious registry would serve it.
//!
//! Attacks aim at a directory the test prepares (the "canary dir", holding a
//! file `canary`, see [`Canary`]), both by absolute path and by enough `../`
//! to climb from any unpack directory up to `/` and back down to it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::layer::LAYER_MTIME;

/// One malicious layer.
#[derive(Debug, Clone)]
pub struct HostileLayer {
    /// Short stable name, e.g. `"dotdot"`.
    pub name: &'static str,
    /// What the layer tries, in one sentence.
    pub what: &'static str,
    /// The uncompressed tar.
    pub tar: Vec<u8>,
    /// Absolute host path the attack would create or change if it worked.
    pub canary: Option<String>,
}

/// File name of the canary inside the canary dir.
pub const CANARY_FILE: &str = "canary";
/// Contents of the canary file.
pub const CANARY_CONTENTS: &[u8] = b"canary: must never change\n";

/// `../` repeated often enough to reach `/` from any test directory.
const CLIMB: &str = "../../../../../../../../../../../../../../../../../../../../";

/// A canary directory: a file with known contents in a directory with a
/// known mode, and nothing else. After a hostile unpack, [`Canary::assert_untouched`]
/// shows whether anything escaped into it.
#[derive(Debug)]
pub struct Canary {
    dir: PathBuf,
}

impl Canary {
    /// Creates `dir` (mode 0755) holding `canary` (mode 0644).
    pub fn plant(dir: &Path) -> Canary {
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", dir.display()));
        let file = dir.join(CANARY_FILE);
        fs::write(&file, CANARY_CONTENTS)
            .unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", file.display()));
        Canary {
            dir: dir.to_path_buf(),
        }
    }

    /// The canary directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Panics if the canary dir gained or lost an entry, changed mode, or if
    /// the canary file changed contents, mode or link count.
    pub fn assert_untouched(&self) {
        use std::os::unix::fs::MetadataExt;
        let dir_meta = fs::symlink_metadata(&self.dir)
            .unwrap_or_else(|e| panic!("canary dir {} is gone: {e}", self.dir.display()));
        assert!(
            dir_meta.is_dir(),
            "canary dir {} was replaced",
            self.dir.display()
        );
        assert_eq!(
            dir_meta.permissions().mode() & 0o7777,
            0o755,
            "canary dir {} changed mode",
            self.dir.display()
        );
        let mut names: Vec<String> = fs::read_dir(&self.dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", self.dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [CANARY_FILE],
            "something was written into the canary dir {}",
            self.dir.display()
        );
        let file = self.dir.join(CANARY_FILE);
        let meta = fs::symlink_metadata(&file).unwrap();
        assert!(meta.is_file(), "{} was replaced", file.display());
        assert_eq!(
            meta.permissions().mode() & 0o7777,
            0o644,
            "{} changed mode",
            file.display()
        );
        assert_eq!(meta.nlink(), 1, "{} gained a hard link", file.display());
        assert_eq!(
            fs::read(&file).unwrap(),
            CANARY_CONTENTS,
            "{} changed contents",
            file.display()
        );
    }
}

/// A raw tar under construction: names are copied into headers as bytes,
/// unchecked, with GNU long-name records when they exceed 100 bytes.
struct RawTar(Vec<u8>);

impl RawTar {
    fn new() -> RawTar {
        RawTar(Vec::new())
    }

    fn push(&mut self, kind: tar::EntryType, name: &str, link: &str, mode: u32, data: &[u8]) {
        self.push_dev(kind, name, link, mode, data, (0, 0));
    }

    fn push_dev(
        &mut self,
        kind: tar::EntryType,
        name: &str,
        link: &str,
        mode: u32,
        data: &[u8],
        (major, minor): (u32, u32),
    ) {
        if name.len() > 100 {
            self.long_record(tar::EntryType::GNULongName, name);
        }
        if link.len() > 100 {
            self.long_record(tar::EntryType::GNULongLink, link);
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(LAYER_MTIME);
        h.set_size(data.len() as u64);
        // Every header gets valid device fields (0:0 unless a device node),
        // as strict readers parse them for all entries.
        h.set_device_major(major)
            .expect("gnu header has device fields");
        h.set_device_minor(minor)
            .expect("gnu header has device fields");
        let gnu = h.as_gnu_mut().expect("a GNU header");
        copy_truncated(&mut gnu.name, name.as_bytes());
        copy_truncated(&mut gnu.linkname, link.as_bytes());
        h.set_cksum();
        self.block(h.as_bytes(), data);
    }

    /// A `././@LongLink` record carrying a name longer than 100 bytes.
    fn long_record(&mut self, kind: tar::EntryType, value: &str) {
        let mut data = value.as_bytes().to_vec();
        data.push(0);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        copy_truncated(
            &mut h.as_gnu_mut().expect("a GNU header").name,
            b"././@LongLink",
        );
        h.set_cksum();
        self.block(h.as_bytes(), &data);
    }

    fn block(&mut self, header: &[u8; 512], data: &[u8]) {
        self.0.extend_from_slice(header);
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.resize(self.0.len() + pad, 0);
    }

    fn finish(mut self) -> Vec<u8> {
        self.0.resize(self.0.len() + 1024, 0);
        self.0
    }
}

fn copy_truncated(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

/// Every hostile layer, aimed at `canary_dir` (an absolute path; plant it
/// with [`Canary::plant`]). An unpacker passes when, for each layer, it
/// either refuses the layer or unpacks it without touching anything
/// outside its target directory — `Canary::assert_untouched` still holds.
pub fn hostile_layers(canary_dir: &Path) -> Vec<HostileLayer> {
    use tar::EntryType::{Block, Char, Directory, Link, Regular, Symlink};
    let abs = canary_dir
        .to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", canary_dir.display()));
    assert!(
        abs.starts_with('/'),
        "canary dir must be absolute: {}",
        canary_dir.display()
    );
    let abs = abs.trim_end_matches('/');
    let climb = format!("{CLIMB}{}", abs.trim_start_matches('/'));
    let at = |name: &str| Some(format!("{abs}/{name}"));
    let canary = at(CANARY_FILE);
    let pwned = b"pwned\n";

    let layer = |build: &dyn Fn(&mut RawTar)| {
        let mut t = RawTar::new();
        build(&mut t);
        t.finish()
    };
    vec![
        HostileLayer {
            name: "dotdot",
            what: "a file named ../../…/CANARY_DIR/dotdot climbs out of the layer dir",
            tar: layer(&|t| t.push(Regular, &format!("{climb}/dotdot"), "", 0o644, pwned)),
            canary: at("dotdot"),
        },
        HostileLayer {
            name: "absolute",
            what: "a file named by the absolute path CANARY_DIR/absolute",
            tar: layer(&|t| t.push(Regular, &format!("{abs}/absolute"), "", 0o644, pwned)),
            canary: at("absolute"),
        },
        HostileLayer {
            name: "symlink-write-through",
            what: "a symlink a -> CANARY_DIR, then a file a/symlink-write-through written through it",
            tar: layer(&|t| {
                t.push(Symlink, "a", abs, 0o777, b"");
                t.push(Regular, "a/symlink-write-through", "", 0o644, pwned);
            }),
            canary: at("symlink-write-through"),
        },
        HostileLayer {
            name: "symlink-dotdot",
            what: "a relative symlink a -> ../../…/CANARY_DIR, then a file a/symlink-dotdot",
            tar: layer(&|t| {
                t.push(Symlink, "a", &climb, 0o777, b"");
                t.push(Regular, "a/symlink-dotdot", "", 0o644, pwned);
            }),
            canary: at("symlink-dotdot"),
        },
        HostileLayer {
            name: "symlink-parent",
            what: "a symlink a -> .., then a/x/y: writes into the parent of the layer dir",
            tar: layer(&|t| {
                t.push(Symlink, "a", "..", 0o777, b"");
                t.push(Directory, "a/x/", "", 0o755, b"");
                t.push(Regular, "a/x/y", "", 0o644, pwned);
            }),
            canary: None,
        },
        HostileLayer {
            name: "hardlink-outside",
            what: "a hard link h to CANARY_DIR/canary, then a file h whose write would go through the link",
            tar: layer(&|t| {
                t.push(Link, "h", &format!("{abs}/{CANARY_FILE}"), 0o644, b"");
                t.push(Regular, "h", "", 0o644, pwned);
            }),
            canary: canary.clone(),
        },
        HostileLayer {
            name: "hardlink-dotdot",
            what: "a hard link h to ../../…/CANARY_DIR/canary, then a file h written through it",
            tar: layer(&|t| {
                t.push(Link, "h", &format!("{climb}/{CANARY_FILE}"), 0o644, b"");
                t.push(Regular, "h", "", 0o644, pwned);
            }),
            canary: canary.clone(),
        },
        HostileLayer {
            name: "symlink-chmod",
            what: "a symlink d -> CANARY_DIR, then a directory entry d/ with mode 0777 (chmod through it)",
            tar: layer(&|t| {
                t.push(Symlink, "d", abs, 0o777, b"");
                t.push(Directory, "d/", "", 0o777, b"");
            }),
            canary: Some(abs.to_string()),
        },
        HostileLayer {
            name: "symlink-dot",
            what: "a symlink named . pointing at CANARY_DIR, then a file symlink-dot in the (replaced) root",
            tar: layer(&|t| {
                t.push(Symlink, ".", abs, 0o777, b"");
                t.push(Regular, "symlink-dot", "", 0o644, pwned);
            }),
            canary: at("symlink-dot"),
        },
        HostileLayer {
            name: "whiteout-dotdot",
            what: "a whiteout ../../…/CANARY_DIR/.wh.canary that would delete the canary",
            tar: layer(&|t| {
                t.push(Regular, &format!("{climb}/.wh.{CANARY_FILE}"), "", 0o644, b"");
            }),
            canary: canary.clone(),
        },
        HostileLayer {
            name: "whiteout-through-symlink",
            what: "a symlink a -> CANARY_DIR, then a whiteout a/.wh.canary deleting through it",
            tar: layer(&|t| {
                t.push(Symlink, "a", abs, 0o777, b"");
                t.push(Regular, &format!("a/.wh.{CANARY_FILE}"), "", 0o644, b"");
            }),
            canary: canary.clone(),
        },
        HostileLayer {
            name: "char-device",
            what: "a character device node 1:1 (/dev/mem, the host's physical memory)",
            tar: layer(&|t| t.push_dev(Char, "dev/hostile-char", "", 0o666, b"", (1, 1))),
            canary: None,
        },
        HostileLayer {
            name: "block-device",
            what: "a block device node 8:0 (the first SCSI disk): raw access to a host disk",
            tar: layer(&|t| t.push_dev(Block, "dev/hostile-block", "", 0o660, b"", (8, 0))),
            canary: None,
        },
    ]
}
