//! `docker import`: a plain root file system tar becomes a one-layer image.

use std::io::{BufRead, BufReader, Read};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::digest::HashingReader;
use crate::error::{Error, Result};
use crate::layer::{media_types as layer_types, Compression};
use crate::reference::Reference;
use crate::store::{host_architecture, media_types, ImageId, Store};

/// Config settings of an imported image (Docker's `import --change`).
#[derive(Clone, Debug, Default)]
pub struct ImageChanges {
    /// `CMD`.
    pub cmd: Option<Vec<String>>,
    /// `ENTRYPOINT`.
    pub entrypoint: Option<Vec<String>>,
    /// `ENV`, as `KEY=value`.
    pub env: Vec<String>,
    /// `WORKDIR`.
    pub working_dir: Option<String>,
    /// `USER`.
    pub user: Option<String>,
    /// The history comment (`import --message`).
    pub message: Option<String>,
}

impl Store {
    // ANCHOR: import_open
    /// Imports a root file system tar (plain, gzip or zstd) as an image of
    /// one gzip layer, tags it `reference` if given, and returns its id.
    pub fn import(
        &self,
        rootfs_tar: impl Read,
        reference: Option<&Reference>,
        changes: &ImageChanges,
    ) -> Result<ImageId> {
        if let Some(r) = reference {
            if r.digest().is_some() {
                return Err(Error::InvalidReference {
                    input: r.to_string(),
                    reason: "an imported image is tagged, it cannot be named by digest".into(),
                });
            }
        }
        let mut input = BufReader::with_capacity(1 << 20, rootfs_tar);
        let compression = Compression::sniff(input.fill_buf().map_err(|e| Error::Io {
            op: "read rootfs tar",
            path: "<import stream>".into(),
            source: e,
        })?);
        let plain: Box<dyn Read> = match compression {
            Compression::None => Box::new(input),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(input).map_err(|e| Error::Io {
                    op: "read zstd rootfs tar",
                    path: "<import stream>".into(),
                    source: e,
                })?,
            ),
        };
        // ANCHOR_END: import_open
        // ANCHOR: import_one_pass
        // One pass: the plain stream is hashed (diff-id) and compressed
        // into the store (blob digest).
        let hashing = HashingReader::new(plain, self.max_layer_size());
        let mut gzip = flate2::read::GzEncoder::new(hashing, flate2::Compression::default());
        let (layer_digest, layer_size) = self.put_blob_reader(&mut gzip)?;
        let (diff_id, _) = gzip.into_inner().finish().map_err(|e| Error::Io {
            op: "read rootfs tar",
            path: "<import stream>".into(),
            source: e,
        })?;

        // ANCHOR_END: import_one_pass
        // ANCHOR: import_config
        let now = super::rfc3339(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        );
        let mut exec = serde_json::Map::new();
        if let Some(cmd) = &changes.cmd {
            exec.insert("Cmd".into(), json!(cmd));
        }
        if let Some(entrypoint) = &changes.entrypoint {
            exec.insert("Entrypoint".into(), json!(entrypoint));
        }
        if !changes.env.is_empty() {
            exec.insert("Env".into(), json!(changes.env));
        }
        if let Some(dir) = &changes.working_dir {
            exec.insert("WorkingDir".into(), json!(dir));
        }
        if let Some(user) = &changes.user {
            exec.insert("User".into(), json!(user));
        }
        let mut history = json!({"created": now, "created_by": "minidock import"});
        if let Some(message) = &changes.message {
            history["comment"] = json!(message);
        }
        let config = json!({
            "created": now,
            "architecture": host_architecture(),
            "os": "linux",
            "config": exec,
            "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
            "history": [history],
        });
        // ANCHOR_END: import_config
        // ANCHOR: import_register
        let config_bytes = serde_json::to_vec(&config).expect("JSON serialises");
        let config_digest = self.put_blob(&config_bytes)?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media_types::OCI_MANIFEST,
            "config": {
                "mediaType": media_types::OCI_CONFIG,
                "digest": config_digest.to_string(),
                "size": config_bytes.len(),
            },
            "layers": [{
                "mediaType": layer_types::OCI_LAYER_GZIP,
                "digest": layer_digest.to_string(),
                "size": layer_size,
            }],
        });
        let manifest_digest =
            self.put_blob(&serde_json::to_vec(&manifest).expect("JSON serialises"))?;
        let registered = self.register_image(&manifest_digest);
        let id = match registered {
            Ok(id) => id,
            Err(e) => {
                // Leave nothing behind that no image uses.
                let ours = [manifest_digest, config_digest, layer_digest];
                for blob in self.unused_blobs(&ours)? {
                    self.delete_blob(&blob)?;
                }
                return Err(e);
            }
        };
        if let Some(r) = reference {
            self.tag(r, &manifest_digest)?;
        }
        Ok(id)
    }
    // ANCHOR_END: import_register
}
