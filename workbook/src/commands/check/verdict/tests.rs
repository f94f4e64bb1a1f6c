//! The verdicts of a test run, case by case: what a learner met, and what the dashboard must say.

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

/// [`FILE`] with both exercises written.
fn written() -> Vec<Exercise> {
    let file = FILE.replace(
        "todo!(\"exercise 1.2 greet: greet someone.\")",
        "format!(\"hello {name}\")",
    );
    parse(Path::new("chapters/01-demo/src/lib.rs"), &file).unwrap()
}

fn failure(name: &str, output: &str) -> Failure {
    Failure::new(name, output)
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
    // While 1.2 is open (todo), it is the likelier cause: 1.1's guard passed, it is done.
    assert_eq!(
        verdicts(&ex, &[Status::Modified, Status::Todo], &run, &guards),
        vec![Verdict::Done, Verdict::Todo]
    );
    assert_eq!(
        verdicts(&ex, &[Status::Reference, Status::Todo], &run, &guards),
        vec![Verdict::Done, Verdict::Todo]
    );
    // With nothing open, the same loose failure makes the written bodies suspects.
    let results = [
        ("tests::sums", Outcome::Ok),
        ("tests::env", Outcome::Failed),
        ("tests::greets", Outcome::Ok),
    ];
    let run = run_of(&results, vec![loose]);
    assert_eq!(
        verdicts(
            &written(),
            &[Status::Modified, Status::Modified],
            &run,
            &guards
        ),
        vec![Verdict::Unconfirmed, Verdict::Unconfirmed]
    );
}

/// The learner tries `chroot` for 1.2 as the book invites: 1.2's own test fails, and so
/// does a test that names no exercise (EPERM from `unshare -U` inside a chroot). 1.1, whose
/// guard passed, stays ✓ and "next" is 1.2, not 1.1 "not confirmed".
#[test]
fn a_loose_failure_while_an_exercise_fails_does_not_unconfirm_the_others() {
    let guards = named_guards();
    let guards = as_slices(&guards);
    let own = failure("tests::greets", "assertion failed: escaped to the host\n");
    let loose = failure("tests::seccomp_off", "unshare: Operation not permitted\n");
    let run = run_of(
        &[
            ("tests::sums", Outcome::Ok),
            ("tests::greets", Outcome::Failed),
            ("tests::seccomp_off", Outcome::Failed),
        ],
        vec![own, loose],
    );
    let v = verdicts(
        &written(),
        &[Status::Modified, Status::Modified],
        &run,
        &guards,
    );
    assert_eq!(v, vec![Verdict::Done, Verdict::Failing(vec![0])]);
    assert_eq!(next_exercise(&v), Some(1));
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
