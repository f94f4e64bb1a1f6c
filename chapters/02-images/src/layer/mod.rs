//! Layers: a compressed tar of file-system changes, unpacked once.
//!
//! A layer blob is (usually) a gzip- or zstd-compressed tar. Its **diff-id**
//! is the SHA-256 of the *uncompressed* tar: the image config lists the
//! diff-ids, so the content a container sees is pinned by the config (and
//! so by the image id), whatever compression carried it.
//!
//! Unpacking streams the blob through the decompressor and a hasher into the
//! tar parser and creates the files (see [`extract`]) in a temporary
//! directory `layers/<hex>.tmp-XXXX`. Only when the whole stream was read
//! and its diff-id checked is the directory renamed to `layers/<diff-id>`:
//! a crash or an error leaves no half layer that looks complete.

mod devices;
mod dirfd;
pub(crate) mod extract;
pub(crate) mod safe;

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::RenameFlags;

use crate::digest::{is_limit_error, Digest, HashingReader};
use crate::error::{Error, IoContext, Result};
use crate::store::Store;
// ANCHOR: compression

/// How a layer blob is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (`application/vnd.oci.image.layer.v1.tar+gzip`, Docker's default).
    Gzip,
    /// zstd (`application/vnd.oci.image.layer.v1.tar+zstd`).
    Zstd,
}

/// Media types of layers.
pub mod media_types {
    /// OCI layer, uncompressed.
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    /// OCI layer, gzip.
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// OCI layer, zstd.
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// Docker layer (always gzip).
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}
// ANCHOR_END: compression

// ANCHOR: compression_sniff
impl Compression {
    /// The compression a layer media type announces. `Ok(None)` for an
    /// empty media type (the legacy `docker save` format has none); an error
    /// for a media type that is not a layer.
    pub fn from_media_type(media_type: &str) -> std::result::Result<Option<Compression>, String> {
        let base = media_type
            .strip_prefix("application/vnd.oci.image.layer.nondistributable.v1.")
            .map(|rest| format!("application/vnd.oci.image.layer.v1.{rest}"))
            .unwrap_or_else(|| media_type.to_string());
        match base.as_str() {
            "" => Ok(None),
            media_types::OCI_LAYER | "application/vnd.docker.image.rootfs.diff.tar" => {
                Ok(Some(Compression::None))
            }
            media_types::OCI_LAYER_GZIP
            | media_types::DOCKER_LAYER_GZIP
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
                Ok(Some(Compression::Gzip))
            }
            media_types::OCI_LAYER_ZSTD => Ok(Some(Compression::Zstd)),
            other => Err(format!("media type {other:?} is not a layer media type")),
        }
    }

    /// Recognises the compression from the first bytes of a blob.
    pub fn sniff(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }
}
// ANCHOR_END: compression_sniff

impl Store {
    /// Unpacks the layer blob `blob` into `layers/<diff-id>/` and returns
    /// its diff-id (the digest of the uncompressed tar).
    ///
    /// Unpacking needs root: layers hold files of any owner, and whiteouts
    /// are device nodes and `trusted.*` extended attributes.
    pub fn unpack_layer(&self, blob: &Digest, media_type: &str) -> Result<Digest> {
        self.unpack(blob, media_type, None)
    }

    /// Like [`Store::unpack_layer`], for a layer whose diff-id is known from
    /// an image config: it is not unpacked again if it already is, and a
    /// blob whose content does not match is refused.
    pub fn unpack_layer_expecting(
        &self,
        blob: &Digest,
        media_type: &str,
        diff_id: &Digest,
    ) -> Result<Digest> {
        self.unpack(blob, media_type, Some(diff_id))
    }

    // ANCHOR: unpack_tmp
    fn unpack(&self, blob: &Digest, media_type: &str, expected: Option<&Digest>) -> Result<Digest> {
        if let Some(diff_id) = expected {
            if self.has_layer(diff_id) {
                return Ok(diff_id.clone());
            }
        }
        let bad = |reason: String| Error::BadLayer {
            layer: blob.clone(),
            reason,
        };
        Compression::from_media_type(media_type).map_err(bad)?;
        let mut reader = BufReader::with_capacity(1 << 20, self.open_blob(blob)?);
        let compression =
            Compression::sniff(reader.fill_buf().ctx("read layer", self.blob_path(blob))?);

        let layers = self.layers_dir();
        let prefix = match expected {
            Some(d) => format!("{}.tmp-", d.hex()),
            None => "unknown.tmp-".to_string(),
        };
        // Removed again (with everything in it) if anything below fails.
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(&layers)
            .ctx("create temporary layer directory", &layers)?;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755))
            .ctx("chmod temporary layer directory", tmp.path())?;
        let root: OwnedFd = File::open(tmp.path())
            .ctx("open temporary layer directory", tmp.path())?
            .into();

        // ANCHOR_END: unpack_tmp
        // ANCHOR: unpack_rename
        let stream: Box<dyn Read> = match compression {
            Compression::None => Box::new(reader),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(reader)
                    .map_err(|e| bad(format!("zstd: {e}")))?,
            ),
        };
        let diff_id = extract_stream(stream, root, blob, expected, self.max_layer_size())?;
        crate::failpoint::hit("layer-before-rename");

        let dest = self.layer_dir(&diff_id);
        match nix::fcntl::renameat2(None, tmp.path(), None, &dest, RenameFlags::RENAME_NOREPLACE) {
            Ok(()) => {
                let _kept = tmp.keep();
                crate::store::sync_dir(&layers)?;
                crate::failpoint::hit("layer-after-rename");
            }
            // Another unpacker of the same layer was faster: keep theirs,
            // ours is removed when `tmp` is dropped.
            Err(Errno::EEXIST) | Err(Errno::ENOTEMPTY) => {}
            Err(e) => return Err(e).ctx("rename layer into place", dest),
        }
        Ok(diff_id)
    }
    // ANCHOR_END: unpack_rename
}

// ANCHOR: extract_stream
/// Extracts an uncompressed tar stream into the directory `root` and
/// returns its diff-id, checking it against `expected` when known.
fn extract_stream(
    stream: impl Read,
    root: OwnedFd,
    blob: &Digest,
    expected: Option<&Digest>,
    limit: u64,
) -> Result<Digest> {
    let read_err = |e: io::Error| {
        if is_limit_error(&e) {
            Error::LayerTooLarge {
                layer: blob.clone(),
                limit,
            }
        } else {
            Error::BadLayer {
                layer: blob.clone(),
                reason: format!("cannot read the layer's tar stream: {e}"),
            }
        }
    };
    let hashing = HashingReader::new(stream, limit);
    let mut archive = tar::Archive::new(BufReader::with_capacity(256 << 10, hashing));
    let mut extractor = extract::Extractor::new(root);
    for entry in archive.entries().map_err(read_err)? {
        let mut entry = entry.map_err(read_err)?;
        extractor.entry(&mut entry).map_err(|e| match e.too_large {
            // The size limit was hit inside an entry's data.
            true => Error::LayerTooLarge {
                layer: blob.clone(),
                limit,
            },
            false => Error::UnsafeEntry {
                layer: blob.clone(),
                entry: e.entry,
                reason: e.reason,
            },
        })?;
    }
    // exercise 2.5 diff-id: finish hashing the uncompressed stream and check it against the expected diff-id.
    // hint: archive.into_inner().into_inner() is the HashingReader; its finish() also reads the tar's trailing padding
    // hint: a mismatch is Error::DiffIdMismatch { layer, expected, actual }
    let hashing = archive.into_inner().into_inner();
    let (diff_id, _size) = hashing.finish().map_err(read_err)?;
    if let Some(expected) = expected {
        if &diff_id != expected {
            return Err(Error::DiffIdMismatch {
                layer: blob.clone(),
                expected: expected.clone(),
                actual: diff_id,
            });
        }
    }
    extractor.finish().map_err(|e| Error::BadLayer {
        layer: blob.clone(),
        reason: format!("{}: {}", e.entry, e.reason),
    })?;
    Ok(diff_id)
    // end exercise
}
// ANCHOR_END: extract_stream

/// Removes an unpacked layer: renamed away first, so it disappears at once
/// and a crash in the middle leaves only a temporary directory.
pub(crate) fn remove_layer_dir(layers: &Path, dir: &Path) -> Result<()> {
    let doomed = tempfile::Builder::new()
        .prefix("removing.tmp-")
        .tempdir_in(layers)
        .ctx("create temporary directory", layers)?;
    let target = doomed.path().join("layer");
    match fs::rename(dir, &target) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).ctx("move layer away for removal", dir),
    }
    let path = doomed.keep();
    fs::remove_dir_all(&path).ctx("remove layer", path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_and_magic() {
        assert_eq!(
            Compression::from_media_type(media_types::OCI_LAYER_GZIP),
            Ok(Some(Compression::Gzip))
        );
        assert_eq!(
            Compression::from_media_type(media_types::DOCKER_LAYER_GZIP),
            Ok(Some(Compression::Gzip))
        );
        assert_eq!(
            Compression::from_media_type(media_types::OCI_LAYER_ZSTD),
            Ok(Some(Compression::Zstd))
        );
        assert_eq!(
            Compression::from_media_type("application/vnd.oci.image.layer.nondistributable.v1.tar"),
            Ok(Some(Compression::None))
        );
        assert_eq!(Compression::from_media_type(""), Ok(None));
        assert!(Compression::from_media_type("application/vnd.oci.image.config.v1+json").is_err());
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"usr/"), Compression::None);
        assert_eq!(Compression::sniff(b""), Compression::None);
    }
}
