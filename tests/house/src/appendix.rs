//! The book's appendix "How the house is laid out", made from the sources:
//! the crates in their layers, each chapter's lesson modules in reading
//! order and its compat modules, and the edges between their files.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::io;
use std::path::Path;

use crate::modules::{use_paths, Tree};
use crate::workspace::Member;

/// Where the appendix lives, relative to the workspace root.
pub const PAGE: &str = "book/src/appendix-house.md";

/// The command that writes it.
pub const COMMAND: &str = "cargo run -q -p minidock-house -- appendix --write";

/// Each member's layer: 0 for a crate that uses no other crate of the
/// house, else one more than the highest layer it uses.
pub fn layers(members: &[Member]) -> BTreeMap<String, usize> {
    let mut layer: BTreeMap<String, usize> = BTreeMap::new();
    // Members are few; settle by repeated passes (the dependency graph has no cycles: cargo refuses them).
    for _ in 0..=members.len() {
        for m in members {
            let l = m
                .deps
                .iter()
                .map(|d| layer.get(d).map_or(0, |l| l + 1))
                .max()
                .unwrap_or(0);
            layer.insert(m.name.clone(), l);
        }
    }
    layer
}

/// The top-level modules of a library in the order its `lib.rs` names them
/// in its doc comment (a link to the module, or to an item it re-exports);
/// then those it does not name, in declaration order, flagged `false`.
pub fn reading_order(root: &Path, tree: &Tree) -> Vec<(String, bool)> {
    let top: Vec<String> = tree
        .files
        .iter()
        .filter(|f| f.path.len() == 1)
        .map(|f| f.path[0].clone())
        .collect();
    let lib = &tree.files[0];
    let reexports = use_paths(&lib.source.tokens);
    let docs = std::fs::read_to_string(root.join(&lib.file)).unwrap_or_default();
    let mut order: Vec<(String, bool)> = Vec::new();
    for line in docs
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("//!"))
    {
        let mut rest = line;
        while let Some(at) = rest.find("[`") {
            rest = &rest[at + 2..];
            let Some(end) = rest.find('`') else { break };
            let first = rest[..end].split("::").next().unwrap_or("").to_string();
            rest = &rest[end..];
            let module = if top.contains(&first) {
                Some(first)
            } else {
                reexports
                    .iter()
                    .find(|p| p.last() == Some(&first) && p.len() > 1)
                    .map(|p| p[0].clone())
            };
            if let Some(m) = module.filter(|m| top.contains(m) && m != "compat") {
                if !order.iter().any(|(o, _)| *o == m) {
                    order.push((m, true));
                }
            }
        }
    }
    for m in top {
        if m != "compat" && !order.iter().any(|(o, _)| *o == m) {
            order.push((m, false));
        }
    }
    order
}

/// The files of the top-level module `name`, as `src/…` paths in code marks.
fn files_of(tree: &Tree, crate_dir: &str, name: &str) -> String {
    tree.files
        .iter()
        .filter(|f| f.path.first().map(String::as_str) == Some(name))
        .map(|f| {
            format!(
                "`{}`",
                f.file
                    .strip_prefix(crate_dir)
                    .unwrap_or(&f.file)
                    .trim_start_matches('/')
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The edges of a tree, grouped by the file that names the others.
fn edges(tree: &Tree) -> String {
    let mut by_from: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &tree.edges {
        by_from
            .entry(tree.name(e.from))
            .or_default()
            .push(tree.name(e.to));
    }
    if by_from.is_empty() {
        return "No file names another through `crate::` or `super::`.\n".to_string();
    }
    let mut out = String::new();
    for (from, mut to) in by_from {
        to.sort();
        let to: Vec<String> = to.iter().map(|t| format!("`{t}`")).collect();
        let _ = writeln!(out, "- `{from}` → {}", to.join(", "));
    }
    out
}

/// The page, generated.
pub fn generate(root: &Path, members: &[Member]) -> io::Result<String> {
    let layers = layers(members);
    let mut out = String::new();
    let _ = writeln!(out, "# Appendix: how the house is laid out\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the sources by `{COMMAND}`; do not edit. \
         `cargo test -p minidock-house` fails when this page and the sources disagree. -->\n"
    );
    out.push_str(
        "This page is made from the code, so it is always the code's own map. It shows which crate \
         uses which, how each chapter divides into its *lesson* (the modules the chapter walks \
         through, in reading order, as its `lib.rs` names them) and its *compat* part (what real \
         Docker clients need beyond the lesson, under `src/compat/`), and which file of a crate \
         names which other file. Arrows point one way: a crate uses only crates of lower layers, \
         and the files of a crate do not form cycles (`tests/house/known-cycles.txt` lists the \
         cycles that are still waiting to be broken).\n\n",
    );
    out.push_str("## The crates in their layers\n\n");
    out.push_str("A crate uses only crates of the layers above it in this table.\n\n");
    out.push_str("| Layer | Crate | Directory | Uses |\n|---|---|---|---|\n");
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by_key(|m| (layers[&m.name], m.dir.clone()));
    for m in &sorted {
        let uses = if m.deps.is_empty() {
            "—".to_string()
        } else {
            m.deps.join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | `{}` | {} |",
            layers[&m.name], m.name, m.dir, uses
        );
    }
    for m in members
        .iter()
        .filter(|m| m.is_chapter() || m.dir == "final")
    {
        let lib = format!("{}/src/lib.rs", m.dir);
        if !root.join(&lib).is_file() {
            continue;
        }
        let tree = Tree::read(root, &lib)?;
        let _ = writeln!(out, "\n## `{}` — `{}`\n", m.name, m.dir);
        if !m.description.is_empty() {
            let _ = writeln!(out, "{}\n", m.description);
        }
        let order = reading_order(root, &tree);
        if m.is_chapter() {
            out.push_str("The lesson, in reading order:\n\n");
        } else {
            out.push_str("Its modules:\n\n");
        }
        for (i, (name, _)) in order.iter().filter(|(_, named)| *named).enumerate() {
            let _ = writeln!(
                out,
                "{}. `{name}` — {}",
                i + 1,
                files_of(&tree, &m.dir, name)
            );
        }
        let unnamed: Vec<&String> = order
            .iter()
            .filter(|(_, named)| !*named)
            .map(|(n, _)| n)
            .collect();
        if !unnamed.is_empty() {
            let _ = writeln!(
                out,
                "\n{} `lib.rs` does not name in its reading order:\n",
                if m.is_chapter() {
                    "Lesson modules that"
                } else {
                    "Modules that"
                }
            );
            for name in unnamed {
                let _ = writeln!(out, "- `{name}` — {}", files_of(&tree, &m.dir, name));
            }
        }
        if tree
            .files
            .iter()
            .any(|f| f.path.first().map(String::as_str) == Some("compat"))
        {
            let _ = writeln!(
                out,
                "\nThe compat part: {}",
                files_of(&tree, &m.dir, "compat")
            );
        } else if m.is_chapter() {
            out.push_str("\nNo compat part.\n");
        }
        out.push_str("\nWhich file names which:\n\n");
        out.push_str(&edges(&tree));
    }
    Ok(out)
}
