//! Chapter 05's `BuildService`, implemented with this chapter: what
//! `minidockd` plugs in.
//!
//! The classic builder answers `POST /build` with JSON lines:
//!
//! ```text
//! {"stream":"Step 1/3 : FROM busybox\n"}
//! {"stream":" ---> 3f57d9401f8d\n"}
//! {"stream":" ---> Using cache\n"}
//! {"aux":{"ID":"sha256:…"}}
//! {"stream":"Successfully built 1a2b3c4d5e6f\n"}
//! {"errorDetail":{"message":"…"},"error":"…"}      (on failure, last)
//! ```

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use minidock_daemon::builder::{BuildPruneResponse, BuildRequest, BuildService, CommitRequest};
use minidock_daemon::service::Progress;
use minidock_daemon::types::{BuildCache, ProgressMessage};
use minidock_daemon::{ApiError, ApiResult};
use minidock_images::ImageChanges;
use minidock_lifecycle::{Runtime, RuntimeConfig};

use crate::builder::{BuildOptions, Builder, Message};
use crate::compat::commit::{commit, CommitOptions};
use crate::error::Error;
use crate::image::ImageState;

/// The build service of a daemon.
#[derive(Debug, Clone)]
pub struct BuildPlugin {
    builder: Builder,
    /// Intermediate containers builds left, until the daemon takes them.
    kept: Arc<Mutex<Vec<String>>>,
}

/// A chapter-08 error as an API error.
fn api_error(err: Error) -> ApiError {
    use minidock_images::Error as I;
    use minidock_lifecycle::Error as L;
    match err {
        Error::Parse(_)
        | Error::Context { .. }
        | Error::Step { .. }
        | Error::Substitute(_)
        | Error::RunFailed { .. } => ApiError::BadParameter(err.to_string()),
        Error::Image(I::NoSuchImage(name)) => ApiError::no_such_image(&name),
        Error::Container(L::NoSuchContainer(id)) => ApiError::no_such_container(&id),
        Error::Pull { .. } => ApiError::NotFound(err.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}

impl BuildPlugin {
    /// A build service on the daemon's root, starting containers with the
    /// daemon's own binary (`helper`) as shim. FROM pulls a missing base
    /// image with the daemon's `registry` settings (insecure registries,
    /// `certs.d`, mirrors), read at each pull so a reload reaches builds
    /// too, and, like the daemon's own pulls, without a credentials file.
    pub fn new(
        root: &Path,
        run: &Path,
        cgroup_parent: &str,
        helper: &Path,
        registry: minidock_daemon::daemon::RegistrySettings,
    ) -> Result<BuildPlugin, Error> {
        let runtime = Runtime::new(RuntimeConfig {
            root: root.to_path_buf(),
            run_dir: run.to_path_buf(),
            helper_binary: helper.to_path_buf(),
            cgroup_parent: cgroup_parent.to_string(),
        })?;
        let builder = Builder::new(runtime)?;
        let no_credentials = builder.cache().dir().join("no-credentials.json");
        let builder = builder.with_shared_registry(registry, Some(no_credentials));
        Ok(BuildPlugin {
            builder,
            kept: Arc::default(),
        })
    }

    /// RUN containers join the daemon's default network through `network`
    /// (the service its own containers use).
    pub fn with_network(
        self,
        network: Arc<dyn minidock_daemon::networks::NetworkService>,
    ) -> BuildPlugin {
        BuildPlugin {
            builder: self
                .builder
                .with_network(crate::compat::network::RunNetwork(network)),
            ..self
        }
    }
}

// ANCHOR: service
impl BuildService for BuildPlugin {
    fn build(
        &self,
        context: &mut dyn Read,
        request: &BuildRequest,
        progress: Progress,
    ) -> ApiResult<()> {
        let options = BuildOptions {
            dockerfile: if request.dockerfile.is_empty() {
                "Dockerfile".into()
            } else {
                request.dockerfile.clone()
            },
            tags: request.tags.clone(),
            build_args: request.build_args.clone(),
            no_cache: request.no_cache,
            remove: request.remove,
            // A container left (`rm=false`, or a failed step without
            // `forcerm`) is handed to the daemon's container service by
            // `take_kept_containers`, so `docker ps -a` and `rm` see it.
            force_remove: request.force_remove,
            labels: request.labels.clone(),
            target: request.target.clone(),
            pull: request.pull,
        };
        let quiet = request.quiet;
        let id = self
            .builder
            .build(context, &options, &mut |message| match message {
                Message::Stream(text) if !quiet => progress(ProgressMessage::stream(text)),
                Message::Stream(_) => {}
                Message::ImageId(id) => progress(ProgressMessage {
                    aux: Some(serde_json::json!({ "ID": id })),
                    ..ProgressMessage::default()
                }),
                Message::Kept(id) => self.kept.lock().unwrap_or_else(|p| p.into_inner()).push(id),
            })
            .map_err(api_error)?;
        if quiet {
            progress(ProgressMessage::stream(format!("{id}\n")));
        }
        Ok(())
    }

    fn take_kept_containers(&self) -> Vec<String> {
        std::mem::take(&mut *self.kept.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn intermediates(&self) -> ApiResult<Vec<String>> {
        self.builder.cache().parents().map_err(api_error)
    }

    fn cache_usage(&self) -> ApiResult<Vec<BuildCache>> {
        crate::compat::usage::usage(&self.builder).map_err(api_error)
    }

    fn prune(&self, all: bool) -> ApiResult<BuildPruneResponse> {
        let pruned = crate::compat::usage::prune(&self.builder, all).map_err(api_error)?;
        Ok(BuildPruneResponse {
            caches_deleted: pruned.deleted,
            space_reclaimed: pruned.reclaimed,
        })
    }

    fn commit(&self, request: &CommitRequest) -> ApiResult<String> {
        let reference = request.repo.as_ref().map(|repo| match &request.tag {
            Some(tag) => format!("{repo}:{tag}"),
            None => repo.clone(),
        });
        let options = CommitOptions {
            container: request.container.clone(),
            reference,
            comment: request.comment.clone(),
            author: request.author.clone(),
            changes: request.changes.clone(),
            pause: request.pause,
        };
        commit(&self.builder, &options)
            .map(|id| id.to_string())
            .map_err(api_error)
    }

    fn export(&self, container: &str, out: &mut dyn Write) -> ApiResult<()> {
        crate::compat::export::export(&self.builder, container, out).map_err(api_error)
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
        let store = self.builder.store();
        let imported = store
            .import(
                source,
                None,
                &ImageChanges {
                    message: message.map(str::to_owned),
                    ..ImageChanges::default()
                },
            )
            .map_err(|e| api_error(e.into()))?;
        let image = store
            .resolve(&imported.to_string())
            .map_err(|e| api_error(e.into()))?;
        let mut state = ImageState::of(store, &image).map_err(api_error)?;
        crate::compat::changes::apply(&mut state, changes).map_err(api_error)?;
        let id = state.commit(store).map_err(api_error)?;
        if id != imported {
            store
                .remove(&imported.to_string(), false, &Default::default())
                .map_err(|e| api_error(e.into()))?;
        }
        if let Some(repo) = repo {
            let name = match tag {
                Some(t) if !t.is_empty() => format!("{repo}:{t}"),
                _ => repo.to_string(),
            };
            let reference = name
                .parse()
                .map_err(|e: minidock_images::Error| ApiError::BadParameter(e.to_string()))?;
            let image = store
                .resolve(&id.to_string())
                .map_err(|e| api_error(e.into()))?;
            store
                .tag(&reference, &image.manifest_digest)
                .map_err(|e| api_error(e.into()))?;
        }
        progress(ProgressMessage::status(id.to_string(), None));
        Ok(())
    }
}
// ANCHOR_END: service
