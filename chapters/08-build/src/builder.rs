//! The builder: a Dockerfile's stages, step by step, through the cache.
//!
//! ```text
//! ARG VERSION=1            global ARG: only FROM lines see it
//! FROM busybox AS build    stage 0 "build": starts from busybox
//! RUN make                 a container of chapter 3; its upper dir → layer
//! FROM scratch             stage 1: starts empty
//! COPY --from=build /out / copies from stage 0's image
//! ```
//!
//! Each step turns the current image into a new one (see [`crate::step`]),
//! or takes it from the cache. With `--target`, the stages after the
//! target are not built.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use minidock_images::{ImageId, Reference, Store};
use minidock_lifecycle::Runtime;

use crate::cache::Cache;
use crate::context::Context;
use crate::dockerfile::{self, Args, Instruction};
use crate::error::{Error, IoContext, Result};
use crate::image::ImageState;
use crate::step::{Stage, StepCtx};
use crate::substitute;

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
struct TempTree {
    dir: PathBuf,
    background: bool,
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
        for child in children(&self.dir) {
            if ours(&child) {
                minidock_images::unmount_rootfs(&child).ok();
            } else if child
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("build-"))
            {
                for grandchild in children(&child).into_iter().filter(|g| ours(g)) {
                    minidock_images::unmount_rootfs(&grandchild).ok();
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

    // ANCHOR: build
    /// Builds the context tar `context` (plain or gzip) with `options`,
    /// reporting progress to `out`. Returns the id of the image built.
    pub fn build(
        &self,
        context: impl Read,
        options: &BuildOptions,
        out: &mut dyn FnMut(Message),
    ) -> Result<ImageId> {
        let work = TempTree {
            dir: self.temp_dir("build-")?,
            background: true,
        };
        let context = Context::receive(context, &work.dir.join("context"))?;
        let text = context.read_dockerfile(&options.dockerfile)?;
        let dockerfile = dockerfile::parse(&text)?;
        let escape = dockerfile.directives.escape;

        // Global ARGs (before the first FROM), then the stages.
        let first_from = dockerfile
            .instructions
            .iter()
            .position(|i| i.keyword == "FROM")
            .ok_or_else(|| {
                step_error(
                    &dockerfile.instructions[0],
                    "a Dockerfile must begin with FROM (after ARGs)",
                )
            })?;
        let (globals, rest) = dockerfile.instructions.split_at(first_from);
        if let Some(bad) = globals.iter().find(|i| i.keyword != "ARG") {
            return Err(step_error(bad, "only ARG may come before the first FROM"));
        }
        let mut stages: Vec<Vec<Instruction>> = Vec::new();
        for i in rest {
            if i.keyword == "FROM" {
                stages.push(Vec::new());
            }
            stages.last_mut().expect("starts with FROM").push(i.clone());
        }
        let global_args = global_args(globals, &options.build_args, escape)?;
        let names: Vec<Option<String>> = stages
            .iter()
            .map(|s| stage_name(&s[0]).map(|n| n.to_ascii_lowercase()))
            .collect();
        let last = match &options.target {
            Some(t) => names
                .iter()
                .position(|n| n.as_deref() == Some(&t.to_ascii_lowercase()))
                .ok_or_else(|| Error::NoSuchTarget(t.clone()))?,
            None => stages.len() - 1,
        };
        let total = globals.len() + stages[..=last].iter().map(Vec::len).sum::<usize>();
        let mut number = 0;
        for g in globals {
            number += 1;
            out(Message::Stream(format!(
                "Step {number}/{total} : {}\n",
                g.original
            )));
        }

        let mut built: Vec<Stage> = Vec::new();
        let mut used_args: Vec<String> = global_args.keys().cloned().collect();
        for (index, instructions) in stages[..=last].iter().enumerate() {
            let mut ctx = StepCtx {
                builder: self,
                options,
                context: &context,
                escape,
                global_args: &global_args,
                stages: &built,
                names: &names,
                work: &work.dir,
                out,
            };
            let mut stage = Stage::new(index);
            for instruction in instructions {
                number += 1;
                (ctx.out)(Message::Stream(format!(
                    "Step {number}/{total} : {}\n",
                    instruction.original
                )));
                ctx.step(&mut stage, instruction)?;
            }
            if index == last && !options.labels.is_empty() {
                ctx.labels(&mut stage)?;
            }
            used_args.extend(stage.args.keys().cloned());
            built.push(stage);
        }
        let result = built.pop().expect("at least one stage");
        let id = match &result.state.id {
            Some(id) => id.clone(),
            None => {
                // FROM scratch and nothing else: an empty image.
                let mut state = result.state.clone();
                state.commit(self.store())?.to_string()
            }
        };
        let unused: Vec<&String> = options
            .build_args
            .keys()
            .filter(|k| !used_args.contains(k) && !PREDEFINED_ARGS.contains(&k.as_str()))
            .collect();
        if !unused.is_empty() {
            let list: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            out(Message::Stream(format!(
                "[Warning] One or more build-args [{}] were not consumed\n",
                list.join(" ")
            )));
        }
        let image = self.store().resolve(&id)?;
        out(Message::ImageId(image.id.to_string()));
        out(Message::Stream(format!(
            "Successfully built {}\n",
            image.id.short()
        )));
        for tag in &options.tags {
            let reference: Reference =
                tag.parse()
                    .map_err(|source: minidock_images::Error| Error::InvalidReference {
                        reference: tag.clone(),
                        source,
                    })?;
            self.store().tag(&reference, &image.manifest_digest)?;
            out(Message::Stream(format!(
                "Successfully tagged {}\n",
                reference.familiar()
            )));
        }
        Ok(image.id)
    }
    // ANCHOR_END: build
}

/// The stage name of a FROM line (`FROM image AS name`), if any.
fn stage_name(from: &Instruction) -> Option<String> {
    let text = from.text();
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
        _ => None,
    }
}

/// The values of the global ARGs: `--build-arg` over the default.
fn global_args(
    globals: &[Instruction],
    build_args: &BTreeMap<String, String>,
    escape: char,
) -> Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    for arg in globals {
        let Args::Shell(text) = &arg.args else {
            return Err(step_error(arg, "ARG takes NAME[=default]"));
        };
        let lookup = |k: &str| values.get(k).cloned();
        for word in substitute::words(text, escape, &lookup)? {
            let (name, default) = match word.split_once('=') {
                Some((n, d)) => (n.to_string(), Some(d.to_string())),
                None => (word.clone(), None),
            };
            if let Some(v) = build_args.get(&name).cloned().or(default) {
                values.insert(name, v);
            }
        }
    }
    Ok(values)
}

/// An error of the step `i`.
pub(crate) fn step_error(i: &Instruction, message: impl Into<String>) -> Error {
    Error::Step {
        line: i.line,
        instruction: i.keyword.clone(),
        message: message.into(),
    }
}

/// Where a build keeps a mounted root file system for a step.
pub(crate) fn step_dir(work: &Path, name: &str) -> PathBuf {
    work.join(name)
}
