//! `minidock cp`: files between a container and the host, as tar streams
//! through the daemon (`GET`/`PUT /containers/{id}/archive`).
//!
//! The naming rules are Docker's: copying to an existing directory puts the
//! source inside it under its own name; copying to a path that does not
//! exist yet creates it with that name; `SRC/.` copies a directory's
//! content rather than the directory. `-` reads or writes a tar on
//! stdin/stdout.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Component, Path, PathBuf};

use crate::cli::CpArgs;
use crate::error::Failure;
use crate::format::human_size;

use super::Context;

/// `CONTAINER:PATH` → (container, path); a local path is `None`. As in
/// Docker, a local path that contains `:` must start with `/` or `./`.
fn container_path(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    arg.split_once(':')
}

/// The last component of a path, for naming the copy.
fn base_name(path: &str) -> Result<String, Failure> {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Failure::new(format!("cannot copy {path:?}: it names no file")))
}

/// `minidock cp SRC DEST`.
pub fn cp(ctx: &Context, args: CpArgs) -> Result<i32, Failure> {
    match (
        container_path(&args.source),
        container_path(&args.destination),
    ) {
        (Some((container, path)), None) => copy_out(ctx, container, path, &args.destination),
        (None, Some((container, path))) => copy_in(ctx, &args.source, container, path),
        (Some(_), Some(_)) => Err(Failure::usage(
            "copying between containers is not supported: copy to the host first",
        )),
        (None, None) => Err(Failure::usage(
            "must specify at least one container source (CONTAINER:PATH)",
        )),
    }
}

fn copy_out(ctx: &Context, container: &str, path: &str, dest: &str) -> Result<i32, Failure> {
    if dest == "-" {
        let stdout = io::stdout();
        ctx.client
            .container_archive_get(container, path, &mut stdout.lock())?;
        return Ok(0);
    }
    let stat = ctx
        .client
        .container_path_stat(container, path)?
        .ok_or_else(|| {
            Failure::new(format!(
                "Could not find the file {path} in container {container}"
            ))
        })?;
    let contents_only = path.ends_with("/.") && stat.is_dir();
    let dest_path = PathBuf::from(dest);
    // Where the copy goes, and under which name its top entry lands.
    let (base, rename): (PathBuf, Option<String>) = match fs::metadata(&dest_path) {
        Ok(meta) if meta.is_dir() && contents_only => (dest_path.clone(), None),
        Ok(meta) if meta.is_dir() => (dest_path.clone(), Some(stat.name.clone())),
        Ok(_) if stat.is_dir() => {
            return Err(Failure::new(format!(
                "cannot copy directory {container}:{path} to the file {dest}"
            )))
        }
        Ok(_) => (parent_of(&dest_path), Some(base_name(dest)?)),
        Err(_) => {
            let parent = parent_of(&dest_path);
            if !parent.is_dir() {
                return Err(Failure::new(format!(
                    "destination directory {} does not exist",
                    parent.display()
                )));
            }
            if contents_only {
                fs::create_dir(&dest_path)
                    .map_err(|e| Failure::new(format!("create {dest}: {e}")))?;
                (dest_path.clone(), None)
            } else {
                (parent, Some(base_name(dest)?))
            }
        }
    };
    // The tar streams from the daemon into the extraction, through a
    // socket pair: nothing is held in memory or spooled.
    let (mut reader, mut writer) =
        UnixStream::pair().map_err(|e| Failure::new(format!("socketpair: {e}")))?;
    let copied = std::thread::scope(|scope| {
        let fetch = scope.spawn(move || {
            let result = ctx
                .client
                .container_archive_get(container, path, &mut writer);
            drop(writer);
            result
        });
        let extracted = extract(&mut reader, &base, rename.as_deref());
        // Unblock the fetch if the extraction stopped early.
        drop(reader);
        let fetched = fetch.join().expect("the fetch thread does not panic");
        fetched?;
        extracted
    })?;
    eprintln!("Successfully copied {} to {dest}", human_size(copied));
    Ok(0)
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Unpacks the tar from the daemon below `base`, its first component
/// renamed to `rename` if given. Refuses any entry
/// that would land outside `base` or be written through a symlink there.
/// Returns the bytes of regular files written.
fn extract(tar: &mut dyn Read, base: &Path, rename: Option<&str>) -> Result<u64, Failure> {
    let mut archive = tar::Archive::new(tar);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    let mut copied = 0;
    let fail = |what: String| Failure::new(format!("copy: {what}"));
    for entry in archive.entries().map_err(|e| fail(e.to_string()))? {
        let mut entry = entry.map_err(|e| fail(e.to_string()))?;
        let path = entry.path().map_err(|e| fail(e.to_string()))?.into_owned();
        let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
        for component in path.components() {
            match component {
                Component::Normal(p) => parts.push(p),
                Component::CurDir => {}
                _ => {
                    return Err(fail(format!(
                        "refused entry {}: it leaves the destination",
                        path.display()
                    )))
                }
            }
        }
        // The daemon names the top entry after the source; a `SRC/.` copy
        // comes as the content under `.`, which needs no renaming.
        if let Some(name) = rename {
            if parts.is_empty() {
                continue;
            }
            parts[0] = std::ffi::OsStr::new(name);
        }
        if parts.is_empty() {
            continue;
        }
        let mut target = base.to_path_buf();
        for (i, part) in parts.iter().enumerate() {
            target.push(part);
            let last = i + 1 == parts.len();
            if !last && fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(fail(format!(
                    "refused entry {}: {} is a symlink",
                    path.display(),
                    target.display()
                )));
            }
        }
        if entry.header().entry_type().is_file() {
            copied += entry.size();
        }
        // An existing file is replaced, not written through.
        if let Ok(meta) = fs::symlink_metadata(&target) {
            if !meta.is_dir() || !entry.header().entry_type().is_dir() {
                if meta.is_dir() {
                    fs::remove_dir_all(&target)
                } else {
                    fs::remove_file(&target)
                }
                .map_err(|e| fail(format!("replace {}: {e}", target.display())))?;
            }
        }
        entry
            .unpack(&target)
            .map_err(|e| fail(format!("write {}: {e}", target.display())))?;
    }
    Ok(copied)
}

fn copy_in(ctx: &Context, source: &str, container: &str, path: &str) -> Result<i32, Failure> {
    if source == "-" {
        let stdin = io::stdin();
        ctx.client
            .container_archive_put(container, path, &mut stdin.lock())?;
        return Ok(0);
    }
    let meta = fs::symlink_metadata(source)
        .map_err(|e| Failure::new(format!("could not stat {source}: {e}")))?;
    let contents_only = source.ends_with("/.") && meta.is_dir();
    let dest = ctx.client.container_path_stat(container, path)?;
    // The directory to extract into, and the name of the top entry.
    let (dir, name): (String, Option<String>) = match dest {
        Some(d) if d.is_dir() && contents_only => (path.to_string(), None),
        Some(d) if d.is_dir() => (path.to_string(), Some(base_name(source)?)),
        Some(_) if meta.is_dir() => {
            return Err(Failure::new(format!(
                "cannot copy directory {source} to the file {container}:{path}"
            )))
        }
        _ if contents_only => {
            return Err(Failure::new(format!(
                "cannot copy the content of {source} to {container}:{path}: it is not an existing directory"
            )))
        }
        _ => {
            let parent = Path::new(path)
                .parent()
                .map(|p| p.display().to_string())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "/".to_string());
            (parent, Some(base_name(path)?))
        }
    };
    let (mut reader, writer) =
        UnixStream::pair().map_err(|e| Failure::new(format!("socketpair: {e}")))?;
    let source_path = PathBuf::from(source);
    let packer = std::thread::spawn(move || pack(writer, &source_path, name.as_deref()));
    let sent = ctx
        .client
        .container_archive_put(container, &dir, &mut reader);
    drop(reader);
    let packed = packer.join().expect("the packing thread does not panic");
    sent?;
    let copied = packed?;
    eprintln!(
        "Successfully copied {} to {container}:{path}",
        human_size(copied)
    );
    Ok(0)
}

/// Writes `source` as a tar to `out`, named `name` (or its content at the
/// top, for `None`), symlinks as symlinks. Returns the bytes of its files.
fn pack(out: UnixStream, source: &Path, name: Option<&str>) -> Result<u64, Failure> {
    let fail = |e: io::Error| Failure::new(format!("archive {}: {e}", source.display()));
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let meta = fs::symlink_metadata(source).map_err(fail)?;
    match name {
        Some(name) if meta.is_dir() => builder.append_dir_all(name, source).map_err(fail)?,
        Some(name) => builder.append_path_with_name(source, name).map_err(fail)?,
        None => builder.append_dir_all(".", source).map_err(fail)?,
    }
    let copied = file_bytes(source);
    builder
        .into_inner()
        .and_then(|mut w| w.flush())
        .map_err(fail)?;
    Ok(copied)
}

/// The bytes of the regular files at or below `path`, symlinks not
/// followed: what "Successfully copied" counts.
fn file_bytes(path: &Path) -> u64 {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| file_bytes(&e.path())).sum())
            .unwrap_or(0),
        Ok(meta) if meta.is_file() => meta.len(),
        _ => 0,
    }
}
