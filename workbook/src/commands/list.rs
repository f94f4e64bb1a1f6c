//! `cargo workbook list`: the chapters, their exercises and where each one stands.

use anyhow::Result;

use crate::git;
use crate::reference::References;
use crate::state::State;
use crate::workspace::Workspace;

pub fn run(workspace: &Workspace) -> Result<bool> {
    let state = State::load(&workspace.root)?;
    let mut references = References::new(workspace, &state);
    if workspace.chapters.is_empty() {
        println!(
            "no chapters found under {}/chapters",
            workspace.root.display()
        );
        return Ok(true);
    }
    let width = workspace
        .exercises()
        .map(|(_, e)| e.id.to_string().len())
        .max()
        .unwrap_or(0);
    for chapter in &workspace.chapters {
        let started = match state.reference_commit(chapter.number) {
            Some(commit) => format!("started, reference at {}", git::short(commit)),
            None => "not started".to_string(),
        };
        println!(
            "chapter {}: {}  ({}, {})",
            chapter.number,
            chapter.topic(),
            chapter.crate_name,
            if chapter.exercises.is_empty() {
                "no exercises yet".to_string()
            } else {
                started
            }
        );
        for exercise in &chapter.exercises {
            let status = references.status(chapter, exercise);
            println!(
                "  {:<width$}  {:<16}  {}:{}",
                exercise.id.to_string(),
                status.label(),
                exercise.file.display(),
                exercise.header_line
            );
        }
    }
    Ok(true)
}
