//! `cargo workbook diff N`: each exercise of chapter N, the learner's body beside the reference,
//! as a unified diff.

use anyhow::Result;
use similar::TextDiff;

use crate::git;
use crate::reference::References;
use crate::state::State;
use crate::workspace::Workspace;

pub fn run(workspace: &Workspace, number: u32) -> Result<bool> {
    let chapter = workspace.chapter(number)?;
    let state = State::load(&workspace.root)?;
    let mut references = References::new(workspace, &state);
    if chapter.exercises.is_empty() {
        println!("chapter {number} has no exercises yet");
    }
    for exercise in &chapter.exercises {
        let reference = references.reference(chapter, exercise)?;
        let commit = references.commit(number).unwrap_or_default();
        if exercise.is_todo() {
            println!("{}: still todo!(), nothing written yet\n", exercise.id);
            continue;
        }
        if exercise.same_body(&reference.body) {
            println!("{}: same as the reference\n", exercise.id);
            continue;
        }
        println!("{}: your version against the reference", exercise.id);
        let ours = exercise.body.replace("\r\n", "\n");
        let theirs = reference.body.replace("\r\n", "\n");
        let diff = TextDiff::from_lines(&theirs, &ours);
        let old = format!(
            "reference ({}:{}:{})",
            git::short(&commit),
            exercise.file.display(),
            reference.body_line()
        );
        let new = format!(
            "yours ({}:{})",
            exercise.file.display(),
            exercise.body_line()
        );
        print!(
            "{}",
            diff.unified_diff().context_radius(3).header(&old, &new)
        );
        println!();
    }
    Ok(true)
}
