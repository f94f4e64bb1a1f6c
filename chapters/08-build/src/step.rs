//! One step: what each instruction does to the image being built.
//!
//! Three kinds of steps:
//!
//! - **config steps** (ENV, LABEL, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE,
//!   VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD, ARG): only the config
//!   changes; the history entry says `empty_layer`;
//! - **RUN**: a container of chapter 3 runs the command on the current
//!   image, with the build's environment; its upper directory becomes a
//!   layer ([`crate::diff`]);
//! - **COPY and ADD**: the current image's layers are mounted as an
//!   overlay, the files are unpacked into it, and again the upper directory
//!   becomes a layer.
//!
//! Every step first asks the cache ([`crate::cache`]) whether it ran
//! before on the same parent.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Seek};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use minidock_images::{MountMethod, Rootfs};
use minidock_lifecycle::attach::{read_frame, Frame};
use minidock_lifecycle::config::{Bind, HostConfig, TmpfsMount, UserConfig};
use minidock_lifecycle::{CreateOptions, WaitCondition};

use crate::builder::{step_dir, step_error, BuildOptions, Builder, Message, PREDEFINED_ARGS};
use crate::cache;
use crate::compat::run_mount::{self, RunMount};
pub use crate::config::Configurer;
use crate::context::Context;
use crate::copy::{
    download, expand_source, is_archive, is_url, resolve_in_root, url_file_name, Packer, SourceRoot,
};
use crate::diff::commit_layer;
use crate::dockerfile::instruction::parse_line;
use crate::dockerfile::lines::Line;
use crate::dockerfile::{Args, Instruction};
use crate::error::{Error, IoContext, Result};
use crate::image::ImageState;
use crate::substitute;

/// A stage being built.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Its position in the Dockerfile (for `--from=0`).
    pub index: usize,
    /// The image so far.
    pub state: ImageState,
    /// The ARGs declared in this stage, with their values.
    pub args: BTreeMap<String, String>,
    /// The shell of shell-form commands.
    pub shell: Vec<String>,
    /// Whether this stage set CMD (ENTRYPOINT clears an inherited one).
    pub(crate) cmd_set: bool,
}

impl Stage {
    /// A stage before its FROM.
    pub fn new(index: usize) -> Stage {
        Stage {
            index,
            state: ImageState::scratch(),
            args: BTreeMap::new(),
            shell: vec!["/bin/sh".into(), "-c".into()],
            cmd_set: false,
        }
    }
}

/// What a step needs from the build around it.
pub struct StepCtx<'a> {
    pub(crate) builder: &'a Builder,
    pub(crate) options: &'a BuildOptions,
    pub(crate) context: &'a Context,
    pub(crate) escape: char,
    pub(crate) global_args: &'a BTreeMap<String, String>,
    /// The stages built before this one.
    pub(crate) stages: &'a [Stage],
    /// Every stage's name (lower case), by index.
    pub(crate) names: &'a [Option<String>],
    pub(crate) work: &'a Path,
    pub(crate) out: &'a mut dyn FnMut(Message),
}

/// A number no other call in this process got: names of step directories.
fn unique() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Parses `--chmod=755`.
fn parse_chmod(i: &Instruction) -> Result<Option<u32>> {
    i.flag("chmod")
        .map(|m| {
            u32::from_str_radix(m, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| {
                    step_error(
                        i,
                        format!("invalid --chmod={m}: give an octal mode like 755"),
                    )
                })
        })
        .transpose()
}

impl StepCtx<'_> {
    fn cfg(&self) -> Configurer<'_> {
        Configurer {
            escape: self.escape,
            build_args: &self.options.build_args,
            global_args: self.global_args,
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        (self.out)(Message::Stream(text.into()));
    }

    /// The image a cache key names, if the cache may be used and the image
    /// is still in the store.
    fn cached(&self, key: &str) -> Result<Option<ImageState>> {
        if self.options.no_cache {
            return Ok(None);
        }
        let Some(id) = self.builder.cache().get(key)? else {
            return Ok(None);
        };
        match self.builder.store().resolve(&id) {
            Ok(image) => Ok(Some(ImageState::of(self.builder.store(), &image)?)),
            Err(_) => Ok(None),
        }
    }

    /// Ends a step: the new state becomes the stage's, the cache learns it.
    fn done(&mut self, stage: &mut Stage, key: &str, mut next: ImageState) -> Result<()> {
        let parent = stage.state.id.clone().unwrap_or_default();
        let id = next.commit(self.builder.store())?;
        self.builder.cache().put(key, &id.to_string(), &parent)?;
        stage.state = next;
        self.say(format!(" ---> {}\n", id.short()));
        Ok(())
    }

    fn hit(&mut self, stage: &mut Stage, state: ImageState) {
        let short = state
            .id
            .as_deref()
            .map(|i| {
                i.trim_start_matches("sha256:")
                    .chars()
                    .take(12)
                    .collect::<String>()
            })
            .unwrap_or_default();
        stage.state = state;
        self.say(" ---> Using cache\n");
        self.say(format!(" ---> {short}\n"));
    }

    /// Runs one instruction of `stage`.
    pub fn step(&mut self, stage: &mut Stage, i: &Instruction) -> Result<()> {
        match i.keyword.as_str() {
            "FROM" => self.from(stage, i),
            "RUN" => self.run(stage, i),
            "COPY" | "ADD" => self.copy(stage, i),
            _ => self.config_step(stage, i),
        }
    }

    // ANCHOR: from
    fn from(&mut self, stage: &mut Stage, i: &Instruction) -> Result<()> {
        let lookup = |k: &str| {
            (self.global_args.get(k).cloned()).or_else(|| crate::compat::platform::arg(k))
        };
        if let Some(platform) = i.flag("platform") {
            let platform = substitute::expand(platform, self.escape, &lookup)?;
            crate::compat::platform::check(&platform).map_err(|e| step_error(i, e))?;
        }
        let words = substitute::words(&i.text(), self.escape, &lookup)?;
        let image = match words.as_slice() {
            [image] | [image, _, _] => image.clone(),
            _ => return Err(step_error(i, "FROM takes an image and an optional AS name")),
        };
        let earlier = self
            .names
            .iter()
            .take(self.stages.len())
            .position(|n| n.as_deref() == Some(&image.to_ascii_lowercase()));
        stage.state = if let Some(n) = earlier {
            self.stages[n].state.clone()
        } else if image == "scratch" {
            ImageState::scratch()
        } else {
            let pull = self.options.pull;
            self.builder.base_image(&image, pull, &mut *self.out)?
        };
        if let Some(id) = &stage.state.id {
            let short: String = id.trim_start_matches("sha256:").chars().take(12).collect();
            self.say(format!(" ---> {short}\n"));
        }
        // ONBUILD triggers of the base run now, in this build.
        let triggers: Vec<String> = stage.state.config["config"]["OnBuild"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if !triggers.is_empty() {
            stage.state.run_config().remove("OnBuild");
            self.say(format!("# Executing {} build trigger(s)\n", triggers.len()));
            for text in triggers {
                let trigger = parse_line(
                    &Line {
                        number: i.line,
                        text,
                    },
                    self.escape,
                )?;
                self.step(stage, &trigger)?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: from

    /// A step that changes only the config.
    fn config_step(&mut self, stage: &mut Stage, i: &Instruction) -> Result<()> {
        let mut next = stage.state.clone();
        let shown = self.cfg().apply_config(stage, &mut next, i)?;
        let created_by = format!("/bin/sh -c #(nop)  {shown}");
        let parent = stage.state.id.clone().unwrap_or_default();
        let key = cache::key(&parent, &created_by, None);
        if let Some(hit) = self.cached(&key)? {
            self.hit(stage, hit);
            return Ok(());
        }
        next.add_history(&created_by, None);
        self.done(stage, &key, next)
    }

    // ANCHOR: run
    fn run(&mut self, stage: &mut Stage, i: &Instruction) -> Result<()> {
        let argv: Vec<String> = match &i.args {
            Args::Json(v) => v.clone(),
            Args::Shell(s) => stage.shell.iter().cloned().chain([s.clone()]).collect(),
        };
        // The build args a RUN sees are part of what it ran.
        let mut env: Vec<String> = stage.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for name in PREDEFINED_ARGS {
            if let Some(v) = self.options.build_args.get(*name) {
                env.push(format!("{name}={v}"));
            }
        }
        let created_by = if env.is_empty() {
            argv.join(" ")
        } else {
            format!("|{} {} {}", env.len(), env.join(" "), argv.join(" "))
        };
        let (host_config, mounts_key) = self.run_mounts(i)?;
        let parent = stage.state.id.clone().unwrap_or_default();
        let key = cache::key(&parent, &created_by, mounts_key.as_deref());
        if let Some(hit) = self.cached(&key)? {
            self.hit(stage, hit);
            return Ok(());
        }
        let Some(image) = stage.state.id.clone() else {
            return Err(step_error(
                i,
                "RUN needs an image with a shell: this stage is FROM scratch with nothing in it",
            ));
        };
        let runtime = self.builder.runtime();
        let id = runtime.create(CreateOptions {
            image,
            name: None,
            config: UserConfig {
                entrypoint: Some(Vec::new()),
                cmd: Some(argv.clone()),
                env,
                working_dir: Some(stage.state.get_str("WorkingDir")).filter(|w| !w.is_empty()),
                user: Some(stage.state.get_str("User")).filter(|u| !u.is_empty()),
                ..UserConfig::default()
            },
            host_config,
        })?;
        // The daemon's default network, when the builder has one.
        let wired = match self.builder.network() {
            Some(network) => crate::compat::network::wire(network, runtime, &id)
                .inspect_err(|_| drop(runtime.remove(&id, true)))?,
            None => None,
        };
        self.say(format!(" ---> Running in {}\n", id.short()));
        let result = self.run_container(&id, &argv);
        drop(wired);
        let remove = match &result {
            Ok(_) => self.options.remove || self.options.force_remove,
            Err(_) => self.options.force_remove,
        };
        let layer = result.and_then(|()| {
            let upper = runtime.container_dir(&id).join("upper");
            commit_layer(self.builder.store(), &upper, self.work)
        });
        if remove {
            runtime.remove(&id, true)?;
            self.say(format!("Removing intermediate container {}\n", id.short()));
        } else {
            (self.out)(Message::Kept(id.to_string()));
        }
        let mut next = stage.state.clone();
        next.add_history(&created_by, Some(layer?));
        self.done(stage, &key, next)
    }
    // ANCHOR_END: run

    /// The mounts of a RUN's `--mount` flags, as the container's host
    /// config, and what of them goes into the cache key (the specs, and
    /// the content of bound context paths; `None` without mounts).
    fn run_mounts(&self, i: &Instruction) -> Result<(HostConfig, Option<String>)> {
        let mut host = HostConfig::default();
        let mut key = String::new();
        for flag in i.flags.iter().filter(|f| f.name == "mount") {
            let spec = flag.value.as_deref().unwrap_or("");
            key.push_str(spec);
            key.push('\n');
            match run_mount::parse(spec).map_err(|e| step_error(i, e))? {
                RunMount::Cache {
                    id,
                    target,
                    read_only,
                } => {
                    let dir = run_mount::cache_dir(self.builder.cache().dir(), &id);
                    fs::create_dir_all(&dir).ctx("create", &dir)?;
                    host.binds.push(Bind {
                        source: dir,
                        destination: target,
                        read_only,
                        propagation: Default::default(),
                    });
                }
                RunMount::Bind { source, target } => {
                    let root = self.context.root();
                    let real = resolve_in_root(root, &source)
                        .map_err(|e| step_error(i, format!("--mount source {source}: {e}")))?;
                    let mut packer = Packer::new(io::sink(), None);
                    packer
                        .add(
                            &real,
                            "",
                            source.trim_matches('/'),
                            Some(self.context.ignore()),
                        )
                        .and_then(|()| packer.finish())
                        .map(|(_, hash)| key.push_str(&hash))
                        .map_err(|e| step_error(i, format!("--mount source {source}: {e}")))?;
                    host.binds.push(Bind {
                        source: real,
                        destination: target,
                        read_only: true,
                        propagation: Default::default(),
                    });
                }
                RunMount::Tmpfs { target, size } => host.tmpfs.push(TmpfsMount {
                    destination: target,
                    data: size.map(|s| format!("size={s}")).unwrap_or_default(),
                    read_only: false,
                    noexec: false,
                }),
            }
        }
        Ok((host, (!key.is_empty()).then_some(key)))
    }

    /// Starts a RUN container attached, streams its output, and fails
    /// unless it exits with 0.
    fn run_container(
        &mut self,
        id: &minidock_lifecycle::ContainerId,
        argv: &[String],
    ) -> Result<()> {
        let runtime = self.builder.runtime();
        let mut stream = runtime.start_attached(id)?;
        let mut code = None;
        loop {
            match read_frame(&mut stream) {
                Ok(Some(Frame::Stdout(b))) | Ok(Some(Frame::Stderr(b))) => {
                    self.say(String::from_utf8_lossy(&b).into_owned());
                }
                Ok(Some(Frame::Exit(c))) => {
                    code = Some(c);
                    break;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let status = runtime.wait(id, WaitCondition::NotRunning)?;
        let code = code.unwrap_or(status.code);
        if code != 0 {
            return Err(Error::RunFailed {
                command: argv.join(" "),
                code,
            });
        }
        Ok(())
    }

    // ANCHOR: copy
    fn copy(&mut self, stage: &mut Stage, i: &Instruction) -> Result<()> {
        let add = i.keyword == "ADD";
        let mut words = match &i.args {
            Args::Json(v) => v
                .iter()
                .map(|w| self.cfg().expand(stage, w))
                .collect::<Result<Vec<_>>>()?,
            Args::Shell(s) => self.cfg().expand_words(stage, s)?,
        };
        if words.len() < 2 {
            return Err(step_error(
                i,
                format!("{} needs at least one source and a destination", i.keyword),
            ));
        }
        let dest_word = words.pop().expect("two words");
        // ADD <url>: downloaded first, then copied like a context file.
        let downloads = self.work.join(format!("urls-{}", unique()));
        let urls = words.iter().any(|w| is_url(w));
        if urls {
            if !add {
                return Err(step_error(i, "COPY cannot take a URL: use ADD"));
            }
            if !words.iter().all(|w| is_url(w)) || i.flag("from").is_some() {
                return Err(step_error(
                    i,
                    "ADD takes URLs or local files, not both (and no --from with URLs): split it in two",
                ));
            }
            fs::create_dir_all(&downloads).ctx("create", &downloads)?;
            let mut names = Vec::new();
            for url in &words {
                let name = url_file_name(url);
                download(url, &downloads.join(&name)).map_err(|e| step_error(i, e))?;
                names.push(name);
            }
            words = names;
        }
        // COPY <<EOF /file: each heredoc is a file named after its word,
        // written out first and then copied like a context file.
        let written = self.work.join(format!("heredocs-{}", unique()));
        let heredocs = !i.heredocs.is_empty();
        if heredocs {
            words = self.write_heredocs(stage, i, &words, &written)?;
        }
        let workdir = stage.state.get_str("WorkingDir");
        let dest = if dest_word.starts_with('/') {
            dest_word.clone()
        } else {
            format!(
                "{}/{dest_word}",
                if workdir.is_empty() {
                    ""
                } else {
                    workdir.as_str()
                }
            )
        };
        let dest_is_dir = dest_word.ends_with('/') || dest_word == "." || words.len() > 1;
        let dest = normalize(&dest);
        let chmod = parse_chmod(i)?;

        // Where the sources are: the context, or another stage or image.
        let from = i.flag("from").map(str::to_owned);
        let from_dir = self.work.join(format!("from-{}", unique()));
        let from_state = match &from {
            None => None,
            Some(name) => Some(self.source_stage(i, name)?),
        };
        let _mounted = match &from_state {
            Some(state) => Some(MountGuard(Rootfs::mount_layers(
                &layer_dirs(self.builder, state),
                &from_dir,
                MountMethod::Auto,
            )?)),
            None => None,
        };
        let src = match &from_state {
            _ if urls => SourceRoot {
                root: &downloads,
                ignore: None,
            },
            _ if heredocs => SourceRoot {
                root: &written,
                ignore: None,
            },
            Some(_) => SourceRoot {
                root: &from_dir.join("merged"),
                ignore: None,
            },
            None => SourceRoot {
                root: self.context.root(),
                ignore: Some(self.context.ignore()),
            },
        };
        let src_root = src.root.to_path_buf();
        let src = SourceRoot {
            root: &src_root,
            ..src
        };
        let mut sources = Vec::new();
        for pattern in &words {
            sources.extend(
                expand_source(src, pattern)
                    .map_err(|e| step_error(i, format!("{} failed: {e}", i.keyword)))?,
            );
        }
        // The content hash: a dry run of the packing.
        let plan = CopyPlan {
            sources: &sources,
            src,
            // downloaded archives are copied, not unpacked (as Docker does)
            add: add && from.is_none() && !urls && !heredocs,
            dest_is_dir: dest_is_dir || sources.len() > 1,
            dest: &dest,
            chmod,
        };
        let content = plan
            .pack(io::sink(), None)
            .map_err(|e| step_error(i, format!("{} failed: {e}", i.keyword)))?;
        let created_by = format!(
            "/bin/sh -c #(nop) {} {}{} in {dest}",
            i.keyword,
            i.flags
                .iter()
                .map(|f| format!("--{}={} ", f.name, f.value.as_deref().unwrap_or("")))
                .collect::<String>(),
            if from.is_some() {
                format!("{}:{content}", "stage")
            } else {
                format!("file:{content}")
            },
        );
        let parent = stage.state.id.clone().unwrap_or_default();
        let key = cache::key(&parent, &created_by, Some(&content));
        if let Some(hit) = self.cached(&key)? {
            self.hit(stage, hit);
            return Ok(());
        }

        // Unpack into an overlay of the current image. With `--link`, of
        // nothing: the files make a layer of their own that does not
        // depend on what the image holds (a symlink in it is not
        // followed), as BuildKit's `COPY --link` means.
        let link = i.flag("link").is_some_and(|v| v != "false");
        let image_layers = layer_dirs(self.builder, &stage.state);
        let lower = if link { &[][..] } else { &image_layers[..] };
        let dir = step_dir(self.work, &format!("step-{}", unique()));
        let rootfs = MountGuard(Rootfs::mount_layers(lower, &dir, MountMethod::Auto)?);
        let merged = rootfs.0.path().to_path_buf();
        let owner = match i.flag("chown") {
            Some(spec) => {
                // User names are the image's, even with --link.
                let image_root = match link {
                    true => Some(MountGuard(Rootfs::mount_layers(
                        &image_layers,
                        &step_dir(self.work, &format!("step-{}", unique())),
                        MountMethod::Auto,
                    )?)),
                    false => None,
                };
                let names = image_root.as_ref().map_or(merged.as_path(), |r| r.0.path());
                let user = minidock_lifecycle::user::resolve_user(names, spec)
                    .map_err(|e| step_error(i, format!("--chown={spec}: {e}")))?;
                (user.uid, user.gid)
            }
            None => (0, 0),
        };
        let into_dir = plan.dest_is_dir
            || sources.len() == 1
                && resolve_in_root(&merged, &dest).is_ok_and(|p| p.is_dir())
                && !plan.is_dir_source(&sources[0]);
        let (base, name) = if into_dir || plan.is_dir_source(&sources[0]) {
            (dest.clone(), None)
        } else {
            let (parent, name) = dest.rsplit_once('/').unwrap_or(("", dest.as_str()));
            (
                if parent.is_empty() {
                    "/".to_string()
                } else {
                    parent.to_string()
                },
                Some(name.to_string()),
            )
        };
        minidock_lifecycle::inroot::mkdir_all_in_root(&merged, Path::new(&base))
            .map_err(|e| step_error(i, format!("create {base}: {e}")))?;
        let mut spool =
            tempfile::tempfile_in(self.work).ctx("create a temporary file in", self.work)?;
        plan.pack(&mut spool, name.as_deref())
            .map_err(|e| step_error(i, format!("{} failed: {e}", i.keyword)))?;
        spool.rewind().ctx("rewind", self.work)?;
        minidock_images::copy::extract_into_root(&merged, &base, &mut spool, owner)
            .map_err(|e| step_error(i, format!("{} failed: {e}", i.keyword)))?;
        // ADD: local archives are unpacked, not copied.
        for source in plan.archives() {
            let real = resolve_in_root(src.root, source).map_err(|e| step_error(i, e))?;
            let file = fs::File::open(&real).ctx("open", &real)?;
            let mut input = io::BufReader::new(file);
            let head = io::BufRead::fill_buf(&mut input).ctx("read", &real)?;
            let mut plain: Box<dyn Read> = if head.starts_with(&[0x1f, 0x8b]) {
                Box::new(flate2::bufread::MultiGzDecoder::new(input))
            } else {
                Box::new(input)
            };
            minidock_images::copy::extract_into_root(&merged, &dest, &mut plain, owner)
                .map_err(|e| step_error(i, format!("ADD {source}: {e}")))?;
        }
        drop(spool);
        let upper = rootfs.0.upper();
        let layer = commit_layer(self.builder.store(), &upper, self.work)?;
        drop(rootfs);
        fs::remove_dir_all(&dir).ok();
        let mut next = stage.state.clone();
        next.add_history(&created_by, Some(layer));
        self.done(stage, &key, next)
    }
    // ANCHOR_END: copy

    /// Writes the heredocs of a COPY or ADD into `dir`, each as a file
    /// (mode 0644) named after its word, its variables expanded unless the
    /// word was quoted; returns the names, which replace the `<<WORD`s.
    fn write_heredocs(
        &mut self,
        stage: &Stage,
        i: &Instruction,
        words: &[String],
        dir: &Path,
    ) -> Result<Vec<String>> {
        let markers = words.iter().filter(|w| w.starts_with("<<")).count();
        if markers != words.len() || markers != i.heredocs.len() || i.flag("from").is_some() {
            return Err(step_error(
                i,
                format!(
                    "{} takes heredocs or files, not both (and no --from with heredocs): \
                     split it in two",
                    i.keyword
                ),
            ));
        }
        fs::create_dir_all(dir).ctx("create", dir)?;
        let mut names = Vec::new();
        for doc in &i.heredocs {
            let body = if doc.expand {
                self.cfg().expand_text(stage, &doc.body)?
            } else {
                doc.body.clone()
            };
            let path = dir.join(&doc.name);
            fs::write(&path, body).ctx("write", &path)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).ctx("chmod", &path)?;
            names.push(doc.name.clone());
        }
        Ok(names)
    }

    /// The image `--from=` names: an earlier stage (by name or number) or
    /// an image.
    fn source_stage(&mut self, i: &Instruction, name: &str) -> Result<ImageState> {
        let lower = name.to_ascii_lowercase();
        if let Some(n) = self
            .names
            .iter()
            .take(self.stages.len())
            .position(|s| s.as_deref() == Some(&lower))
        {
            return Ok(self.stages[n].state.clone());
        }
        if let Ok(n) = name.parse::<usize>() {
            return self.stages.get(n).map(|s| s.state.clone()).ok_or_else(|| {
                step_error(i, format!("--from={n}: there is no earlier stage {n}"))
            });
        }
        let pull = self.options.pull;
        self.builder.base_image(name, pull, &mut *self.out)
    }

    /// `--label`s of the build, on the last stage's image.
    pub fn labels(&mut self, stage: &mut Stage) -> Result<()> {
        let labels: Vec<String> = self
            .options
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        let line = Instruction {
            line: 0,
            keyword: "LABEL".into(),
            flags: Vec::new(),
            args: Args::Shell(labels.join(" ")),
            original: format!("LABEL {}", labels.join(" ")),
            heredocs: Vec::new(),
        };
        self.config_step(stage, &line)
    }
}

/// The layer directories of a state, bottom first.
fn layer_dirs(builder: &Builder, state: &ImageState) -> Vec<std::path::PathBuf> {
    state
        .layers
        .iter()
        .map(|l| builder.store().layer_dir(&l.diff_id))
        .collect()
}

/// Unmounts a step's overlay when dropped.
struct MountGuard(Rootfs);

impl Drop for MountGuard {
    fn drop(&mut self) {
        minidock_images::unmount_rootfs(self.0.container_dir()).ok();
    }
}

/// What a COPY or ADD copies where.
struct CopyPlan<'a> {
    sources: &'a [String],
    src: SourceRoot<'a>,
    add: bool,
    dest_is_dir: bool,
    dest: &'a str,
    chmod: Option<u32>,
}

impl CopyPlan<'_> {
    fn real(&self, source: &str) -> io::Result<std::path::PathBuf> {
        resolve_in_root(self.src.root, source).map_err(io::Error::other)
    }

    fn is_dir_source(&self, source: &str) -> bool {
        self.real(source).is_ok_and(|p| p.is_dir())
    }

    /// The sources ADD unpacks.
    fn archives(&self) -> Vec<&String> {
        self.sources
            .iter()
            .filter(|s| self.add && self.real(s).is_ok_and(|p| p.is_file() && is_archive(&p)))
            .collect()
    }

    /// Packs the sources into a tar on `out` (names relative to the
    /// directory they are unpacked in; `name` renames a single file).
    /// Returns the content hash.
    fn pack<W: io::Write>(&self, out: W, name: Option<&str>) -> io::Result<String> {
        let mut packer = Packer::new(out, self.chmod);
        packer.hash_bytes(self.dest.as_bytes());
        let archives = self.archives();
        for source in self.sources {
            let real = self.real(source)?;
            if archives.contains(&source) {
                let mut f = fs::File::open(&real)?;
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    let n = f.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    packer.hash_bytes(&buf[..n]);
                }
                continue;
            }
            let base = source.rsplit('/').next().unwrap_or(source);
            let entry_name = if real.is_dir() {
                String::new()
            } else {
                name.map(str::to_owned).unwrap_or_else(|| base.to_string())
            };
            packer.add(&real, &entry_name, source, self.src.ignore)?;
        }
        Ok(packer.finish()?.1)
    }
}

/// Cleans an absolute path: no `.`, no `..` above `/`, no doubled `/`.
pub(crate) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize("/a/./b/../c/"), "/a/c");
        assert_eq!(normalize("/../x"), "/x");
        assert_eq!(normalize(""), "/");
    }
}
