//! A layer is the diff of a container's upper directory.
//!
//! A RUN step runs in a container whose root is an overlay: the image's
//! layers below, read-only, and an empty *upper* directory on top that
//! receives every write. When the command is done, the upper directory
//! holds exactly what changed — and that is the new layer:
//!
//! ```text
//! upper/                         layer.tar
//!   etc/motd        (new file)   etc/motd
//!   bin/old         (c 0/0)      bin/.wh.old            a whiteout: "deleted"
//!   var/cache/      (opaque)     var/cache/ + var/cache/.wh..wh..opq
//! ```
//!
//! Overlayfs and the image format say "deleted" differently: overlayfs
//! leaves a character device 0/0 where a lower file was removed, and marks
//! a directory that was removed and made again *opaque* with the extended
//! attribute `trusted.overlay.opaque=y`; a layer tar says the same with
//! empty files named `.wh.<name>` and `.wh..wh..opq`. Chapter 2's
//! extractor turns them back into overlayfs's form when it unpacks.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use minidock_images::{layer_media_types, Digest, HashingReader, Store};

use crate::error::{IoContext, Result};

// ANCHOR: is_opaque
/// Whether `dir` is marked opaque by overlayfs.
#[allow(dead_code)] // exercise 8.8 (whiteouts) builds on it
fn is_opaque(dir: &Path) -> bool {
    let Ok(path) = CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    for name in [c"trusted.overlay.opaque", c"user.overlay.opaque"] {
        let mut value = [0u8; 4];
        // SAFETY: path and name are NUL-terminated; the buffer is valid for
        // its length, which is what we pass.
        let n = unsafe {
            libc::lgetxattr(
                path.as_ptr(),
                name.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            )
        };
        if n == 1 && value[0] == b'y' {
            return true;
        }
    }
    false
}
// ANCHOR_END: is_opaque

/// Writes the diff tar of `upper` to `out`.
pub struct DiffWriter<W: Write> {
    builder: tar::Builder<W>,
    /// (device, inode) → the first name of a file with several links.
    links: HashMap<(u64, u64), String>,
}

impl<W: Write> DiffWriter<W> {
    /// A writer to `out`.
    pub fn new(out: W) -> DiffWriter<W> {
        DiffWriter {
            builder: tar::Builder::new(out),
            links: HashMap::new(),
        }
    }

    /// Writes the whole tree `upper` and ends the tar.
    pub fn write_tree(mut self, upper: &Path) -> io::Result<W> {
        self.dir(upper, "")?;
        self.builder.into_inner()
    }

    fn dir(&mut self, real: &Path, prefix: &str) -> io::Result<()> {
        let mut names: Vec<_> = fs::read_dir(real)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort();
        for name in names {
            let path = real.join(&name);
            let name = format!("{prefix}{}", name.to_string_lossy());
            self.entry(&path, &name)?;
        }
        Ok(())
    }

    // ANCHOR: entry
    fn entry(&mut self, real: &Path, name: &str) -> io::Result<()> {
        let meta = fs::symlink_metadata(real)?;
        let kind = meta.file_type();
        let mut header = tar::Header::new_gnu();
        header.set_mode(meta.mode() & 0o7777);
        header.set_uid(u64::from(meta.uid()));
        header.set_gid(u64::from(meta.gid()));
        header.set_mtime(meta.mtime().max(0) as u64);
        header.set_size(0);
        if self.deletion_marks(real, name, &meta, &mut header)? {
            return Ok(());
        }
        if meta.nlink() > 1 && !kind.is_dir() {
            let id = (meta.dev(), meta.ino());
            if let Some(first) = self.links.get(&id) {
                header.set_entry_type(tar::EntryType::Link);
                let first = first.clone();
                return self.builder.append_link(&mut header, name, first);
            }
            self.links.insert(id, name.to_string());
        }
        if kind.is_symlink() {
            header.set_entry_type(tar::EntryType::Symlink);
            let target = fs::read_link(real)?;
            self.builder.append_link(&mut header, name, target)
        } else if kind.is_file() {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(meta.len());
            let file = File::open(real)?;
            self.builder
                .append_data(&mut header, name, io::Read::take(file, meta.len()))
        } else if kind.is_fifo() {
            header.set_entry_type(tar::EntryType::Fifo);
            self.builder.append_data(&mut header, name, io::empty())
        } else if kind.is_char_device() || kind.is_block_device() {
            header.set_entry_type(if kind.is_char_device() {
                tar::EntryType::Char
            } else {
                tar::EntryType::Block
            });
            let rdev = meta.rdev();
            header.set_device_major(libc::major(rdev))?;
            header.set_device_minor(libc::minor(rdev))?;
            self.builder.append_data(&mut header, name, io::empty())
        } else {
            Ok(()) // a socket: not part of an image
        }
    }

    /// Writes what overlayfs marks as deleted (a whiteout device, an opaque
    /// directory) in the image format's way; `true` when `real` was one
    /// (for an opaque directory: after writing it and what is below).
    fn deletion_marks(
        &mut self,
        real: &Path,
        name: &str,
        meta: &fs::Metadata,
        header: &mut tar::Header,
    ) -> io::Result<bool> {
        // exercise 8.8 whiteouts: turn overlayfs's marks of deletion into the image format's.
        // hint: a character device 0/0 in the upper directory is a deleted path: write `.wh.<name>` in its directory
        // hint: a directory marked opaque gets, after its own entry, an entry `<dir>/.wh..wh..opq`
        // hint: whiteouts are empty regular files; a helper in this module reads the opaque mark, and a deletion's device number is 0/0
        let kind = meta.file_type();
        if kind.is_char_device() && meta.rdev() == 0 {
            let (dir, base) = match name.rsplit_once('/') {
                Some((d, b)) => (format!("{d}/"), b),
                None => (String::new(), name),
            };
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            self.builder
                .append_data(header, format!("{dir}.wh.{base}"), io::empty())?;
            return Ok(true);
        }
        if kind.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            self.builder.append_data(header, name, io::empty())?;
            if is_opaque(real) {
                let mut wh = tar::Header::new_gnu();
                wh.set_entry_type(tar::EntryType::Regular);
                wh.set_mode(0o644);
                wh.set_uid(0);
                wh.set_gid(0);
                wh.set_mtime(0);
                wh.set_size(0);
                self.builder
                    .append_data(&mut wh, format!("{name}/.wh..wh..opq"), io::empty())?;
            }
            self.dir(real, &format!("{name}/"))?;
            return Ok(true);
        }
        Ok(false)
        // end exercise
    }
    // ANCHOR_END: entry
}

/// A layer in the store: its blob and what it unpacks to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerRef {
    /// The compressed blob.
    pub digest: Digest,
    /// The blob's size.
    pub size: u64,
    /// Its media type.
    pub media_type: String,
    /// The digest of the uncompressed tar.
    pub diff_id: Digest,
}

// ANCHOR: commit_layer
/// Turns `upper` into a gzip layer blob in the store (the tar is spooled in
/// `tmp`). The layer is unpacked when the image that uses it is registered.
pub fn commit_layer(store: &Store, upper: &Path, tmp: &Path) -> Result<LayerRef> {
    let mut spool = tempfile::tempfile_in(tmp).ctx("create a temporary file in", tmp)?;
    DiffWriter::new(&mut spool)
        .write_tree(upper)
        .ctx("write the layer of", upper)?;
    io::Seek::rewind(&mut spool).ctx("rewind the layer of", upper)?;
    // One pass: the plain tar is hashed (diff-id) and compressed (blob).
    let hashing = HashingReader::new(spool, u64::MAX);
    let mut gzip = flate2::read::GzEncoder::new(hashing, flate2::Compression::fast());
    let (digest, size) = store.put_blob_reader(&mut gzip)?;
    let (diff_id, _) = gzip.into_inner().finish().ctx("hash the layer of", upper)?;
    Ok(LayerRef {
        digest,
        size,
        media_type: layer_media_types::OCI_LAYER_GZIP.to_string(),
        diff_id,
    })
}
// ANCHOR_END: commit_layer
