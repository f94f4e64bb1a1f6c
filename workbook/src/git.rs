//! The few git questions the workbook asks: is the tree clean, what is HEAD, what did a file
//! look like at a commit. Read-only: the workbook never commits or checks out anything.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Runs `git ARGS` in `dir` and returns its stdout.
fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .context("running git: is git installed? (apt-get install git)")?;
    if !output.status.success() {
        bail!(
            "git {} failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).context("git printed something that is not UTF-8")
}

/// Whether `dir` is inside a git work tree.
pub fn is_repo(dir: &Path) -> bool {
    git(dir, &["rev-parse", "--is-inside-work-tree"]).is_ok_and(|out| out.trim() == "true")
}

/// The commit HEAD points at.
pub fn head(dir: &Path) -> Result<String> {
    Ok(git(dir, &["rev-parse", "HEAD"])
        .context("finding the current commit: has the repository a first commit yet?")?
        .trim()
        .to_string())
}

/// Files with uncommitted changes (modified, staged or untracked), as `git status` names them,
/// leaving out the workbook's own `.workbook/` directory.
pub fn dirty_files(dir: &Path) -> Result<Vec<String>> {
    let prefix = git(dir, &["rev-parse", "--show-prefix"])?;
    let own = format!("{}{}/", prefix.trim(), crate::state::DIR);
    let status = git(dir, &["status", "--porcelain", "--untracked-files=all"])?;
    Ok(status
        .lines()
        .filter(|l| l.len() > 3)
        .map(|l| l[3..].trim_matches('"').to_string())
        .filter(|path| !path.starts_with(&own))
        .collect())
}

/// The text of `relative` (relative to `dir`) at `commit`.
pub fn show(dir: &Path, commit: &str, relative: &Path) -> Result<String> {
    let spec = format!("{commit}:./{}", relative.display());
    git(dir, &["show", &spec])
}

/// The first seven characters of a commit, as people write them.
pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(7)]
}
