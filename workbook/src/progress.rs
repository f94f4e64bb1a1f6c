//! A progress line while cargo builds a chapter's tests.
//!
//! The first `check` of a chapter compiles its crate, the test kit and their dependencies: a
//! minute or more of silence without this. Cargo's own progress bar only shows when cargo
//! writes to a terminal, and the workbook reads cargo's output through a pipe, so it reads the
//! `Compiling NAME …` lines instead and shows one line of its own on stderr: rewritten in place
//! on a terminal, or a line when the build starts and one when it ends otherwise (a log stays
//! readable). stdout, where the dashboard goes, is left alone.

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// What one line of cargo's stderr says about the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `Compiling NAME vX.Y.Z (…)`: one more crate.
    Compiling(String),
    /// `Finished …`: everything is built.
    Finished,
    /// `Running …` (a test binary started): the tests run, the build is over.
    Running,
    /// Anything else.
    Other,
}

/// Reads one line of cargo's stderr.
pub fn event(line: &str) -> Event {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix("Compiling ") {
        let name = rest.split_whitespace().next().unwrap_or(rest);
        return Event::Compiling(name.to_string());
    }
    if line.starts_with("Finished ") {
        return Event::Finished;
    }
    if line.starts_with("Running ") {
        return Event::Running;
    }
    Event::Other
}

/// The progress shown for one cargo run.
pub struct Progress {
    terminal: bool,
    started: Instant,
    compiled: usize,
    /// Whether anything was compiled (a warm run prints nothing at all).
    building: bool,
    /// Whether the end of the build was shown.
    done: bool,
}

impl Progress {
    /// Progress on stderr, from now.
    pub fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            started: Instant::now(),
            compiled: 0,
            building: false,
            done: false,
        }
    }

    /// Feeds one line of cargo's stderr.
    pub fn line(&mut self, line: &str) {
        match event(line) {
            Event::Compiling(name) => {
                self.compiled += 1;
                if self.terminal {
                    self.show(&format!(
                        "  building the tests: {} crates compiled, now {name} ({} s)",
                        self.compiled,
                        self.started.elapsed().as_secs()
                    ));
                } else if !self.building {
                    eprintln!(
                        "  building the tests (the first run compiles the dependencies too)…"
                    );
                }
                self.building = true;
            }
            Event::Finished | Event::Running => self.finish(),
            Event::Other => {}
        }
    }

    /// Ends the line once the build is over.
    pub fn finish(&mut self) {
        if !self.building || self.done {
            return;
        }
        self.done = true;
        let message = format!(
            "  built {} crates in {} s; running the tests…",
            self.compiled,
            self.started.elapsed().as_secs()
        );
        if self.terminal {
            self.show(&message);
            eprintln!();
        } else {
            eprintln!("{message}");
        }
    }

    fn show(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        // Best effort: a closed terminal must not stop the run.
        write!(err, "\r\x1b[K{text}").ok();
        err.flush().ok();
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargos_build_lines() {
        assert_eq!(
            event("   Compiling minidock-testkit v0.1.0 (/w/tests/testkit)"),
            Event::Compiling("minidock-testkit".into())
        );
        assert_eq!(
            event("    Finished `test` profile [unoptimized + debuginfo] target(s) in 41.2s"),
            Event::Finished
        );
        assert_eq!(
            event("     Running unittests src/lib.rs (target/debug/deps/x-1)"),
            Event::Running
        );
        assert_eq!(event("warning: unused import: `fork`"), Event::Other);
    }
}
