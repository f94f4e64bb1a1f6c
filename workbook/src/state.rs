//! `.workbook/state.json` at the workspace root: what `start` recorded (the reference commit of
//! each started chapter) and how many hints of each exercise the learner has seen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The directory the workbook keeps its own files in (not part of the project's sources).
pub const DIR: &str = ".workbook";

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    /// Per started chapter (key: the chapter number), where its reference code is.
    #[serde(default)]
    pub chapters: BTreeMap<String, ChapterState>,
    /// Per exercise key (`1.3`), how many hints have been shown.
    #[serde(default)]
    pub hints: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChapterState {
    /// The commit whose files hold the reference bodies (`git rev-parse HEAD` at `start`).
    pub reference_commit: String,
}

impl State {
    pub fn path(root: &Path) -> PathBuf {
        root.join(DIR).join("state.json")
    }

    /// Loads the state, or the empty state when there is none yet.
    pub fn load(root: &Path) -> Result<State> {
        let path = Self::path(root);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not valid workbook state: fix or delete it",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Saves the state atomically (temporary file, then rename).
    pub fn save(&self, root: &Path) -> Result<()> {
        let path = Self::path(root);
        let dir = path.parent().expect("state path has a parent");
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = dir.join("state.json.tmp");
        let text = serde_json::to_string_pretty(self).expect("state serializes");
        std::fs::write(&tmp, text + "\n").with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))
    }

    /// The recorded reference commit of chapter `number`, if it was started.
    pub fn reference_commit(&self, number: u32) -> Option<&str> {
        self.chapters
            .get(&number.to_string())
            .map(|c| c.reference_commit.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(State::load(dir.path()).unwrap(), State::default());
        let mut state = State::default();
        state.chapters.insert(
            "1".into(),
            ChapterState {
                reference_commit: "0123abc".into(),
            },
        );
        state.hints.insert("1.3".into(), 2);
        state.save(dir.path()).unwrap();
        let loaded = State::load(dir.path()).unwrap();
        assert_eq!(loaded, state);
        assert_eq!(loaded.reference_commit(1), Some("0123abc"));
        assert_eq!(loaded.reference_commit(2), None);
    }

    #[test]
    fn a_corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(DIR)).unwrap();
        std::fs::write(State::path(dir.path()), "{not json").unwrap();
        let err = format!("{:#}", State::load(dir.path()).unwrap_err());
        assert!(
            err.contains("state.json is not valid workbook state"),
            "{err}"
        );
    }
}
