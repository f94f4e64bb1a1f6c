//! Running a chapter's tests with `cargo test` and reading libtest's plain output.
//!
//! libtest's JSON output is unstable, so the workbook reads what people read: the
//! `test NAME ... ok|FAILED|ignored` lines, the `---- NAME stdout ----` failure sections, and
//! rustc's `error…  --> file:line:col` blocks when the crate does not compile.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::progress::Progress;
use crate::signals;

pub mod died;

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    Ignored,
}

/// A failed test and what it printed (captured output and panic message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub name: String,
    pub output: String,
    /// What to show instead of the panic message, when the test's own report never came (its
    /// test binary died first, see [`died`]).
    pub summary: Option<String>,
}

impl Failure {
    /// A failure with the output libtest printed for it.
    pub fn new(name: impl Into<String>, output: impl Into<String>) -> Failure {
        Failure {
            name: name.into(),
            output: output.into(),
            summary: None,
        }
    }

    /// The panic message: the lines after `thread '…' panicked at …:` up to libtest's `note:`.
    /// Falls back to the last non-empty line of the output.
    pub fn message(&self) -> String {
        if let Some(summary) = &self.summary {
            return summary.clone();
        }
        let lines: Vec<&str> = self.output.lines().collect();
        if let Some(start) = lines
            .iter()
            .position(|l| l.starts_with("thread '") && l.contains("panicked at"))
        {
            let header = lines[start];
            // Before Rust 1.73 the message sat on the header line after the location.
            if let Some((_, inline)) = header.split_once("' panicked at '") {
                return inline.to_string();
            }
            let message: Vec<&str> = lines[start + 1..]
                .iter()
                .take_while(|l| !l.starts_with("note: ") && !l.starts_with("stack backtrace:"))
                .copied()
                .collect();
            let message = message.join("\n").trim().to_string();
            if !message.is_empty() {
                return message;
            }
        }
        lines
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map_or(String::new(), |l| l.trim().to_string())
    }
}

/// A compiler error: its text and the first `--> file:line` it points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub text: String,
    pub location: Option<(PathBuf, usize)>,
}

/// What `cargo test` said.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    /// Every `test NAME ... outcome` line, in order.
    pub results: Vec<(String, Outcome)>,
    /// The failed tests with their output.
    pub failures: Vec<Failure>,
    /// Compiler errors; when there are any, no test ran.
    pub compile_errors: Vec<CompileError>,
    /// Whether cargo exited successfully.
    pub success: bool,
    /// Everything cargo and the tests printed, stdout then stderr.
    pub output: String,
}

impl TestRun {
    pub fn compiled(&self) -> bool {
        self.compile_errors.is_empty()
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.results.iter().filter(|(_, o)| *o == outcome).count()
    }

    /// Parses the output of a `cargo test` run.
    pub fn parse(stdout: &str, stderr: &str, success: bool) -> TestRun {
        let (results, mut failures) = parse_libtest(stdout);
        died::binary_died(&mut failures, stdout, stderr);
        let mut compile_errors = parse_compile_errors(stderr);
        let build_failed = stderr.contains("error: could not compile")
            || stderr.contains("error: could not find")
            || stderr.contains("error: failed to")
            || stderr.contains("error: package ID specification");
        if compile_errors.is_empty() && build_failed && results.is_empty() {
            let text = stderr
                .lines()
                .filter(|l| l.starts_with("error"))
                .collect::<Vec<_>>()
                .join("\n");
            compile_errors.push(CompileError {
                text,
                location: None,
            });
        }
        TestRun {
            results,
            failures,
            compile_errors,
            success,
            output: format!("{stdout}{stderr}"),
        }
    }
}

/// Reads libtest's plain output: outcomes and failure sections of every test binary.
pub fn parse_libtest(stdout: &str) -> (Vec<(String, Outcome)>, Vec<Failure>) {
    let mut results = Vec::new();
    let mut sections: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some((name, outcome)) = rest.rsplit_once(" ... ") {
                let outcome = match outcome.trim() {
                    "ok" => Some(Outcome::Ok),
                    "FAILED" => Some(Outcome::Failed),
                    o if o.starts_with("ignored") => Some(Outcome::Ignored),
                    _ => None,
                };
                if let Some(outcome) = outcome {
                    results.push((name.to_string(), outcome));
                    current = None;
                    continue;
                }
            }
        }
        if let Some(name) = line.strip_prefix("---- ").and_then(|r| {
            r.strip_suffix(" stdout ----")
                .or_else(|| r.strip_suffix(" stderr ----"))
        }) {
            sections.entry(name.to_string()).or_default();
            current = Some(name.to_string());
            continue;
        }
        if line == "failures:" || line.starts_with("test result: ") || line.starts_with("running ")
        {
            current = None;
            continue;
        }
        if let Some(name) = &current {
            let section = sections.get_mut(name).expect("section exists");
            section.push_str(line);
            section.push('\n');
        }
    }
    let failures = results
        .iter()
        .filter(|(_, o)| *o == Outcome::Failed)
        .map(|(name, _)| Failure::new(name, sections.get(name).cloned().unwrap_or_default()))
        .collect();
    (results, failures)
}

/// Reads rustc's error blocks (`error…` up to the next blank line) from cargo's stderr.
pub fn parse_compile_errors(stderr: &str) -> Vec<CompileError> {
    let mut errors = Vec::new();
    // cargo also prints `error: test failed, to rerun pass …` for failing tests: only a run
    // that says "could not compile" had compiler errors.
    if !stderr.contains("could not compile") {
        return errors;
    }
    let mut lines = stderr.lines().peekable();
    while let Some(line) = lines.next() {
        let is_error = line.starts_with("error[") || line.starts_with("error: ");
        let summary = line.starts_with("error: could not compile")
            || line.starts_with("error: aborting")
            || line.contains("to rerun pass")
            || line.starts_with("error: ")
                && (line.contains("target failed") || line.contains("targets failed"));
        if !is_error || summary {
            continue;
        }
        let mut text = vec![line];
        while let Some(next) = lines.peek() {
            if next.trim().is_empty() {
                break;
            }
            text.push(next);
            lines.next();
        }
        let location = text.iter().find_map(|l| {
            let rest = l.trim_start().strip_prefix("--> ")?;
            let mut parts = rest.rsplitn(3, ':');
            let _column = parts.next()?;
            let line: usize = parts.next()?.parse().ok()?;
            Some((PathBuf::from(parts.next()?), line))
        });
        errors.push(CompileError {
            text: text.join("\n"),
            location,
        });
    }
    errors
}

/// How to run a chapter's tests.
#[derive(Debug, Clone)]
pub struct TestCommand<'a> {
    /// The workspace root (cargo runs there, so rustc's paths are relative to it).
    pub root: &'a Path,
    /// The package to test.
    pub package: &'a str,
    /// `--test-threads` for libtest, if set.
    pub test_threads: Option<usize>,
    /// Echo cargo's output as it arrives.
    pub verbose: bool,
    /// Show a progress line on stderr while cargo builds (see [`crate::progress`]); not with
    /// `verbose`, where cargo's own lines show it.
    pub progress: bool,
    /// Stop at the first test binary that fails. `verify` only needs one failing test to
    /// prove an exercise is guarded, and the unit tests (which cargo runs first) usually
    /// fail in seconds, so this saves running the slow container tests once per exercise.
    pub fail_fast: bool,
    /// Give up on a run that takes longer: a broken exercise can make a test wait forever
    /// (for a log line that never comes, say). The whole process group is killed and the
    /// run counts as failed, with a failure named `(timed out)`.
    pub timeout: Option<Duration>,
    /// Run only the tests with exactly these names (libtest's `--exact` filters); empty runs
    /// every test. `verify` first runs an exercise's recorded guards alone: one of them
    /// failing already proves the exercise guarded, without the chapter's slow tests.
    pub only: &'a [String],
    /// Cargo's target selection (`--lib`, `--test NAME`); empty means `--lib --tests`. Building
    /// only the test binaries that hold `only` saves linking every other one per exercise.
    pub targets: &'a [String],
}

/// The cargo to call: `$CARGO` when running under cargo (as `cargo workbook` does), else `cargo`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

impl TestCommand<'_> {
    /// Runs `cargo test -p PACKAGE` (with `--no-fail-fast` unless `fail_fast`) and parses
    /// what it printed. Returns `Err` when cargo could not be started or the run was
    /// interrupted (Ctrl-C).
    pub fn run(&self) -> Result<TestRun> {
        let mut command = Command::new(cargo());
        // Its own process group, so a timeout can stop cargo and every test binary under it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        // The library's and the integration tests (and the binaries they run): no examples
        // and no doc tests, which take long to build and guard no exercise.
        command.args(["test", "-p", self.package]);
        if self.targets.is_empty() {
            command.args(["--lib", "--tests"]);
        } else {
            command.args(self.targets);
        }
        if !self.fail_fast {
            command.arg("--no-fail-fast");
        }
        command
            .current_dir(self.root)
            .env("CARGO_TERM_COLOR", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut test_args = Vec::new();
        if let Some(threads) = self.test_threads {
            test_args.push(format!("--test-threads={threads}"));
        }
        if !self.only.is_empty() {
            test_args.push("--exact".to_string());
            test_args.extend(self.only.iter().cloned());
        }
        if !test_args.is_empty() {
            command.arg("--").args(&test_args);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting `{} test -p {}`", cargo(), self.package))?;
        let verbose = self.verbose;
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let progress = (self.progress && !verbose).then(Progress::new);
        let out = std::thread::spawn(move || read_all(&mut stdout, verbose, false, None));
        let err = std::thread::spawn(move || read_all(&mut stderr, verbose, true, progress));
        let mut forwarded = false;
        let started = std::time::Instant::now();
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = child.try_wait().context("waiting for cargo")? {
                break status;
            }
            if !timed_out && self.timeout.is_some_and(|t| started.elapsed() > t) {
                let group = nix::unistd::Pid::from_raw(-(child.id() as i32));
                if let Err(e) = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL) {
                    eprintln!("could not stop the timed-out test run (group {group}): {e}");
                }
                timed_out = true;
            }
            if signals::interrupted() && !forwarded {
                // Ctrl-C reaches cargo through the terminal already; a SIGTERM sent to the
                // workbook alone has to be passed on to the cargo it started.
                let pid = nix::unistd::Pid::from_raw(child.id() as i32);
                if let Err(e) = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM) {
                    eprintln!("could not stop cargo (pid {pid}): {e}");
                }
                forwarded = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stdout = out.join().expect("reader thread");
        let stderr = err.join().expect("reader thread");
        if signals::interrupted() {
            anyhow::bail!("interrupted");
        }
        let mut run = TestRun::parse(&stdout, &stderr, status.success() && !timed_out);
        if timed_out {
            run.failures.push(Failure::new(
                "(timed out)",
                format!(
                    "the tests did not finish within {} s and were stopped",
                    self.timeout.unwrap_or_default().as_secs()
                ),
            ));
        }
        Ok(run)
    }
}

fn read_all(
    pipe: &mut impl Read,
    echo: bool,
    to_stderr: bool,
    mut progress: Option<Progress>,
) -> String {
    let mut collected = Vec::new();
    let mut buffer = [0u8; 8192];
    // The line not yet fed to `progress`.
    let mut pending = Vec::new();
    loop {
        match pipe.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Some(progress) = progress.as_mut() {
                    for &byte in &buffer[..n] {
                        if byte == b'\n' {
                            progress.line(&String::from_utf8_lossy(&pending));
                            pending.clear();
                        } else {
                            pending.push(byte);
                        }
                    }
                }
                if echo {
                    use std::io::Write;
                    let chunk = &buffer[..n];
                    // Echo is best-effort progress output; a closed terminal must not stop the run.
                    if to_stderr {
                        std::io::stderr().write_all(chunk).ok();
                    } else {
                        std::io::stdout().write_all(chunk).ok();
                    }
                }
                collected.extend_from_slice(&buffer[..n]);
            }
        }
    }
    if let Some(progress) = progress.as_mut() {
        progress.finish();
    }
    String::from_utf8_lossy(&collected).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIBTEST: &str = "
running 3 tests
test tests::adds ... ok
test tests::greets ... FAILED
test tests::slow ... ignored, needs a registry
test tests::child_output ... child says hi
ok

failures:

---- tests::greets stdout ----
some captured line
thread 'tests::greets' panicked at src/lib.rs:12:5:
not yet implemented: exercise 1.2 greet: say hello.
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    tests::greets

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 1 test
test it_works ... FAILED

failures:

---- it_works stdout ----
thread 'it_works' panicked at tests/it.rs:3:5:
assertion `left == right` failed
  left: 1
 right: 2

failures:
    it_works

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";

    #[test]
    fn reads_outcomes_and_failure_sections_of_every_binary() {
        let (results, failures) = parse_libtest(LIBTEST);
        assert_eq!(
            results,
            vec![
                ("tests::adds".to_string(), Outcome::Ok),
                ("tests::greets".to_string(), Outcome::Failed),
                ("tests::slow".to_string(), Outcome::Ignored),
                ("it_works".to_string(), Outcome::Failed),
            ]
        );
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].name, "tests::greets");
        assert!(failures[0].output.starts_with("some captured line\n"));
        assert_eq!(
            failures[0].message(),
            "not yet implemented: exercise 1.2 greet: say hello."
        );
        assert_eq!(
            failures[1].message(),
            "assertion `left == right` failed\n  left: 1\n right: 2"
        );
    }

    #[test]
    fn message_falls_back_to_the_last_line() {
        let failure = Failure::new("t", "Error: needs root\n\n");
        assert_eq!(failure.message(), "Error: needs root");
        let old_style = Failure::new("t", "thread 't' panicked at 'boom', src/lib.rs:1:1\n");
        assert_eq!(old_style.message(), "boom', src/lib.rs:1:1");
    }

    #[test]
    fn reads_compile_errors_with_their_location() {
        let stderr = "   Compiling demo v0.1.0 (/w/chapters/01-demo)
error[E0308]: mismatched types
 --> chapters/01-demo/src/lib.rs:7:5
  |
7 |     \"x\"
  |     ^^^ expected `i32`, found `&str`

error: aborting due to 1 previous error

For more information about this error, try `rustc --explain E0308`.
error: could not compile `demo` (lib) due to 1 previous error
";
        let run = TestRun::parse("", stderr, false);
        assert!(!run.compiled());
        assert_eq!(run.compile_errors.len(), 1);
        let error = &run.compile_errors[0];
        assert!(error.text.starts_with("error[E0308]: mismatched types"));
        assert_eq!(
            error.location,
            Some((PathBuf::from("chapters/01-demo/src/lib.rs"), 7))
        );
    }

    #[test]
    fn test_failures_are_not_compile_errors() {
        let stderr = "error: test failed, to rerun pass `-p demo --lib`\n   Doc-tests demo\nerror: doctest failed, to rerun pass `-p demo --doc`\nerror: 2 targets failed:\n    `-p demo --lib`\n";
        let run = TestRun::parse(LIBTEST, stderr, false);
        assert!(run.compiled(), "{:?}", run.compile_errors);
        assert_eq!(run.count(Outcome::Failed), 2);
        assert_eq!(run.count(Outcome::Ok), 1);
    }
}
