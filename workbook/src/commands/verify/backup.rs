//! `verify`'s safety net: every source file it edits is backed up first and put back byte
//! for byte when the run ends, also on an error, a panic or Ctrl-C; a backup left behind by a
//! crash blocks the next run until `verify --restore`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::state;

/// The backup directory, relative to the workspace root.
pub fn backup_dir() -> PathBuf {
    Path::new(state::DIR).join("verify-backup")
}

/// A source file with one exercise body swapped for `todo!()`. Dropping it puts the original
/// bytes back, whatever happened in between.
pub(super) struct Swap {
    path: PathBuf,
    original: Vec<u8>,
    backup: PathBuf,
    backup_root: PathBuf,
    restored: bool,
}

impl Swap {
    pub(super) fn new(root: &Path, relative: &Path, new_text: &str) -> Result<Swap> {
        let path = root.join(relative);
        let original =
            std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let backup_root = root.join(backup_dir());
        let backup = backup_root.join(relative);
        let parent = backup.parent().expect("backup path has a parent");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let tmp = backup.with_extension("rs.partial");
        write_synced(&tmp, &original)?;
        std::fs::rename(&tmp, &backup)
            .with_context(|| format!("renaming to {}", backup.display()))?;
        // From here on Drop restores the file, even if the write below fails half way.
        let swap = Swap {
            path,
            original,
            backup,
            backup_root,
            restored: false,
        };
        std::fs::write(&swap.path, new_text)
            .with_context(|| format!("writing {}", swap.path.display()))?;
        Ok(swap)
    }

    pub(super) fn restore(&mut self) -> Result<()> {
        std::fs::write(&self.path, &self.original)
            .with_context(|| format!("restoring {}", self.path.display()))?;
        let back = std::fs::read(&self.path)
            .with_context(|| format!("reading back {}", self.path.display()))?;
        if back != self.original {
            bail!(
                "{} did not read back as written; its original is kept in {}",
                self.path.display(),
                self.backup.display()
            );
        }
        self.restored = true;
        std::fs::remove_file(&self.backup)
            .with_context(|| format!("removing {}", self.backup.display()))?;
        remove_empty_dirs(self.backup.parent(), &self.backup_root);
        Ok(())
    }
}

impl Drop for Swap {
    fn drop(&mut self) {
        if !self.restored {
            if let Err(e) = self.restore() {
                eprintln!(
                    "could not restore {}: {e:#}\n  its original is in {}: cargo workbook verify --restore",
                    self.path.display(),
                    self.backup.display()
                );
            }
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Removes `dir` and its parents while they are empty, stopping after `last`.
fn remove_empty_dirs(dir: Option<&Path>, last: &Path) {
    let mut dir = dir.map(Path::to_path_buf);
    while let Some(d) = dir {
        // A directory that is not empty stays; that is the point.
        if std::fs::remove_dir(&d).is_err() || d == last {
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
}

/// Files left in the backup directory by a run that could not clean up.
pub(super) fn leftover_backups(root: &Path) -> Vec<PathBuf> {
    let dir = root.join(backup_dir());
    walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(&dir)
                .expect("below the dir")
                .to_path_buf()
        })
        .collect()
}

/// `verify --restore`: copies every backed-up file over its source and removes the backup.
pub(super) fn restore_backups(root: &Path) -> Result<bool> {
    let files = leftover_backups(root);
    if files.is_empty() {
        println!("nothing to restore: {} is empty", backup_dir().display());
        return Ok(true);
    }
    let dir = root.join(backup_dir());
    for relative in files {
        let backup = dir.join(&relative);
        let Some(original) = relative
            .to_str()
            .and_then(|s| s.strip_suffix(".partial"))
            .map(PathBuf::from)
        else {
            let bytes =
                std::fs::read(&backup).with_context(|| format!("reading {}", backup.display()))?;
            std::fs::write(root.join(&relative), bytes)
                .with_context(|| format!("restoring {}", relative.display()))?;
            std::fs::remove_file(&backup)
                .with_context(|| format!("removing {}", backup.display()))?;
            println!("  restored {}", relative.display());
            continue;
        };
        // A backup that was still being written: the source file was not touched yet.
        std::fs::remove_file(&backup).with_context(|| format!("removing {}", backup.display()))?;
        println!(
            "  {} was never changed (removed an unfinished backup)",
            original.display()
        );
    }
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }
    println!("restored; check with git status / git diff");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_restores_the_file_when_dropped_even_on_panic() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let relative = Path::new("chapters/01-x/src/lib.rs");
        std::fs::create_dir_all(root.join("chapters/01-x/src")).unwrap();
        let original: Vec<u8> = (0..200u8).chain(b"\r\n tail".iter().copied()).collect();
        std::fs::write(root.join(relative), &original).unwrap();

        let outcome = std::panic::catch_unwind(|| {
            let _swap = Swap::new(root, relative, "changed").unwrap();
            assert_eq!(
                std::fs::read_to_string(root.join(relative)).unwrap(),
                "changed"
            );
            assert_eq!(
                std::fs::read(root.join(backup_dir()).join(relative)).unwrap(),
                original
            );
            panic!("a test run blew up");
        });
        assert!(outcome.is_err());
        assert_eq!(std::fs::read(root.join(relative)).unwrap(), original);
        assert!(leftover_backups(root).is_empty());
        assert!(!root.join(backup_dir()).exists());
    }
}
