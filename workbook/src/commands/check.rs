//! `cargo workbook check [N]`: run a chapter's tests and show a dashboard of its exercises:
//! ✓, ✗ or · per exercise (the verdicts of [`verdict`]), then what to do next: the exercise to
//! work on, its code, the book's section, its first hint and the test that failed.

use anyhow::Result;

mod verdict;

use super::mark;
use crate::exercise::Exercise;
use crate::explain::{as_root, explain};
use crate::guards::Guards;
use crate::reference::{References, Status};
use crate::state::State;
use crate::testrun::{Failure, Outcome, TestCommand, TestRun};
use crate::workspace::{Chapter, Workspace};
pub use verdict::{attribute, names, next_exercise, verdicts, Verdict};

/// Options of `check`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub chapter: Option<u32>,
    pub test_threads: Option<usize>,
    pub verbose: bool,
}

/// The chapters `check` looks at: the one asked for, else the started ones, else all with
/// exercises.
fn chapters_to_check<'w>(
    workspace: &'w Workspace,
    state: &State,
    chapter: Option<u32>,
) -> Result<Vec<&'w Chapter>> {
    if let Some(n) = chapter {
        return Ok(vec![workspace.chapter(n)?]);
    }
    let with_exercises = workspace
        .chapters
        .iter()
        .filter(|c| !c.exercises.is_empty());
    let started: Vec<&Chapter> = with_exercises
        .clone()
        .filter(|c| state.reference_commit(c.number).is_some())
        .collect();
    Ok(if started.is_empty() {
        with_exercises.collect()
    } else {
        started
    })
}

fn indent(text: &str, prefix: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = lines
        .iter()
        .take(max_lines)
        .map(|l| format!("{prefix}{l}"))
        .collect();
    if lines.len() > max_lines {
        out.push(format!(
            "{prefix}… ({} more lines; --verbose shows all output)",
            lines.len() - max_lines
        ));
    }
    out.join("\n")
}

pub fn run(workspace: &Workspace, options: &Options) -> Result<bool> {
    let state = State::load(&workspace.root)?;
    let mut references = References::new(workspace, &state);
    let chapters = chapters_to_check(workspace, &state, options.chapter)?;
    if chapters.is_empty() {
        println!("no chapter has exercises yet");
        return Ok(true);
    }
    let check_args = match options.chapter {
        Some(n) => format!("check {n}"),
        None => "check".to_string(),
    };
    let mut all_ok = true;
    let mut first_failing_shown = false;
    for chapter in chapters {
        println!(
            "chapter {}: {} (cargo test -p {})",
            chapter.number,
            chapter.topic(),
            chapter.crate_name
        );
        let run = TestCommand {
            root: &workspace.root,
            package: &chapter.crate_name,
            test_threads: options.test_threads,
            verbose: options.verbose,
            progress: true,
            fail_fast: false,
            timeout: None,
            only: &[],
            targets: &[],
        }
        .run()?;
        let statuses: Vec<Status> = chapter
            .exercises
            .iter()
            .map(|e| references.status(chapter, e))
            .collect();
        let record = Guards::load(&workspace.root, chapter)?;
        let guards: Vec<&[String]> = chapter.exercises.iter().map(|e| record.of(e)).collect();
        let verdicts = verdicts(&chapter.exercises, &statuses, &run, &guards);
        let width = chapter
            .exercises
            .iter()
            .map(|e| e.id.to_string().len())
            .max()
            .unwrap_or(0);
        for (e, verdict) in chapter.exercises.iter().zip(&verdicts) {
            let why = match verdict {
                Verdict::Done => String::new(),
                Verdict::Todo => "todo".to_string(),
                Verdict::Failing(failures) => {
                    let names: Vec<&str> = failures
                        .iter()
                        .take(3)
                        .map(|&f| run.failures[f].name.as_str())
                        .collect();
                    let more = match failures.len().saturating_sub(3) {
                        0 => String::new(),
                        n => format!(" (+{n} more)"),
                    };
                    format!("fails: {}{more}", names.join(", "))
                }
                Verdict::DoesNotCompile(_) => "does not compile".to_string(),
                Verdict::NotRun => "not tested: the crate does not compile".to_string(),
                Verdict::Unconfirmed => {
                    "not confirmed: tests fail that name no exercise (see below)".to_string()
                }
                Verdict::Blocked(by) if by.is_empty() => {
                    "blocked: its tests fail for another reason (see below)".to_string()
                }
                Verdict::Blocked(by) => format!(
                    "blocked by {}: its tests stop there before they reach it",
                    by.join(", ")
                ),
                Verdict::Untested { recorded: false } => {
                    "untested: no test is recorded as its guard".to_string()
                }
                Verdict::Untested { recorded: true } => {
                    "untested: none of its tests ran".to_string()
                }
            };
            let symbol = match verdict {
                Verdict::Blocked(_) | Verdict::Untested { .. } => "·",
                v => mark(v.ok()),
            };
            let line = format!("  {symbol} {:<width$}  {why}", e.id.to_string());
            println!("{}", line.trim_end());
        }
        let done = verdicts.iter().filter(|v| v.ok()).count();
        if run.compiled() {
            println!(
                "  {done} of {} exercises done; tests: {} passed, {} failed, {} ignored",
                verdicts.len(),
                run.count(Outcome::Ok),
                run.count(Outcome::Failed),
                run.count(Outcome::Ignored)
            );
        } else {
            println!(
                "  {done} of {} exercises done; the crate does not compile",
                verdicts.len()
            );
        }
        if run.compiled() && run.results.is_empty() && !run.success {
            println!("  cargo test failed without running tests:");
            println!("{}", indent(run.output.trim(), "    ", 20));
        }
        let chapter_ok = verdicts.iter().all(Verdict::ok)
            && run.compiled()
            && run.failures.is_empty()
            && run.success;
        all_ok &= chapter_ok;

        if !first_failing_shown {
            if let Some(i) = next_exercise(&verdicts) {
                first_failing_shown = true;
                let hints = references.hints(chapter, &chapter.exercises[i]);
                show_next(
                    workspace,
                    chapter,
                    &chapter.exercises[i],
                    &hints,
                    &verdicts[i],
                    &run,
                    &check_args,
                );
            }
        }
        show_unattributed(&chapter.exercises, &statuses, &run, &check_args);
        if !run.compiled() && !first_failing_shown {
            first_failing_shown = true;
            println!();
            println!("the crate does not compile:");
            println!("{}", indent(&run.compile_errors[0].text, "    ", 30));
        }
        if chapter_ok {
            println!(
                "  {} all exercises of chapter {} pass",
                mark(true),
                chapter.number
            );
        }
        println!();
    }
    Ok(all_ok)
}

/// The first exercise that is not done: what to do about it.
fn show_next(
    workspace: &Workspace,
    chapter: &Chapter,
    exercise: &Exercise,
    hints: &[String],
    verdict: &Verdict,
    run: &TestRun,
    check_args: &str,
) {
    println!();
    println!("next: exercise {}: {}", exercise.id, exercise.task);
    println!(
        "  code   {}:{}",
        exercise.file.display(),
        exercise.body_line()
    );
    println!("  read   {}", workspace.book_section(chapter, exercise));
    if let Some(hint) = hints.first() {
        let more = if hints.len() > 1 {
            format!("  (more: cargo workbook hint {})", exercise.id.key())
        } else {
            String::new()
        };
        println!("  hint   {hint}{more}");
    }
    let owned: Vec<&Failure> = match verdict {
        Verdict::Failing(failures) => failures.iter().map(|&i| &run.failures[i]).collect(),
        Verdict::Todo => run
            .failures
            .iter()
            .filter(|f| names(&f.output, exercise))
            .collect(),
        _ => Vec::new(),
    };
    match verdict {
        Verdict::Failing(_) | Verdict::Todo => match owned.first() {
            Some(failure) => show_failure(failure, check_args, "  "),
            None => println!("  why    its body is still todo!()"),
        },
        Verdict::DoesNotCompile(i) => {
            println!("  why    it does not compile:");
            println!("{}", indent(&run.compile_errors[*i].text, "         ", 30));
        }
        Verdict::NotRun => {
            println!("  why    the crate does not compile, so no test ran:");
            if let Some(error) = run.compile_errors.first() {
                println!("{}", indent(&error.text, "         ", 30));
            }
        }
        Verdict::Unconfirmed => {
            println!("  why    you wrote this one, and tests fail that name no exercise; they may be about it")
        }
        Verdict::Blocked(by) => {
            println!(
                "  why    its tests did not get as far as this exercise ({}): finish that first",
                by.join(", ")
            )
        }
        Verdict::Untested { .. } => {
            println!("  why    no test that checks this exercise ran, so it cannot be called done")
        }
        Verdict::Done => {}
    }
}

fn show_failure(failure: &Failure, check_args: &str, prefix: &str) {
    let message = failure.message();
    println!("{prefix}test   {} failed:", failure.name);
    println!("{}", indent(&message, &format!("{prefix}         "), 8));
    if let Some(meaning) = explain(&failure.output, check_args) {
        println!("{prefix}means  {meaning}");
    }
}

/// Failing tests that name no exercise: usually the environment (root, missing tools).
fn show_unattributed(exercises: &[Exercise], statuses: &[Status], run: &TestRun, check_args: &str) {
    let loose: Vec<&Failure> = run
        .failures
        .iter()
        .filter(|f| attribute(f, exercises, statuses).is_empty())
        .collect();
    if loose.is_empty() {
        return;
    }
    println!();
    println!("  failing tests that name no exercise:");
    for failure in loose.iter().take(5) {
        show_failure(failure, check_args, "    ");
    }
    if loose.len() > 5 {
        println!(
            "    … and {} more (--verbose shows all output)",
            loose.len() - 5
        );
    }
    if loose
        .iter()
        .all(|f| f.output.to_lowercase().contains("needs root"))
    {
        println!("  run as root: {}", as_root(check_args));
    }
}
