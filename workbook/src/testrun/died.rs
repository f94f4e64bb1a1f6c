//! Failed tests whose test binary died before it reported them.
//!
//! libtest prints a failed test's captured output and panic message in the `failures:` part at
//! the end of its binary's run. A binary that aborts first (a panic inside a destructor while
//! unwinding the panic of a `todo!()`, say: chapter 1's tests wait for their container in a
//! drop, and reach exercise 1.12's `todo!()` there a second time) leaves its tests `FAILED` with
//! no report at all: a dashboard would show them with an empty message and blame no exercise,
//! and every exercise the learner wrote would look suspect. What the binary wrote to stderr is
//! still there (the init helper's panic, the abort), and cargo announces each binary on stderr
//! (`Running tests/isolation.rs (…)`) in the order libtest's `running N tests` lines come on
//! stdout, so the k-th binary's stderr is known.

use std::collections::BTreeMap;

use super::Failure;

/// A `running N tests` line: libtest starts one test binary.
fn starts_binary(line: &str) -> bool {
    line.strip_prefix("running ")
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|n| n.parse::<usize>().is_ok())
}

/// Fills in the failures whose test binary died before it printed their reports: the k-th
/// binary's stderr becomes the output of each of its unreported failures (so a `todo!()` it
/// reached names its exercise), and its most telling line (that `todo!()`, else the first
/// panic, else the signal) their message.
pub fn binary_died(failures: &mut [Failure], stdout: &str, stderr: &str) {
    let mut binary_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut reported: Vec<String> = Vec::new();
    let mut binary: Option<usize> = None;
    for line in stdout.lines() {
        if starts_binary(line) {
            binary = Some(binary.map_or(0, |b| b + 1));
        } else if let Some(rest) = line.strip_prefix("test ") {
            if let (Some(b), Some((name, _))) = (binary, rest.rsplit_once(" ... ")) {
                binary_of.entry(name.to_string()).or_insert(b);
            }
        } else if let Some(name) = line.strip_prefix("---- ").and_then(|r| {
            r.strip_suffix(" stdout ----")
                .or_else(|| r.strip_suffix(" stderr ----"))
        }) {
            reported.push(name.to_string());
        }
    }
    // cargo's `Running …` lines, each with what its binary wrote to stderr after it.
    let mut segments: Vec<(String, String)> = Vec::new();
    for line in stderr.lines() {
        let trimmed = line.trim_start();
        if let Some(target) = trimmed.strip_prefix("Running ") {
            let target = target
                .strip_prefix("unittests ")
                .unwrap_or(target)
                .split(" (")
                .next()
                .unwrap_or(target);
            segments.push((target.to_string(), String::new()));
        } else if trimmed.starts_with("Doc-tests ") {
            segments.push(("doc tests".to_string(), String::new()));
        } else if let Some((_, text)) = segments.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    for failure in failures.iter_mut() {
        if reported.contains(&failure.name) {
            continue;
        }
        let Some((target, text)) = binary_of.get(&failure.name).and_then(|&b| segments.get(b))
        else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let telling = lines
            .iter()
            .find(|l| l.trim_start().starts_with("not yet implemented: "))
            .map(|l| l.trim().to_string())
            .or_else(|| {
                let at = lines.iter().position(|l| l.contains("panicked at"))?;
                Some(lines.get(at + 1).unwrap_or(&lines[at]).trim().to_string())
            })
            .or_else(|| {
                lines
                    .iter()
                    .find(|l| l.contains("signal: "))
                    .map(|l| l.trim().to_string())
            })
            .unwrap_or_else(|| "(nothing on stderr)".to_string());
        failure.summary = Some(format!(
            "{target} died before it reported this test; it said:\n{telling}"
        ));
        failure.output =
            format!("{target} died before it reported this test; what it wrote to stderr:\n{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testrun::{parse_libtest, TestRun};

    /// A test binary that aborts (here: a `todo!()` reached in a destructor while the test
    /// already unwinds) prints no `failures:` part: its failed tests get what it wrote to
    /// stderr, found by its `Running` line, and the `todo!()` it reached as their message.
    #[test]
    fn a_binary_that_dies_gives_its_unreported_failures_its_stderr() {
        let stdout = "
running 1 test
test tests::unit ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 3 tests
test hides_host_files ... FAILED
test names_the_host ... ok
test masked_paths_read_empty ... FAILED
";
        let stderr = "    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.20s
     Running unittests src/lib.rs (target/debug/deps/demo-1)
     Running tests/isolation.rs (target/debug/deps/isolation-2)
minidock-init: panicked at chapters/01-demo/src/supervise.rs:85:5:
not yet implemented: exercise 1.12 exit-status: turn a wait status into Docker's exit code.

thread 'hides_host_files' (26614) panicked at library/core/src/panicking.rs:233:5:
panic in a destructor during cleanup
thread caused non-unwinding panic. aborting.
error: test failed, to rerun pass `-p demo --test isolation`

Caused by:
  process didn't exit successfully: `/w/target/debug/deps/isolation-2` (signal: 6, SIGABRT: process abort signal)
";
        let run = TestRun::parse(stdout, stderr, false);
        assert_eq!(run.failures.len(), 2);
        for failure in &run.failures {
            assert_eq!(
                failure.message(),
                "tests/isolation.rs died before it reported this test; it said:\n\
                 not yet implemented: exercise 1.12 exit-status: turn a wait status into Docker's exit code."
            );
            assert!(failure.output.contains("SIGABRT"), "{}", failure.output);
            assert!(!failure.output.contains("Finished"), "{}", failure.output);
        }
        // A reported failure keeps its own output and message.
        let reported_stdout = "
running 1 test
test hides_host_files ... FAILED

failures:

---- hides_host_files stdout ----
thread 'hides_host_files' panicked at tests/isolation.rs:3:5:
the host file is visible
";
        let (_, failures) = parse_libtest(reported_stdout);
        let mut reported = failures.clone();
        binary_died(&mut reported, reported_stdout, stderr);
        assert_eq!(reported, failures);
        assert_eq!(reported[0].message(), "the host file is visible");
    }
}
