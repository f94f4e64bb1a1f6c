//! `cargo workbook start N`: chapter N's exercise bodies become `todo!()`s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::exercise;
use crate::git;
use crate::state::{ChapterState, State};
use crate::workspace::Workspace;

pub fn run(workspace: &Workspace, number: u32, force: bool) -> Result<bool> {
    let chapter = workspace.chapter(number)?;
    if chapter.exercises.is_empty() {
        bail!(
            "chapter {number} ({}) has no exercises yet",
            chapter.dir.display()
        );
    }
    let root = &workspace.root;
    if !git::is_repo(root) {
        bail!(
            "{} is not a git repository: start records the reference commit so nothing is lost.\n\
             Make one first: git init && git add -A && git commit -m reference",
            root.display()
        );
    }
    let dirty = git::dirty_files(root)?;
    if !dirty.is_empty() {
        bail!(
            "the git tree has uncommitted changes:\n  {}\n\
             start rewrites source files; commit your work first (git add -A && git commit -m \"my work\")\n\
             or put it aside (git stash), then run start again",
            dirty.join("\n  ")
        );
    }
    let mut state = State::load(root)?;
    let recorded = state.reference_commit(number).map(str::to_string);
    if recorded.is_some() && !force {
        bail!(
            "chapter {number} was started already (reference at {}).\n\
             To start over with todo!()s again: cargo workbook start {number} --force (your bodies are replaced)\n\
             To get the reference back: cargo workbook solution {number}",
            git::short(recorded.as_deref().unwrap_or_default())
        );
    }
    let commit = match recorded {
        Some(commit) => commit,
        None => {
            if let Some(todo) = chapter.exercises.iter().find(|e| e.is_todo()) {
                bail!(
                    "{}:{}: exercise {} is already todo!() in the committed code, so this commit has no reference to record.\n\
                     Check out a commit with the reference code of chapter {number} and run start there.",
                    todo.file.display(),
                    todo.header_line,
                    todo.id
                );
            }
            git::head(root)?
        }
    };

    // Record first: once the bodies are gone, the commit is the way back.
    state.chapters.insert(
        number.to_string(),
        ChapterState {
            reference_commit: commit.clone(),
        },
    );
    state.save(root)?;

    let mut by_file: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for e in &chapter.exercises {
        *by_file.entry(e.file.clone()).or_default() += 1;
    }
    let mut replaced = 0;
    for file in by_file.keys() {
        let text = workspace.read(file)?;
        let found = exercise::parse(file, &text)?;
        // The hints go with the body: `cargo workbook hint` reads them from the recorded
        // commit, one at a time, so the file does not hand out the last one first.
        let started: Vec<_> = found
            .iter()
            .filter(|e| e.id.chapter == number && !e.is_todo())
            .collect();
        if started.is_empty() {
            continue;
        }
        replaced += started.len();
        workspace.write(file, &exercise::start_blocks(&text, &started))?;
    }

    // Line numbers moved: read the chapter again for the listing.
    let workspace = Workspace::load(root)?;
    let chapter = workspace.chapter(number)?;
    println!(
        "chapter {number}: {replaced} exercise(s) turned into todo!() (reference recorded: commit {})",
        git::short(&commit)
    );
    let width = chapter
        .exercises
        .iter()
        .map(|e| e.id.to_string().len())
        .max()
        .unwrap_or(0);
    for e in &chapter.exercises {
        println!(
            "  {:<width$}  {}:{}",
            e.id.to_string(),
            e.file.display(),
            e.body_line()
        );
    }
    let first = &chapter.exercises[0];
    println!();
    println!("next:");
    println!("  read    {}", workspace.book_section(chapter, first));
    println!(
        "  write   exercise {} in {}:{}",
        first.id,
        first.file.display(),
        first.body_line()
    );
    println!("  check   cargo workbook check {number}");
    println!("  stuck?  cargo workbook hint {}", first.id.key());
    Ok(true)
}
