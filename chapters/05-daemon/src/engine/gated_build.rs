//! The builder (chapter 08) behind the image store's [`WriteGate`].
//!
//! A build writes to the image store as a pull does: each step unpacks a
//! layer, and only the step's commit makes an image reference it. Between
//! the two the layer is "unreferenced", which is exactly what the sweep of
//! an image prune collects; and a prune could remove the image a build is
//! standing on (an untagged intermediate, its base). So a build, a commit
//! and an import hold the gate shared, as pulls and loads do, and a prune
//! (images or build cache) holds it exclusively: it waits for them, and
//! they wait for it.
//!
//! Chapter 08 does not know the gate (it is this daemon's), so the engine
//! wraps the plugin it is given in a [`GatedBuild`]. The wrapper also hands
//! the containers a build kept (`rm=false`, a failed step without
//! `forcerm`) to the container service, which lists only what it knows.

use super::containers::RuntimeContainers;
use super::sweep::WriteGate;
use crate::builder::{BuildPruneResponse, BuildRequest, BuildService, CommitRequest};
use crate::error::ApiResult;
use crate::service::Progress;
use std::io::{Read, Write};
use std::sync::Arc;

/// A build service whose writes hold the image store's gate.
pub(crate) struct GatedBuild {
    inner: Arc<dyn BuildService>,
    gate: Arc<WriteGate>,
    containers: Arc<RuntimeContainers>,
}

impl GatedBuild {
    /// `inner`, writing under `gate` (the image service's), its kept
    /// containers adopted by `containers`.
    pub(crate) fn new(
        inner: Arc<dyn BuildService>,
        gate: Arc<WriteGate>,
        containers: Arc<RuntimeContainers>,
    ) -> GatedBuild {
        GatedBuild {
            inner,
            gate,
            containers,
        }
    }
}

// ANCHOR: gated_build
impl BuildService for GatedBuild {
    fn build(
        &self,
        context: &mut dyn Read,
        request: &BuildRequest,
        progress: Progress,
    ) -> ApiResult<()> {
        let writing = self.gate.writing();
        let built = self.inner.build(context, request, progress);
        drop(writing);
        self.containers.adopt(&self.inner.take_kept_containers());
        built
    }
    // ANCHOR_END: gated_build

    fn intermediates(&self) -> ApiResult<Vec<String>> {
        self.inner.intermediates()
    }

    fn cache_usage(&self) -> ApiResult<Vec<crate::compat::types::BuildCache>> {
        self.inner.cache_usage()
    }

    fn prune(&self, all: bool) -> ApiResult<BuildPruneResponse> {
        // It removes the images only the cache kept: not while a build
        // stands on one of them.
        let _exclusive = self.gate.exclusive();
        self.inner.prune(all)
    }

    fn commit(&self, request: &CommitRequest) -> ApiResult<String> {
        let _writing = self.gate.writing();
        self.inner.commit(request)
    }

    fn export(&self, container: &str, out: &mut dyn Write) -> ApiResult<()> {
        self.inner.export(container, out)
    }

    fn import(
        &self,
        source: &mut dyn Read,
        repo: Option<&str>,
        tag: Option<&str>,
        changes: &[String],
        message: Option<&str>,
        progress: Progress,
    ) -> ApiResult<()> {
        let _writing = self.gate.writing();
        self.inner
            .import(source, repo, tag, changes, message, progress)
    }
}
