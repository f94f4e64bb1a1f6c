//! Keeping the store whole: an unreadable index is rebuilt, and what no
//! image references is collected.
//!
//! Two things can go wrong that the write discipline of the store (verify,
//! then rename into place) cannot prevent on its own:
//!
//! - the index (`images/repositories.json`) can be damaged from outside (a
//!   disk that lies about fsync, an editor). Every image command would then
//!   fail, so [`Store::recover_index`] rebuilds it from the blobs: every
//!   manifest whose config and unpacked layers are there is registered
//!   again (tags cannot be recovered: the images come back untagged, as
//!   Docker's dangling images). The damaged file is moved to
//!   `ROOT/quarantine/` for a person to look at;
//! - a pull or a load that fails or is killed leaves what it wrote so far:
//!   a partial blob in `ingest/`, a half-unpacked layer in
//!   `layers/<hex>.tmp-*`, and whole blobs and layers that no image was
//!   registered with. [`Store::sweep`] deletes all of it. It must not run
//!   while a pull or load writes to the store (the engine makes sure);
//!   partial blobs that a writer still holds locked are skipped anyway.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::id::image_id;
use super::images::{diff_ids, parse_config};
use super::index::{Index, Record, INDEX_FILE};
use super::Store;
use crate::digest::Digest;
use crate::error::{IoContext, Result};

/// What [`Store::recover_index`] did with an index it could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRecovery {
    /// Why the index could not be read.
    pub reason: String,
    /// Where the damaged index was moved.
    pub moved_to: PathBuf,
    /// How many images were registered again from the blobs.
    pub rebuilt: usize,
}

/// What [`Store::sweep`] deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Paths deleted, relative to the store root.
    pub removed: Vec<String>,
    /// Bytes freed.
    pub bytes: u64,
}

/// Blobs larger than this are layers, not manifests: not read when
/// looking for manifests.
const MAX_MANIFEST: u64 = 4 << 20;

impl Store {
    // ANCHOR: recover_index_store
    /// Checks that the index can be read; if not, moves it to
    /// `ROOT/quarantine/` and registers again every image whose manifest,
    /// config and unpacked layers are in the store. `Ok(None)` when the
    /// index was fine.
    pub fn recover_index(&self) -> Result<Option<IndexRecovery>> {
        let _lock = self.lock_index()?;
        let reason = match self.read_index() {
            Ok(_) => return Ok(None),
            Err(e) => e.to_string(),
        };
        let quarantine = self.root().join("quarantine");
        super::create_private_dir(&quarantine).ctx("create", &quarantine)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let moved_to = quarantine.join(format!("image-index-{INDEX_FILE}-{stamp}"));
        let path = self.index_path();
        fs::rename(&path, &moved_to).ctx("move to the quarantine", &path)?;
        let index = self.index_from_blobs()?;
        let rebuilt = index.images.len();
        self.write_index(&index)?;
        Ok(Some(IndexRecovery {
            reason,
            moved_to,
            rebuilt,
        }))
    }
    // ANCHOR_END: recover_index_store

    // ANCHOR: index_from_blobs
    /// An index of every complete image the blobs hold, untagged.
    fn index_from_blobs(&self) -> Result<Index> {
        let mut index = Index::default();
        let dir = self.root().join("blobs/sha256");
        for entry in fs::read_dir(&dir).ctx("read", &dir)?.flatten() {
            let small = entry.metadata().is_ok_and(|m| m.len() <= MAX_MANIFEST);
            let Ok(digest) = format!("sha256:{}", entry.file_name().to_string_lossy()).parse()
            else {
                continue;
            };
            if let Some(record) = small.then(|| self.record_of(&digest)).flatten() {
                index.images.insert(digest, record);
            }
        }
        Ok(index)
    }
    // ANCHOR_END: index_from_blobs

    // ANCHOR: record_of
    /// The index record of manifest `digest`, if it is an image manifest
    /// whose config and unpacked layers are all in the store.
    fn record_of(&self, digest: &Digest) -> Option<Record> {
        let value: serde_json::Value =
            serde_json::from_slice(&self.read_blob(digest).ok()?).ok()?;
        let config_digest: Digest = value.get("config")?.get("digest")?.as_str()?.parse().ok()?;
        let layer_blobs = value
            .get("layers")?
            .as_array()?
            .iter()
            .map(|l| l.get("digest")?.as_str()?.parse::<Digest>().ok())
            .collect::<Option<Vec<Digest>>>()?;
        let config_bytes = self.read_blob(&config_digest).ok()?;
        let config = parse_config(&config_digest, &config_bytes).ok()?;
        let layers = diff_ids(&config_digest, &config).ok()?;
        if layers.len() != layer_blobs.len() || !layers.iter().all(|d| self.has_layer(d)) {
            return None;
        }
        let mut blobs = vec![digest.clone(), config_digest];
        blobs.extend(layer_blobs.into_iter().filter(|b| self.has_blob(b)));
        Some(Record {
            id: image_id(&config_bytes),
            layers,
            blobs,
            index: None,
        })
    }
    // ANCHOR_END: record_of

    // ANCHOR: store_sweep
    /// Deletes every temporary (`ingest/*.partial` no writer holds,
    /// `layers/*.tmp-*`, a left-over index temporary) and every blob and
    /// unpacked layer that no registered image references. Call it only
    /// while no pull, load or import writes to the store.
    pub fn sweep(&self) -> Result<Swept> {
        let _lock = self.lock_index()?;
        let index = self.read_index()?;
        let used_blobs: BTreeSet<String> = index
            .images
            .values()
            .flat_map(|r| &r.blobs)
            .map(|d| d.hex().to_string())
            .collect();
        let used_layers: BTreeSet<String> = index
            .images
            .values()
            .flat_map(|r| &r.layers)
            .map(|d| d.hex().to_string())
            .collect();
        let mut swept = Swept::default();
        for entry in read_dir(&self.ingest_dir())? {
            if !locked_by_a_writer(&entry)? {
                self.sweep_one(&entry, &mut swept)?;
            }
        }
        for entry in read_dir(&self.layers_dir())? {
            let name = file_name(&entry);
            if name.contains(".tmp-") || !used_layers.contains(&name) {
                self.sweep_one(&entry, &mut swept)?;
            }
        }
        for entry in read_dir(&self.root().join("blobs/sha256"))? {
            if !used_blobs.contains(&file_name(&entry)) {
                self.sweep_one(&entry, &mut swept)?;
            }
        }
        let tmp = self.images_dir().join(format!("{INDEX_FILE}.tmp"));
        if tmp.exists() {
            self.sweep_one(&tmp, &mut swept)?;
        }
        Ok(swept)
    }
    // ANCHOR_END: store_sweep

    /// Deletes one file or directory tree, counting it in `swept`.
    fn sweep_one(&self, path: &Path, swept: &mut Swept) -> Result<()> {
        let meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).ctx("stat", path),
        };
        let removed = if meta.is_dir() {
            swept.bytes += tree_size(path);
            fs::remove_dir_all(path)
        } else {
            swept.bytes += meta.size();
            fs::remove_file(path)
        };
        match removed {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e).ctx("remove", path),
            _ => {
                let relative = path.strip_prefix(self.root()).unwrap_or(path);
                swept.removed.push(relative.display().to_string());
                Ok(())
            }
        }
    }
}

/// The entries of `dir` (none if it does not exist).
fn read_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries.flatten().map(|e| e.path()).collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).ctx("read", dir),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

// ANCHOR: writer_lock
/// Whether a writer holds the partial blob's lock (a pull in progress).
fn locked_by_a_writer(path: &Path) -> Result<bool> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).ctx("open", path),
    };
    Ok(Flock::lock(file, FlockArg::LockExclusiveNonblock).is_err())
}
// ANCHOR_END: writer_lock

/// Bytes in the files under `dir`, not following links.
fn tree_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in fs::read_dir(&next).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => todo.push(entry.path()),
                Ok(m) if m.is_file() => total += m.size(),
                _ => {}
            }
        }
    }
    total
}
