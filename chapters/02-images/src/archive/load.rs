//! `docker load`: images from a `docker save` tar, an OCI archive or an
//! OCI layout directory.
//!
//! Every blob goes through the store's checked writer, so a tampered
//! archive fails on the digest, and every layer through the safe unpacker.
//! Blobs added by a load that registers nothing that uses them (because it
//! failed, or because the archive carried extras) are removed again.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use oci_spec::image::ImageIndex;
use serde::Deserialize;
use serde_json::json;

use super::{ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::layer::{media_types as layer_types, Compression};
use crate::reference::Reference;
use crate::store::{media_types, ImageId, Store};

/// An image a load registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    /// Its id.
    pub id: ImageId,
    /// The manifest it was registered with.
    pub manifest_digest: Digest,
    /// The tags the archive gave it (none: Docker prints "Loaded image ID").
    pub references: Vec<Reference>,
}

/// One entry of a legacy `manifest.json`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LegacyManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// The small metadata files of an archive, kept in memory.
const METADATA_FILES: [&str; 4] = ["manifest.json", "index.json", "oci-layout", "repositories"];
/// The largest metadata file we read into memory.
const METADATA_MAX: u64 = 16 << 20;

/// What reading an archive produced.
#[derive(Default)]
struct Contents {
    /// Small files by name.
    metadata: BTreeMap<String, Vec<u8>>,
    /// Archive path → blob stored from it.
    files: BTreeMap<String, Digest>,
    /// Blobs this load added (candidates for removal if unused).
    added: BTreeSet<Digest>,
}

// ANCHOR: store_load
impl Store {
    /// Loads the images of a `docker save` tar (either format, optionally
    /// gzip- or zstd-compressed), an OCI archive tar, or an OCI layout
    /// directory; registers and tags them.
    pub fn load(&self, path: &Path) -> Result<Vec<LoadedImage>> {
        let mut contents = Contents::default();
        let result = if path.is_dir() {
            self.load_layout(path, &mut contents)
        } else {
            self.read_archive(path, &mut contents).and_then(|()| {
                crate::failpoint::hit("load-after-blobs");
                self.register_archive(path, &contents)
            })
        };
        // Whatever happened, drop the blobs we added that no image uses.
        let unused = self.unused_blobs(&contents.added)?;
        for blob in unused {
            self.delete_blob(&blob)?;
        }
        result
    }
    // ANCHOR_END: store_load

    // ANCHOR: read_archive_open
    /// Streams a tar archive: blobs into the store, metadata into memory.
    fn read_archive(&self, path: &Path, contents: &mut Contents) -> Result<()> {
        let bad = |reason: String| Error::BadArchive {
            path: path.to_path_buf(),
            reason,
        };
        let file = File::open(path).ctx("open image archive", path)?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let stream: Box<dyn Read> =
            match Compression::sniff(reader.fill_buf().ctx("read image archive", path)?) {
                Compression::None => Box::new(reader),
                Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
                Compression::Zstd => Box::new(
                    zstd::stream::read::Decoder::with_buffer(reader)
                        .map_err(|e| bad(format!("zstd: {e}")))?,
                ),
            };
        let mut archive = tar::Archive::new(stream);
        let mut links: Vec<(String, String)> = Vec::new();
        for entry in archive
            .entries()
            .map_err(|e| bad(format!("not a tar: {e}")))?
        {
            let mut entry = entry.map_err(|e| bad(format!("bad tar: {e}")))?;
            let name = normalise(&entry.path_bytes()).ok_or_else(|| {
                bad(format!(
                    "entry {:?} has an unsafe path",
                    String::from_utf8_lossy(&entry.path_bytes())
                ))
            })?;
            // ANCHOR_END: read_archive_open
            // ANCHOR: read_archive_links
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                // Old `docker save` links duplicate layer.tar files.
                if let Some(target) = entry.link_name_bytes() {
                    let target = if kind.is_symlink() {
                        let dir = Path::new(&name).parent().unwrap_or(Path::new(""));
                        normalise(
                            dir.join(String::from_utf8_lossy(&target).as_ref())
                                .as_os_str()
                                .as_encoded_bytes(),
                        )
                    } else {
                        normalise(&target)
                    };
                    if let Some(target) = target {
                        links.push((name, target));
                    }
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            // ANCHOR_END: read_archive_links
            // ANCHOR: read_archive_blobs
            let size = entry.size();
            if METADATA_FILES.contains(&name.as_str()) {
                if size > METADATA_MAX {
                    return Err(bad(format!("{name} is {size} bytes, too large")));
                }
                let mut bytes = Vec::with_capacity(size as usize);
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| bad(format!("read {name}: {e}")))?;
                contents.metadata.insert(name, bytes);
            } else if let Some(hex) = name.strip_prefix("blobs/sha256/") {
                let digest = Digest::from_hex(hex).map_err(|e| bad(format!("{name}: {e}")))?;
                if !self.has_blob(&digest) {
                    contents.added.insert(digest.clone());
                }
                self.put_blob_from(&digest, Some(size), &mut entry)?;
                contents.files.insert(name, digest);
            } else if name.ends_with("/layer.tar")
                || is_legacy_config_name(&name)
                || is_top_level_layer_name(&name)
            {
                let (digest, _) = self.put_blob_reader(&mut entry)?;
                contents.added.insert(digest.clone());
                contents.files.insert(name, digest);
            }
        }
        for (name, target) in links {
            if let Some(d) = contents.files.get(&target).cloned() {
                contents.files.insert(name, d);
            }
        }
        Ok(())
    }
    // ANCHOR_END: read_archive_blobs

    // ANCHOR: register_index_path
    /// Registers and tags what an archive described.
    fn register_archive(&self, path: &Path, contents: &Contents) -> Result<Vec<LoadedImage>> {
        let bad = |reason: String| Error::BadArchive {
            path: path.to_path_buf(),
            reason,
        };
        let legacy: Option<Vec<LegacyManifest>> = match contents.metadata.get("manifest.json") {
            Some(bytes) => Some(
                serde_json::from_slice(bytes).map_err(|e| bad(format!("manifest.json: {e}")))?,
            ),
            None => None,
        };
        if let Some(bytes) = contents.metadata.get("index.json") {
            let index =
                ImageIndex::from_reader(&bytes[..]).map_err(|e| bad(format!("index.json: {e}")))?;
            // Names that the legacy manifest gives, by config digest, for
            // indexes without name annotations.
            let mut legacy_tags: BTreeMap<Digest, Vec<String>> = BTreeMap::new();
            for m in legacy.iter().flatten() {
                if let Some(config) = contents.files.get(&m.config) {
                    legacy_tags
                        .entry(config.clone())
                        .or_default()
                        .extend(m.repo_tags.clone().unwrap_or_default());
                }
            }
            return self.register_index(&index, |manifest| {
                let config = self
                    .read_manifest(&self.platform_manifest(manifest)?)
                    .and_then(|m| Ok(Digest::try_from(m.config().digest())?))?;
                Ok(legacy_tags.get(&config).cloned().unwrap_or_default())
            });
        }
        let Some(legacy) = legacy else {
            return Err(bad(
                "neither index.json nor manifest.json found: not a docker save or OCI archive"
                    .into(),
            ));
        };
        // ANCHOR_END: register_index_path
        // ANCHOR: register_legacy
        let mut loaded = Vec::new();
        for m in legacy {
            let blob = |name: &str| {
                contents.files.get(name).cloned().ok_or_else(|| {
                    bad(format!(
                        "manifest.json names {name:?}, which is not in the archive"
                    ))
                })
            };
            let config = blob(&m.config)?;
            let mut layers = Vec::new();
            for name in &m.layers {
                let digest = blob(name)?;
                let mut head = [0u8; 4];
                let n = self
                    .open_blob(&digest)?
                    .read(&mut head)
                    .ctx("read layer", self.blob_path(&digest))?;
                let media_type = match Compression::sniff(&head[..n]) {
                    Compression::None => layer_types::OCI_LAYER,
                    Compression::Gzip => layer_types::OCI_LAYER_GZIP,
                    Compression::Zstd => layer_types::OCI_LAYER_ZSTD,
                };
                layers.push(json!({
                    "mediaType": media_type,
                    "digest": digest.to_string(),
                    "size": self.blob_size(&digest)?,
                }));
            }
            // The legacy format has no manifest: make the one an OCI
            // layout would have.
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": media_types::OCI_MANIFEST,
                "config": {
                    "mediaType": media_types::OCI_CONFIG,
                    "digest": config.to_string(),
                    "size": self.blob_size(&config)?,
                },
                "layers": layers,
            });
            let manifest_digest =
                self.put_blob(&serde_json::to_vec(&manifest).expect("JSON serialises"))?;
            loaded.push(self.register_and_tag(&manifest_digest, m.repo_tags.unwrap_or_default())?);
        }
        Ok(loaded)
    }
    // ANCHOR_END: register_legacy

    // ANCHOR: load_layout
    /// Loads an OCI layout directory: copies (and so verifies) the blobs
    /// its index reaches, then registers them.
    fn load_layout(&self, dir: &Path, contents: &mut Contents) -> Result<Vec<LoadedImage>> {
        let bad = |reason: String| Error::BadArchive {
            path: dir.to_path_buf(),
            reason,
        };
        if !dir.join("oci-layout").is_file() {
            return Err(bad("no oci-layout file: not an OCI image layout".into()));
        }
        let index = ImageIndex::from_file(dir.join("index.json"))
            .map_err(|e| bad(format!("index.json: {e}")))?;
        let mut pending: Vec<(Digest, u64)> = Vec::new();
        for m in index.manifests() {
            pending.push((Digest::try_from(m.digest())?, m.size()));
        }
        // Copy manifests (and nested indexes), then what they reference.
        while let Some((digest, size)) = pending.pop() {
            self.copy_layout_blob(dir, &digest, size, contents)?;
            let bytes = self.read_blob(&digest)?;
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| bad(format!("{digest}: not JSON: {e}")))?;
            if value.get("manifests").is_some() {
                let nested = self.platform_manifest(&digest)?;
                let size = serde_json::from_value::<ImageIndex>(value)
                    .ok()
                    .and_then(|i| {
                        i.manifests()
                            .iter()
                            .find(|m| m.digest().to_string() == nested.to_string())
                            .map(|m| m.size())
                    })
                    .unwrap_or(0);
                pending.push((nested, size));
                continue;
            }
            let manifest = self.read_manifest(&digest)?;
            let config = manifest.config();
            self.copy_layout_blob(
                dir,
                &Digest::try_from(config.digest())?,
                config.size(),
                contents,
            )?;
            for layer in manifest.layers() {
                self.copy_layout_blob(
                    dir,
                    &Digest::try_from(layer.digest())?,
                    layer.size(),
                    contents,
                )?;
            }
        }
        crate::failpoint::hit("load-after-blobs");
        self.register_index(&index, |_| Ok(Vec::new()))
    }
    // ANCHOR_END: load_layout

    fn copy_layout_blob(
        &self,
        dir: &Path,
        digest: &Digest,
        size: u64,
        contents: &mut Contents,
    ) -> Result<()> {
        if self.has_blob(digest) {
            return Ok(());
        }
        let path = dir
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex());
        let file = File::open(&path).ctx("open layout blob", &path)?;
        contents.added.insert(digest.clone());
        self.put_blob_from(digest, Some(size), BufReader::with_capacity(1 << 20, file))
    }

    // ANCHOR: register_oci_index
    /// Registers the manifests an OCI index lists, named by their
    /// annotations (or by `more_names`).
    fn register_index(
        &self,
        index: &ImageIndex,
        more_names: impl Fn(&Digest) -> Result<Vec<String>>,
    ) -> Result<Vec<LoadedImage>> {
        // One index may list a manifest once per name.
        let mut names: BTreeMap<Digest, Vec<String>> = BTreeMap::new();
        let mut order = Vec::new();
        for m in index.manifests() {
            let digest = Digest::try_from(m.digest())?;
            if !names.contains_key(&digest) {
                order.push(digest.clone());
            }
            let entry = names.entry(digest).or_default();
            let annotations = m.annotations().clone().unwrap_or_default();
            if let Some(name) = annotations.get(ANNOTATION_IMAGE_NAME) {
                entry.push(name.clone());
            } else if let Some(name) = annotations.get(ANNOTATION_REF_NAME) {
                // Often only a tag ("latest"), which names no repository:
                // then the image is loaded untagged.
                if Reference::parse(name).is_ok() && (name.contains('/') || name.contains(':')) {
                    entry.push(name.clone());
                }
            }
        }
        let mut loaded = Vec::new();
        for digest in order {
            let mut tags = names.remove(&digest).unwrap_or_default();
            if tags.is_empty() {
                tags = more_names(&digest)?;
            }
            loaded.push(self.register_and_tag(&digest, tags)?);
        }
        Ok(loaded)
    }
    // ANCHOR_END: register_oci_index

    fn register_and_tag(&self, manifest: &Digest, tags: Vec<String>) -> Result<LoadedImage> {
        let id = self.register_image(manifest)?;
        let manifest_digest = self.platform_manifest(manifest)?;
        let mut references = Vec::new();
        for tag in tags {
            let reference = Reference::parse(&tag)?;
            self.tag(&reference, &manifest_digest)?;
            if !references.contains(&reference) {
                references.push(reference);
            }
        }
        Ok(LoadedImage {
            id,
            manifest_digest,
            references,
        })
    }
}

// ANCHOR: archive_normalise
/// An archive path without `./`, or `None` if it climbs out (`..`, `/`).
fn normalise(raw: &[u8]) -> Option<String> {
    let path = PathBuf::from(String::from_utf8_lossy(raw).into_owned());
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}
// ANCHOR_END: archive_normalise

/// `<64 hex>.json` at the top: a config in the legacy format.
fn is_legacy_config_name(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|hex| Digest::from_hex(hex).is_ok())
}

/// `<hex>.tar` at the top of the archive: a layer as skopeo's (and
/// podman's) `docker-archive` writes it, with `<hex>/layer.tar` a symlink
/// to it for old readers.
fn is_top_level_layer_name(name: &str) -> bool {
    name.strip_suffix(".tar")
        .is_some_and(|hex| Digest::from_hex(hex).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths() {
        assert_eq!(
            normalise(b"./manifest.json").as_deref(),
            Some("manifest.json")
        );
        assert_eq!(
            normalise(b"abc/../def/layer.tar").as_deref(),
            Some("def/layer.tar")
        );
        assert_eq!(normalise(b"../x"), None);
        assert_eq!(normalise(b"/etc/passwd"), None);
        let hex = "a".repeat(64);
        assert!(is_legacy_config_name(&format!("{hex}.json")));
        assert!(!is_legacy_config_name("manifest.json"));
    }
}
