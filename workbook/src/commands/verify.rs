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

use super::mark;
use crate::exercise::{self, Exercise};
use crate::guards::{self, Guards};
use crate::signals;
use crate::state;
use crate::testrun::{cargo, Outcome, TestCommand, TestRun};
use crate::workspace::{Chapter, Workspace};

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

/// The backup directory, relative to the workspace root.
pub fn backup_dir() -> PathBuf {
    Path::new(state::DIR).join("verify-backup")
}

/// A source file with one exercise body swapped for `todo!()`. Dropping it puts the original
/// bytes back, whatever happened in between.
struct Swap {
    path: PathBuf,
    original: Vec<u8>,
    backup: PathBuf,
    backup_root: PathBuf,
    restored: bool,
}

impl Swap {
    fn new(root: &Path, relative: &Path, new_text: &str) -> Result<Swap> {
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

    fn restore(&mut self) -> Result<()> {
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
fn leftover_backups(root: &Path) -> Vec<PathBuf> {
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
fn restore_backups(root: &Path) -> Result<bool> {
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

/// `cargo metadata` of the workspace's own crates (their declared dependencies).
fn workspace_metadata(root: &Path) -> Result<serde_json::Value> {
    let output = std::process::Command::new(cargo())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("starting `{} metadata`", cargo()))?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    serde_json::from_slice(&output.stdout).context("reading cargo metadata's JSON")
}

/// Which of the `later` crates `package` needs, each with the chain that leads to it
/// (`minidock-testkit → minidock-daemon`): every kind of dependency, followed through the
/// workspace's own crates.
pub fn later_chapters_needed(
    metadata: &serde_json::Value,
    package: &str,
    later: &[&str],
) -> Vec<String> {
    let empty = Vec::new();
    let packages = metadata["packages"].as_array().unwrap_or(&empty);
    let deps_of = |name: &str| -> Vec<String> {
        packages
            .iter()
            .filter(|p| p["name"] == name)
            .flat_map(|p| p["dependencies"].as_array().unwrap_or(&empty))
            .filter_map(|d| d["name"].as_str().map(str::to_string))
            .filter(|d| packages.iter().any(|p| p["name"] == d.as_str()))
            .collect()
    };
    let mut found = Vec::new();
    let mut seen = std::collections::BTreeSet::from([package.to_string()]);
    let mut queue = std::collections::VecDeque::from([(package.to_string(), Vec::<String>::new())]);
    while let Some((name, chain)) = queue.pop_front() {
        for dep in deps_of(&name) {
            if !seen.insert(dep.clone()) {
                continue;
            }
            let mut path = chain.clone();
            path.push(dep.clone());
            if later.contains(&dep.as_str()) {
                found.push(path.join(" → "));
            }
            queue.push_back((dep, path));
        }
    }
    found
}

/// The warnings rustc gives in the chapter's own files once `start` has replaced every exercise
/// body with `todo!()`, as `file:line:col: warning: message` (see [`answer_warnings`]). The files are restored before
/// this returns, whatever happens.
fn start_warnings(workspace: &Workspace, chapter: &Chapter) -> Result<Vec<String>> {
    let files: std::collections::BTreeSet<&PathBuf> =
        chapter.exercises.iter().map(|e| &e.file).collect();
    let mut swaps = Vec::new();
    for file in files {
        let text = workspace.read(file)?;
        let found = exercise::parse(file, &text)?;
        let replacements: Vec<(&Exercise, String)> = found
            .iter()
            .filter(|e| e.id.chapter == chapter.number)
            .map(|e| (e, e.todo_body()))
            .collect();
        let mutated = exercise::replace_bodies(&text, &replacements);
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
    fn a_later_chapter_is_found_directly_and_through_the_workspaces_other_crates() {
        let metadata = serde_json::json!({"packages": [
            {"name": "ch1", "dependencies": [{"name": "nix"}]},
            {"name": "ch2", "dependencies": [{"name": "ch1"}, {"name": "kit", "kind": "dev"}]},
            {"name": "kit", "dependencies": [{"name": "ch1"}, {"name": "ch3"}]},
            {"name": "ch3", "dependencies": [{"name": "ch2"}]},
        ]});
        assert!(later_chapters_needed(&metadata, "ch1", &["ch2", "ch3"]).is_empty());
        assert_eq!(
            later_chapters_needed(&metadata, "ch2", &["ch3"]),
            ["kit → ch3"]
        );
        assert!(later_chapters_needed(&metadata, "ch3", &[]).is_empty());
    }

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
