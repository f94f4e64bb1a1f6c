//! `cargo workbook mdbook-preprocessor` and `cargo workbook check-book`: the book side of the
//! exercises (see [`crate::book`]).

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::book;
use crate::workspace::Workspace;

/// Runs as mdBook's preprocessor: `supports RENDERER` answers yes (the change is to the
/// Markdown, so every renderer gets it); with no arguments, the book is read from stdin and
/// written to stdout.
pub fn preprocessor(args: &[String]) -> Result<bool> {
    if args.first().map(String::as_str) == Some("supports") {
        return Ok(true);
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the book from mdBook")?;
    let output = book::preprocess(&input)?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
        .context("handing the book back to mdBook")?;
    Ok(true)
}

/// Checks a rendered book (`book/book` after `mdbook build book`): no exercise's reference body
/// can be read on any page outside a reveal, nor found by the book's search.
pub fn check(workspace: &Workspace, rendered: &Path) -> Result<bool> {
    let exercises: Vec<_> = workspace.exercises().map(|(_, e)| e.clone()).collect();
    if let Some(todo) = exercises.iter().find(|e| e.is_todo()) {
        anyhow::bail!(
            "{}:{}: exercise {} is todo!(): check-book compares the book with the reference code \
             (cargo workbook solution {})",
            todo.file.display(),
            todo.header_line,
            todo.id,
            todo.id.chapter
        );
    }
    if !rendered.join("index.html").is_file() {
        anyhow::bail!(
            "no rendered book in {}: run `mdbook build book` first",
            rendered.display()
        );
    }
    let mut pages = 0;
    let mut revealed = std::collections::BTreeSet::new();
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(rendered).sort_by_file_name() {
        let entry = entry.with_context(|| format!("listing {}", rendered.display()))?;
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "searchindex.js" || name == "searchindex.json" {
            let index = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let page = path
                .strip_prefix(rendered)
                .unwrap_or(path)
                .display()
                .to_string();
            found.extend(book::search_index_leaks(&page, &index, &exercises)?);
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("html") {
            continue;
        }
        let html =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        pages += 1;
        for e in &exercises {
            if html.contains(&format!("id=\"ref-{}\"", e.id.key())) {
                revealed.insert(e.id.clone());
            }
        }
        let page = path
            .strip_prefix(rendered)
            .unwrap_or(path)
            .display()
            .to_string();
        found.extend(book::leaks(&page, &html, &exercises));
    }
    for leak in &found {
        println!(
            "✗ {}: the reference of exercise {} can be read outside a reveal",
            leak.page, leak.exercise
        );
    }
    println!(
        "check-book: {pages} page(s), {} of {} exercises shown as todo!() with the reference behind a reveal, {} leak(s)",
        revealed.len(),
        exercises.len(),
        found.len()
    );
    Ok(found.is_empty())
}
