//! Volumes: the shapes of `/volumes` and of `Volumes` in `/system/df`.

use super::nullable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One volume, as `GET /volumes/{name}` and `docker volume inspect` show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    /// The volume's name (64 hex digits for an anonymous one).
    pub name: String,
    /// `local`, the only driver.
    pub driver: String,
    /// Where its data lies on the host.
    pub mountpoint: String,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: String,
    /// Labels given at creation.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// `local`.
    #[serde(default)]
    pub scope: String,
    /// The driver options given at creation (`type`, `device`, `o`).
    #[serde(default, deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    /// Size and users, where the request asks for them (`/system/df`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsageData>,
}

/// `UsageData` of a volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeUsageData {
    /// Bytes under its data directory; -1 when not measured.
    pub size: i64,
    /// How many containers use it; -1 when not counted.
    pub ref_count: i64,
}

/// `GET /volumes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeListResponse {
    /// The volumes.
    #[serde(default, deserialize_with = "nullable")]
    pub volumes: Vec<Volume>,
    /// Volumes that could not be read, and why.
    #[serde(default, deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

/// The body of `POST /volumes/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeCreateBody {
    /// The name; empty: a random one.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The driver; empty: `local`.
    #[serde(default, deserialize_with = "nullable")]
    pub driver: String,
    /// `-o type=tmpfs -o device=tmpfs -o o=size=64m`.
    #[serde(default, deserialize_with = "nullable")]
    pub driver_opts: BTreeMap<String, String>,
    /// `--label`.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
}

/// The answer to `POST /volumes/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumePruneResponse {
    /// Names of the removed volumes (`null` when none, as Docker).
    pub volumes_deleted: Option<Vec<String>>,
    /// Bytes they held.
    #[serde(default)]
    pub space_reclaimed: u64,
}

/// `GET /system/df`: what takes space, by kind of object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SystemDfResponse {
    /// Bytes of the images' layers.
    #[serde(default)]
    pub layers_size: i64,
    /// The images, with `Containers` (how many use each).
    #[serde(default, deserialize_with = "nullable")]
    pub images: Vec<super::ImageSummary>,
    /// Every container, with `SizeRw`.
    #[serde(default, deserialize_with = "nullable")]
    pub containers: Vec<super::ContainerSummary>,
    /// Every volume, with `UsageData`.
    #[serde(default, deserialize_with = "nullable")]
    pub volumes: Vec<Volume>,
    /// The build cache's entries (none without a builder).
    #[serde(default, deserialize_with = "nullable")]
    pub build_cache: Vec<super::BuildCache>,
}
