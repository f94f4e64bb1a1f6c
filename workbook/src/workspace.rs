//! The workspace as the workbook sees it: chapters (`chapters/NN-name/`), the crate each one is,
//! and the exercises in its `src/**/*.rs`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::exercise::{self, Exercise};

/// One chapter crate.
#[derive(Debug, Clone)]
pub struct Chapter {
    /// The number from the directory name: `01-namespaces` is chapter 1.
    pub number: u32,
    /// The directory name, `01-namespaces`.
    pub dir_name: String,
    /// The directory relative to the workspace root, `chapters/01-namespaces`.
    pub dir: PathBuf,
    /// The package name from its Cargo.toml, `minidock-namespaces`.
    pub crate_name: String,
    /// Its exercises, ordered by number.
    pub exercises: Vec<Exercise>,
}

impl Chapter {
    /// The topic part of the directory name: `namespaces`.
    pub fn topic(&self) -> &str {
        self.dir_name
            .split_once('-')
            .map_or(self.dir_name.as_str(), |(_, t)| t)
    }
}

/// The workspace root and everything found under `chapters/`.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub chapters: Vec<Chapter>,
}

/// Walks up from `start` to the first `Cargo.toml` that has a `[workspace]` table.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            if text.lines().any(|l| l.trim() == "[workspace]") {
                return Ok(dir.to_path_buf());
            }
        }
    }
    bail!(
        "no Cargo workspace above {}: run the workbook inside the minidock checkout, or pass --workspace-root DIR",
        start.display()
    )
}

/// Reads the `name = "…"` of the `[package]` table of a Cargo.toml.
fn package_name(manifest: &Path) -> Result<String> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim() == "name" {
                return Ok(value.trim().trim_matches('"').to_string());
            }
        }
    }
    bail!("{}: no `name` in its [package] table", manifest.display())
}

/// `01-namespaces` → 1; names that do not start with digits and a dash are not chapters.
fn chapter_number(dir_name: &str) -> Option<u32> {
    let (digits, topic) = dir_name.split_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || topic.is_empty() {
        return None;
    }
    digits.parse().ok()
}

impl Workspace {
    /// Finds the chapters under `root/chapters` and parses their exercises. Fails on the first
    /// malformed marker, duplicate id or misnumbered exercise, naming file and line.
    pub fn load(root: &Path) -> Result<Workspace> {
        let chapters_dir = root.join("chapters");
        let mut chapters = Vec::new();
        if chapters_dir.is_dir() {
            let entries = std::fs::read_dir(&chapters_dir)
                .with_context(|| format!("listing {}", chapters_dir.display()))?;
            for entry in entries {
                let entry = entry.with_context(|| format!("listing {}", chapters_dir.display()))?;
                let dir_name = entry.file_name().to_string_lossy().into_owned();
                let Some(number) = chapter_number(&dir_name) else {
                    continue;
                };
                let manifest = entry.path().join("Cargo.toml");
                if !manifest.is_file() {
                    continue;
                }
                let dir = Path::new("chapters").join(&dir_name);
                let crate_name = package_name(&manifest)?;
                let exercises = load_exercises(root, &dir, number)?;
                chapters.push(Chapter {
                    number,
                    dir_name,
                    dir,
                    crate_name,
                    exercises,
                });
            }
        }
        chapters.sort_by_key(|c| c.number);
        for pair in chapters.windows(2) {
            if pair[0].number == pair[1].number {
                bail!(
                    "chapters/{} and chapters/{} have the same chapter number {}: renumber one",
                    pair[0].dir_name,
                    pair[1].dir_name,
                    pair[0].number
                );
            }
        }
        let all: Vec<Exercise> = chapters
            .iter()
            .flat_map(|c| c.exercises.iter().cloned())
            .collect();
        exercise::check_unique(&all)?;
        Ok(Workspace {
            root: root.to_path_buf(),
            chapters,
        })
    }

    /// Chapter `number`, or an error listing the chapters there are.
    pub fn chapter(&self, number: u32) -> Result<&Chapter> {
        self.chapters
            .iter()
            .find(|c| c.number == number)
            .with_context(|| {
                let known: Vec<String> =
                    self.chapters.iter().map(|c| c.number.to_string()).collect();
                format!(
                    "there is no chapter {number} (chapters: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            })
    }

    /// All exercises of all chapters, in order.
    pub fn exercises(&self) -> impl Iterator<Item = (&Chapter, &Exercise)> {
        self.chapters
            .iter()
            .flat_map(|c| c.exercises.iter().map(move |e| (c, e)))
    }

    /// Finds an exercise by `1.3`, `pivot-root` or `1.3 pivot-root` (also `1.3-pivot-root`).
    pub fn find_exercise(&self, query: &str) -> Result<(&Chapter, &Exercise)> {
        let query = query.trim();
        let found = self.exercises().find(|(_, e)| {
            let id = &e.id;
            query == id.key()
                || query == id.name
                || query == id.to_string()
                || query == format!("{}-{}", id.key(), id.name)
        });
        found.with_context(|| {
            format!("no exercise `{query}`: see `cargo workbook list` for the ids (like 1.3 or pivot-root)")
        })
    }

    /// Where the book explains an exercise: `book/src/01-namespaces.md#ex-1.3`. The chapter's
    /// page is the `book/src/NN-*.md` with the chapter's number prefix.
    pub fn book_section(&self, chapter: &Chapter, exercise: &Exercise) -> String {
        let prefix = chapter
            .dir_name
            .split_once('-')
            .map_or(chapter.dir_name.clone(), |(d, _)| format!("{d}-"));
        let book = self.root.join("book").join("src");
        let mut page = format!("{}.md", chapter.dir_name);
        if let Ok(entries) = std::fs::read_dir(&book) {
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix) && n.ends_with(".md"))
                .collect();
            names.sort();
            if let Some(first) = names.into_iter().next() {
                page = first;
            }
        }
        format!("book/src/{page}#{}", exercise.id.anchor())
    }

    /// Reads a file given relative to the workspace root.
    pub fn read(&self, relative: &Path) -> Result<String> {
        let path = self.root.join(relative);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }

    /// Writes a file given relative to the workspace root.
    pub fn write(&self, relative: &Path, text: &str) -> Result<()> {
        let path = self.root.join(relative);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// Parses every `.rs` file under `dir/src` (relative to `root`).
fn load_exercises(root: &Path, dir: &Path, chapter: u32) -> Result<Vec<Exercise>> {
    let src = root.join(dir).join("src");
    let mut exercises = Vec::new();
    if !src.is_dir() {
        return Ok(exercises);
    }
    let walk = walkdir::WalkDir::new(&src).sort_by_file_name();
    for entry in walk {
        let entry = entry.with_context(|| format!("walking {}", src.display()))?;
        if !entry.file_type().is_file()
            || entry.path().extension() != Some(std::ffi::OsStr::new("rs"))
        {
            continue;
        }
        let relative = entry
            .path()
            .strip_prefix(root)
            .expect("walked below the root")
            .to_path_buf();
        let text = std::fs::read_to_string(entry.path())
            .with_context(|| format!("reading {}", entry.path().display()))?;
        let found = exercise::parse(&relative, &text)?;
        exercise::check_chapter(&found, &dir.to_string_lossy(), chapter)?;
        exercises.extend(found);
    }
    exercises.sort_by_key(|e| e.id.number);
    Ok(exercises)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_numbers_come_from_directory_names() {
        assert_eq!(chapter_number("01-namespaces"), Some(1));
        assert_eq!(chapter_number("12-networking"), Some(12));
        assert_eq!(chapter_number("namespaces"), None);
        assert_eq!(chapter_number("01-"), None);
        assert_eq!(chapter_number("x1-a"), None);
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn loads_chapters_and_rejects_misnumbered_exercises() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("Cargo.toml"), "[workspace]\nmembers = []\n");
        write(
            &root.join("chapters/02-images/Cargo.toml"),
            "[package]\nname = \"demo-images\"\n[dependencies]\nname = \"not this\"\n",
        );
        write(
            &root.join("chapters/02-images/src/store/blob.rs"),
            "fn f() -> u8 {\n    // exercise 2.2 blob: t\n    1\n    // end exercise\n}\nfn g() -> u8 {\n    // exercise 2.1 digest: t\n    2\n    // end exercise\n}\n",
        );
        write(
            &root.join("chapters/notes/Cargo.toml"),
            "[package]\nname = \"x\"\n",
        );

        let nested = root.join("chapters/02-images/src/store");
        assert_eq!(find_root(&nested).unwrap(), root);

        let ws = Workspace::load(root).unwrap();
        assert_eq!(ws.chapters.len(), 1);
        let chapter = ws.chapter(2).unwrap();
        assert_eq!(chapter.crate_name, "demo-images");
        assert_eq!(chapter.topic(), "images");
        let keys: Vec<String> = chapter.exercises.iter().map(|e| e.id.key()).collect();
        assert_eq!(keys, ["2.1", "2.2"]);
        assert_eq!(
            chapter.exercises[0].file,
            Path::new("chapters/02-images/src/store/blob.rs")
        );
        assert_eq!(ws.find_exercise("blob").unwrap().1.id.key(), "2.2");
        assert_eq!(ws.find_exercise("2.1 digest").unwrap().1.id.name, "digest");
        assert!(ws.find_exercise("9.9").is_err());
        assert!(ws
            .chapter(1)
            .unwrap_err()
            .to_string()
            .contains("chapters: 2"));

        write(&root.join("book/src/02-images-and-layers.md"), "# Images\n");
        let (c, e) = ws.find_exercise("2.1").unwrap();
        assert_eq!(
            ws.book_section(c, e),
            "book/src/02-images-and-layers.md#ex-2.1"
        );

        write(
            &root.join("chapters/02-images/src/lib.rs"),
            "fn h() -> u8 {\n    // exercise 3.1 wrong: t\n    1\n    // end exercise\n}\n",
        );
        let err = Workspace::load(root).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "chapters/02-images/src/lib.rs:2: exercise 3.1 wrong is numbered for chapter 3"
            ),
            "{err}"
        );
    }
}
