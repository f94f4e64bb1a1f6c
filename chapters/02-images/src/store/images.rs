//! Images: a manifest that lists a config and layers, all by digest.
//!
//! ```text
//! manifest ──config──▶ config (cmd, env, …, rootfs.diff_ids = [d1, d2])
//!          ──layers──▶ [blob1, blob2]   (compressed; blob_i unpacks to diff-id d_i)
//! ```
//!
//! The **image id** is the digest of the config. The config lists the
//! diff-ids, so the id pins the exact file content of every layer, however
//! the layers were compressed: the same image pulled with gzip or zstd
//! layers has two manifests but one id.
//!
//! The store keeps one small index (`images/repositories.json`): the
//! registered images (by manifest digest) and the tags that point at them.
//! It is rewritten whole (temporary file, fsync, rename) under a lock, so
//! readers never see half an index and two writers never lose each
//! other's changes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use nix::fcntl::{Flock, FlockArg};
use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};
use serde::{Deserialize, Serialize};

use super::{sync_dir, Store};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;

/// Media types of manifests and configs that this store understands.
pub mod media_types {
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Docker image manifest (schema 2).
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list.
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Docker image config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
}

/// An image id: the digest of the image's config (`docker images` shows its
/// first 12 hex characters).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImageId(pub Digest);

impl ImageId {
    /// The config digest this id is.
    pub fn digest(&self) -> &Digest {
        &self.0
    }

    /// The 12-character short form.
    pub fn short(&self) -> &str {
        self.0.short()
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageId({})", self.0)
    }
}

/// An image of the store, with everything a container needs from it.
#[derive(Clone, Debug)]
pub struct Image {
    /// The image id (digest of the config).
    pub id: ImageId,
    /// The digest of the manifest the image was registered with.
    pub manifest_digest: Digest,
    /// The tags that point at this image.
    pub references: Vec<Reference>,
    /// The manifest.
    pub manifest: ImageManifest,
    /// The config: command, environment, working directory, user, …
    pub config: ImageConfiguration,
    /// The layers' diff-ids, bottom layer first.
    pub layers: Vec<Digest>,
    /// The size of the image's content (config and compressed layers).
    pub size: u64,
    /// When the image was created (RFC 3339), from the config.
    pub created: Option<String>,
}

impl Image {
    /// The unpacked layer directories, bottom layer first.
    pub fn layer_dirs(&self, store: &Store) -> Vec<PathBuf> {
        self.layers.iter().map(|d| store.layer_dir(d)).collect()
    }
}

/// One thing `remove` did, as Docker reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removed {
    /// A tag was removed.
    Untagged(Reference),
    /// An image (and whatever content no other image shares) was deleted.
    Deleted(ImageId),
}

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

pub(super) const INDEX_FILE: &str = "repositories.json";

impl Store {
    /// Registers an image whose manifest, config and layer blobs are in the
    /// store: unpacks its layers (checking each against the diff-id of the
    /// config) and records it. Returns the image id.
    ///
    /// If `manifest_digest` names an index (a multi-platform image), the
    /// manifest for this machine's platform is registered.
    pub fn register_image(&self, manifest_digest: &Digest) -> Result<ImageId> {
        let platform_manifest = self.platform_manifest(manifest_digest)?;
        let manifest = self.read_manifest(&platform_manifest)?;
        let config_digest = Digest::try_from(manifest.config().digest())?;
        let config_bytes = self.read_blob(&config_digest)?;
        let config = parse_config(&config_digest, &config_bytes)?;
        let diff_ids = diff_ids(&config_digest, &config)?;
        if diff_ids.len() != manifest.layers().len() {
            return Err(Error::BadManifest {
                what: "manifest",
                digest: platform_manifest,
                reason: format!(
                    "it lists {} layers but its config lists {} diff-ids",
                    manifest.layers().len(),
                    diff_ids.len()
                ),
            });
        }
        let layers: Vec<(Digest, String, Digest)> = manifest
            .layers()
            .iter()
            .zip(&diff_ids)
            .map(|(desc, diff_id)| {
                Ok((
                    Digest::try_from(desc.digest())?,
                    desc.media_type().to_string(),
                    diff_id.clone(),
                ))
            })
            .collect::<Result<_>>()?;
        for (blob, _, diff_id) in &layers {
            if !self.has_layer(diff_id) && !self.has_blob(blob) {
                return Err(Error::BlobNotFound(blob.clone()));
            }
        }
        self.unpack_all(&layers)?;

        let mut blobs = vec![platform_manifest.clone(), config_digest.clone()];
        blobs.extend(layers.iter().map(|(blob, _, _)| blob.clone()));
        let from_index = (platform_manifest != *manifest_digest).then(|| manifest_digest.clone());
        blobs.extend(from_index.clone());
        let id = image_id(&config_bytes);
        self.update_index(|index| {
            // A remove running at the same time may have deleted a layer we
            // share with the image it removed: make sure all are there.
            for (blob, media_type, diff_id) in &layers {
                self.unpack_layer_expecting(blob, media_type, diff_id)?;
            }
            index.images.insert(
                platform_manifest.clone(),
                Record {
                    id: id.clone(),
                    layers: diff_ids.clone(),
                    blobs: blobs.clone(),
                    index: from_index.clone(),
                },
            );
            Ok(())
        })?;
        Ok(id)
    }

    /// Unpacks layers on as many threads as there are CPUs: decompression is
    /// the slow part, and layers are independent.
    fn unpack_all(&self, layers: &[(Digest, String, Digest)]) -> Result<()> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(layers.len());
        let next = AtomicUsize::new(0);
        let first_error = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((blob, media_type, diff_id)) = layers.get(i) else {
                        return;
                    };
                    if let Err(e) = self.unpack_layer_expecting(blob, media_type, diff_id) {
                        first_error
                            .lock()
                            .expect("no panics while holding it")
                            .get_or_insert(e);
                        next.store(layers.len(), Ordering::Relaxed);
                    }
                });
            }
        });
        match first_error
            .into_inner()
            .expect("no panics while holding it")
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// For an index (multi-platform image), the digest of the manifest for
    /// this machine (`linux` and this CPU); for a manifest, its own digest.
    pub fn platform_manifest(&self, digest: &Digest) -> Result<Digest> {
        let bytes = self.read_blob(digest)?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::BadManifest {
                what: "manifest",
                digest: digest.clone(),
                reason: format!("not JSON: {e}"),
            })?;
        if value.get("manifests").is_none() {
            return Ok(digest.clone());
        }
        let index = ImageIndex::from_reader(&bytes[..]).map_err(|e| Error::BadManifest {
            what: "index",
            digest: digest.clone(),
            reason: e.to_string(),
        })?;
        let arch = host_architecture();
        let found = index.manifests().iter().find(|m| {
            m.platform().as_ref().is_some_and(|p| {
                p.os().to_string() == "linux" && p.architecture().to_string() == arch
            })
        });
        match found {
            Some(m) => Digest::try_from(m.digest()),
            None => Err(Error::BadManifest {
                what: "index",
                digest: digest.clone(),
                reason: format!("it has no manifest for linux/{arch}"),
            }),
        }
    }

    /// Reads and checks an image manifest (OCI or Docker schema 2).
    pub fn read_manifest(&self, digest: &Digest) -> Result<ImageManifest> {
        let bytes = self.read_blob(digest)?;
        let bad = |reason: String| Error::BadManifest {
            what: "manifest",
            digest: digest.clone(),
            reason,
        };
        let manifest = ImageManifest::from_reader(&bytes[..]).map_err(|e| bad(e.to_string()))?;
        if manifest.schema_version() != 2 {
            return Err(bad(format!(
                "schema version {} is not supported (only 2)",
                manifest.schema_version()
            )));
        }
        if let Some(mt) = manifest.media_type() {
            let mt = mt.to_string();
            if mt != media_types::OCI_MANIFEST && mt != media_types::DOCKER_MANIFEST {
                return Err(bad(format!("media type {mt:?} is not an image manifest")));
            }
        }
        let config_type = manifest.config().media_type().to_string();
        if config_type != media_types::OCI_CONFIG && config_type != media_types::DOCKER_CONFIG {
            return Err(bad(format!(
                "config media type {config_type:?} is not an image config"
            )));
        }
        Ok(manifest)
    }

    /// Points `reference` (a tag) at the registered image `manifest_digest`,
    /// moving the tag if it pointed elsewhere.
    pub fn tag(&self, reference: &Reference, manifest_digest: &Digest) -> Result<()> {
        if reference.digest().is_some() {
            return Err(Error::InvalidReference {
                input: reference.to_string(),
                reason: "a tag cannot contain a digest".into(),
            });
        }
        let manifest_digest = self.platform_manifest(manifest_digest)?;
        self.update_index(|index| {
            if !index.images.contains_key(&manifest_digest) {
                return Err(Error::NoSuchImage(manifest_digest.to_string()));
            }
            index
                .tags
                .insert(reference.to_string(), manifest_digest.clone());
            Ok(())
        })
    }

    /// Finds an image by reference (`busybox`, `busybox:1.36`,
    /// `busybox@sha256:…`), by id (`sha256:<hex>`, or a unique prefix of the
    /// hex like `docker images` shows), or by manifest digest.
    pub fn resolve(&self, name_or_id: &str) -> Result<Image> {
        let index = self.read_index()?;
        let manifest = find(&index, name_or_id)?;
        self.image(&index, &manifest)
    }

    /// All images, newest first.
    pub fn list(&self) -> Result<Vec<Image>> {
        let index = self.read_index()?;
        let mut images = index
            .images
            .keys()
            .map(|m| self.image(&index, m))
            .collect::<Result<Vec<_>>>()?;
        images.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(images)
    }

    /// Removes a tag or an image, the way `docker rmi` does:
    ///
    /// - by tag, when the image has other tags: only that tag goes;
    /// - by its last tag, or by id: the image goes, with every blob and
    ///   unpacked layer that no remaining image uses;
    /// - by id when several tags point at it: refused unless `force`.
    ///
    /// An image whose id is in `in_use` (containers use it) is never
    /// deleted: without `force` that is a conflict, with `force` only its
    /// tags are removed.
    pub fn remove(
        &self,
        name_or_id: &str,
        force: bool,
        in_use: &HashSet<ImageId>,
    ) -> Result<Vec<Removed>> {
        self.update_index(|index| {
            let manifest = find(index, name_or_id)?;
            let record = index.images[&manifest].clone();
            let tags: Vec<String> = index
                .tags
                .iter()
                .filter(|(_, m)| **m == manifest)
                .map(|(t, _)| t.clone())
                .collect();
            let by_tag = match Reference::parse(name_or_id) {
                Ok(r) if r.digest().is_none() && tags.contains(&r.to_string()) => Some(r),
                _ => None,
            };
            let mut removed = Vec::new();
            let mut untag = |index: &mut Index, tag: &str| -> Result<()> {
                index.tags.remove(tag);
                removed.push(Removed::Untagged(tag.parse()?));
                Ok(())
            };
            if let Some(r) = &by_tag {
                if tags.len() > 1 {
                    untag(index, &r.to_string())?;
                    return Ok(removed);
                }
            } else if tags.len() > 1 && !force {
                return Err(Error::Conflict(format!(
                    "unable to delete {} (must be forced) - image is referenced in multiple repositories",
                    record.id.short()
                )));
            }
            if in_use.contains(&record.id) {
                if !force {
                    return Err(Error::Conflict(format!(
                        "unable to remove image {} ({name_or_id}): it is used by a container (remove the container first)",
                        record.id.short()
                    )));
                }
                for tag in &tags {
                    untag(index, tag)?;
                }
                return Ok(removed);
            }
            for tag in &tags {
                untag(index, tag)?;
            }
            index.images.remove(&manifest);
            self.collect_garbage(index, &record)?;
            removed.push(Removed::Deleted(record.id));
            Ok(removed)
        })
    }

    /// Deletes the blobs and layers of a removed image that no remaining
    /// image uses (reference counting by scanning: the index is small).
    fn collect_garbage(&self, index: &Index, removed: &Record) -> Result<()> {
        let used_blobs: BTreeSet<&Digest> = index.images.values().flat_map(|r| &r.blobs).collect();
        let used_layers: BTreeSet<&Digest> =
            index.images.values().flat_map(|r| &r.layers).collect();
        for layer in removed.layers.iter().filter(|l| !used_layers.contains(l)) {
            crate::layer::remove_layer_dir(&self.layers_dir(), &self.layer_dir(layer))?;
        }
        for blob in removed.blobs.iter().filter(|b| !used_blobs.contains(b)) {
            self.delete_blob(blob)?;
        }
        Ok(())
    }

    /// Those of `candidates` that no registered image uses.
    pub(crate) fn unused_blobs<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a Digest>,
    ) -> Result<Vec<Digest>> {
        let index = self.read_index()?;
        let used: BTreeSet<&Digest> = index.images.values().flat_map(|r| &r.blobs).collect();
        Ok(candidates
            .into_iter()
            .filter(|d| !used.contains(d))
            .cloned()
            .collect())
    }

    /// Builds the full [`Image`] of a registered manifest.
    fn image(&self, index: &Index, manifest_digest: &Digest) -> Result<Image> {
        let record = &index.images[manifest_digest];
        let manifest = self.read_manifest(manifest_digest)?;
        let config_bytes = self.read_blob(record.id.digest())?;
        let config = parse_config(record.id.digest(), &config_bytes)?;
        let references = index
            .tags
            .iter()
            .filter(|(_, m)| *m == manifest_digest)
            .map(|(t, _)| t.parse())
            .collect::<Result<Vec<Reference>>>()?;
        let size =
            config_bytes.len() as u64 + manifest.layers().iter().map(|l| l.size()).sum::<u64>();
        Ok(Image {
            id: record.id.clone(),
            manifest_digest: manifest_digest.clone(),
            references,
            created: config.created().clone(),
            manifest,
            config,
            layers: record.layers.clone(),
            size,
        })
    }

    pub(super) fn index_path(&self) -> PathBuf {
        self.images_dir().join(INDEX_FILE)
    }

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
}

/// Finds the manifest digest of an image by name, id or digest.
fn find(index: &Index, name_or_id: &str) -> Result<Digest> {
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

fn by_id(index: &Index, matches: impl Fn(&ImageId) -> bool) -> Option<Digest> {
    index
        .images
        .iter()
        .find(|(_, r)| matches(&r.id))
        .map(|(m, _)| m.clone())
}

/// Parses an image config. Docker and some tools leave out `history`, which
/// `oci-spec` requires, so a missing one is added as empty.
pub(super) fn parse_config(digest: &Digest, bytes: &[u8]) -> Result<ImageConfiguration> {
    let bad = |reason: String| Error::BadManifest {
        what: "config",
        digest: digest.clone(),
        reason,
    };
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    if !matches!(object.get("history"), Some(h) if !h.is_null()) {
        object.insert("history".into(), serde_json::Value::Array(Vec::new()));
    }
    serde_json::from_value(value).map_err(|e| bad(e.to_string()))
}

/// The diff-ids a config lists, checked.
pub(super) fn diff_ids(config_digest: &Digest, config: &ImageConfiguration) -> Result<Vec<Digest>> {
    config
        .rootfs()
        .diff_ids()
        .iter()
        .map(|d| {
            d.parse().map_err(|e| Error::BadManifest {
                what: "config",
                digest: config_digest.clone(),
                reason: format!("bad diff-id: {e}"),
            })
        })
        .collect()
}

/// This machine's architecture as Go (and so OCI) names it.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

// ANCHOR: image_id
/// The id of an image whose config is `config_bytes`: the digest of those
/// exact bytes (not of a re-serialisation, which could order keys
/// differently).
pub fn image_id(config_bytes: &[u8]) -> ImageId {
    // exercise 2.7 image-id: compute an image's id from its raw config bytes.
    // hint: an image id is not a name anyone chose: it is content-addressed, like every blob in the store
    // hint: the content is the image's config blob, its bytes exactly as stored (re-serialised JSON could order keys differently)
    // hint: Digest has a constructor that hashes bytes with sha256, and ImageId wraps a Digest
    ImageId(Digest::sha256_of(config_bytes))
    // end exercise
}
// ANCHOR_END: image_id
