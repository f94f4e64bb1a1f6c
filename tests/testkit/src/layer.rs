//! Image layers from a declarative list of entries.
//!
//! A layer is a tar archive of file-system changes. Tests describe the
//! changes they want (files, directories, links, whiteouts) and this module
//! writes the bytes with the `tar` crate, independently of minidock's own
//! code, so the layer is a fair input for minidock's unpacker.

use std::io::Write;

/// Modification time written into every tar header: fixed, so the same
/// entries always give the same bytes and therefore the same digest.
pub const LAYER_MTIME: u64 = 1_700_000_000;

/// How a layer blob is compressed. Images in the wild use all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar (`application/vnd.oci.image.layer.v1.tar`).
    None,
    /// gzip, the classic Docker layer (`…tar+gzip`).
    Gzip,
    /// zstd, newer and faster (`…tar+zstd`).
    Zstd,
}

impl Compression {
    /// The OCI media type of a layer compressed this way.
    pub fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// Compresses an uncompressed tar.
    pub fn compress(self, tar: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => tar.to_vec(),
            Compression::Gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(tar).expect("gzip into memory");
                enc.finish().expect("gzip into memory")
            }
            Compression::Zstd => zstd::encode_all(tar, 3).expect("zstd into memory"),
        }
    }
}

/// One change in a layer. Paths are relative to the root of the image,
/// without a leading `/` (`"etc/passwd"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file with its contents and permission bits (e.g. `0o644`).
    File {
        path: String,
        contents: Vec<u8>,
        mode: u32,
    },
    /// A directory with its permission bits (e.g. `0o755`, `0o1777`).
    Dir { path: String, mode: u32 },
    /// A symbolic link; `target` is stored as is (relative or absolute).
    Symlink { path: String, target: String },
    /// A hard link to `target`, the path of an earlier entry of the same layer.
    Hardlink { path: String, target: String },
    /// Deletes `path` from the layers below: written as `dir/.wh.name`.
    Whiteout { path: String },
    /// Hides everything the layers below have in `dir`: written as
    /// `dir/.wh..wh..opq`.
    Opaque { dir: String },
}

impl Entry {
    /// A regular file.
    pub fn file(path: impl Into<String>, contents: impl Into<Vec<u8>>, mode: u32) -> Entry {
        Entry::File {
            path: path.into(),
            contents: contents.into(),
            mode,
        }
    }
    /// A directory.
    pub fn dir(path: impl Into<String>, mode: u32) -> Entry {
        Entry::Dir {
            path: path.into(),
            mode,
        }
    }
    /// A symbolic link `path -> target`.
    pub fn symlink(path: impl Into<String>, target: impl Into<String>) -> Entry {
        Entry::Symlink {
            path: path.into(),
            target: target.into(),
        }
    }
    /// A hard link `path` to the earlier entry `target`.
    pub fn hardlink(path: impl Into<String>, target: impl Into<String>) -> Entry {
        Entry::Hardlink {
            path: path.into(),
            target: target.into(),
        }
    }
    /// A whiteout deleting `path`.
    pub fn whiteout(path: impl Into<String>) -> Entry {
        Entry::Whiteout { path: path.into() }
    }
    /// An opaque marker for `dir`.
    pub fn opaque(dir: impl Into<String>) -> Entry {
        Entry::Opaque { dir: dir.into() }
    }

    /// The path this entry occupies in the tar (whiteouts included).
    pub fn tar_path(&self) -> String {
        match self {
            Entry::File { path, .. }
            | Entry::Symlink { path, .. }
            | Entry::Hardlink { path, .. } => path.clone(),
            Entry::Dir { path, .. } => format!("{}/", path.trim_end_matches('/')),
            Entry::Whiteout { path } => match path.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/.wh.{name}"),
                None => format!(".wh.{path}"),
            },
            Entry::Opaque { dir } => {
                let dir = dir.trim_end_matches('/');
                if dir.is_empty() {
                    ".wh..wh..opq".to_string()
                } else {
                    format!("{dir}/.wh..wh..opq")
                }
            }
        }
    }
}

/// A layer: its entries, in tar order, and how its blob is compressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSpec {
    pub entries: Vec<Entry>,
    pub compression: Compression,
}

impl LayerSpec {
    /// A layer of `entries` compressed with `compression`.
    pub fn new(compression: Compression, entries: Vec<Entry>) -> LayerSpec {
        LayerSpec {
            entries,
            compression,
        }
    }

    /// The uncompressed tar of this layer (its diff id is the sha256 of it).
    pub fn tar(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for entry in &self.entries {
            append(&mut builder, entry);
        }
        builder.into_inner().expect("finish tar in memory")
    }
}

/// A header with the fields every entry shares: root-owned, fixed mtime.
fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(LAYER_MTIME);
    h
}

fn append(builder: &mut tar::Builder<Vec<u8>>, entry: &Entry) {
    let path = entry.tar_path();
    let fail = |e: std::io::Error| panic!("cannot add {path:?} to a layer tar: {e}");
    match entry {
        Entry::File { contents, mode, .. } => {
            let mut h = header(tar::EntryType::Regular, *mode, contents.len() as u64);
            builder
                .append_data(&mut h, &path, contents.as_slice())
                .unwrap_or_else(fail);
        }
        Entry::Dir { mode, .. } => {
            let mut h = header(tar::EntryType::Directory, *mode, 0);
            builder
                .append_data(&mut h, &path, std::io::empty())
                .unwrap_or_else(fail);
        }
        Entry::Symlink { target, .. } => {
            let mut h = header(tar::EntryType::Symlink, 0o777, 0);
            builder
                .append_link(&mut h, &path, target)
                .unwrap_or_else(fail);
        }
        Entry::Hardlink { target, .. } => {
            let mut h = header(tar::EntryType::Link, 0o644, 0);
            builder
                .append_link(&mut h, &path, target)
                .unwrap_or_else(fail);
        }
        Entry::Whiteout { .. } | Entry::Opaque { .. } => {
            let mut h = header(tar::EntryType::Regular, 0o644, 0);
            builder
                .append_data(&mut h, &path, std::io::empty())
                .unwrap_or_else(fail);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Compression, Entry, LayerSpec};

    #[test]
    fn whiteouts_and_opaque_markers_get_their_tar_names() {
        assert_eq!(Entry::whiteout("etc/passwd").tar_path(), "etc/.wh.passwd");
        assert_eq!(Entry::whiteout("top").tar_path(), ".wh.top");
        assert_eq!(Entry::opaque("var/lib/").tar_path(), "var/lib/.wh..wh..opq");
        assert_eq!(Entry::dir("usr/bin", 0o755).tar_path(), "usr/bin/");
    }

    #[test]
    fn a_layer_is_reproducible_and_compressions_round_trip() {
        let layer = LayerSpec::new(
            Compression::Zstd,
            vec![Entry::file("a", vec![7u8; 3000], 0o600)],
        );
        let tar = layer.tar();
        assert_eq!(tar, layer.tar(), "same entries, different bytes");
        let zstd = Compression::Zstd.compress(&tar);
        assert_eq!(zstd::decode_all(zstd.as_slice()).unwrap(), tar);
        let gzip = Compression::Gzip.compress(&tar);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gzip.as_slice()), &mut out)
            .unwrap();
        assert_eq!(out, tar);
        assert_eq!(Compression::None.compress(&tar), tar);
    }
}
