//! Images: list, inspect, delete, and the progress stream of pull, push and
//! load.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An entry of `GET /images/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    /// `sha256:` + hex of the config.
    pub id: String,
    /// Always `""` (no local parent chains).
    pub parent_id: String,
    /// `name:tag` pairs that point at it.
    pub repo_tags: Vec<String>,
    /// `name@sha256:…` of the manifests it was pulled as.
    pub repo_digests: Vec<String>,
    /// Unix seconds of the config's `created`.
    pub created: i64,
    /// Bytes of its unpacked layers.
    pub size: i64,
    /// -1: not computed.
    pub shared_size: i64,
    /// Labels of the image config.
    pub labels: BTreeMap<String, String>,
    /// -1: not computed.
    pub containers: i64,
}

/// `Config` of an image: the defaults a container starts from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    /// Default user.
    #[serde(default)]
    pub user: String,
    /// Default environment.
    pub env: Option<Vec<String>>,
    /// Default command.
    pub cmd: Option<Vec<String>>,
    /// Default entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// The ports the image's program listens on (`EXPOSE`), `{"80/tcp":
    /// {}}` as Docker writes them; absent when it exposes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// Default working directory.
    #[serde(default)]
    pub working_dir: String,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// Stop signal.
    pub stop_signal: Option<String>,
    /// The health check (`HEALTHCHECK`), which oci-spec's config type
    /// does not carry: read from the config blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<crate::compat::health::Healthcheck>,
}

/// `RootFS` of image inspect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    /// `layers`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// Diff ids, bottom first.
    pub layers: Vec<String>,
}

/// `GET /images/{name}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    /// `sha256:` + hex of the config.
    pub id: String,
    /// Tags pointing at it.
    pub repo_tags: Vec<String>,
    /// Digests it was pulled as.
    pub repo_digests: Vec<String>,
    /// Always `""`.
    pub parent: String,
    /// The config's comment.
    pub comment: String,
    /// RFC 3339 creation time.
    pub created: String,
    /// The config's author.
    pub author: String,
    /// Container defaults.
    pub config: ImageConfig,
    /// `amd64`, `arm64`, …
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// Bytes of the unpacked layers.
    pub size: i64,
    /// The layers.
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
}

/// One entry of `DELETE /images/{name}`: an untagged name or a deleted id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageDeleteItem {
    /// A tag that was removed.
    Untagged(String),
    /// An image (or layer) that was deleted.
    Deleted(String),
}

/// `Untagged: busybox:latest` / `Deleted: sha256:…`, as `docker rmi`
/// prints each item.
impl std::fmt::Display for ImageDeleteItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageDeleteItem::Untagged(tag) => write!(f, "Untagged: {tag}"),
            ImageDeleteItem::Deleted(id) => write!(f, "Deleted: {id}"),
        }
    }
}

/// `progressDetail` of a progress message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressDetail {
    /// Bytes so far.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub current: Option<u64>,
    /// Bytes in all.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total: Option<u64>,
}

/// `errorDetail` of a failed stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// What went wrong.
    pub message: String,
}

/// One JSON object of a pull, push, load or import stream, as the docker
/// CLI's `jsonmessage` package prints it. Objects are separated by `\r\n`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressMessage {
    /// What happens: `Pulling fs layer`, `Downloading`, `Pull complete`, …
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    /// What it happens to: a tag, or the first 12 hex of a layer digest.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    /// A ready-made bar, `[==>   ] 1MB/2MB`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub progress: Option<String>,
    /// The numbers behind the bar.
    #[serde(
        rename = "progressDetail",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub progress_detail: Option<ProgressDetail>,
    /// A line of text (load and import say what they loaded this way).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stream: Option<String>,
    /// The error, in detail.
    #[serde(
        rename = "errorDetail",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub error_detail: Option<ErrorDetail>,
    /// The error, as text (old clients read this one).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Data for the client rather than the user: a build's
    /// `{"aux":{"ID":"sha256:…"}}`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub aux: Option<serde_json::Value>,
}

impl ProgressMessage {
    /// `{"status": status}` with an optional id.
    pub fn status(status: impl Into<String>, id: Option<&str>) -> ProgressMessage {
        ProgressMessage {
            status: Some(status.into()),
            id: id.map(str::to_owned),
            ..ProgressMessage::default()
        }
    }

    /// `{"stream": text}`: a line for the client to print as it is (what
    /// `load` reports).
    pub fn stream(text: impl Into<String>) -> ProgressMessage {
        ProgressMessage {
            stream: Some(text.into()),
            ..ProgressMessage::default()
        }
    }

    /// `Downloading` (or another status) with a bar drawn the way Docker does.
    pub fn progress(status: &str, id: &str, current: u64, total: u64) -> ProgressMessage {
        ProgressMessage {
            status: Some(status.to_string()),
            id: Some(id.to_string()),
            progress: Some(progress_bar(current, total)),
            progress_detail: Some(ProgressDetail {
                current: Some(current),
                total: Some(total),
            }),
            ..ProgressMessage::default()
        }
    }

    /// The error object that ends a failed stream.
    pub fn error(message: impl Into<String>) -> ProgressMessage {
        let message = message.into();
        ProgressMessage {
            error_detail: Some(ErrorDetail {
                message: message.clone(),
            }),
            error: Some(message),
            ..ProgressMessage::default()
        }
    }
}

/// `[=====>        ]  1.2MB/2.4MB`: a 50-column bar and sizes in decimal
/// units, as Docker's `jsonmessage` draws them.
pub fn progress_bar(current: u64, total: u64) -> String {
    let width = 50u64;
    let filled = (current.min(total) * width).checked_div(total).unwrap_or(0) as usize;
    let mut bar = "=".repeat(filled);
    if (filled as u64) < width {
        bar.push('>');
        bar.push_str(&" ".repeat(width as usize - filled - 1));
    }
    format!("[{bar}] {:>8}/{}", human_size(current), human_size(total))
}

/// Bytes in decimal units with 4 significant digits, `1.235MB`, as Go's
/// `%.4g` in Docker's go-units prints them.
pub fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value >= 100.0 {
        1
    } else if value >= 10.0 {
        2
    } else {
        3
    };
    let text = format!("{value:.decimals$}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_bars_look_like_dockers() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1_234_567), "1.235MB");
        assert_eq!(human_size(2_000_000), "2MB");
        let bar = progress_bar(1_000_000, 2_000_000);
        assert!(bar.starts_with("[=========================>"), "{bar}");
        assert!(bar.ends_with("1MB/2MB"), "{bar}");
    }

    #[test]
    fn progress_messages_serialise_with_dockers_names() {
        let m = ProgressMessage::progress("Downloading", "0123456789ab", 5, 10);
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["progressDetail"]["current"], 5);
        assert_eq!(json["progressDetail"]["total"], 10);
        assert_eq!(json["id"], "0123456789ab");
        let e = serde_json::to_value(ProgressMessage::error("boom")).unwrap();
        assert_eq!(e["errorDetail"]["message"], "boom");
        assert_eq!(e["error"], "boom");
        let items = vec![
            ImageDeleteItem::Untagged("busybox:latest".into()),
            ImageDeleteItem::Deleted("sha256:ab".into()),
        ];
        assert_eq!(
            serde_json::to_string(&items).unwrap(),
            r#"[{"Untagged":"busybox:latest"},{"Deleted":"sha256:ab"}]"#
        );
    }
}

/// The answer to `POST /images/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImagePruneResponse {
    /// What was untagged and deleted (`null` when nothing, as Docker).
    pub images_deleted: Option<Vec<ImageDeleteItem>>,
    /// Bytes the deleted images' layers held.
    #[serde(default)]
    pub space_reclaimed: u64,
}
