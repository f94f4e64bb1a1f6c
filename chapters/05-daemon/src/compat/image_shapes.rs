//! Images in the API's shapes: `docker images` and `docker image inspect`.

use crate::compat::types::*;
use minidock_images::{Image, Reference};
use std::collections::BTreeMap;

/// Unix seconds of an RFC 3339 `created`.
pub(crate) fn created_seconds(image: &Image) -> i64 {
    image
        .created
        .as_deref()
        .and_then(crate::time::parse_rfc3339)
        .map(crate::time::unix_seconds)
        .unwrap_or(0)
}

/// Its tags, as the docker CLI writes them.
pub(crate) fn repo_tags(image: &Image) -> Vec<String> {
    image.references.iter().map(Reference::familiar).collect()
}

/// Its `name@digest` references.
fn repo_digests(image: &Image) -> Vec<String> {
    let mut names: Vec<String> = image
        .references
        .iter()
        .map(|r| format!("{}@{}", r.familiar_name(), image.manifest_digest))
        .collect();
    names.dedup();
    names
}

/// The labels of its config.
pub(crate) fn labels(image: &Image) -> BTreeMap<String, String> {
    image
        .config
        .config()
        .as_ref()
        .and_then(|c| c.labels().clone())
        .map(|l| l.into_iter().collect())
        .unwrap_or_default()
}

/// An image as `docker images` lists it.
pub fn summary(image: &Image) -> ImageSummary {
    ImageSummary {
        id: image.id.to_string(),
        parent_id: String::new(),
        repo_tags: repo_tags(image),
        repo_digests: repo_digests(image),
        created: created_seconds(image),
        size: image.size as i64,
        shared_size: -1,
        labels: labels(image),
        containers: -1,
    }
}

/// An image as `docker image inspect` shows it.
pub fn inspect(image: &Image) -> ImageInspect {
    let c = image.config.config().clone().unwrap_or_default();
    ImageInspect {
        id: image.id.to_string(),
        repo_tags: repo_tags(image),
        repo_digests: repo_digests(image),
        parent: String::new(),
        comment: String::new(),
        created: image
            .created
            .clone()
            .unwrap_or_else(|| crate::time::ZERO_TIME.to_string()),
        author: image.config.author().clone().unwrap_or_default(),
        config: ImageConfig {
            user: c.user().clone().unwrap_or_default(),
            env: c.env().clone(),
            cmd: c.cmd().clone(),
            entrypoint: c.entrypoint().clone(),
            exposed_ports: exposed_ports(c.exposed_ports().as_deref()),
            working_dir: c.working_dir().clone().unwrap_or_default(),
            labels: c.labels().clone().map(|l| l.into_iter().collect()),
            stop_signal: c.stop_signal().clone(),
            healthcheck: None,
        },
        architecture: image.config.architecture().to_string(),
        os: image.config.os().to_string(),
        size: image.size as i64,
        root_fs: RootFs {
            kind: "layers".to_string(),
            layers: image.layers.iter().map(|d| d.to_string()).collect(),
        },
    }
}

/// The size of each history entry of the config, oldest first: the size
/// of the layer it made (as the manifest gives it, so the sizes add up to
/// the image's), 0 for a step that made none (`ENV`, `CMD`: `empty_layer`).
/// Entries beyond the layers, in a config whose history is short of
/// non-empty steps, are 0 too.
pub(crate) fn history_sizes(image: &Image) -> Vec<i64> {
    let mut layers = image.manifest.layers().iter();
    image
        .config
        .history()
        .iter()
        .map(|h| match h.empty_layer() {
            Some(true) => 0,
            _ => layers.next().map_or(0, |l| l.size() as i64),
        })
        .collect()
}

/// The config's `EXPOSE`d ports as Docker's inspect shows them: each a key
/// with an empty object, a bare `80` read as `80/tcp`; `None` when none.
fn exposed_ports(ports: Option<&[String]>) -> Option<BTreeMap<String, serde_json::Value>> {
    let ports = ports.filter(|p| !p.is_empty())?;
    let key = |port: &String| {
        if port.contains('/') {
            port.clone()
        } else {
            format!("{port}/tcp")
        }
    };
    Some(
        ports
            .iter()
            .map(|p| (key(p), serde_json::json!({})))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposed_ports_are_keys_with_a_protocol() {
        let ports = vec!["80".to_string(), "53/udp".to_string()];
        let shown = exposed_ports(Some(&ports)).expect("two ports");
        assert_eq!(
            serde_json::to_value(shown).unwrap(),
            serde_json::json!({"80/tcp": {}, "53/udp": {}})
        );
        assert_eq!(exposed_ports(Some(&[])), None);
        assert_eq!(exposed_ports(None), None);
    }
}
