//! `docker save`: images into one tar that both old and new readers take.
//!
//! ```text
//! blobs/sha256/<hex>   manifests, configs, layers (as stored)
//! oci-layout           {"imageLayoutVersion": "1.0.0"}
//! index.json           OCI index: one manifest descriptor per name
//! manifest.json        legacy: [{Config, RepoTags, Layers}] pointing into blobs/
//! repositories         legacy: {repo: {tag: top layer}}
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::json;

use super::{ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;
use crate::store::{media_types, Image, Store};

impl Store {
    // ANCHOR: save_names
    /// Writes the images named by `names` (references or ids) to the tar
    /// `out`, in both the OCI layout and the legacy `docker save` format.
    /// The file appears complete or not at all.
    pub fn save(&self, names: &[&str], out: &Path) -> Result<()> {
        // Each image, with the names it is saved under.
        let mut images: Vec<(Image, Vec<Reference>)> = Vec::new();
        for name in names {
            let image = self.resolve(name)?;
            // An image saved by one of its names is saved under that name;
            // saved by id (or digest) it is saved without names, as Docker
            // does: loading it back then gives an untagged image.
            let named: Vec<Reference> = match Reference::parse(name) {
                Ok(r) if image.references.contains(&r) => vec![r],
                _ => Vec::new(),
            };
            match images
                .iter_mut()
                .find(|(i, _)| i.manifest_digest == image.manifest_digest)
            {
                Some((_, refs)) => {
                    for r in named {
                        if !refs.contains(&r) {
                            refs.push(r);
                        }
                    }
                }
                None => images.push((image, named)),
            }
        }

        // ANCHOR_END: save_names
        // ANCHOR: save_atomic
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".minidock-save-")
            .tempfile_in(dir)
            .ctx("create temporary archive", dir)?;
        {
            let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, tmp.as_file()));
            self.write_archive(&mut tar, &images, out)?;
            tar.into_inner()
                .and_then(|mut w| w.flush())
                .ctx("write archive", tmp.path())?;
        }
        tmp.as_file().sync_all().ctx("fsync archive", tmp.path())?;
        tmp.persist(out)
            .map_err(|e| e.error)
            .ctx("rename archive into place", out)?;
        Ok(())
    }

    // ANCHOR_END: save_atomic
    // ANCHOR: save_blobs
    fn write_archive<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        images: &[(Image, Vec<Reference>)],
        out: &Path,
    ) -> Result<()> {
        let werr = |e: std::io::Error| Error::Io {
            op: "write archive",
            path: out.to_path_buf(),
            source: e,
        };
        for d in ["blobs/", "blobs/sha256/"] {
            let mut h = header(tar::EntryType::Directory, 0, 0o755);
            tar.append_data(&mut h, d, std::io::empty()).map_err(werr)?;
        }
        let mut written = BTreeSet::new();
        let mut index_manifests = Vec::new();
        let mut legacy = Vec::new();
        let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (image, names) in images {
            let mut blobs = vec![image.manifest_digest.clone(), image.id.digest().clone()];
            for layer in image.manifest.layers() {
                blobs.push(Digest::try_from(layer.digest())?);
            }
            for blob in &blobs {
                if written.insert(blob.clone()) {
                    let size = self.blob_size(blob)?;
                    let mut h = header(tar::EntryType::Regular, size, 0o644);
                    tar.append_data(
                        &mut h,
                        format!("blobs/sha256/{}", blob.hex()),
                        self.open_blob(blob)?,
                    )
                    .map_err(werr)?;
                }
            }

            // ANCHOR_END: save_blobs
            // ANCHOR: save_descriptors
            let manifest_type = image
                .manifest
                .media_type()
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_else(|| media_types::OCI_MANIFEST.to_string());
            let descriptor = |annotations: Option<serde_json::Value>| {
                let mut d = json!({
                    "mediaType": manifest_type,
                    "digest": image.manifest_digest.to_string(),
                    "size": self.blob_size(&image.manifest_digest)?,
                });
                if let Some(a) = annotations {
                    d["annotations"] = a;
                }
                Ok::<_, Error>(d)
            };
            if names.is_empty() {
                index_manifests.push(descriptor(None)?);
            }
            for name in names {
                index_manifests.push(descriptor(Some(json!({
                    ANNOTATION_IMAGE_NAME: name.to_string(),
                    ANNOTATION_REF_NAME: name.tag().unwrap_or_default(),
                })))?);
                if let (Some(tag), Some(top)) = (name.tag(), image.manifest.layers().last()) {
                    repositories
                        .entry(name.familiar_name())
                        .or_default()
                        .insert(
                            tag.to_string(),
                            Digest::try_from(top.digest())?.hex().to_string(),
                        );
                }
            }
            let layers: Vec<String> = blobs[2..]
                .iter()
                .map(|d| format!("blobs/sha256/{}", d.hex()))
                .collect();
            let tags: Vec<String> = names
                .iter()
                .filter(|n| n.tag().is_some())
                .map(|n| n.familiar())
                .collect();
            legacy.push(json!({
                "Config": format!("blobs/sha256/{}", image.id.digest().hex()),
                // `null`, not `[]`, for an image without names: Docker's shape.
                "RepoTags": (!tags.is_empty()).then_some(tags),
                "Layers": layers,
            }));
        }

        // ANCHOR_END: save_descriptors
        // ANCHOR: save_files
        let files = [
            ("oci-layout", json!({"imageLayoutVersion": "1.0.0"})),
            (
                "index.json",
                json!({
                    "schemaVersion": 2,
                    "mediaType": media_types::OCI_INDEX,
                    "manifests": index_manifests,
                }),
            ),
            ("manifest.json", json!(legacy)),
            ("repositories", json!(repositories)),
        ];
        for (name, value) in files {
            let bytes = serde_json::to_vec(&value).expect("JSON serialises");
            let mut h = header(tar::EntryType::Regular, bytes.len() as u64, 0o644);
            tar.append_data(&mut h, name, &bytes[..]).map_err(werr)?;
        }
        tar.finish().map_err(werr)
    }
    // ANCHOR_END: save_files
}

/// A reproducible header: owner root, time 0.
fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h
}
