//! The build cache, as `GET /system/df` shows it (`BuildCache`).

use super::nullable;
use serde::{Deserialize, Serialize};

/// One entry of the build cache: a step's result that a later build with
/// the same parent and instruction reuses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuildCache {
    /// The entry's id (the step's cache key).
    #[serde(rename = "ID")]
    pub id: String,
    /// The entries it was built on (the previous step's).
    #[serde(default, deserialize_with = "nullable")]
    pub parents: Vec<String>,
    /// `regular`: a step's file system changes (the classic builder has
    /// no cache mounts or sources of its own).
    #[serde(rename = "Type")]
    pub kind: String,
    /// What the step ran.
    #[serde(default)]
    pub description: String,
    /// Whether a build uses it right now.
    #[serde(default)]
    pub in_use: bool,
    /// Whether what it holds is also an image's that is kept (tagged or
    /// used by a container): pruning the entry would not free it.
    #[serde(default)]
    pub shared: bool,
    /// Bytes on disk of the layer the step made (0 for a step that only
    /// changed the config).
    #[serde(default)]
    pub size: i64,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: String,
    /// RFC 3339, when a build last used it; absent if never reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// How many builds used it.
    #[serde(default)]
    pub usage_count: i64,
}
