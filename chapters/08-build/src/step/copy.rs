//! COPY and ADD: the image so far is mounted as an overlay, the files are
//! unpacked into it (from the context, an earlier stage, a URL or a
//! heredoc), and the upper directory becomes the step's layer.

use std::fs;
use std::io::{self, Read, Seek};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use minidock_images::{MountMethod, Rootfs};

use crate::cache;
use crate::copy::{
    download, expand_source, is_archive, is_url, resolve_in_root, url_file_name, Packer, SourceRoot,
};
use crate::diff::commit_layer;
use crate::dockerfile::{Args, Instruction};
use crate::error::{step_error, IoContext, Result};
use crate::image::ImageState;
use crate::stage::{normalize, Stage};

use super::{layer_dirs, parse_chmod, step_dir, unique, StepCtx};

impl StepCtx<'_> {
    // ANCHOR: copy
    // ANCHOR: copy_words
    pub(super) fn copy(&mut self, stage: &mut Stage, i: &Instruction) -> Result<()> {
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
        // ANCHOR_END: copy_words
        // ANCHOR: copy_dest
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

        // ANCHOR_END: copy_dest
        // ANCHOR: copy_sources
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
        // ANCHOR_END: copy_sources
        // ANCHOR: copy_cache
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
        // ANCHOR_END: copy_cache
        // ANCHOR: copy_overlay

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
        // ANCHOR_END: copy_overlay
        // ANCHOR: copy_unpack
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
    // ANCHOR_END: copy_unpack
    // ANCHOR_END: copy

    /// Writes the heredocs of a COPY or ADD into `dir`, each as a file
    /// (mode 0644) named after its word, its variables expanded unless the
    /// word was quoted; returns the names, which replace the `<<WORD`s.
    pub(super) fn write_heredocs(
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
    pub(super) fn source_stage(&mut self, i: &Instruction, name: &str) -> Result<ImageState> {
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
