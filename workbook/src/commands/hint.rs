//! `cargo workbook hint ID [--level K]`: graduated hints. Each call without `--level` shows
//! one more hint than the last time (the count is kept in `.workbook/state.json`).

use anyhow::Result;

use crate::reference::References;
use crate::state::State;
use crate::workspace::Workspace;

pub fn run(workspace: &Workspace, query: &str, level: Option<usize>) -> Result<bool> {
    let (chapter, exercise) = workspace.find_exercise(query)?;
    let mut state = State::load(&workspace.root)?;
    let hints = References::new(workspace, &state).hints(chapter, exercise);
    let key = exercise.id.key();
    println!("exercise {}: {}", exercise.id, exercise.task);
    let total = hints.len();
    if total == 0 {
        println!(
            "  this exercise has no hints; read {}",
            workspace.book_section(chapter, exercise)
        );
        return Ok(true);
    }
    let seen = state.hints.get(&key).copied().unwrap_or(0);
    let shown = match level {
        Some(k) => k.clamp(1, total),
        None => (seen + 1).min(total),
    };
    for (i, hint) in hints.iter().take(shown).enumerate() {
        println!("  hint {}/{total}: {hint}", i + 1);
    }
    if shown < total {
        println!("  (next hint: cargo workbook hint {key})");
    } else {
        println!(
            "  that was the last hint. Still stuck? read {}\n  or compare with the reference: cargo workbook solution {key} (your version is saved first)",
            workspace.book_section(chapter, exercise)
        );
    }
    if shown > seen {
        state.hints.insert(key, shown);
        state.save(&workspace.root)?;
    }
    Ok(true)
}
