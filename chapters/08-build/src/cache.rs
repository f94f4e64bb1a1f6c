//! The build cache, as the classic builder keeps it.
//!
//! Every step of a build starts from an image (its *parent*) and makes a
//! new one. If a step with the same parent and the same instruction ran
//! before, its result is already in the store: the step is skipped and
//! the build says `---> Using cache`. The key is therefore
//!
//! ```text
//! sha256( parent image id , instruction as it ran , content hash )
//! ```
//!
//! where the instruction is written after variable expansion (so a
//! changed `--build-arg` used by a RUN makes a new key) and the content
//! hash is only there for COPY and ADD (see [`crate::copy`]): the files may
//! change while the Dockerfile does not. Chained through the parent, one
//! changed step invalidates exactly the steps after it.
//!
//! The index lives in `ROOT/builder/cache.json`, written whole (temporary
//! file, fsync, rename) under a lock, so it survives restarts and two
//! builds never lose each other's entries. A hit is only trusted when the
//! image it names is still in the store.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, IoContext, Result};

// ANCHOR: key
/// The cache key of a step.
pub fn key(parent: &str, instruction: &str, content: Option<&str>) -> String {
    // exercise 8.7 cache-key: hash what makes a step's result: its parent, its instruction, its content.
    // hint: two steps may share a key only if they would make the same image
    // hint: separate the parts unambiguously (a NUL byte cannot appear in any of them)
    // hint: a SHA-256 hasher (the sha2 crate) takes the parts one `update` at a time; its digest, in hex, is the key
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(parent.as_bytes());
    hasher.update([0]);
    hasher.update(instruction.as_bytes());
    hasher.update([0]);
    hasher.update(content.unwrap_or("").as_bytes());
    hex::encode(hasher.finalize())
    // end exercise
}
// ANCHOR_END: key

// ANCHOR: cache_types
/// The cache index of one engine root.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// The index: step keys → images, and each step image → its parent.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Index {
    steps: BTreeMap<String, String>,
    #[serde(default)]
    parents: BTreeMap<String, String>,
}
// ANCHOR_END: cache_types

impl Cache {
    /// Opens (creating) `ROOT/builder/`.
    pub fn open(root: &Path) -> Result<Cache> {
        let dir = root.join("builder");
        fs::create_dir_all(&dir).ctx("create", &dir)?;
        Ok(Cache { dir })
    }

    /// The directory (`ROOT/builder`), where builds also keep their
    /// temporary files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn index_path(&self) -> PathBuf {
        self.dir.join("cache.json")
    }

    // ANCHOR: cache_rw
    fn lock(&self) -> Result<Flock<File>> {
        let path = self.dir.join("cache.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .ctx("open", &path)?;
        Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| Error::Lock { path, errno })
    }

    fn read(&self) -> Result<Index> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| Error::CacheDamaged { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(e).ctx("read", path),
        }
    }

    fn write(&self, index: &Index) -> Result<()> {
        let path = self.index_path();
        let tmp = self.dir.join("cache.json.tmp");
        let mut file = File::create(&tmp).ctx("create", &tmp)?;
        file.write_all(&serde_json::to_vec_pretty(index).expect("JSON serialises"))
            .and_then(|()| file.sync_all())
            .ctx("write", &tmp)?;
        fs::rename(&tmp, &path).ctx("rename into place", &path)
    }

    // ANCHOR_END: cache_rw
    /// The image a step with this key made, if it is recorded.
    // ANCHOR: cache_get_put
    pub fn get(&self, key: &str) -> Result<Option<String>> {
        let _lock = self.lock()?;
        Ok(self.read()?.steps.get(key).cloned())
    }

    /// Records the image a step made on `parent` (empty: `scratch`).
    pub fn put(&self, key: &str, image: &str, parent: &str) -> Result<()> {
        let _lock = self.lock()?;
        let mut index = self.read()?;
        index.steps.insert(key.to_string(), image.to_string());
        if !parent.is_empty() && parent != image {
            index.parents.insert(image.to_string(), parent.to_string());
        }
        self.write(&index)
    }
    // ANCHOR_END: cache_get_put

    /// The images that are the parent of another step's image: a build's
    /// intermediate images, which `docker images` does not list.
    pub fn parents(&self) -> Result<Vec<String>> {
        let _lock = self.lock()?;
        let mut parents: Vec<String> = self.read()?.parents.into_values().collect();
        parents.sort();
        parents.dedup();
        Ok(parents)
    }

    /// Every entry: step key → the image the step made.
    pub fn steps(&self) -> Result<BTreeMap<String, String>> {
        let _lock = self.lock()?;
        Ok(self.read()?.steps)
    }

    /// Each step image → the image its step started from.
    pub fn parent_map(&self) -> Result<BTreeMap<String, String>> {
        let _lock = self.lock()?;
        Ok(self.read()?.parents)
    }

    /// Every recorded image id (with repetitions removed).
    pub fn images(&self) -> Result<Vec<String>> {
        let _lock = self.lock()?;
        let mut images: Vec<String> = self.read()?.steps.into_values().collect();
        images.sort();
        images.dedup();
        Ok(images)
    }
    // ANCHOR: cache_retain

    /// Forgets entries for which `keep` says no; returns how many went.
    pub fn retain(&self, mut keep: impl FnMut(&str) -> bool) -> Result<usize> {
        let _lock = self.lock()?;
        let mut index = self.read()?;
        let before = index.steps.len();
        index.steps.retain(|_, image| keep(image));
        index.parents.retain(|image, _| keep(image));
        self.write(&index)?;
        Ok(before - index.steps.len())
    }
}
// ANCHOR_END: cache_retain

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_every_part() {
        let k = key("sha256:a", "RUN x", None);
        assert_eq!(k, key("sha256:a", "RUN x", None));
        assert_ne!(k, key("sha256:b", "RUN x", None));
        assert_ne!(k, key("sha256:a", "RUN y", None));
        assert_ne!(k, key("sha256:a", "RUN x", Some("h")));
        assert_ne!(key("a", "bc", None), key("ab", "c", None));
    }

    #[test]
    fn survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        cache.put("k1", "sha256:i1", "sha256:p").unwrap();
        let again = Cache::open(dir.path()).unwrap();
        assert_eq!(again.get("k1").unwrap().as_deref(), Some("sha256:i1"));
        assert_eq!(again.get("k2").unwrap(), None);
        assert_eq!(again.parents().unwrap(), vec!["sha256:p".to_string()]);
        assert_eq!(again.retain(|_| false).unwrap(), 1);
        assert!(again.images().unwrap().is_empty());
    }
}
