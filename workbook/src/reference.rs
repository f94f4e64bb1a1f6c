//! The reference version of each exercise: its body as it was in the commit `start` recorded
//! (or HEAD, for a chapter not started), read back through `git show`.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};

use crate::exercise::{self, Exercise};
use crate::git;
use crate::state::State;
use crate::workspace::{Chapter, Workspace};

/// Where an exercise stands compared with its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The body is the reference code.
    Reference,
    /// The body is a `todo!()`.
    Todo,
    /// The body is the learner's own (it differs from the reference).
    Modified,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Reference => "reference",
            Status::Todo => "todo",
            Status::Modified => "learner-modified",
        }
    }
}

/// Looks up reference bodies, reading each file at each commit once.
pub struct References<'a> {
    workspace: &'a Workspace,
    state: &'a State,
    head: Option<String>,
    files: HashMap<(String, PathBuf), Result<Vec<Exercise>, String>>,
}

impl<'a> References<'a> {
    pub fn new(workspace: &'a Workspace, state: &'a State) -> Self {
        let head = if git::is_repo(&workspace.root) {
            git::head(&workspace.root).ok()
        } else {
            None
        };
        References {
            workspace,
            state,
            head,
            files: HashMap::new(),
        }
    }

    /// The commit holding chapter `number`'s reference code: the one `start` recorded, else HEAD.
    pub fn commit(&self, number: u32) -> Option<String> {
        self.state
            .reference_commit(number)
            .map(str::to_string)
            .or_else(|| self.head.clone())
    }

    /// The exercise as it is in the reference commit.
    pub fn reference(&mut self, chapter: &Chapter, exercise: &Exercise) -> Result<Exercise> {
        let commit = self.commit(chapter.number).ok_or_else(|| {
            anyhow!(
                "no reference for {}: {} is not a git repository with a commit, and chapter {} was never started",
                exercise.id,
                self.workspace.root.display(),
                chapter.number
            )
        })?;
        let key = (commit.clone(), exercise.file.clone());
        let root = &self.workspace.root;
        let parsed = self.files.entry(key).or_insert_with(|| {
            let text = git::show(root, &commit, &exercise.file).map_err(|e| format!("{e:#}"))?;
            exercise::parse(&exercise.file, &text).map_err(|e| e.to_string())
        });
        let found = match parsed {
            Ok(found) => found,
            Err(e) => bail!(
                "reading the reference of {} at commit {}: {e}",
                exercise.id,
                git::short(&commit)
            ),
        };
        let reference = found
            .iter()
            .find(|e| e.id.key() == exercise.id.key())
            .ok_or_else(|| {
                anyhow!(
                    "commit {} has no exercise {} in {}",
                    git::short(&commit),
                    exercise.id.key(),
                    exercise.file.display()
                )
            })?;
        if reference.is_todo() {
            bail!(
                "exercise {} is todo!() in commit {} too: that commit holds no reference body (was `start` run on a committed todo?)",
                exercise.id,
                git::short(&commit)
            );
        }
        Ok(reference.clone())
    }

    /// The hints of `exercise`, least specific first. `start` removes them from the learner's
    /// file, so they come from the reference commit; a file that still has its own (a chapter not
    /// started, or started by an older workbook) gives those. No readable reference: none.
    pub fn hints(&mut self, chapter: &Chapter, exercise: &Exercise) -> Vec<String> {
        if !exercise.hints.is_empty() {
            return exercise.hints.clone();
        }
        self.reference(chapter, exercise)
            .map(|reference| reference.hints)
            .unwrap_or_default()
    }

    /// Reference, todo or learner-modified. Without a readable reference a written body counts
    /// as the reference.
    pub fn status(&mut self, chapter: &Chapter, exercise: &Exercise) -> Status {
        if exercise.is_todo() {
            return Status::Todo;
        }
        match self.reference(chapter, exercise) {
            Ok(reference) if !exercise.same_body(&reference.body) => Status::Modified,
            _ => Status::Reference,
        }
    }
}
