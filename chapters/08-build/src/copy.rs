//! What COPY and ADD copy: sources found in the context (or in another
//! stage), packed as one tar, and the hash of that content.
//!
//! COPY is the one instruction whose result depends on something outside
//! the Dockerfile: the files. So the build cache cannot key it on its text
//! alone; it keys it on a hash of what is copied — every path, type, mode,
//! link target and byte of content (not the modification time: touching a
//! file without changing it keeps the cache, as in Docker).
//!
//! Sources are resolved *inside* their root: a symlink `link -> /etc` in the
//! context is followed as if the context were `/`, so `COPY link/passwd .`
//! reads the context's `etc/passwd` or fails, never the host's. Below a
//! source directory, symlinks are copied as symlinks.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::dockerignore::{glob, Ignore};

/// Where sources are read from: the context (with its `.dockerignore`) or
/// another stage's root file system.
#[derive(Debug, Clone, Copy)]
pub struct SourceRoot<'a> {
    /// The directory that is `/` for the sources.
    pub root: &'a Path,
    /// The context's ignore rules; `None` for a stage.
    pub ignore: Option<&'a Ignore>,
}

// ANCHOR: resolve_in_root
/// Resolves `path` below `root`, following symlinks as if `root` were `/`.
/// Returns the real path on the host (inside `root`).
pub fn resolve_in_root(root: &Path, path: &str) -> Result<PathBuf, String> {
    let mut todo: VecDeque<OsString> = Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut done: Vec<OsString> = Vec::new();
    let mut hops = 0;
    while let Some(name) = todo.pop_front() {
        if name == ".." {
            done.pop();
            continue;
        }
        let here: PathBuf = root.join(done.iter().collect::<PathBuf>()).join(&name);
        let meta = fs::symlink_metadata(&here).map_err(|e| format!("{path}: {e}"))?;
        if meta.file_type().is_symlink() {
            hops += 1;
            if hops > 40 {
                return Err(format!("{path}: too many levels of symbolic links"));
            }
            let target = fs::read_link(&here).map_err(|e| format!("{path}: {e}"))?;
            if target.is_absolute() {
                done.clear();
            }
            for c in target.components().rev() {
                match c {
                    Component::Normal(n) => todo.push_front(n.to_os_string()),
                    Component::ParentDir => todo.push_front("..".into()),
                    _ => {}
                }
            }
        } else {
            done.push(name);
        }
    }
    Ok(root.join(done.iter().collect::<PathBuf>()))
}
// ANCHOR_END: resolve_in_root

/// Cleans a source path: relative to the root, no `.` parts.
fn clean(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

// ANCHOR: expand_plain
/// The paths (relative to the root) a COPY source names: itself, or every
/// path its wildcards match. Excluded paths are not found.
pub fn expand_source(src: SourceRoot<'_>, pattern: &str) -> Result<Vec<String>, String> {
    let cleaned = clean(pattern);
    let excluded = |p: &str| src.ignore.is_some_and(|i| !p.is_empty() && i.excluded(p));
    if !cleaned.contains(['*', '?', '[']) {
        if excluded(&cleaned) {
            return Err(format!(
                "{pattern}: file not found in build context or excluded by .dockerignore"
            ));
        }
        resolve_in_root(src.root, &cleaned).map_err(|e| {
            format!("{e}: file not found in build context or excluded by .dockerignore")
        })?;
        return Ok(vec![cleaned]);
    }
    // ANCHOR_END: expand_plain
    // ANCHOR: expand_glob
    let parts: Vec<&str> = cleaned.split('/').collect();
    let mut found = Vec::new();
    let mut frontier = vec![String::new()];
    for (i, part) in parts.iter().enumerate() {
        let mut next = Vec::new();
        for dir in &frontier {
            let real = src.root.join(dir);
            let Ok(entries) = fs::read_dir(&real) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                if glob(part, &name) {
                    let rel = if dir.is_empty() {
                        name
                    } else {
                        format!("{dir}/{name}")
                    };
                    if !excluded(&rel) {
                        next.push(rel);
                    }
                }
            }
        }
        if i + 1 == parts.len() {
            found = next;
            break;
        }
        frontier = next;
    }
    if found.is_empty() {
        return Err(format!(
            "no source files were specified: {pattern} matches nothing in the build context"
        ));
    }
    Ok(found)
}
// ANCHOR_END: expand_glob

/// A reader that hashes what passes through.
struct Tee<'a, R> {
    inner: R,
    hasher: &'a mut Sha256,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Packs sources into a tar, hashing them as they go.
pub struct Packer<W: Write> {
    builder: tar::Builder<W>,
    hasher: Sha256,
    chmod: Option<u32>,
}

impl<W: Write> Packer<W> {
    /// A packer writing to `out`; `chmod` replaces every mode (`--chmod`).
    pub fn new(out: W, chmod: Option<u32>) -> Packer<W> {
        Packer {
            builder: tar::Builder::new(out),
            hasher: Sha256::new(),
            chmod,
        }
    }

    // ANCHOR: add
    // ANCHOR: pack_entry
    /// Adds `real` (a path on the host) as `name` in the tar, a directory
    /// with what is below it (minus what `ignore` excludes; `rel` is its
    /// path in the context for that test). Symlinks are added as symlinks.
    pub fn add(
        &mut self,
        real: &Path,
        name: &str,
        rel: &str,
        ignore: Option<&Ignore>,
    ) -> io::Result<()> {
        let meta = fs::symlink_metadata(real)?;
        let kind = meta.file_type();
        let mode = self.chmod.unwrap_or(meta.permissions().mode() & 0o7777);
        let mut header = tar::Header::new_gnu();
        header.set_mode(mode);
        // owners are set when unpacking (`--chown`, else root)
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(meta.mtime().max(0) as u64);
        header.set_size(0);
        let (type_name, link) = if kind.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            ("dir", Vec::new())
        } else if kind.is_symlink() {
            header.set_entry_type(tar::EntryType::Symlink);
            (
                "symlink",
                fs::read_link(real)?.as_os_str().as_bytes().to_vec(),
            )
        } else if kind.is_file() {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(meta.len());
            ("file", Vec::new())
        } else {
            return Ok(()); // sockets, fifos: nothing to copy
        };
        // The cache key's view of this entry: everything but the time.
        self.hasher.update(
            format!(
                "{name}\0{type_name}\0{mode:o}\0{}\0",
                meta.len() * kind.is_file() as u64
            )
            .as_bytes(),
        );
        self.hasher.update(&link);
        // ANCHOR_END: pack_entry
        // ANCHOR: pack_data
        if !name.is_empty() {
            if kind.is_symlink() {
                self.builder
                    .append_link(&mut header, name, OsStr::from_bytes(&link))?;
            } else if kind.is_file() {
                let file = File::open(real)?;
                let tee = Tee {
                    inner: file.take(meta.len()),
                    hasher: &mut self.hasher,
                };
                self.builder.append_data(&mut header, name, tee)?;
            } else {
                self.builder.append_data(&mut header, name, io::empty())?;
            }
        }
        if kind.is_dir() {
            let mut names: Vec<OsString> = fs::read_dir(real)?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<io::Result<_>>()?;
            names.sort();
            for child in names {
                let child = child.to_string_lossy().into_owned();
                let child_rel = if rel.is_empty() {
                    child.clone()
                } else {
                    format!("{rel}/{child}")
                };
                if ignore.is_some_and(|i| i.excluded(&child_rel)) {
                    continue;
                }
                let child_name = if name.is_empty() {
                    child.clone()
                } else {
                    format!("{name}/{child}")
                };
                self.add(&real.join(&child), &child_name, &child_rel, ignore)?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: pack_data
    // ANCHOR_END: add

    /// Hashes extra bytes into the content hash (an ADD archive's bytes).
    pub fn hash_bytes(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    /// Ends the tar; returns the writer and the content hash (hex).
    pub fn finish(self) -> io::Result<(W, String)> {
        let out = self.builder.into_inner()?;
        Ok((out, hex::encode(self.hasher.finalize())))
    }
}

/// Whether an ADD source is a URL.
pub fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// The file name ADD gives what it downloads: the URL's last path part.
pub fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let after_host = path.splitn(4, '/').nth(3).unwrap_or("");
    after_host
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .unwrap_or("download")
        .to_string()
}

/// Downloads `url` into the new file `to` (mode 0600, as Docker makes it).
pub fn download(url: &str, to: &Path) -> Result<(), String> {
    let response = ureq::get(url)
        .call()
        .map_err(|e| format!("download {url}: {e}"))?;
    let mut body = response.into_body().into_reader();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|e| format!("create {}: {e}", to.display()))?;
    io::copy(&mut body, &mut file).map_err(|e| format!("download {url}: {e}"))?;
    Ok(())
}

/// Whether a file is a tar archive ADD unpacks (plain tar or gzip).
pub fn is_archive(path: &Path) -> bool {
    let mut head = [0u8; 512];
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    head[..n].starts_with(&[0x1f, 0x8b]) || (n >= 262 && &head[257..262] == b"ustar")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("etc/passwd"), "ours").unwrap();
        symlink("/etc", root.join("abs")).unwrap();
        symlink("../../../etc", root.join("climb")).unwrap();
        assert_eq!(
            resolve_in_root(root, "abs/passwd").unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(
            resolve_in_root(root, "climb/passwd").unwrap(),
            root.join("etc/passwd")
        );
        assert!(resolve_in_root(root, "abs/shadow").is_err());
        symlink("loop", root.join("loop")).unwrap();
        assert!(resolve_in_root(root, "loop")
            .unwrap_err()
            .contains("too many"));
    }

    #[test]
    fn url_names() {
        assert_eq!(url_file_name("http://h:1/a/b.tar.gz?x=1"), "b.tar.gz");
        assert_eq!(url_file_name("https://h/"), "download");
        assert_eq!(url_file_name("http://h"), "download");
        assert_eq!(url_file_name("http://h/.."), "download");
    }

    #[test]
    fn wildcards_and_the_hash() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src")).unwrap();
        fs::write(root.join("src/a.txt"), "a").unwrap();
        fs::write(root.join("src/b.txt"), "b").unwrap();
        fs::write(root.join("src/c.md"), "c").unwrap();
        let ignore = Ignore::parse("src/b.txt");
        let src = SourceRoot {
            root,
            ignore: Some(&ignore),
        };
        assert_eq!(expand_source(src, "src/*.txt").unwrap(), vec!["src/a.txt"]);
        assert!(expand_source(src, "src/b.txt").is_err());
        assert!(expand_source(src, "*.rs").is_err());

        let hash = |root: &Path| {
            let mut p = Packer::new(Vec::new(), None);
            p.add(&root.join("src"), "", "src", Some(&ignore)).unwrap();
            p.finish().unwrap().1
        };
        let first = hash(root);
        // a new time, the same content: the same hash
        fs::write(root.join("src/a.txt"), "a").unwrap();
        assert_eq!(hash(root), first);
        // an ignored file changes nothing
        fs::write(root.join("src/b.txt"), "changed").unwrap();
        assert_eq!(hash(root), first);
        fs::write(root.join("src/a.txt"), "A").unwrap();
        assert_ne!(hash(root), first);
    }
}
