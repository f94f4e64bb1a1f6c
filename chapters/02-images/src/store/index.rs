//! The index: `images/repositories.json`, the registered images (by
//! manifest digest) and the tags that point at them, read whole and
//! replaced whole under a lock.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::str::FromStr;

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::id::ImageId;
use super::{sync_dir, Store};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;
// ANCHOR: index_types

/// The store's list of images and tags.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Index {
    /// Registered images, by manifest digest.
    pub(super) images: BTreeMap<Digest, Record>,
    /// Full reference (`docker.io/library/busybox:latest`) → manifest digest.
    pub(super) tags: BTreeMap<String, Digest>,
}

/// What the store needs to know about an image without reading its blobs.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Record {
    pub(super) id: ImageId,
    /// Diff-ids, bottom first.
    pub(super) layers: Vec<Digest>,
    /// Every blob the image owns: manifest, config, layers, and the index
    /// it was chosen from, if any.
    pub(super) blobs: Vec<Digest>,
    /// The index (multi-platform image) it was registered from, if any:
    /// `busybox@sha256:<index>` names it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) index: Option<Digest>,
}
// ANCHOR_END: index_types

pub(super) const INDEX_FILE: &str = "repositories.json";

impl Store {
    pub(super) fn index_path(&self) -> PathBuf {
        self.images_dir().join(INDEX_FILE)
    }
    // ANCHOR: index_update

    pub(super) fn read_index(&self) -> Result<Index> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Io {
                op: "parse image index",
                path,
                source: io::Error::new(io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(e).ctx("read image index", path),
        }
    }

    /// Read-modify-write of the index under an exclusive lock; the new
    /// index replaces the old one atomically (and only if `f` succeeded).
    pub(super) fn update_index<T>(&self, f: impl FnOnce(&mut Index) -> Result<T>) -> Result<T> {
        let _lock = self.lock_index()?;
        let mut index = self.read_index()?;
        let result = f(&mut index)?;
        self.write_index(&index)?;
        Ok(result)
    }
    // ANCHOR_END: index_update
    // ANCHOR: index_write

    /// Takes the index's exclusive lock, held until the value is dropped.
    pub(super) fn lock_index(&self) -> Result<Flock<File>> {
        let lock_path = self.images_dir().join("lock");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .ctx("open image index lock", &lock_path)?;
        Flock::lock(lock_file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| errno)
            .ctx("lock image index", &lock_path)
    }

    /// Replaces the index atomically; hold [`Store::lock_index`].
    pub(super) fn write_index(&self, index: &Index) -> Result<()> {
        let path = self.index_path();
        let tmp = self.images_dir().join(format!("{INDEX_FILE}.tmp"));
        let json = serde_json::to_vec_pretty(index).expect("the index serialises");
        let mut file = File::create(&tmp).ctx("write image index", &tmp)?;
        file.write_all(&json).ctx("write image index", &tmp)?;
        file.sync_all().ctx("fsync image index", &tmp)?;
        crate::failpoint::hit("index-before-rename");
        fs::rename(&tmp, &path).ctx("replace image index", &path)?;
        sync_dir(&self.images_dir())
    }
    // ANCHOR_END: index_write
}

/// Finds the manifest digest of an image by name, id or digest.
pub(super) fn find(index: &Index, name_or_id: &str) -> Result<Digest> {
    let not_found = || {
        Error::NoSuchImage(match Reference::parse(name_or_id) {
            Ok(r) => r.familiar(),
            Err(_) => name_or_id.to_string(),
        })
    };
    // A manifest digest, or the digest of the index it came from.
    let by_digest = |d: &Digest| {
        if index.images.contains_key(d) {
            return Some(d.clone());
        }
        index
            .images
            .iter()
            .find(|(_, r)| r.index.as_ref() == Some(d))
            .map(|(m, _)| m.clone())
    };
    // A full digest: an image id, a manifest or index digest.
    if let Ok(d) = Digest::from_str(name_or_id) {
        return by_digest(&d)
            .or_else(|| by_id(index, |id| id.digest() == &d))
            .ok_or_else(not_found);
    }
    // A reference: a tag, or a name pinned by digest.
    if let Ok(r) = Reference::parse(name_or_id) {
        if let Some(d) = r.digest() {
            if let Some(m) = by_digest(d) {
                return Ok(m);
            }
        } else if let Some(d) = index.tags.get(&r.to_string()) {
            return Ok(d.clone());
        }
    }
    // A prefix of an id's hex, as `docker images` prints them.
    let hex = name_or_id.strip_prefix("sha256:").unwrap_or(name_or_id);
    if !hex.is_empty() && hex.len() <= 64 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    {
        let ids: BTreeSet<&ImageId> = index
            .images
            .values()
            .map(|r| &r.id)
            .filter(|id| id.digest().hex().starts_with(hex))
            .collect();
        if ids.len() > 1 {
            return Err(Error::Conflict(format!(
                "image id prefix {hex:?} is ambiguous: it matches {} images",
                ids.len()
            )));
        }
        if let Some(id) = ids.into_iter().next() {
            let id = id.clone();
            return by_id(index, |i| *i == id).ok_or_else(not_found);
        }
    }
    Err(not_found())
}

pub(super) fn by_id(index: &Index, matches: impl Fn(&ImageId) -> bool) -> Option<Digest> {
    index
        .images
        .iter()
        .find(|(_, r)| matches(&r.id))
        .map(|(m, _)| m.clone())
}
