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
//! other's changes (`index.rs`); the image id is in `id.rs`.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};

use super::Store;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::Reference;

use super::id::{image_id, ImageId};
use super::index::{find, Index, Record};

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

// ANCHOR: image_struct
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
// ANCHOR_END: image_struct

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

impl Store {
    // ANCHOR: register_check
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
        // ANCHOR_END: register_check
        // ANCHOR: register_record
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
    // ANCHOR_END: register_record

    // ANCHOR: unpack_all
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
    // ANCHOR_END: unpack_all

    // ANCHOR: platform_manifest
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
            Some(m) => Ok(Digest::try_from(m.digest())?),
            None => Err(Error::BadManifest {
                what: "index",
                digest: digest.clone(),
                reason: format!("it has no manifest for linux/{arch}"),
            }),
        }
    }

    // ANCHOR_END: platform_manifest
    // ANCHOR: read_manifest
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
    // ANCHOR_END: read_manifest

    // ANCHOR: store_tag
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
        // Already so (a rebuild, a re-pull): nothing to write. Rewriting
        // the index costs two fsyncs, more than the rest of a cached build.
        let index = self.read_index()?;
        if index.tags.get(&reference.to_string()) == Some(&manifest_digest)
            && index.images.contains_key(&manifest_digest)
        {
            return Ok(());
        }
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
    // ANCHOR_END: store_tag

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

    // ANCHOR: store_remove_image
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
    // ANCHOR_END: store_remove_image
            // ANCHOR: store_remove_last
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
    // ANCHOR_END: store_remove_last

    // ANCHOR: collect_garbage
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
    // ANCHOR_END: collect_garbage

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
