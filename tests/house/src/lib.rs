//! # minidock-house — the house checker
//!
//! Reads the workspace's sources (never builds them) and holds the house to
//! its rules:
//!
//! - [`cycles`]: no two files of a crate name each other, directly or
//!   around a loop (edges are `crate::`, `super::` and `self::` paths, see
//!   [`modules`]);
//! - [`long_files`]: no source file over 600 lines unless the allowlist
//!   gives its reason;
//! - [`coverage`]: the share of each chapter's lesson lines that the book
//!   includes;
//! - [`appendix`]: the book's page "How the house is laid out", generated.
//!
//! [`source`] and [`workspace`] read files and crates for all of them.
//! `cargo test -p minidock-house` runs the checks; the `minidock-house`
//! binary prints the figures and writes the appendix.

pub mod appendix;
pub mod coverage;
pub mod cycles;
pub mod long_files;
pub mod modules;
pub mod source;
pub mod workspace;

use std::io;
use std::path::Path;

use modules::Tree;
use workspace::Member;

/// Every crate root of a member: its library, its main binary, and each
/// binary under `src/bin/` (relative to the workspace root).
pub fn crate_roots(root: &Path, member: &Member) -> io::Result<Vec<String>> {
    let mut roots = Vec::new();
    for file in ["src/lib.rs", "src/main.rs"] {
        let path = format!("{}/{file}", member.dir);
        if root.join(&path).is_file() {
            roots.push(path);
        }
    }
    let bin = root.join(&member.dir).join("src/bin");
    if bin.is_dir() {
        let mut bins: Vec<String> = Vec::new();
        for entry in std::fs::read_dir(&bin)? {
            let path = entry?.path();
            let main = path.join("main.rs");
            if path.extension().is_some_and(|e| e == "rs") {
                bins.push(workspace::relative(root, &path));
            } else if main.is_file() {
                bins.push(workspace::relative(root, &main));
            }
        }
        bins.sort();
        roots.extend(bins);
    }
    Ok(roots)
}

/// Every file cycle of every crate root of the workspace: its files
/// (separated by spaces, as [`cycles::KNOWN`] lists them) and its story.
pub fn all_cycles(root: &Path, members: &[Member]) -> io::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for m in members {
        for crate_root in crate_roots(root, m)? {
            let tree = Tree::read(root, &crate_root)?;
            for cycle in cycles::cycles(&tree) {
                let files: Vec<&str> = cycle.iter().map(|&i| tree.files[i].file.as_str()).collect();
                out.push((files.join(" "), cycles::describe(&tree, &cycle)));
            }
        }
    }
    Ok(out)
}

/// What is wrong with the cycles: one not in [`cycles::KNOWN`], or a line
/// of it that no longer matches a cycle. Empty when the house is in order.
pub fn check_cycles(root: &Path, members: &[Member]) -> io::Result<Vec<String>> {
    let known = workspace::read(&root.join(cycles::KNOWN))?;
    let known: Vec<(usize, String)> = known
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split_whitespace().collect::<Vec<_>>().join(" ")))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let found = all_cycles(root, members)?;
    let mut problems = Vec::new();
    for (files, story) in &found {
        if !known.iter().any(|(_, k)| k == files) {
            problems.push(format!(
                "{story}  (a cycle that was there before this rule is listed in {}, one line of its files: \
                 a new one is not)",
                cycles::KNOWN
            ));
        }
    }
    for (line, k) in &known {
        if !found.iter().any(|(files, _)| files == k) {
            problems.push(format!(
                "{}:{line}: no cycle has exactly these files any more: remove the line, \
                 or replace it with what `cargo run -p minidock-house -- check` reports",
                cycles::KNOWN
            ));
        }
    }
    Ok(problems)
}

/// The coverage of every chapter.
pub fn all_coverage(root: &Path, members: &[Member]) -> io::Result<Vec<coverage::Coverage>> {
    let included = coverage::included_lines(root)?;
    let mut out = Vec::new();
    for m in members.iter().filter(|m| m.is_chapter()) {
        let tree = Tree::read(root, &format!("{}/src/lib.rs", m.dir))?;
        out.push(coverage::coverage(m, &tree, &included));
    }
    Ok(out)
}
