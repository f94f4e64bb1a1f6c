//! The build context: the files a build may COPY, sent as a tar.
//!
//! `docker build .` tars the directory `.` and sends it to the daemon with
//! the request. The daemon unpacks it into a private directory (a tmpfs of
//! its own when it is small) and COPY reads from there. The tar comes from a client, so it is input to
//! distrust, read entry by entry:
//!
//! - a name that is absolute (`/etc/passwd`) or climbs (`../x`) is refused:
//!   a context holds paths *inside* it;
//! - device nodes, fifos and sockets are refused: a context holds files,
//!   directories and links;
//! - a symlink is kept as a symlink, whatever it points at: `link -> /etc`
//!   is fine to *have*. What must never happen is writing *through* it,
//!   which chapter 2's extractor refuses, and COPY reading through it to
//!   outside the context, which [`crate::copy`] refuses.
//!
//! Every refusal names the entry, so the user knows which file to fix.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::dockerignore::Ignore;
use crate::error::{Error, IoContext, Result};

// ANCHOR: check_entry
/// Checks one entry of a context tar: its name and its type.
pub fn check_entry(name: &[u8], kind: tar::EntryType) -> Result<()> {
    // exercise 8.6 context-entry: refuse absolute names, `..`, and anything but files, directories and links.
    // hint: a name starting with `/` is absolute; one with a `..` part climbs out of the context
    // hint: split the name at `/` and look at every part, not only the first
    // hint: `kind.is_file()`, `is_dir()`, `is_symlink()`, `is_hard_link()` are the types a context may hold
    let shown = String::from_utf8_lossy(name).into_owned();
    let refuse = |reason: &str| {
        Err(Error::Context {
            entry: shown.clone(),
            reason: reason.to_string(),
        })
    };
    if name.starts_with(b"/") {
        return refuse("an absolute path: a build context holds paths relative to its root");
    }
    if name.split(|b| *b == b'/').any(|part| part == b"..") {
        return refuse("a path with `..`: it would climb out of the build context");
    }
    let allowed = kind.is_file()
        || kind.is_dir()
        || kind.is_symlink()
        || kind.is_hard_link()
        || kind == tar::EntryType::Continuous;
    if !allowed {
        let what = match kind {
            tar::EntryType::Char => "a character device",
            tar::EntryType::Block => "a block device",
            tar::EntryType::Fifo => "a fifo",
            _ => "an entry of an unknown type",
        };
        return Err(Error::Context {
            entry: shown,
            reason: format!(
                "{what}: a build context holds files, directories and links only; \
                 remove it from the directory or list it in .dockerignore"
            ),
        });
    }
    Ok(())
    // end exercise
}
// ANCHOR_END: check_entry

/// A build context unpacked in a private directory.
#[derive(Debug)]
pub struct Context {
    root: PathBuf,
    ignore: Ignore,
    /// The tmpfs a small context is unpacked in, unmounted when the
    /// context is dropped.
    _memory: Option<Tmpfs>,
}

/// Bounds what one context may hold (a tar bomb is refused).
pub const MAX_CONTEXT_SIZE: u64 = 16 << 30;

/// A context whose tar is at most this large is held in memory and
/// unpacked into a tmpfs of its own; a larger one goes to disk.
pub const IN_MEMORY_CONTEXT_SIZE: u64 = 32 << 20;

// ANCHOR: tmpfs
/// A tmpfs mounted on a directory of the build's, unmounted when dropped.
///
/// Creating files is what unpacking a context does, and on a disk file
/// system each creation goes through the journal: on a busy host, 200
/// small files took 100-400 ms, most of a cached rebuild, and deleting
/// them as long again. In memory it takes a few milliseconds, and the
/// unmount frees everything at once.
#[derive(Debug)]
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `bytes` (mode 0700, like the directory) on `dir`.
    fn mount(dir: &Path, bytes: u64) -> nix::Result<Tmpfs> {
        let options = format!("size={bytes},mode=0700");
        nix::mount::mount(
            Some("tmpfs"),
            dir,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            Some(options.as_str()),
        )?;
        Ok(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        unmount_scratch(&self.0);
    }
}
// ANCHOR_END: tmpfs

/// Detaches what is mounted on `dir` (nothing if nothing is), never
/// following a symlink: a context's tmpfs, also one a build killed midway
/// left.
pub(crate) fn unmount_scratch(dir: &Path) {
    use nix::mount::MntFlags;
    nix::mount::umount2(dir, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW).ok();
}

// ANCHOR: check_archive
/// Checks every entry of a context tar (a hardlink's target too); returns
/// the room a tmpfs needs to hold it unpacked (each entry rounded up to
/// whole pages, plus one for its inode), `None` when an entry may unpack
/// larger than the tar (a sparse file).
fn check_archive(archive: impl Read, shown: &Path) -> Result<Option<u64>> {
    let mut archive = tar::Archive::new(archive);
    let mut room = Some(1 << 20);
    for entry in archive.entries().ctx("read the build context", shown)? {
        let entry = entry.ctx("read the build context", shown)?;
        let kind = entry.header().entry_type();
        check_entry(&entry.path_bytes(), kind)?;
        if kind.is_hard_link() {
            if let Some(target) = entry.link_name_bytes() {
                check_entry(&target, tar::EntryType::Regular)?;
            }
        }
        let pages = entry.size().div_ceil(4096) + 1;
        room = match kind {
            tar::EntryType::GNUSparse => None,
            _ => room.map(|r| r + pages * 4096),
        };
    }
    Ok(room)
}
// ANCHOR_END: check_archive

impl Context {
    // ANCHOR: receive
    // ANCHOR: receive_spool
    /// Receives a context tar (plain or gzip) into `dir` (which must not
    /// exist yet, and is made mode 0700). Checks every entry before
    /// unpacking anything.
    pub fn receive(body: impl Read, dir: &Path) -> Result<Context> {
        Context::receive_within(body, dir, IN_MEMORY_CONTEXT_SIZE)
    }

    /// [`Context::receive`], holding a tar of up to `memory` bytes in
    /// memory.
    fn receive_within(body: impl Read, dir: &Path, memory: u64) -> Result<Context> {
        fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .ctx("create build directory", dir)?;
        // The tar is read twice (check, then unpack), and a client's stream
        // can be read only once: it is kept in memory when small, else
        // spooled to a private file.
        let mut input = BufReader::with_capacity(1 << 20, body);
        let head = input
            .fill_buf()
            .ctx("read the build context", "<request body>")?;
        let mut plain: Box<dyn Read> = if head.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::bufread::MultiGzDecoder::new(input))
        } else {
            Box::new(input)
        };
        let mut small = Vec::new();
        (&mut plain)
            .take(memory + 1)
            .read_to_end(&mut small)
            .ctx("read the build context", "<request body>")?;
        if small.len() as u64 <= memory {
            // Unpacked in a tmpfs of its own, sized to what it holds, if
            // one can be mounted; else on disk like a large one.
            if let Some(room) = check_archive(&small[..], dir)? {
                if let Ok(memory) = Tmpfs::mount(dir, room) {
                    let root = Context::unpack(dir, &mut &small[..])?;
                    return Context::ready(root, Some(memory));
                }
            }
        }
        let spool_path = dir.join("context.tar");
        let mut spool = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&spool_path)
            .ctx("create", &spool_path)?;
        spool.write_all(&small).ctx("write", &spool_path)?;
        let rest = (MAX_CONTEXT_SIZE + 1).saturating_sub(small.len() as u64);
        let size = small.len() as u64
            + io::copy(&mut (&mut plain).take(rest), &mut spool)
                .ctx("read the build context", &spool_path)?;
        drop(small);
        if size > MAX_CONTEXT_SIZE {
            return Err(Error::ContextTooLarge(MAX_CONTEXT_SIZE));
        }
        // ANCHOR_END: receive_spool
        // ANCHOR: receive_check
        spool.seek(SeekFrom::Start(0)).ctx("rewind", &spool_path)?;
        check_archive(&spool, &spool_path)?;
        spool.seek(SeekFrom::Start(0)).ctx("rewind", &spool_path)?;
        let root = Context::unpack(dir, &mut spool)?;
        drop(spool);
        fs::remove_file(&spool_path).ctx("remove", &spool_path)?;
        Context::ready(root, None)
    }

    /// Unpacks the checked tar `archive` into `DIR/context`; returns that
    /// directory.
    fn unpack(dir: &Path, archive: &mut dyn Read) -> Result<PathBuf> {
        let root = dir.join("context");
        fs::DirBuilder::new()
            .mode(0o755)
            .create(&root)
            .ctx("create", &root)?;
        // Chapter 2's extractor: resolves every path inside `root` and
        // never writes through a symlink. The directory is the build's
        // own and deleted after it (or when the builder next starts, after
        // a crash): no staging, no flush to disk. A cached rebuild does
        // little else, and a `syncfs` on a busy host took most of its time.
        minidock_images::copy::extract_into_scratch_dir(&root, archive, (0, 0)).map_err(|e| {
            Error::Context {
                entry: "<archive>".into(),
                reason: e.to_string(),
            }
        })?;
        Ok(root)
    }

    /// The context unpacked in `root`, with its `.dockerignore`.
    fn ready(root: PathBuf, memory: Option<Tmpfs>) -> Result<Context> {
        let ignore = match fs::read_to_string(root.join(".dockerignore")) {
            Ok(text) => Ignore::parse(&text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ignore::default(),
            Err(e) => return Err(e).ctx("read", root.join(".dockerignore")),
        };
        Ok(Context {
            root,
            ignore,
            _memory: memory,
        })
    }
    // ANCHOR_END: receive_check
    // ANCHOR_END: receive

    /// The directory the context is unpacked in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `.dockerignore` rules of this context.
    pub fn ignore(&self) -> &Ignore {
        &self.ignore
    }

    /// Reads the Dockerfile `name` (a path in the context), never through
    /// a symlink that leads outside it.
    pub fn read_dockerfile(&self, name: &str) -> Result<String> {
        let path = crate::copy::resolve_in_root(&self.root, name).map_err(|reason| {
            Error::NoDockerfile {
                name: name.to_string(),
                reason: reason.to_string(),
            }
        })?;
        let mut text = String::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(|e| Error::NoDockerfile {
                name: name.to_string(),
                reason: e.to_string(),
            })?;
        Ok(text)
    }
}

use std::os::unix::fs::DirBuilderExt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_checked() {
        assert!(check_entry(b"a/b", tar::EntryType::Regular).is_ok());
        assert!(check_entry(b"./a/", tar::EntryType::Directory).is_ok());
        assert!(check_entry(b"link", tar::EntryType::Symlink).is_ok());
        let err = check_entry(b"/etc/passwd", tar::EntryType::Regular).unwrap_err();
        assert!(err.to_string().contains("\"/etc/passwd\""), "{err}");
        let err = check_entry(b"a/../../x", tar::EntryType::Regular).unwrap_err();
        assert!(err.to_string().contains("`..`"), "{err}");
        let err = check_entry(b"dev/null", tar::EntryType::Char).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        assert!(check_entry(b"p", tar::EntryType::Fifo).is_err());
        assert!(check_entry(b"a..b/c..", tar::EntryType::Regular).is_ok());
    }

    /// Every path below `root`: its type, mode, and content or target.
    fn tree(root: &Path) -> Vec<(String, String)> {
        use std::os::unix::fs::PermissionsExt;
        let mut found = Vec::new();
        let mut todo = vec![PathBuf::new()];
        while let Some(rel) = todo.pop() {
            let path = root.join(&rel);
            let meta = fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            let what = if meta.is_dir() {
                for e in fs::read_dir(&path).unwrap() {
                    todo.push(rel.join(e.unwrap().file_name()));
                }
                format!("dir {mode:o}")
            } else if meta.is_symlink() {
                format!("link {mode:o} {}", fs::read_link(&path).unwrap().display())
            } else {
                format!("file {mode:o} {:?}", fs::read(&path).unwrap())
            };
            found.push((rel.display().to_string(), what));
        }
        found.sort();
        found
    }

    /// Whether something is mounted on `dir`.
    fn mounted(dir: &Path) -> bool {
        let dir = dir.to_str().unwrap();
        fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(dir))
    }

    #[test]
    fn a_small_context_is_unpacked_in_memory_like_a_large_one_on_disk() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut add = |name: &str, kind: tar::EntryType, mode: u32, data: &[u8], link: &str| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_mode(mode);
            h.set_mtime(1_700_000_000);
            h.set_uid(0);
            h.set_gid(0);
            h.set_size(data.len() as u64);
            if link.is_empty() {
                tar.append_data(&mut h, name, data).unwrap();
            } else {
                tar.append_link(&mut h, name, link).unwrap();
            }
        };
        add(
            "Dockerfile",
            tar::EntryType::Regular,
            0o644,
            b"FROM scratch\n",
            "",
        );
        add("src/", tar::EntryType::Directory, 0o750, b"", "");
        add(
            "src/run.sh",
            tar::EntryType::Regular,
            0o4755,
            b"#!/bin/sh\n",
            "",
        );
        add(
            "deep/er/file",
            tar::EntryType::Regular,
            0o600,
            &[7; 5000],
            "",
        );
        add("out", tar::EntryType::Symlink, 0o777, b"", "/etc");
        add("same", tar::EntryType::Link, 0o644, b"", "Dockerfile");
        add(
            ".dockerignore",
            tar::EntryType::Regular,
            0o644,
            b"deep\n",
            "",
        );
        let tar = tar.into_inner().unwrap();

        let dir = tempfile::tempdir().unwrap();
        let in_memory = Context::receive(&tar[..], &dir.path().join("memory")).unwrap();
        assert!(mounted(&dir.path().join("memory")), "not in a tmpfs");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        let on_disk = Context::receive_within(&gz[..], &dir.path().join("disk"), 0).unwrap();
        assert!(!mounted(&dir.path().join("disk")));
        assert!(!dir.path().join("disk/context.tar").exists());
        assert_eq!(tree(in_memory.root()), tree(on_disk.root()));
        assert!(in_memory.ignore().excluded("deep/er/file"));
        assert!(on_disk.ignore().excluded("deep/er/file"));
        drop(in_memory);
        assert!(!mounted(&dir.path().join("memory")), "left mounted");

        // a refused entry unmounts the tmpfs too
        let mut bad = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        bad.append_link(&mut h, "up", "/").unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        bad.append_data(&mut h, "up/x", &b"x"[..]).unwrap();
        let err = Context::receive(&bad.into_inner().unwrap()[..], &dir.path().join("bad"));
        let err = err.unwrap_err().to_string();
        assert!(err.contains("up/x"), "{err}");
        assert!(!mounted(&dir.path().join("bad")), "left mounted");
    }
}
