//! `cargo workbook solution ID|N`: put the reference body (and its hints) back, for one exercise or a whole
//! chapter, from the commit `start` recorded. The learner's replaced body is kept in
//! `.workbook/replaced/` so that nothing typed is lost.

use anyhow::{Context, Result};

use crate::exercise;
use crate::git;
use crate::reference::References;
use crate::state::{self, State};
use crate::workspace::{Chapter, Workspace};

pub fn run(workspace: &Workspace, target: &str) -> Result<bool> {
    let state = State::load(&workspace.root)?;
    let mut references = References::new(workspace, &state);
    let targets: Vec<(&Chapter, &exercise::Exercise)> = if let Ok(n) = target.parse::<u32>() {
        let chapter = workspace.chapter(n)?;
        chapter.exercises.iter().map(|e| (chapter, e)).collect()
    } else {
        vec![workspace.find_exercise(target)?]
    };
    for (chapter, wanted) in targets {
        let reference = references.reference(chapter, wanted)?;
        let commit = references.commit(chapter.number).unwrap_or_default();
        // Parse the file again: an earlier exercise in the same file may have moved lines.
        let text = workspace.read(&wanted.file)?;
        let current = exercise::parse(&wanted.file, &text)?;
        let exercise = current
            .iter()
            .find(|e| e.id.key() == wanted.id.key())
            .with_context(|| {
                format!(
                    "exercise {} vanished from {}",
                    wanted.id,
                    wanted.file.display()
                )
            })?;
        if exercise.same_body(&reference.body) {
            println!("  {}  already the reference", exercise.id);
            continue;
        }
        if !exercise.is_todo() {
            let saved = save_learner_body(workspace, exercise)?;
            println!(
                "  {}  your version is saved in {}",
                exercise.id,
                saved.display()
            );
        }
        let restored = exercise::restore_block(&text, exercise, &reference);
        workspace.write(&exercise.file, &restored)?;
        println!(
            "  {}  restored the reference from commit {} in {}:{}",
            exercise.id,
            git::short(&commit),
            exercise.file.display(),
            exercise.body_line()
        );
    }
    Ok(true)
}

fn save_learner_body(
    workspace: &Workspace,
    exercise: &exercise::Exercise,
) -> Result<std::path::PathBuf> {
    let dir = std::path::Path::new(state::DIR).join("replaced");
    std::fs::create_dir_all(workspace.root.join(&dir))
        .with_context(|| format!("creating {}", dir.display()))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let file = dir.join(format!(
        "{}-{}-{stamp}.rs",
        exercise.id.key(),
        exercise.id.name
    ));
    let text = format!(
        "// exercise {} as you wrote it in {}:{}\n{}",
        exercise.id,
        exercise.file.display(),
        exercise.body_line(),
        exercise.body
    );
    workspace.write(&file, &text)?;
    Ok(file)
}
