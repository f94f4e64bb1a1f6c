//! `minidock build`, `commit` and `export`: chapter 08 through the daemon.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use minidock_build::dockerignore::Ignore;
use minidock_daemon::builder::{BuildRequest, CommitRequest};

use super::Context;
use crate::cli_build::{BuildArgs, CommitArgs, ExportArgs};
use crate::error::Failure;

/// `KEY=value` pairs into a map.
fn pairs(
    list: &[String],
    what: &str,
) -> Result<std::collections::BTreeMap<String, String>, Failure> {
    list.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => match std::env::var(kv) {
                // Docker's `--build-arg KEY` takes the value from the environment
                Ok(v) => Ok((kv.clone(), v)),
                Err(_) => Err(Failure::usage(format!(
                    "invalid {what} {kv:?}: give KEY=value"
                ))),
            },
        })
        .collect()
}

/// Tars the context directory: symlinks as links (never followed),
/// `.dockerignore` applied (the Dockerfile and `.dockerignore` are always
/// sent: the daemon needs them).
fn tar_context(dir: &Path, dockerfile: Option<(&Path, &str)>) -> Result<Vec<u8>, Failure> {
    let fail =
        |e: io::Error| Failure::new(format!("read the build context {}: {e}", dir.display()));
    let ignore = match std::fs::read_to_string(dir.join(".dockerignore")) {
        Ok(text) => Ignore::parse(&text),
        Err(_) => Ignore::default(),
    };
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((real, rel)) = pending.pop() {
        let mut names: Vec<_> = std::fs::read_dir(&real)
            .map_err(fail)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()
            .map_err(fail)?;
        names.sort();
        for name in names {
            let child_rel = if rel.is_empty() {
                name.to_string_lossy().into_owned()
            } else {
                format!("{rel}/{}", name.to_string_lossy())
            };
            let path = real.join(&name);
            let meta = std::fs::symlink_metadata(&path).map_err(fail)?;
            let always = child_rel == "Dockerfile" || child_rel == ".dockerignore";
            let excluded = !always && ignore.excluded(&child_rel);
            if excluded && !(meta.is_dir() && ignore.has_exceptions()) {
                continue;
            }
            if !excluded {
                builder
                    .append_path_with_name(&path, &child_rel)
                    .map_err(fail)?;
            }
            if meta.is_dir() {
                pending.push((path, child_rel));
            }
        }
    }
    if let Some((path, name)) = dockerfile {
        builder.append_path_with_name(path, name).map_err(fail)?;
    }
    builder.into_inner().map_err(fail)
}

/// `minidock build`.
pub fn build(ctx: &Context, args: BuildArgs) -> Result<i32, Failure> {
    let mut dockerfile = String::new();
    let context: Vec<u8> = if args.path == "-" {
        let mut input = Vec::new();
        io::stdin()
            .read_to_end(&mut input)
            .map_err(|e| Failure::new(format!("read stdin: {e}")))?;
        let is_tar =
            input.starts_with(&[0x1f, 0x8b]) || (input.len() > 262 && &input[257..262] == b"ustar");
        if is_tar {
            input
        } else {
            // a Dockerfile alone: a context of one file
            let mut b = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_gnu();
            h.set_size(input.len() as u64);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            b.append_data(&mut h, "Dockerfile", &input[..])
                .and_then(|()| b.into_inner())
                .map_err(|e| Failure::new(format!("pack the Dockerfile: {e}")))?
        }
    } else {
        let dir = PathBuf::from(&args.path);
        if !dir.is_dir() {
            return Err(Failure::usage(format!(
                "unable to prepare context: path {:?} not found",
                args.path
            )));
        }
        let dir = dir
            .canonicalize()
            .map_err(|e| Failure::new(format!("{}: {e}", args.path)))?;
        // -f: inside the context, its path there; outside, sent along.
        let mut outside = None;
        if let Some(file) = &args.file {
            let file = PathBuf::from(file)
                .canonicalize()
                .map_err(|e| Failure::usage(format!("Dockerfile {file}: {e}")))?;
            match file.strip_prefix(&dir) {
                Ok(rel) => dockerfile = rel.display().to_string(),
                Err(_) => {
                    dockerfile = ".minidock-dockerfile".to_string();
                    outside = Some(file);
                }
            }
        }
        tar_context(&dir, outside.as_deref().map(|p| (p, dockerfile.as_str())))?
    };
    let request = BuildRequest {
        dockerfile,
        tags: args.tags,
        build_args: pairs(&args.build_args, "--build-arg")?,
        no_cache: args.no_cache,
        remove: true,
        force_remove: false,
        labels: pairs(&args.labels, "--label")?,
        target: args.target,
        quiet: args.quiet,
        pull: args.pull,
    };
    let stream = ctx.client.build(&mut &context[..], &request)?;
    let mut stdout = io::stdout();
    let mut id = String::new();
    stream
        .finish(|m| {
            if let Some(aux) = &m.aux {
                if let Some(i) = aux["ID"].as_str() {
                    id = i.to_string();
                }
            }
            if let Some(text) = &m.stream {
                if !args.quiet {
                    stdout.write_all(text.as_bytes()).ok();
                    stdout.flush().ok();
                }
            }
        })
        .map_err(|e| Failure::new(e.to_string()))?;
    if args.quiet {
        println!("{id}");
    }
    Ok(0)
}

/// `minidock commit`.
pub fn commit(ctx: &Context, args: CommitArgs) -> Result<i32, Failure> {
    let (repo, tag) = match &args.reference {
        Some(r) => match r.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            Some((repo, tag)) => (Some(repo.to_string()), Some(tag.to_string())),
            None => (Some(r.clone()), None),
        },
        None => (None, None),
    };
    let id = ctx.client.commit(&CommitRequest {
        container: args.container,
        repo,
        tag,
        comment: args.message,
        author: args.author,
        changes: args.changes,
        pause: args.pause,
    })?;
    println!("{id}");
    Ok(0)
}

/// `minidock export`.
pub fn export(ctx: &Context, args: ExportArgs) -> Result<i32, Failure> {
    match &args.output {
        Some(path) => {
            let mut file =
                File::create(path).map_err(|e| Failure::new(format!("create {path}: {e}")))?;
            ctx.client.container_export(&args.container, &mut file)?;
        }
        None => {
            let mut out = io::stdout();
            if out.is_terminal() {
                return Err(Failure::usage(
                    "cowardly refusing to save to a terminal. Use the -o flag or redirect",
                ));
            }
            ctx.client.container_export(&args.container, &mut out)?;
        }
    }
    Ok(0)
}
