//! After `start`, the chapter compiles without warnings that give an answer away: an unused
//! import names the call the learner is to make.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::backup::Swap;
use crate::exercise::{self, Exercise};
use crate::signals;
use crate::testrun::cargo;
use crate::workspace::{Chapter, Workspace};

/// The warnings rustc gives in the chapter's own files once `start` has replaced every exercise
/// body with `todo!()`, as `file:line:col: warning: message` (see [`answer_warnings`]). The files are restored before
/// this returns, whatever happens.
pub(super) fn start_warnings(workspace: &Workspace, chapter: &Chapter) -> Result<Vec<String>> {
    let files: std::collections::BTreeSet<&PathBuf> =
        chapter.exercises.iter().map(|e| &e.file).collect();
    let mut swaps = Vec::new();
    for file in files {
        let text = workspace.read(file)?;
        let found = exercise::parse(file, &text)?;
        let started: Vec<&Exercise> = found
            .iter()
            .filter(|e| e.id.chapter == chapter.number)
            .collect();
        let mutated = exercise::start_blocks(&text, &started);
        swaps.push(Swap::new(&workspace.root, file, &mutated)?);
    }
    let output = std::process::Command::new(cargo())
        .args(["test", "-p", &chapter.crate_name, "--no-run"])
        .args(["--message-format", "short"])
        .current_dir(&workspace.root)
        .env("CARGO_TERM_COLOR", "never")
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("starting `{} test --no-run`", cargo()));
    for swap in &mut swaps {
        swap.restore()?;
    }
    drop(swaps);
    let output = output?;
    if signals::interrupted() {
        bail!("interrupted");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!(
            "chapter {} does not compile with every exercise todo!():\n{}",
            chapter.number,
            stderr.trim()
        );
    }
    Ok(answer_warnings(&stderr, &chapter.dir))
}

/// The `file:line:col: warning: …` lines of cargo's short output that point into `dir`; each
/// once (cargo repeats a file's warnings for each target). Unused variables and needless `mut`
/// are left out: they are about the function's parameters, which the learner sees anyway.
pub fn answer_warnings(stderr: &str, dir: &Path) -> Vec<String> {
    let prefix = format!("{}/", dir.display());
    let mut found: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let Some((place, message)) = line.split_once(": warning: ") else {
            continue;
        };
        let harmless = message.starts_with("unused variable")
            || message.starts_with("variable does not need to be mutable");
        if !place.starts_with(&prefix) || harmless {
            continue;
        }
        if !found.iter().any(|l| l == line) {
            found.push(line.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_warnings_are_the_chapters_own_but_unused_variables() {
        let stderr = "   Compiling demo v0.1.0
chapters/01-demo/src/rootfs.rs:20:19: warning: unused imports: `chdir` and `pivot_root`
chapters/01-demo/src/lib.rs:3:10: warning: unused variable: `name`
chapters/01-demo/src/lib.rs:4:5: warning: variable does not need to be mutable
chapters/02-other/src/lib.rs:1:5: warning: unused import: `x`
chapters/01-demo/src/rootfs.rs:20:19: warning: unused imports: `chdir` and `pivot_root`
chapters/01-demo/src/seccomp.rs:35:7: warning: constant `ALLOW` is never used
warning: `demo` (lib) generated 3 warnings
";
        assert_eq!(
            answer_warnings(stderr, Path::new("chapters/01-demo")),
            vec![
                "chapters/01-demo/src/rootfs.rs:20:19: warning: unused imports: `chdir` and `pivot_root`",
                "chapters/01-demo/src/seccomp.rs:35:7: warning: constant `ALLOW` is never used",
            ]
        );
    }
}
