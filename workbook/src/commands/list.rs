//! `cargo workbook list`: the chapters, their exercises and where each one stands, with counts,
//! an overall progress line and the next thing to do.
//!
//! `list` reads the code, it runs no test: it says which bodies are still `todo!()` and which
//! are written; `check` says which written ones pass.

use anyhow::Result;

use crate::exercise::Exercise;
use crate::git;
use crate::reference::{References, Status};
use crate::state::State;
use crate::workspace::{Chapter, Workspace};

/// A bar of `width` cells, `done` of `total` filled: `[#####.....]`.
pub fn progress_bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

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
    let (mut total, mut todo_total) = (0, 0);
    let mut next: Option<(&Chapter, &Exercise)> = None;
    let mut first_unstarted: Option<&Chapter> = None;
    for chapter in &workspace.chapters {
        let statuses: Vec<Status> = chapter
            .exercises
            .iter()
            .map(|e| references.status(chapter, e))
            .collect();
        let todo = statuses.iter().filter(|s| **s == Status::Todo).count();
        let started = state.reference_commit(chapter.number);
        let standing = match started {
            _ if chapter.exercises.is_empty() => "no exercises yet".to_string(),
            Some(commit) => format!(
                "started, reference at {}; {} of {} written, {todo} todo",
                git::short(commit),
                chapter.exercises.len() - todo,
                chapter.exercises.len()
            ),
            None => format!("not started; {} exercises", chapter.exercises.len()),
        };
        println!(
            "chapter {}: {}  ({}, {standing})",
            chapter.number,
            chapter.topic(),
            chapter.crate_name,
        );
        if started.is_some() {
            total += chapter.exercises.len();
            todo_total += todo;
            if next.is_none() {
                next = chapter
                    .exercises
                    .iter()
                    .zip(&statuses)
                    .find(|(_, s)| **s == Status::Todo)
                    .map(|(e, _)| (chapter, e));
            }
        } else if first_unstarted.is_none() && !chapter.exercises.is_empty() {
            first_unstarted = Some(chapter);
        }
        for (exercise, status) in chapter.exercises.iter().zip(&statuses) {
            println!(
                "  {:<width$}  {:<16}  {}:{}",
                exercise.id.to_string(),
                status.label(),
                exercise.file.display(),
                exercise.header_line
            );
        }
    }
    println!();
    let written = total - todo_total;
    if total > 0 {
        println!(
            "progress: {} {written} of {total} exercises of the started chapters written (cargo workbook check says which pass)",
            progress_bar(written, total, 20)
        );
    }
    match (next, first_unstarted) {
        (Some((chapter, e)), _) => {
            println!("next: exercise {}: {}", e.id, e.task);
            println!("  code   {}:{}", e.file.display(), e.body_line());
            println!("  read   {}", workspace.book_section(chapter, e));
            println!("  check  cargo workbook check {}", chapter.number);
        }
        (None, Some(chapter)) => println!(
            "next: cargo workbook start {}  (chapter {}: {})",
            chapter.number,
            chapter.number,
            chapter.topic()
        ),
        (None, None) if total > 0 => {
            println!("next: every exercise is written: cargo workbook check, until all are ✓")
        }
        (None, None) => {}
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_in_proportion() {
        assert_eq!(progress_bar(0, 40, 10), "[..........]");
        assert_eq!(progress_bar(20, 40, 10), "[#####.....]");
        assert_eq!(progress_bar(40, 40, 10), "[##########]");
        assert_eq!(progress_bar(0, 0, 4), "[....]");
    }
}
