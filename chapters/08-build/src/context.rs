//! The build context: the files a build may COPY, sent as a tar.
//!
//! `docker build .` tars the directory `.` and sends it to the daemon with
//! the request. The daemon unpacks it into a private directory and COPY
//! reads from there. The tar comes from a client, so it is input to
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
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
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
}

/// Bounds what one context may hold (a tar bomb is refused).
pub const MAX_CONTEXT_SIZE: u64 = 16 << 30;

impl Context {
    // ANCHOR: receive
    // ANCHOR: receive_spool
    /// Receives a context tar (plain or gzip) into `dir` (which must not
    /// exist yet, and is made mode 0700). Checks every entry before
    /// unpacking anything.
    pub fn receive(body: impl Read, dir: &Path) -> Result<Context> {
        fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .ctx("create build directory", dir)?;
        // Spooled first: the tar is read twice (check, then unpack), and a
        // client's stream can be read only once.
        let spool_path = dir.join("context.tar");
        let mut spool = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&spool_path)
            .ctx("create", &spool_path)?;
        let mut input = BufReader::with_capacity(1 << 20, body);
        let head = input
            .fill_buf()
            .ctx("read the build context", "<request body>")?;
        let mut plain: Box<dyn Read> = if head.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::bufread::MultiGzDecoder::new(input))
        } else {
            Box::new(input)
        };
        let size = io::copy(&mut (&mut plain).take(MAX_CONTEXT_SIZE + 1), &mut spool)
            .ctx("read the build context", &spool_path)?;
        if size > MAX_CONTEXT_SIZE {
            return Err(Error::ContextTooLarge(MAX_CONTEXT_SIZE));
        }
        // ANCHOR_END: receive_spool
        // ANCHOR: receive_check
        spool.seek(SeekFrom::Start(0)).ctx("rewind", &spool_path)?;
        let mut archive = tar::Archive::new(&spool);
        for entry in archive
            .entries()
            .ctx("read the build context", &spool_path)?
        {
            let entry = entry.ctx("read the build context", &spool_path)?;
            check_entry(&entry.path_bytes(), entry.header().entry_type())?;
            if entry.header().entry_type().is_hard_link() {
                if let Some(target) = entry.link_name_bytes() {
                    check_entry(&target, tar::EntryType::Regular)?;
                }
            }
        }
        let root = dir.join("context");
        fs::DirBuilder::new()
            .mode(0o755)
            .create(&root)
            .ctx("create", &root)?;
        spool.seek(SeekFrom::Start(0)).ctx("rewind", &spool_path)?;
        // Chapter 2's extractor: resolves every path inside `root` and
        // never writes through a symlink. The directory is the build's
        // own and deleted after it (or when the builder next starts, after
        // a crash): no staging, no flush to disk. A cached rebuild does
        // little else, and a `syncfs` on a busy host took most of its time.
        minidock_images::copy::extract_into_scratch_dir(&root, &mut spool, (0, 0)).map_err(
            |e| Error::Context {
                entry: "<archive>".into(),
                reason: e.to_string(),
            },
        )?;
        drop(spool);
        fs::remove_file(&spool_path).ctx("remove", &spool_path)?;
        let ignore = match fs::read_to_string(root.join(".dockerignore")) {
            Ok(text) => Ignore::parse(&text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ignore::default(),
            Err(e) => return Err(e).ctx("read", root.join(".dockerignore")),
        };
        Ok(Context { root, ignore })
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
}
