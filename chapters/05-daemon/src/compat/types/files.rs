//! A container's files: `docker cp`'s path stat and `docker diff`'s changes.

use serde::{Deserialize, Serialize};

/// `X-Docker-Container-Path-Stat` of `HEAD`/`GET /containers/{id}/archive`
/// (base64 of this JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerPathStat {
    /// The last component of the path.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Go's `os.FileMode` (`1<<31` marks a directory, `1<<27` a symlink).
    pub mode: u32,
    /// Modification time, RFC 3339.
    pub mtime: String,
    /// The target, for a symlink.
    #[serde(rename = "linkTarget", default)]
    pub link_target: String,
}

impl ContainerPathStat {
    /// Whether the path is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & (1 << 31) != 0
    }
}

/// One entry of `GET /containers/{id}/changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerChange {
    /// The path inside the container.
    pub path: String,
    /// 0 modified, 1 added, 2 deleted.
    pub kind: u8,
}
