//! How much of each chapter's lesson the book shows: the share of the
//! lesson modules' lines (test code left out) that some
//! `{{#include file:anchor}}` of the book brings into a page.
//!
//! The lesson is every module of the chapter's library except `lib.rs`
//! (the table of contents) and the `compat` module with all it holds, as
//! each chapter's `lib.rs` says.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

use crate::modules::Tree;
use crate::workspace::{read, Member};

/// The lines of one file that the book includes, by file (relative to the
/// workspace root) — 1-based line numbers.
pub type Included = BTreeMap<String, BTreeSet<usize>>;

/// Which lines of which files the pages of `book/src` include.
pub fn included_lines(root: &Path) -> io::Result<Included> {
    let mut included = Included::new();
    let pages = root.join("book/src");
    let mut names: Vec<_> = std::fs::read_dir(&pages)?.collect::<Result<Vec<_>, _>>()?;
    names.sort_by_key(|e| e.file_name());
    for entry in names {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with(".md") {
            continue;
        }
        let text = read(&entry.path())?;
        for directive in includes(&text) {
            let (file, selector) = match directive.split_once(':') {
                Some((f, s)) => (f, Some(s)),
                None => (directive.as_str(), None),
            };
            let path = normalize(&format!("book/src/{file}"));
            let Ok(target) = read(&root.join(&path)) else {
                continue;
            };
            let lines = included_by(&target, selector);
            included.entry(path).or_default().extend(lines);
        }
    }
    Ok(included)
}

/// The argument of each `{{#include …}}` of a page.
fn includes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{#include ") {
        rest = &rest[at + "{{#include ".len()..];
        if let Some(end) = rest.find("}}") {
            out.push(rest[..end].trim().to_string());
            rest = &rest[end..];
        }
    }
    out
}

/// `a/b/../c` → `a/c`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The lines mdBook shows for an include of `text` with `selector`: the
/// whole file, a line range (`2`, `2:10`, `2:`, `:10`) or an anchor — the
/// lines between `ANCHOR: name` and `ANCHOR_END: name`. Lines that carry
/// an anchor mark are never shown.
pub fn included_by(text: &str, selector: Option<&str>) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let is_mark = |l: &str| l.contains("ANCHOR:") || l.contains("ANCHOR_END:");
    let all = 1..=lines.len();
    let numeric = |s: &str| s.is_empty() || s.bytes().all(|b| b.is_ascii_digit());
    match selector {
        None => all.filter(|&n| !is_mark(lines[n - 1])).collect(),
        Some(s) if s.split(':').all(numeric) => {
            let mut bounds = s.splitn(2, ':');
            let start: usize = bounds.next().and_then(|b| b.parse().ok()).unwrap_or(1);
            let end = match bounds.next() {
                None => start,
                Some(e) => e.parse().unwrap_or(lines.len()),
            };
            (start.max(1)..=end.min(lines.len()))
                .filter(|&n| !is_mark(lines[n - 1]))
                .collect()
        }
        Some(anchor) => {
            let mark = |l: &str, kind: &str| {
                l.split_once(kind).is_some_and(|(_, rest)| {
                    let name: String = rest
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                        .collect();
                    name == anchor
                })
            };
            let mut inside = false;
            let mut out = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                if mark(l, "ANCHOR_END:") {
                    inside = false;
                } else if mark(l, "ANCHOR:") {
                    inside = true;
                } else if inside && !is_mark(l) {
                    out.push(i + 1);
                }
            }
            out
        }
    }
}

/// One chapter's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The chapter crate's directory.
    pub chapter: String,
    /// Lesson files: (file, code lines, of which the book includes).
    pub lesson: Vec<(String, usize, usize)>,
    /// Lines of the compat part (test code left out).
    pub compat_lines: usize,
}

impl Coverage {
    /// Lesson lines in all.
    pub fn lesson_lines(&self) -> usize {
        self.lesson.iter().map(|l| l.1).sum()
    }

    /// Lesson lines the book includes.
    pub fn shown_lines(&self) -> usize {
        self.lesson.iter().map(|l| l.2).sum()
    }

    /// The share shown, in percent.
    pub fn percent(&self) -> f64 {
        100.0 * self.shown_lines() as f64 / self.lesson_lines().max(1) as f64
    }
}

/// The coverage of a chapter whose library tree is `tree`.
pub fn coverage(member: &Member, tree: &Tree, included: &Included) -> Coverage {
    let mut lesson = Vec::new();
    let mut compat_lines = 0;
    for f in &tree.files {
        let code = f.source.code_lines();
        if f.path.is_empty() {
            continue;
        }
        if f.path[0] == "compat" {
            compat_lines += code;
            continue;
        }
        let shown = included
            .get(&f.file)
            .map(|lines| {
                lines
                    .iter()
                    .filter(|&&n| f.source.test_lines.get(n - 1) == Some(&false))
                    .count()
            })
            .unwrap_or(0);
        lesson.push((f.file.clone(), code, shown));
    }
    Coverage {
        chapter: member.dir.clone(),
        lesson,
        compat_lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_and_ranges_select_lines_as_mdbook_does() {
        let text = "a\n// ANCHOR: x\nb\n// ANCHOR: y\nc\n// ANCHOR_END: y\n// ANCHOR_END: x\nd\n// ANCHOR: x\ne\n// ANCHOR_END: x\n";
        assert_eq!(included_by(text, Some("x")), [3, 5, 10]);
        assert_eq!(included_by(text, Some("y")), [5]);
        assert_eq!(included_by(text, Some("3:5")), [3, 5]);
        assert_eq!(included_by(text, Some("8")), [8]);
        assert_eq!(included_by(text, Some(":3")), [1, 3]);
        assert_eq!(included_by(text, None), [1, 3, 5, 8, 10]);
        assert_eq!(included_by(text, Some("xy")), Vec::<usize>::new());
    }

    #[test]
    fn include_arguments_are_found_and_paths_normalized() {
        let page = "text {{#include ../../chapters/01/src/a.rs:spawn}} and\n{{#include ../x.rs}}\n";
        assert_eq!(
            includes(page),
            ["../../chapters/01/src/a.rs:spawn", "../x.rs"]
        );
        assert_eq!(
            normalize("book/src/../../chapters/01/src/a.rs"),
            "chapters/01/src/a.rs"
        );
    }
}
