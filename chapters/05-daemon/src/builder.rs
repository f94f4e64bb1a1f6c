//! The build service: `POST /build`, `POST /commit`, `GET
//! /containers/{id}/export`, `POST /build/prune`, and `import --change`.
//!
//! Building images is chapter 08, which comes after this one: arrows point
//! one way, so the daemon cannot call it directly. It defines this trait
//! instead, and whoever assembles the daemon (`minidockd`, in `final/`)
//! plugs chapter 08's implementation in through
//! [`crate::engine::Plugins`]. Without one,
//! these endpoints answer 501 and say so.

use crate::error::ApiResult;
use crate::service::Progress;
use std::collections::BTreeMap;
use std::io::{Read, Write};

// ANCHOR: build_request
/// What `POST /build` asks for (its query).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildRequest {
    /// `dockerfile`: its path in the context (`Dockerfile` when empty).
    pub dockerfile: String,
    /// `t`, repeated: names to tag the image with.
    pub tags: Vec<String>,
    /// `buildargs` (a JSON object); a `null` value means "from the
    /// environment", which a daemon does not have: it is left out.
    pub build_args: BTreeMap<String, String>,
    /// `nocache`.
    pub no_cache: bool,
    /// `rm` (default true): remove intermediate containers after success.
    pub remove: bool,
    /// `forcerm`: remove them always.
    pub force_remove: bool,
    /// `labels` (a JSON object).
    pub labels: BTreeMap<String, String>,
    /// `target`: the stage to stop at.
    pub target: Option<String>,
    /// `q`: only the image id.
    pub quiet: bool,
    /// `pull`: pull base images even when present.
    pub pull: bool,
}

/// What `POST /commit` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitRequest {
    /// `container`: id or name.
    pub container: String,
    /// `repo` and `tag`: the name of the new image, if any.
    pub repo: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// `comment` (`-m`).
    pub comment: Option<String>,
    /// `author` (`-a`).
    pub author: Option<String>,
    /// `changes`, repeated (`-c 'CMD ["x"]'`): Dockerfile instructions.
    pub changes: Vec<String>,
    /// `pause` (default true): freeze the container while committing.
    pub pause: bool,
}

/// The answer of `POST /build/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildPruneResponse {
    /// The ids of what was deleted.
    #[serde(rename = "CachesDeleted")]
    pub caches_deleted: Vec<String>,
    /// Bytes freed.
    #[serde(rename = "SpaceReclaimed")]
    pub space_reclaimed: u64,
}
// ANCHOR_END: build_request

// ANCHOR: build_service
/// Building images: chapter 08 implements it.
pub trait BuildService: Send + Sync + 'static {
    /// `POST /build`: builds the context tar (plain or gzip) and reports
    /// the classic builder's JSON lines (`stream`, `aux`).
    fn build(
        &self,
        context: &mut dyn Read,
        request: &BuildRequest,
        progress: Progress,
    ) -> ApiResult<()>;
    /// The intermediate containers builds kept since the last call
    /// (`rm=false`, or a failed step without `forcerm`): the daemon lists
    /// them with its own.
    fn take_kept_containers(&self) -> Vec<String> {
        Vec::new()
    }
    /// The ids of a build's intermediate images (the parents of later
    /// steps), which `GET /images/json` leaves out unless `all`.
    fn intermediates(&self) -> ApiResult<Vec<String>> {
        Ok(Vec::new())
    }
    /// `GET /system/df`'s `BuildCache`: the cache's entries and their
    /// sizes.
    fn cache_usage(&self) -> ApiResult<Vec<crate::compat::types::BuildCache>> {
        Ok(Vec::new())
    }
    /// `POST /build/prune`: forgets the build cache (with `all`, also
    /// deletes the untagged images only the cache kept).
    fn prune(&self, all: bool) -> ApiResult<BuildPruneResponse>;
    /// `POST /commit`: a container's changes as a new image; returns its id.
    fn commit(&self, request: &CommitRequest) -> ApiResult<String>;
    /// `GET /containers/{id}/export`: the container's file system as a tar.
    fn export(&self, container: &str, out: &mut dyn Write) -> ApiResult<()>;
    /// `POST /images/create?fromSrc=-&changes=…&message=…`: an import with
    /// Dockerfile instructions applied to its config.
    fn import(
        &self,
        source: &mut dyn Read,
        repo: Option<&str>,
        tag: Option<&str>,
        changes: &[String],
        message: Option<&str>,
        progress: Progress,
    ) -> ApiResult<()>;
}
// ANCHOR_END: build_service
