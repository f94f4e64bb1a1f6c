//! The builder: what every build on one engine root shares — the runtime
//! (its image store and containers), the build cache, how FROM pulls a
//! missing base image — and what a build is asked for and reports.
//!
//! The build itself, stage by stage, is in [`crate::stages`]; each step in
//! [`crate::step`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use minidock_images::{Reference, Store};
use minidock_lifecycle::Runtime;

use crate::cache::Cache;
use crate::error::{Error, IoContext, Result};
use crate::image::ImageState;

/// Build args that need no ARG to be used (Docker's predefined ones).
pub const PREDEFINED_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// What a build is asked for (`docker build` flags, `POST /build` query).
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The Dockerfile's path in the context (`-f`).
    pub dockerfile: String,
    /// Names to tag the result with (`-t`, several).
    pub tags: Vec<String>,
    /// `--build-arg KEY=value`.
    pub build_args: BTreeMap<String, String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--rm`: remove intermediate containers after a successful step.
    pub remove: bool,
    /// `--force-rm`: remove them also after a failed step.
    pub force_remove: bool,
    /// `--label`: labels set on the result.
    pub labels: BTreeMap<String, String>,
    /// `--target`: the stage to stop at.
    pub target: Option<String>,
    /// `--pull`: pull base images even when they are in the store.
    pub pull: bool,
}

impl Default for BuildOptions {
    fn default() -> BuildOptions {
        BuildOptions {
            dockerfile: "Dockerfile".into(),
            tags: Vec::new(),
            build_args: BTreeMap::new(),
            no_cache: false,
            remove: true,
            force_remove: false,
            labels: BTreeMap::new(),
            target: None,
            pull: false,
        }
    }
}

/// What a build reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Text for the user (`Step 1/4 : FROM busybox\n`, a RUN's output).
    Stream(String),
    /// The id of the image built (sent once, at the end).
    ImageId(String),
    /// The id of an intermediate container left in place (`--rm=false`,
    /// or a failed step without `--force-rm`).
    Kept(String),
}

/// Registry settings shared with their owner, read at each pull.
pub type RegistrySettings = Arc<RwLock<minidock_registry::ClientOptions>>;

/// Builds images on one engine root.
#[derive(Debug, Clone)]
pub struct Builder {
    runtime: Runtime,
    cache: Cache,
    /// How FROM pulls a missing base image: the daemon's registry
    /// settings (insecure registries, certificates, mirrors), shared so a
    /// reload of its configuration reaches the next build.
    registry: Option<RegistrySettings>,
    /// Where those pulls look for saved credentials, in place of the
    /// settings' own file (a daemon keeps none).
    credentials_file: Option<PathBuf>,
    network: Option<crate::compat::network::RunNetwork>,
}

// ANCHOR: temp_tree
/// Removes a directory tree when dropped (the build's temporary files).
/// What is mounted in it is unmounted at once; with `background`, the
/// files are then deleted by a thread of their own, after the build has
/// answered: a context of many files takes as long to delete as a cached
/// rebuild takes in all, and nobody waits for it. A daemon that stops
/// before that thread is done leaves them in `builder/tmp`, which the next
/// builder empties when it starts.
pub(crate) struct TempTree {
    /// The tree.
    pub(crate) dir: PathBuf,
    /// Delete the files on a thread of their own.
    pub(crate) background: bool,
}

impl Drop for TempTree {
    fn drop(&mut self) {
        // Any overlay a failed step left mounted first: steps mount in
        // `step-*` and `from-*` of a build's directory (one or two levels
        // down). Only those names: a context may hold anything, even a
        // `merged` symlink pointing at another container's root.
        let ours = |p: &Path| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("step-") || n.starts_with("from-"))
        };
        let children = |dir: &Path| -> Vec<PathBuf> {
            std::fs::read_dir(dir)
                .map(|entries| entries.flatten().map(|e| e.path()).collect())
                .unwrap_or_default()
        };
        // The context's tmpfs too, if a build killed midway left it.
        let context = |p: &Path| p.file_name().is_some_and(|n| n == "context");
        for child in children(&self.dir) {
            if ours(&child) {
                minidock_images::unmount_rootfs(&child).ok();
            } else if context(&child) {
                crate::context::unmount_scratch(&child);
            } else if child
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("build-"))
            {
                for grandchild in children(&child) {
                    if ours(&grandchild) {
                        minidock_images::unmount_rootfs(&grandchild).ok();
                    } else if context(&grandchild) {
                        crate::context::unmount_scratch(&grandchild);
                    }
                }
            }
        }
        if self.background {
            let dir = std::mem::take(&mut self.dir);
            std::thread::spawn(move || std::fs::remove_dir_all(dir).ok());
        } else {
            std::fs::remove_dir_all(&self.dir).ok();
        }
    }
}
// ANCHOR_END: temp_tree

// ANCHOR: builder_new
impl Builder {
    /// A builder using `runtime` (its image store and containers) and the
    /// cache in `ROOT/builder/`.
    pub fn new(runtime: Runtime) -> Result<Builder> {
        let cache = Cache::open(&runtime.config().root)?;
        // What a build killed midway left.
        let tmp = cache.dir().join("tmp");
        if tmp.exists() {
            drop(TempTree {
                dir: tmp.clone(),
                background: false,
            });
        }
        std::fs::create_dir_all(&tmp).ctx("create", &tmp)?;
        Ok(Builder {
            runtime,
            cache,
            registry: None,
            credentials_file: None,
            network: None,
        })
    }

    // ANCHOR_END: builder_new
    /// Lets FROM pull missing base images with these registry settings.
    pub fn with_registry(self, options: minidock_registry::ClientOptions) -> Builder {
        self.with_shared_registry(Arc::new(RwLock::new(options)), None)
    }

    /// Lets FROM pull missing base images with the settings `registry`
    /// holds at the time of each pull (a daemon's, which may change), and
    /// the saved credentials of `credentials_file` if given.
    pub fn with_shared_registry(
        mut self,
        registry: RegistrySettings,
        credentials_file: Option<PathBuf>,
    ) -> Builder {
        self.registry = Some(registry);
        self.credentials_file = credentials_file;
        self
    }

    /// Wires RUN containers to the default network of this service (the
    /// daemon's); without one they have only their own loopback.
    pub fn with_network(mut self, network: crate::compat::network::RunNetwork) -> Builder {
        self.network = Some(network);
        self
    }

    /// The network service of RUN containers, if any.
    pub(crate) fn network(&self) -> Option<&crate::compat::network::RunNetwork> {
        self.network.as_ref()
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The image store.
    pub fn store(&self) -> &Store {
        self.runtime.images()
    }

    /// The build cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// A fresh private directory for temporary files.
    pub(crate) fn temp_dir(&self, prefix: &str) -> Result<PathBuf> {
        let parent = self.cache.dir().join("tmp");
        std::fs::create_dir_all(&parent).ctx("create", &parent)?;
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&parent)
            .ctx("create a temporary directory in", &parent)?;
        Ok(dir.keep())
    }
    // ANCHOR: base_image

    /// Finds an image by name or id, pulling it if missing (or if `pull`).
    pub(crate) fn base_image(
        &self,
        name: &str,
        pull: bool,
        out: &mut dyn FnMut(Message),
    ) -> Result<ImageState> {
        if !pull {
            if let Ok(image) = self.store().resolve(name) {
                return ImageState::of(self.store(), &image);
            }
        }
        let Some(registry) = &self.registry else {
            return Err(Error::NoSuchImage(name.to_string()));
        };
        let mut options = registry.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(file) = &self.credentials_file {
            options.credentials_file = file.clone();
        }
        let reference: Reference =
            name.parse()
                .map_err(|e: minidock_images::Error| Error::Pull {
                    image: name.to_string(),
                    message: e.to_string(),
                })?;
        out(Message::Stream(format!("Pulling {reference}\n")));
        let client = minidock_registry::Client::new(options);
        client
            .pull(
                self.store(),
                &reference,
                &minidock_registry::PullOptions::default(),
                &|_| {},
            )
            .map_err(|e| Error::Pull {
                image: name.to_string(),
                message: e.to_string(),
            })?;
        let image = self.store().resolve(&reference.to_string())?;
        ImageState::of(self.store(), &image)
    }
    // ANCHOR_END: base_image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_tmpfs_left_behind_is_detached_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        let context = tmp.join("build-x/context");
        std::fs::create_dir_all(&context).unwrap();
        nix::mount::mount(
            Some("tmpfs"),
            &context,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            Some("size=1m"),
        )
        .expect("mount a tmpfs (the test runs as root)");
        std::fs::write(context.join("file"), "x").unwrap();
        drop(TempTree {
            dir: tmp.clone(),
            background: false,
        });
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!mounts.contains(context.to_str().unwrap()), "still mounted");
        assert!(!tmp.exists(), "not deleted");
    }
}
