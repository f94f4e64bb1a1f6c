//! Which exercises a test run shows done, failing, blocked or untested.
//!
//! Which failing test counts against which exercise is derived, not configured:
//! - a failing test whose output names an exercise id (`todo!("exercise 1.3 pivot-root: …")`
//!   panics with it, also through the init helper's error) belongs to that exercise;
//! - else one whose output points into an exercise's lines (`src/init.rs:42:9`);
//! - else one whose name contains the exercise's name (`pivot_root` in `pivot_root_hides_host`).
//!
//! A failure that names no exercise counts against the learner's own (modified) bodies, since
//! the reference bodies are known to pass — but only while no exercise is open (todo or
//! failing): an open one is the likelier cause (a `chroot` in 1.7 also makes `unshare -U`
//! fail with EPERM in a test about seccomp), and "not confirmed" on every written exercise
//! would send the learner back to the first of them instead of to the one that fails.
//!
//! ✓ is a claim that a test checked the code, so it needs more than "no failure names it": an
//! exercise is ✓ when its body is written, no failure counts against it, and one of its guard
//! tests (the tests `verify` saw fail without it, see [`crate::guards`]) ran and passed. When
//! its guards all failed because of another exercise it is "blocked by" that one; when none of
//! them ran, or none is recorded, it is "untested".
//!
//! A crate that does not compile runs no test: the exercise whose lines hold the first error is
//! the one to work on, whatever comes before it.

use crate::exercise::Exercise;
use crate::reference::Status;
use crate::testrun::{CompileError, Failure, Outcome, TestRun};

/// Why an exercise is not done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Done,
    Todo,
    /// Failing tests that count against it (indices into the run's failures).
    Failing(Vec<usize>),
    /// A compiler error inside its lines (index into the run's compile errors).
    DoesNotCompile(usize),
    /// The crate does not compile (elsewhere), so its tests did not run.
    NotRun,
    /// Written by the learner, no exercise is open (todo or failing), and tests fail that
    /// name no exercise.
    Unconfirmed,
    /// Written, but every guard test that ran failed because of other exercises (their ids,
    /// `1.2`; empty when the failures name no exercise): nothing has checked it yet.
    Blocked(Vec<String>),
    /// Written, but no guard test ran: nothing has checked it. `recorded`: whether any test is
    /// recorded as its guard at all.
    Untested {
        recorded: bool,
    },
}

impl Verdict {
    pub fn ok(&self) -> bool {
        *self == Verdict::Done
    }
}

/// Which exercises a failing test counts against (indices into `exercises`); empty when it
/// names none of them. Only todo and learner-modified exercises are candidates: a reference
/// body is known to pass its tests (`verify` proves that), so a failure that passes through it
/// was caused elsewhere.
pub fn attribute(failure: &Failure, exercises: &[Exercise], statuses: &[Status]) -> Vec<usize> {
    let text = &failure.output;
    let candidates: Vec<usize> = (0..exercises.len())
        .filter(|&i| statuses[i] != Status::Reference)
        .collect();
    let pick = |test: &dyn Fn(&Exercise) -> bool| -> Vec<usize> {
        candidates
            .iter()
            .copied()
            .filter(|&i| test(&exercises[i]))
            .collect()
    };
    let by_id = pick(&|e| names(text, e));
    if !by_id.is_empty() {
        return by_id;
    }
    let by_location = pick(&|e| points_into(text, e));
    if !by_location.is_empty() {
        return by_location;
    }
    pick(&|e| failure.name.contains(&e.id.snake_name()))
}

/// Whether `text` names the exercise: `1.3 pivot-root`, or `exercise 1.3` (not `exercise 1.30`).
pub fn names(text: &str, exercise: &Exercise) -> bool {
    if text.contains(&exercise.id.to_string()) {
        return true;
    }
    let short = format!("exercise {}", exercise.id.key());
    text.match_indices(&short).any(|(at, _)| {
        !text[at + short.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// Whether `text` has a `file:line` inside the exercise's block.
fn points_into(text: &str, exercise: &Exercise) -> bool {
    let file = format!("{}:", exercise.file.display());
    text.match_indices(&file).any(|(at, _)| {
        let digits: String = text[at + file.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits
            .parse()
            .is_ok_and(|line: usize| exercise.contains_line(line))
    })
}

fn compile_error_in(error: &CompileError, exercise: &Exercise) -> bool {
    error
        .location
        .as_ref()
        .is_some_and(|(file, line)| *file == exercise.file && exercise.contains_line(*line))
}

/// The verdict for each exercise of a chapter after a test run. `guards[i]` are the tests that
/// guard `exercises[i]` (see [`crate::guards`]).
pub fn verdicts(
    exercises: &[Exercise],
    statuses: &[Status],
    run: &TestRun,
    guards: &[&[String]],
) -> Vec<Verdict> {
    if !run.compiled() {
        return exercises
            .iter()
            .map(|e| {
                if let Some(i) = run
                    .compile_errors
                    .iter()
                    .position(|c| compile_error_in(c, e))
                {
                    Verdict::DoesNotCompile(i)
                } else if e.is_todo() {
                    Verdict::Todo
                } else {
                    Verdict::NotRun
                }
            })
            .collect();
    }
    let mut against: Vec<Vec<usize>> = vec![Vec::new(); exercises.len()];
    let mut unattributed = false;
    for (f, failure) in run.failures.iter().enumerate() {
        let owners = attribute(failure, exercises, statuses);
        unattributed |= owners.is_empty();
        for owner in owners {
            against[owner].push(f);
        }
    }
    let open = exercises
        .iter()
        .zip(&against)
        .any(|(e, failing)| e.is_todo() || !failing.is_empty());
    let suspects_mine = unattributed && !open;
    exercises
        .iter()
        .enumerate()
        .zip(statuses)
        .zip(against)
        .map(|(((i, e), status), failing)| {
            if e.is_todo() {
                Verdict::Todo
            } else if !failing.is_empty() {
                Verdict::Failing(failing)
            } else if suspects_mine && *status == Status::Modified {
                Verdict::Unconfirmed
            } else {
                guarded(
                    i,
                    exercises,
                    statuses,
                    run,
                    guards.get(i).copied().unwrap_or(&[]),
                )
            }
        })
        .collect()
}

/// The verdict for a written exercise no failure counts against: ✓ only when one of its guard
/// tests ran and passed.
fn guarded(
    index: usize,
    exercises: &[Exercise],
    statuses: &[Status],
    run: &TestRun,
    guards: &[String],
) -> Verdict {
    let ran: Vec<&(String, Outcome)> = run
        .results
        .iter()
        .filter(|(name, _)| guards.contains(name))
        .collect();
    if ran.iter().any(|(_, outcome)| *outcome == Outcome::Ok) {
        return Verdict::Done;
    }
    if !ran.iter().any(|(_, outcome)| *outcome == Outcome::Failed) {
        return Verdict::Untested {
            recorded: !guards.is_empty(),
        };
    }
    let mut blockers: Vec<String> = Vec::new();
    for failure in run.failures.iter().filter(|f| guards.contains(&f.name)) {
        for owner in attribute(failure, exercises, statuses) {
            let key = exercises[owner].id.key();
            if owner != index && !blockers.contains(&key) {
                blockers.push(key);
            }
        }
    }
    Verdict::Blocked(blockers)
}

/// The exercise to work on next: when the crate does not compile, the one holding the first
/// compiler error (an earlier todo cannot be checked before the crate compiles); else the first
/// the learner can act on (todo, failing); else the first that is not done. A blocked or
/// untested exercise is written already: pointing at it would send the learner back to code
/// that waits on another exercise (its line says which).
pub fn next_exercise(verdicts: &[Verdict]) -> Option<usize> {
    let waiting = |v: &Verdict| matches!(v, Verdict::Blocked(_) | Verdict::Untested { .. });
    verdicts
        .iter()
        .position(|v| matches!(v, Verdict::DoesNotCompile(0)))
        .or_else(|| {
            verdicts
                .iter()
                .position(|v| matches!(v, Verdict::DoesNotCompile(_)))
        })
        .or_else(|| verdicts.iter().position(|v| !v.ok() && !waiting(v)))
        .or_else(|| verdicts.iter().position(|v| !v.ok()))
}

#[cfg(test)]
mod tests;
