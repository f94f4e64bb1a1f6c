//! The workspace as the checks see it: its member crates, what each one
//! depends on inside the house, and every Rust file under them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One member crate of the workspace.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its directory, relative to the workspace root (`chapters/01-namespaces`).
    pub dir: String,
    /// Its package name (`minidock-namespaces`).
    pub name: String,
    /// The one-line `description` of its Cargo.toml, if it has one.
    pub description: String,
    /// The workspace's own crates it depends on (normal and build
    /// dependencies; dev-dependencies do not make layers).
    pub deps: Vec<String>,
}

impl Member {
    /// Whether it is a chapter crate (`chapters/NN-…`).
    pub fn is_chapter(&self) -> bool {
        self.dir.starts_with("chapters/")
    }

    /// The chapter's number as written (`01`), for a chapter crate.
    pub fn chapter_number(&self) -> Option<&str> {
        let rest = self.dir.strip_prefix("chapters/")?;
        rest.get(..2)
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// Reads the members listed in `root/Cargo.toml`, in the order listed.
pub fn members(root: &Path) -> io::Result<Vec<Member>> {
    let manifest = read(&root.join("Cargo.toml"))?;
    let list = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .ok_or_else(|| io::Error::other("Cargo.toml: no `members = [ … ]` list in [workspace]"))?;
    let mut members = Vec::new();
    for dir in list
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
    {
        let text = read(&root.join(dir).join("Cargo.toml"))?;
        members.push(Member {
            dir: dir.to_string(),
            name: toml_value(&text, "package", "name").unwrap_or_else(|| dir.to_string()),
            description: toml_value(&text, "package", "description").unwrap_or_default(),
            deps: house_deps(&text),
        });
    }
    let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    for m in &mut members {
        m.deps.retain(|d| names.contains(d));
    }
    Ok(members)
}

/// The string value of `key` in `[section]` of a Cargo.toml.
fn toml_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = "";
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            current = line.trim_matches(|c| c == '[' || c == ']');
        } else if current == section {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == key {
                    return Some(v.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    None
}

/// The keys of `[dependencies]` and `[build-dependencies]` that name a
/// `minidock` crate.
fn house_deps(text: &str) -> Vec<String> {
    let mut current = "";
    let mut deps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            current = line.trim_matches(|c| c == '[' || c == ']');
        } else if current == "dependencies" || current == "build-dependencies" {
            let key = line.split(['=', '.', ' ']).next().unwrap_or("");
            if key.starts_with("minidock") && !deps.iter().any(|d| d == key) {
                deps.push(key.to_string());
            }
        }
    }
    deps
}

/// Every `.rs` file under `dir` (relative paths from `root`, sorted),
/// leaving out build output (`target/`) and hidden directories.
pub fn rust_files(root: &Path, dir: &str) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    walk(root, &root.join(dir), &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if name != "target" && !name.starts_with('.') {
                walk(root, &path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(relative(root, &path));
        }
    }
    Ok(())
}

/// `path` relative to `root`, with `/` separators.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Reads a file, naming it when that fails.
pub fn read(path: &Path) -> io::Result<String> {
    fs::read_to_string(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The workspace root that holds the current directory: see [`find_root`].
///
/// The checks read the tree they are run in, never one fixed when the
/// checker was built: a build copied from another checkout (or a CI cache)
/// must not check that other checkout's sources.
pub fn root() -> io::Result<PathBuf> {
    let here = std::env::current_dir()
        .map_err(|e| io::Error::new(e.kind(), format!("the current directory: {e}")))?;
    find_root(&here)
}

/// The nearest directory at or above `start` whose `Cargo.toml` has a
/// `[workspace]` section. `cargo run` keeps the caller's directory and
/// `cargo test` runs a test in its crate's directory, so both find the
/// checkout they were started in.
pub fn find_root(start: &Path) -> io::Result<PathBuf> {
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&manifest) else {
            continue;
        };
        if text.lines().any(|l| l.trim() == "[workspace]") {
            return dir
                .canonicalize()
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "no Cargo.toml with a [workspace] section in {} or above: \
             run from inside the minidock checkout, or pass --root DIR",
            start.display()
        ),
    ))
}

/// Number of lines of a text, as `wc -l` counts them (a last line without a
/// newline counts too).
pub fn line_count(text: &str) -> usize {
    text.lines().count()
}
