//! `cargo workbook verify`: the maintainers' proof that the workbook works.
//!
//! 1. Every exercise id is unique (loading the workspace checks that) and linked from the book
//!    (`ex-1.3` or `1.3 pivot-root` appears in `book/src/**/*.md`).
//! 2. The reference code passes every test of each chapter with exercises.
//! 3. With every exercise of a chapter `todo!()`, as `start` leaves it, the chapter compiles
//!    without warnings that give the answer away (an unused import names the call to make);
//!    only unused variables are allowed (a parameter the learner's body will use).
//! 4. For each exercise alone: with its body replaced by `todo!()` the chapter still compiles
//!    and at least one of its tests fails, so the exercise is guarded.
//!
//! And for every chapter: it needs no later chapter, neither to build nor for its tests
//! (`cargo metadata`: no crate of a later chapter among its dependencies, dev-dependencies
//! included, directly or through another crate of the workspace such as the test kit). So a
//! learner at chapter N builds and tests it with chapters after N still unwritten.
//!
//! Steps 3 and 4 edit source files. Each edited file is first copied to `.workbook/verify-backup/`,
//! and restored byte for byte when the run is over, also on an error, a panic or Ctrl-C. A
//! backup left behind (the machine crashed) blocks the next run until `verify --restore`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

mod backup;
mod independence;
mod warnings;

use super::mark;
use crate::exercise::{self, Exercise};
use crate::guards::{self, Guards};
use crate::signals;
use crate::testrun::{Outcome, TestCommand, TestRun};
use crate::workspace::{Chapter, Workspace};

pub use backup::backup_dir;
use backup::{leftover_backups, restore_backups, Swap};
pub use independence::later_chapters_needed;
use independence::workspace_metadata;
pub use warnings::answer_warnings;
use warnings::start_warnings;

/// Options of `verify`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub chapter: Option<u32>,
    pub restore: bool,
    pub test_threads: Option<usize>,
    pub verbose: bool,
    /// Seconds one exercise's test run may take before it counts as failing (hung).
    pub timeout_secs: Option<u64>,
    /// Write the tests that guard each exercise to `workbook/guards/<chapter>.json`, the
    /// record `check` needs to give ✓ (see [`crate::guards`]).
    pub record_guards: bool,
    /// Skip step 4 (a test run per exercise, the slow part).
    pub skip_guards: bool,
}

/// Whether the book mentions the exercise: `ex-1.3` (not `ex-1.30`) or `1.3 pivot-root`.
fn linked(book: &str, exercise: &Exercise) -> bool {
    let anchor = exercise.id.anchor();
    let by_anchor = book.match_indices(&anchor).any(|(at, _)| {
        !book[at + anchor.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    });
    by_anchor || book.contains(&exercise.id.to_string())
}

/// All markdown of `book/src`, one string.
fn read_book(root: &Path) -> String {
    let dir = root.join("book").join("src");
    let mut text = String::new();
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
    {
        if entry.path().extension().is_some_and(|x| x == "md") {
            if let Ok(page) = std::fs::read_to_string(entry.path()) {
                text.push_str(&page);
                text.push('\n');
            }
        }
    }
    text
}

/// The result for one exercise.
struct Row {
    id: String,
    linked: bool,
    reference_ok: bool,
    /// None: not tried (the reference failed).
    compiles: Option<bool>,
    /// Tests that fail without the exercise.
    guards: Vec<String>,
    note: String,
}

impl Row {
    fn ok(&self) -> bool {
        self.linked && self.reference_ok && self.compiles == Some(true) && !self.guards.is_empty()
    }
}

fn test(
    workspace: &Workspace,
    chapter: &Chapter,
    options: &Options,
    fail_fast: bool,
    only: &[String],
) -> Result<TestRun> {
    let targets = if only.is_empty() {
        Vec::new()
    } else {
        targets_of(&workspace.root.join(&chapter.dir), only).unwrap_or_default()
    };
    TestCommand {
        root: &workspace.root,
        package: &chapter.crate_name,
        test_threads: options.test_threads,
        verbose: options.verbose,
        progress: false,
        fail_fast,
        // The reference run must finish on its own; an exercise's run may hang.
        timeout: if fail_fast {
            options.timeout_secs.map(std::time::Duration::from_secs)
        } else {
            None
        },
        only,
        targets: &targets,
    }
    .run()
}

/// The cargo targets that define the tests named `names`: `--test STEM` for a function in
/// `tests/STEM.rs`, `--lib` for one under `src/`. `None` when a name is found in neither (a
/// test in a nested test directory, say): then every target is built, as without a filter.
fn targets_of(chapter_dir: &Path, names: &[String]) -> Option<Vec<String>> {
    let read_dir = |dir: &Path| -> Vec<PathBuf> {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(|e| e.ok())
            .map(|e| e.into_path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect()
    };
    let tests: Vec<(PathBuf, String)> = std::fs::read_dir(chapter_dir.join("tests"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "rs"))
                .filter_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?)))
                .collect()
        })
        .unwrap_or_default();
    let sources: Vec<String> = read_dir(&chapter_dir.join("src"))
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let mut targets = Vec::new();
    for name in names {
        let function = format!("fn {}(", name.rsplit("::").next().unwrap_or(name));
        let target =
            if let Some((path, _)) = tests.iter().find(|(_, text)| text.contains(&function)) {
                vec![
                    "--test".to_string(),
                    path.file_stem()?.to_str()?.to_string(),
                ]
            } else if sources.iter().any(|text| text.contains(&function)) {
                vec!["--lib".to_string()]
            } else {
                return None;
            };
        if !targets
            .windows(target.len())
            .any(|w| w == target.as_slice())
        {
            targets.extend(target);
        }
    }
    Some(targets)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

pub fn run(workspace: &Workspace, options: &Options) -> Result<bool> {
    let root = &workspace.root;
    if options.restore {
        return restore_backups(root);
    }
    let leftovers = leftover_backups(root);
    if !leftovers.is_empty() {
        bail!(
            "an earlier verify run was interrupted and left the originals of these files in {}:\n  {}\n\
             Put them back first: cargo workbook verify --restore\n\
             (or copy each over its source by hand and delete {})",
            backup_dir().display(),
            leftovers.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join("\n  "),
            backup_dir().display()
        );
    }
    signals::install()?;

    let chapters: Vec<&Chapter> = match options.chapter {
        Some(n) => vec![workspace.chapter(n)?],
        None => workspace.chapters.iter().collect(),
    };
    let chapters: Vec<&Chapter> = chapters
        .into_iter()
        .filter(|c| !c.exercises.is_empty())
        .collect();
    if chapters.is_empty() {
        println!("no exercises to verify");
        return Ok(true);
    }
    for chapter in &chapters {
        if let Some(todo) = chapter.exercises.iter().find(|e| e.is_todo()) {
            bail!(
                "{}:{}: exercise {} is todo!(): verify needs the reference code (cargo workbook solution {})",
                todo.file.display(),
                todo.header_line,
                todo.id,
                chapter.number
            );
        }
    }
    let total: usize = chapters.iter().map(|c| c.exercises.len()).sum();
    println!("ids: {total} exercises, all unique {}", mark(true));

    let book = read_book(root);
    let metadata = workspace_metadata(root)?;
    let mut rows = Vec::new();
    let mut chapter_problems = 0;
    for chapter in chapters {
        println!("chapter {} ({}):", chapter.number, chapter.crate_name);
        let later: Vec<&str> = workspace
            .chapters
            .iter()
            .filter(|c| c.number > chapter.number)
            .map(|c| c.crate_name.as_str())
            .collect();
        let needs = later_chapters_needed(&metadata, &chapter.crate_name, &later);
        println!(
            "  {} independent: {}",
            mark(needs.is_empty()),
            if needs.is_empty() {
                "builds and tests without any later chapter".to_string()
            } else {
                format!(
                    "needs a later chapter: {} (an earlier chapter defines a trait, the later one plugs in)",
                    needs.join("; ")
                )
            }
        );
        if !needs.is_empty() {
            chapter_problems += 1;
        }
        let reference = test(workspace, chapter, options, false, &[])?;
        let reference_ok =
            reference.compiled() && reference.success && reference.failures.is_empty();
        println!(
            "  {} reference: {} passed, {} failed, {} ignored",
            mark(reference_ok),
            reference.count(Outcome::Ok),
            reference.count(Outcome::Failed),
            reference.count(Outcome::Ignored)
        );
        if !reference_ok {
            for failure in reference.failures.iter().take(5) {
                println!(
                    "      {} failed: {}",
                    failure.name,
                    first_line(&failure.message())
                );
            }
            if let Some(error) = reference.compile_errors.first() {
                println!("      does not compile: {}", first_line(&error.text));
            }
            if reference.compiled() && reference.failures.is_empty() {
                println!(
                    "      cargo test failed: {}",
                    first_line(reference.output.trim())
                );
            }
        }
        if reference_ok {
            let warnings = start_warnings(workspace, chapter)?;
            println!(
                "  {} after start: {}",
                mark(warnings.is_empty()),
                if warnings.is_empty() {
                    "compiles without warnings that give an answer away".to_string()
                } else {
                    format!(
                        "{} warning(s) that give an answer away; name what the exercise needs \
                         by its path inside the body (nix::unistd::chdir), or use it outside:",
                        warnings.len()
                    )
                }
            );
            for warning in &warnings {
                println!("      {warning}");
            }
            if !warnings.is_empty() {
                chapter_problems += 1;
            }
        }
        if options.skip_guards {
            continue;
        }
        let mut found = Guards::default();
        // Unless the record is being written again, the committed guards are tried first.
        let committed = if options.record_guards {
            Guards::default()
        } else {
            Guards::load(&workspace.root, chapter)?
        };
        for exercise in &chapter.exercises {
            let mut row = Row {
                id: exercise.id.to_string(),
                linked: linked(&book, exercise),
                reference_ok,
                compiles: None,
                guards: Vec::new(),
                note: String::new(),
            };
            if !reference_ok {
                row.note = "not tried: the reference fails".to_string();
                rows.push(row);
                continue;
            }
            let run = without(
                workspace,
                chapter,
                exercise,
                options,
                committed.of(exercise),
            )?;
            row.compiles = Some(run.compiled());
            if !run.compiled() {
                let error = run
                    .compile_errors
                    .first()
                    .map(|e| e.text.clone())
                    .unwrap_or_default();
                row.note = format!(
                    "does not compile with todo!(): make the block the tail of its function ({})",
                    first_line(&error)
                );
            } else {
                row.guards = run.failures.iter().map(|f| f.name.clone()).collect();
                if row.guards.is_empty() && !run.success {
                    row.guards.push("(a test binary crashed)".to_string());
                }
                if row.guards.is_empty() {
                    row.note = "unguarded: every test still passes without it".to_string();
                } else {
                    let names = run.failures.iter().map(|f| f.name.clone()).collect();
                    found.guards.insert(exercise.id.to_string(), names);
                }
            }
            println!(
                "  {} {} removed: {}",
                mark(row.compiles == Some(true) && !row.guards.is_empty()),
                row.id,
                if row.note.is_empty() {
                    format!("{} test(s) fail", row.guards.len())
                } else {
                    row.note.clone()
                }
            );
            rows.push(row);
        }
        report_guards(
            workspace,
            chapter,
            &found,
            reference_ok,
            options.record_guards,
        )?;
    }
    print_table(&rows);
    let failed = rows.iter().filter(|r| !r.ok()).count() + chapter_problems;
    if options.skip_guards {
        println!(
            "{} verify (without step 4, --skip-guards): {chapter_problems} chapter(s) with a problem",
            mark(chapter_problems == 0)
        );
        return Ok(chapter_problems == 0);
    }
    if failed == 0 {
        println!(
            "{} verify: all {} exercises are linked and guarded",
            mark(true),
            rows.len()
        );
    } else {
        println!(
            "{} verify: {failed} of {} exercises have a problem",
            mark(false),
            rows.len()
        );
    }
    Ok(failed == 0)
}

/// Writes the guards found (with `--record-guards`), or says where the committed record and
/// what this run found disagree, so `check` does not call an exercise untested (or trust a
/// test that no longer guards it) without anyone knowing.
fn report_guards(
    workspace: &Workspace,
    chapter: &Chapter,
    found: &Guards,
    reference_ok: bool,
    record: bool,
) -> Result<()> {
    if !reference_ok {
        return Ok(());
    }
    if record {
        let path = found.save(&workspace.root, chapter)?;
        println!(
            "  guards of {} exercise(s) written to {}: commit it with the chapter",
            found.guards.len(),
            path.display()
        );
        return Ok(());
    }
    let committed = Guards::load(&workspace.root, chapter)?;
    let stale: Vec<&str> = chapter
        .exercises
        .iter()
        .filter(|e| {
            let seen = found.of(e);
            !seen.is_empty() && !committed.of(e).iter().any(|t| seen.contains(t))
        })
        .map(|e| e.id.name.as_str())
        .collect();
    if !stale.is_empty() {
        println!(
            "  note: {} records no test that guards {} (check calls them untested); \
             write it again: cargo workbook verify --chapter {} --record-guards",
            guards::path(chapter).display(),
            stale.join(", "),
            chapter.number
        );
    }
    Ok(())
}

/// Runs the chapter's tests with `exercise` alone replaced by `todo!()`; the file is restored
/// before this returns, whatever happens.
///
/// With `recorded` guards, those tests run first and alone: when one fails, the exercise is
/// guarded and the record holds, and the chapter's other (often slow, container) tests need
/// not run once per exercise. Only when none fails (a renamed test, a record gone stale) does
/// the whole chapter run, to find what guards it now.
fn without(
    workspace: &Workspace,
    chapter: &Chapter,
    exercise: &Exercise,
    options: &Options,
    recorded: &[String],
) -> Result<TestRun> {
    let text = workspace.read(&exercise.file)?;
    let current = exercise::parse(&exercise.file, &text)?;
    let target = current
        .iter()
        .find(|e| e.id.key() == exercise.id.key())
        .with_context(|| {
            format!(
                "exercise {} vanished from {}",
                exercise.id,
                exercise.file.display()
            )
        })?;
    let mutated = exercise::replace_bodies(&text, &[(target, target.todo_body())]);
    let mut swap = Swap::new(&workspace.root, &exercise.file, &mutated)?;
    let mut run = test(workspace, chapter, options, true, recorded);
    if run
        .as_ref()
        .is_ok_and(|r| r.compiled() && r.success && r.failures.is_empty() && !recorded.is_empty())
    {
        run = test(workspace, chapter, options, true, &[]);
    }
    swap.restore()?;
    run
}

fn print_table(rows: &[Row]) {
    let width = rows
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(0)
        .max("exercise".len());
    println!();
    println!(
        "{:<width$}  book  reference  compiles  guarded by",
        "exercise"
    );
    for row in rows {
        let compiles = match row.compiles {
            Some(c) => mark(c),
            None => "-",
        };
        let guards = if row.guards.is_empty() {
            format!("{} {}", mark(false), row.note)
        } else {
            let shown: Vec<&str> = row.guards.iter().take(3).map(String::as_str).collect();
            let more = row.guards.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" (+{more})")
            } else {
                String::new()
            };
            format!("{} {}{more}", mark(true), shown.join(", "))
        };
        println!(
            "{:<width$}  {:<4}  {:<9}  {:<8}  {}",
            row.id,
            mark(row.linked),
            mark(row.reference_ok),
            compiles,
            guards
        );
    }
    if rows.iter().any(|r| !r.linked) {
        println!("(book ✗: add an anchor `<a id=\"ex-N.M\"></a>` or the id `N.M name` to the chapter's page in book/src)");
    }
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_links_need_the_exact_anchor_or_id() {
        let found = exercise::parse(
            Path::new("x.rs"),
            "fn f() -> u8 {\n    // exercise 1.1 add: t\n    1\n    // end exercise\n}\n",
        )
        .unwrap();
        let e = &found[0];
        assert!(linked("see <a id=\"ex-1.1\"></a>", e));
        assert!(linked("exercise 1.1 add", e));
        assert!(!linked("see #ex-1.10 and ex-1.12", e));
        assert!(linked("ex-1.10 and ex-1.1.", e));
        assert!(!linked("nothing", e));
    }

    #[test]
    fn leftover_backups_are_restored_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let relative = Path::new("chapters/01-x/src/lib.rs");
        std::fs::create_dir_all(root.join("chapters/01-x/src")).unwrap();
        std::fs::write(root.join(relative), "todo version").unwrap();
        let backup = root.join(backup_dir()).join(relative);
        std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
        std::fs::write(&backup, "original").unwrap();

        assert_eq!(leftover_backups(root), vec![relative.to_path_buf()]);
        let workspace = Workspace {
            root: root.to_path_buf(),
            chapters: Vec::new(),
        };
        let err = run(&workspace, &Options::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("verify --restore"), "{err}");
        assert!(err.contains("chapters/01-x/src/lib.rs"), "{err}");

        run(
            &workspace,
            &Options {
                restore: true,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join(relative)).unwrap(),
            "original"
        );
        assert!(!root.join(backup_dir()).exists());
    }
}
