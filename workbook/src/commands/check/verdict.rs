//! Which exercises a test run shows done, failing, blocked or untested.
//!
//! Which failing test counts against which exercise is derived, not configured:
//! - a failing test whose output names an exercise id (`todo!("exercise 1.3 pivot-root: …")`
//!   panics with it, also through the init helper's error) belongs to that exercise;
//! - else one whose output points into an exercise's lines (`src/init.rs:42:9`);
//! - else one whose name contains the exercise's name (`pivot_root` in `pivot_root_hides_host`).
//!
//! A failure that names no exercise counts against the learner's own (modified) bodies, since
//! the reference bodies are known to pass.
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
    /// Written by the learner, and tests fail that name no exercise.
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
            } else if unattributed && *status == Status::Modified {
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
mod tests {
    use super::*;
    use crate::exercise::parse;
    use std::path::Path;

    const FILE: &str = "\
pub fn add(a: i32, b: i32) -> i32 {
    // exercise 1.1 add: add two numbers.
    a + b
    // end exercise
}

pub fn greet(name: &str) -> String {
    // exercise 1.2 greet: greet someone.
    todo!(\"exercise 1.2 greet: greet someone.\")
    // end exercise
}
";

    fn exercises() -> Vec<Exercise> {
        parse(Path::new("chapters/01-demo/src/lib.rs"), FILE).unwrap()
    }

    fn failure(name: &str, output: &str) -> Failure {
        Failure {
            name: name.into(),
            output: output.into(),
        }
    }

    #[test]
    fn failures_are_attributed_by_id_then_location_then_name() {
        let ex = exercises();
        let both = [Status::Modified, Status::Todo];
        let by_id = failure(
            "tests::whatever",
            "thread 'x' panicked at chapters/01-demo/src/lib.rs:3:5:\nnot yet implemented: exercise 1.2 greet: greet someone.\n",
        );
        assert_eq!(attribute(&by_id, &ex, &both), vec![1]);
        let by_short_id = failure(
            "t",
            "init helper panicked: not yet implemented: exercise 1.1\n",
        );
        assert_eq!(attribute(&by_short_id, &ex, &both), vec![0]);
        let other_number = failure("t", "not yet implemented: exercise 1.10\n");
        assert!(attribute(&other_number, &ex, &both).is_empty());
        let by_location = failure(
            "tests::whatever",
            "thread 'x' panicked at chapters/01-demo/src/lib.rs:3:9:\nattempt to add with overflow\n",
        );
        assert_eq!(attribute(&by_location, &ex, &both), vec![0]);
        let outside = failure(
            "tests::whatever",
            "thread 'x' panicked at chapters/01-demo/src/lib.rs:13:9:\nboom\n",
        );
        assert!(attribute(&outside, &ex, &both).is_empty());
        let by_name = failure("tests::add_adds", "assertion `left == right` failed\n");
        assert_eq!(attribute(&by_name, &ex, &both), vec![0]);
        // The reference body is not a suspect, whatever the failure says.
        let reference = [Status::Reference, Status::Todo];
        assert!(attribute(&by_name, &ex, &reference).is_empty());
        assert!(attribute(&by_location, &ex, &reference).is_empty());
    }

    fn run_with(failures: Vec<Failure>) -> TestRun {
        TestRun {
            results: failures
                .iter()
                .map(|f| (f.name.clone(), Outcome::Failed))
                .collect(),
            failures,
            success: false,
            ..TestRun::default()
        }
    }

    /// Guard records where each exercise is guarded by the test named after it.
    fn named_guards() -> Vec<Vec<String>> {
        vec![vec!["tests::sums".into()], vec!["tests::greets".into()]]
    }

    fn as_slices(guards: &[Vec<String>]) -> Vec<&[String]> {
        guards.iter().map(Vec::as_slice).collect()
    }

    fn run_of(results: &[(&str, Outcome)], failures: Vec<Failure>) -> TestRun {
        TestRun {
            results: results.iter().map(|(n, o)| (n.to_string(), *o)).collect(),
            success: failures.is_empty(),
            failures,
            ..TestRun::default()
        }
    }

    #[test]
    fn verdicts_follow_the_failures() {
        let ex = exercises();
        let guards = named_guards();
        let guards = as_slices(&guards);
        let todo_failure = failure(
            "tests::greets",
            "not yet implemented: exercise 1.2 greet: greet someone.",
        );
        let run = run_of(
            &[
                ("tests::sums", Outcome::Ok),
                ("tests::greets", Outcome::Failed),
            ],
            vec![todo_failure.clone()],
        );
        let v = verdicts(&ex, &[Status::Reference, Status::Todo], &run, &guards);
        assert_eq!(v, vec![Verdict::Done, Verdict::Todo]);

        let wrong_add = failure(
            "tests::sums",
            "assertion failed at chapters/01-demo/src/lib.rs:3:5",
        );
        let run = run_with(vec![wrong_add, todo_failure.clone()]);
        let v = verdicts(&ex, &[Status::Modified, Status::Todo], &run, &guards);
        assert_eq!(v, vec![Verdict::Failing(vec![0]), Verdict::Todo]);

        // A failure naming nothing counts against the learner's own body, not the reference.
        let loose = failure("tests::env", "needs root: run the test command as root");
        let results = [
            ("tests::sums", Outcome::Ok),
            ("tests::env", Outcome::Failed),
            ("tests::greets", Outcome::Failed),
        ];
        let run = run_of(&results, vec![loose.clone(), todo_failure.clone()]);
        assert_eq!(
            verdicts(&ex, &[Status::Modified, Status::Todo], &run, &guards),
            vec![Verdict::Unconfirmed, Verdict::Todo]
        );
        assert_eq!(
            verdicts(&ex, &[Status::Reference, Status::Todo], &run, &guards),
            vec![Verdict::Done, Verdict::Todo]
        );
    }

    /// The case that made ✓ lie: 1.2 is still todo!(), 1.1 is a no-op. Every test that would
    /// check 1.1 stops at 1.2's todo!() first, no failure names 1.1, and yet 1.1 is not done.
    #[test]
    fn an_exercise_whose_tests_stop_at_an_earlier_todo_is_blocked_not_done() {
        const LATER: &str = "\
pub fn run() -> Result<(), ()> {
    // exercise 1.2 fork: fork.
    todo!(\"exercise 1.2 fork: fork.\")
    // end exercise
}

pub fn set_hostname(name: &str) -> Result<(), ()> {
    // exercise 1.6 set-hostname: set it.
    let _ = name;
    Ok(())
    // end exercise
}
";
        let ex = parse(Path::new("chapters/01-demo/src/lib.rs"), LATER).unwrap();
        let statuses = [Status::Todo, Status::Modified];
        let guards = vec![
            vec!["runs_a_container".to_string()],
            vec!["container_has_its_hostname".to_string()],
        ];
        let guards = as_slices(&guards);
        let stopped = |name: &str| {
            failure(
                name,
                "thread 'x' panicked at tests/run.rs:9:5:\ninit failed: not yet implemented: exercise 1.2 fork: fork.\n",
            )
        };
        let run = run_of(
            &[
                ("runs_a_container", Outcome::Failed),
                ("container_has_its_hostname", Outcome::Failed),
            ],
            vec![
                stopped("runs_a_container"),
                stopped("container_has_its_hostname"),
            ],
        );
        let v = verdicts(&ex, &statuses, &run, &guards);
        assert_eq!(v, vec![Verdict::Todo, Verdict::Blocked(vec!["1.2".into()])]);
        assert!(!v[1].ok());

        // Its guard did not run at all (filtered out, or a binary that never started).
        let run = run_of(
            &[("runs_a_container", Outcome::Failed)],
            vec![stopped("runs_a_container")],
        );
        assert_eq!(
            verdicts(&ex, &statuses, &run, &guards)[1],
            Verdict::Untested { recorded: true }
        );
        // No guard is recorded for it: untested, never ✓.
        let none: Vec<&[String]> = vec![&[], &[]];
        assert_eq!(
            verdicts(&ex, &statuses, &run, &none)[1],
            Verdict::Untested { recorded: false }
        );

        // A unit-level guard that runs on its own (no 1.2 needed) catches the no-op: the test
        // named after the exercise fails, and the failure is 1.6's.
        let guards = vec![
            vec!["runs_a_container".to_string()],
            vec![
                "container_has_its_hostname".to_string(),
                "guards::set_hostname_in_a_new_uts_namespace".to_string(),
            ],
        ];
        let guards = as_slices(&guards);
        let unit = failure(
            "guards::set_hostname_in_a_new_uts_namespace",
            "assertion `left == right` failed\n  left: \"host\"\n right: \"box\"\n",
        );
        let run = run_of(
            &[
                (
                    "guards::set_hostname_in_a_new_uts_namespace",
                    Outcome::Failed,
                ),
                ("runs_a_container", Outcome::Failed),
                ("container_has_its_hostname", Outcome::Failed),
            ],
            vec![
                unit,
                stopped("runs_a_container"),
                stopped("container_has_its_hostname"),
            ],
        );
        assert_eq!(
            verdicts(&ex, &statuses, &run, &guards),
            vec![Verdict::Todo, Verdict::Failing(vec![0])]
        );

        // Written correctly, the unit guard passes while 1.2 still blocks the container
        // tests: 1.6 is ✓ on the strength of a test that checked it.
        let run = run_of(
            &[
                ("guards::set_hostname_in_a_new_uts_namespace", Outcome::Ok),
                ("runs_a_container", Outcome::Failed),
                ("container_has_its_hostname", Outcome::Failed),
            ],
            vec![
                stopped("runs_a_container"),
                stopped("container_has_its_hostname"),
            ],
        );
        assert_eq!(
            verdicts(&ex, &statuses, &run, &guards),
            vec![Verdict::Todo, Verdict::Done]
        );
    }

    fn compile_error(file: &str, line: usize) -> TestRun {
        TestRun {
            compile_errors: vec![CompileError {
                text: "error: expected one of `.`, `;`, `?`, `}`, or an operator, found `x`".into(),
                location: Some((file.into(), line)),
            }],
            ..TestRun::default()
        }
    }

    #[test]
    fn compile_errors_inside_an_exercise_are_its_own() {
        let ex = exercises();
        let no_guards: Vec<&[String]> = vec![&[], &[]];
        let run = compile_error("chapters/01-demo/src/lib.rs", 3);
        assert_eq!(
            verdicts(&ex, &[Status::Modified, Status::Todo], &run, &no_guards),
            vec![Verdict::DoesNotCompile(0), Verdict::Todo]
        );
        let elsewhere = compile_error("chapters/01-demo/src/other.rs", 3);
        assert_eq!(
            verdicts(
                &ex,
                &[Status::Modified, Status::Todo],
                &elsewhere,
                &no_guards
            ),
            vec![Verdict::NotRun, Verdict::Todo]
        );
    }

    /// A syntax error inside 1.2 while 1.1 is still todo!(): the error is 1.2's, and "next"
    /// names 1.2 (the crate must compile before 1.1 can be checked), not 1.1.
    #[test]
    fn next_is_the_exercise_with_the_compile_error_even_after_a_todo() {
        const FILE2: &str = "\
pub fn add(a: i32, b: i32) -> i32 {
    // exercise 1.1 add: add two numbers.
    todo!(\"exercise 1.1 add: add two numbers.\")
    // end exercise
}

pub fn greet(name: &str) -> String {
    // exercise 1.2 greet: greet someone.
    format!(\"hello {name}\") x
    // end exercise
}
";
        let ex = parse(Path::new("chapters/01-demo/src/lib.rs"), FILE2).unwrap();
        let no_guards: Vec<&[String]> = vec![&[], &[]];
        let run = compile_error("chapters/01-demo/src/lib.rs", 9);
        let v = verdicts(&ex, &[Status::Todo, Status::Modified], &run, &no_guards);
        assert_eq!(v, vec![Verdict::Todo, Verdict::DoesNotCompile(0)]);
        assert_eq!(next_exercise(&v), Some(1));
        // Compiled: the first exercise not done.
        assert_eq!(
            next_exercise(&[
                Verdict::Done,
                Verdict::Todo,
                Verdict::Untested { recorded: true }
            ]),
            Some(1)
        );
        assert_eq!(next_exercise(&[Verdict::Done]), None);
        // Written exercises waiting on a later one: next is the one that blocks them, not the
        // first of them (whose "why" would say "finish 1.8 first" under "next: 1.6").
        assert_eq!(
            next_exercise(&[
                Verdict::Done,
                Verdict::Blocked(vec!["1.8".into()]),
                Verdict::Untested { recorded: true },
                Verdict::Todo,
            ]),
            Some(3)
        );
        // Nothing to act on: the first that is not done, so the learner sees why.
        assert_eq!(
            next_exercise(&[Verdict::Done, Verdict::Blocked(vec![])]),
            Some(1)
        );
    }
}
