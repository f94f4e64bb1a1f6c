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
//!
//! This file holds the stage, FROM and the config steps; `run.rs` holds
//! RUN and `copy.rs` COPY and ADD.

use std::collections::BTreeMap;
use std::path::Path;

use crate::builder::{BuildOptions, Builder, Message};
use crate::cache;
pub use crate::config::Configurer;
use crate::context::Context;
use crate::dockerfile::instruction::parse_line;
use crate::dockerfile::lines::Line;
use crate::dockerfile::{Args, Instruction};
use crate::error::{step_error, Result};
use crate::image::ImageState;
use crate::stage::Stage;
use crate::substitute;

mod copy;
mod run;

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

    // ANCHOR: cached_done_hit
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
    // ANCHOR_END: cached_done_hit

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

/// Where a build keeps a mounted root file system for a step.
pub(crate) fn step_dir(work: &Path, name: &str) -> std::path::PathBuf {
    work.join(name)
}
