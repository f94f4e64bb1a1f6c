//! Which tests guard which exercise: the tests that failed when `verify` replaced the
//! exercise's body alone with `todo!()`.
//!
//! `check` needs this to give an honest ✓: an exercise is done when a test that exercises it ran
//! and passed, not merely when no failing test names it (with 1.2 still `todo!()`, no test gets
//! as far as 1.6, so a no-op 1.6 would pass for done). Which tests reach an exercise cannot be
//! read from a passing run, so `verify --record-guards` writes it down, one file per chapter,
//! `workbook/guards/<chapter dir>.json`, committed with the code. An exercise without a record
//! is "untested" in `check`, never ✓.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::exercise::Exercise;
use crate::workspace::Chapter;

/// One chapter's record.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Guards {
    /// What the file is, for a reader who opens it.
    #[serde(default)]
    pub about: String,
    /// Per exercise id (`1.6 set-hostname`), the names of the tests that fail without it, as
    /// libtest prints them (`tests::sets_the_hostname`).
    #[serde(default)]
    pub guards: BTreeMap<String, Vec<String>>,
}

const ABOUT: &str =
    "The tests that fail when an exercise's body alone is todo!(): `cargo workbook check` \
    shows an exercise done only when one of them ran and passed. Written by \
    `cargo workbook verify --chapter N --record-guards`; commit it with the chapter.";

/// Where a chapter's record lives, relative to the workspace root.
pub fn path(chapter: &Chapter) -> PathBuf {
    Path::new("workbook")
        .join("guards")
        .join(format!("{}.json", chapter.dir_name))
}

impl Guards {
    /// Loads a chapter's record; a chapter without one has none.
    pub fn load(root: &Path, chapter: &Chapter) -> Result<Guards> {
        let file = root.join(path(chapter));
        match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a guard record: fix it, or write it again with `cargo workbook verify --chapter {} --record-guards`",
                    file.display(),
                    chapter.number
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Guards::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", file.display())),
        }
    }

    /// Writes a chapter's record (sorted, so a diff shows what changed).
    pub fn save(&self, root: &Path, chapter: &Chapter) -> Result<PathBuf> {
        let relative = path(chapter);
        let file = root.join(&relative);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut record = self.clone();
        record.about = ABOUT.to_string();
        for tests in record.guards.values_mut() {
            tests.sort();
            tests.dedup();
        }
        let text = serde_json::to_string_pretty(&record).expect("guards serialize") + "\n";
        std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
        Ok(relative)
    }

    /// The tests recorded for an exercise (empty when none are).
    pub fn of(&self, exercise: &Exercise) -> &[String] {
        self.guards
            .get(&exercise.id.to_string())
            .map_or(&[], Vec::as_slice)
    }
}
