//! The stages of a Dockerfile, one after another: the build itself.
//!
//! ```text
//! ARG VERSION=1            global ARG: only FROM lines see it
//! FROM busybox AS build    stage 0 "build": starts from busybox
//! RUN make                 a container of chapter 3; its upper dir → layer
//! FROM scratch             stage 1: starts empty
//! COPY --from=build /out / copies from stage 0's image
//! ```
//!
//! The context is received, the Dockerfile parsed and cut into stages at
//! each FROM; each instruction is a step (see [`crate::step`]) that turns
//! the current image into a new one, or takes it from the cache. With
//! `--target`, the stages after the target are not built. The
//! [`Builder`] this extends holds what every build shares: the runtime,
//! the image store and the cache.

use std::collections::BTreeMap;
use std::io::Read;

use minidock_images::{ImageId, Reference};

use crate::builder::{BuildOptions, Builder, Message, TempTree, PREDEFINED_ARGS};
use crate::context::Context;
use crate::dockerfile::{self, Args, Instruction};
use crate::error::{step_error, Error, Result};
use crate::stage::Stage;
use crate::step::StepCtx;
use crate::substitute;

impl Builder {
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
