//! The image a build is making: a config and a list of layers, committed
//! to the store after every step.
//!
//! Each step of the classic builder ends in an image: its config (with one
//! more `history` entry) and its layers (with one more layer if the step
//! changed files). That image is the *parent* of the next step, and what
//! the cache remembers.

use minidock_images::{media_types, Digest, Image, ImageId, Store};
use serde_json::{json, Map, Value};

use crate::diff::LayerRef;
use crate::error::{Error, Result};

/// An image being built.
#[derive(Debug, Clone)]
pub struct ImageState {
    /// The id of the image this state was committed as, or loaded from
    /// (`None`: `FROM scratch` with no step yet).
    pub id: Option<String>,
    /// The whole image config (OCI JSON).
    pub config: Value,
    /// The layers, bottom first.
    pub layers: Vec<LayerRef>,
}

impl ImageState {
    // ANCHOR: image_state
    /// `FROM scratch`: no layers, an empty config.
    pub fn scratch() -> ImageState {
        ImageState {
            id: None,
            config: json!({
                "architecture": minidock_images::host_architecture(),
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": []},
                "history": [],
            }),
            layers: Vec::new(),
        }
    }

    /// The state of an image of the store.
    pub fn of(store: &Store, image: &Image) -> Result<ImageState> {
        let config_digest = Digest::try_from(image.manifest.config().digest())
            .map_err(minidock_images::Error::from)?;
        let config: Value =
            serde_json::from_slice(&store.read_blob(&config_digest)?).map_err(|source| {
                Error::ImageConfig {
                    image: image.id.to_string(),
                    source,
                }
            })?;
        let layers = image
            .manifest
            .layers()
            .iter()
            .zip(&image.layers)
            .map(|(l, diff_id)| {
                Ok(LayerRef {
                    digest: Digest::try_from(l.digest())?,
                    size: l.size(),
                    media_type: l.media_type().to_string(),
                    diff_id: diff_id.clone(),
                })
            })
            .collect::<Result<Vec<_>, minidock_images::Error>>()?;
        Ok(ImageState {
            id: Some(image.id.to_string()),
            config,
            layers,
        })
    }
    // ANCHOR_END: image_state

    /// The `config` object: Env, Cmd, WorkingDir, …
    pub fn run_config(&mut self) -> &mut Map<String, Value> {
        if !self.config["config"].is_object() {
            self.config["config"] = json!({});
        }
        self.config["config"]
            .as_object_mut()
            .expect("made an object")
    }

    /// A string field of the `config` object ("" when unset).
    pub fn get_str(&self, field: &str) -> String {
        self.config["config"][field]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The environment, as `KEY=value` entries.
    pub fn env(&self) -> Vec<String> {
        self.config["config"]["Env"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets `key` in the environment, replacing an earlier value.
    pub fn set_env(&mut self, key: &str, value: &str) {
        let mut env = self.env();
        env.retain(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) != key);
        env.push(format!("{key}={value}"));
        self.run_config().insert("Env".into(), json!(env));
    }

    /// Looks a variable up in the environment.
    pub fn lookup_env(&self, key: &str) -> Option<String> {
        self.env().into_iter().rev().find_map(|e| {
            e.split_once('=')
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        })
    }

    // ANCHOR: add_history
    /// Adds a history entry; `layer` says whether the step added a layer.
    pub fn add_history(&mut self, created_by: &str, layer: Option<LayerRef>) {
        let mut entry = json!({
            "created": now(),
            "created_by": created_by,
        });
        match layer {
            Some(layer) => {
                if !self.config["rootfs"]["diff_ids"].is_array() {
                    self.config["rootfs"] = json!({"type": "layers", "diff_ids": []});
                }
                self.config["rootfs"]["diff_ids"]
                    .as_array_mut()
                    .expect("an array")
                    .push(json!(layer.diff_id.to_string()));
                self.layers.push(layer);
            }
            None => entry["empty_layer"] = json!(true),
        }
        if !self.config["history"].is_array() {
            self.config["history"] = json!([]);
        }
        self.config["history"]
            .as_array_mut()
            .expect("an array")
            .push(entry);
    }
    // ANCHOR_END: add_history

    // ANCHOR: commit
    /// Writes the config and a manifest to the store and registers the
    /// image (which unpacks new layers). Returns its id.
    pub fn commit(&mut self, store: &Store) -> Result<ImageId> {
        self.config["created"] = json!(now());
        let config_bytes = serde_json::to_vec(&self.config).expect("JSON serialises");
        let config_digest = store.put_blob(&config_bytes)?;
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                json!({
                    "mediaType": l.media_type,
                    "digest": l.digest.to_string(),
                    "size": l.size,
                })
            })
            .collect();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media_types::OCI_MANIFEST,
            "config": {
                "mediaType": media_types::OCI_CONFIG,
                "digest": config_digest.to_string(),
                "size": config_bytes.len(),
            },
            "layers": layers,
        });
        let manifest_digest =
            store.put_blob(&serde_json::to_vec(&manifest).expect("JSON serialises"))?;
        let id = store.register_image(&manifest_digest)?;
        self.id = Some(id.to_string());
        Ok(id)
    }
    // ANCHOR_END: commit
}

/// Now, as image configs write dates (RFC 3339, UTC): chapter 03's clock,
/// the one every container record uses.
pub fn now() -> String {
    minidock_lifecycle::time::Timestamp::now().to_rfc3339_nanos()
}
