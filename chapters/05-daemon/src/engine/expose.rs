//! The image's `EXPOSE` in the container's `ExposedPorts`.
//!
//! An image says which ports its program listens on (`EXPOSE 80`); Docker
//! merges them into the container's `Config.ExposedPorts` at create, so
//! that `inspect` shows them and `run -P` publishes them as well as those
//! the request names with `--expose`.

use crate::compat::types::ContainerCreateBody;
use serde_json::{Map, Value};

/// Adds the image's exposed ports (`80/tcp`, `53/udp`, or a bare `80`,
/// which is TCP) to the request's, keeping the request's own.
pub fn merge_image_ports(body: &mut ContainerCreateBody, image: &minidock_images::Image) {
    let ports = image
        .config
        .config()
        .as_ref()
        .and_then(|c| c.exposed_ports().clone())
        .unwrap_or_default();
    if ports.is_empty() {
        return;
    }
    let entry = body
        .config
        .other
        .entry("ExposedPorts".to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        // `null` from a client that sent none.
        *entry = Value::Object(Map::new());
    }
    if let Some(map) = entry.as_object_mut() {
        for port in ports {
            let key = if port.contains('/') {
                port
            } else {
                format!("{port}/tcp")
            };
            map.entry(key).or_insert_with(|| Value::Object(Map::new()));
        }
    }
}
