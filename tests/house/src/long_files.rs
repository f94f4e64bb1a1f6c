//! Files over [`LIMIT`] lines. A source file that long is two concepts;
//! the only files allowed past it are listed in `long-files.txt` beside
//! this crate's Cargo.toml, each with its reason:
//!
//! - `test: …` — a test file (under a `tests/` directory), where one
//!   scenario after another is easier to read in one place;
//! - `table: …` — a declarative table (clap's command tree, serde shapes),
//!   one entry after another, with no logic to split;
//! - `to split: …` — a file known to be too long, waiting for its split.
//!
//! A line whose file is gone or back under the limit fails too, so the list
//! only ever shrinks to what is true.

use std::io;
use std::path::Path;

use crate::workspace::{line_count, read, rust_files, Member};

/// The most lines a source file has without a reason.
pub const LIMIT: usize = 600;

/// Where the allowlist lives, relative to the workspace root.
pub const ALLOWLIST: &str = "tests/house/long-files.txt";

/// The reasons a line of the allowlist may give.
const REASONS: [&str; 3] = ["test:", "table:", "to split:"];

/// One line of the allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// The file, relative to the workspace root.
    pub path: String,
    /// Why it may be long.
    pub reason: String,
    /// Its line in the allowlist.
    pub line: usize,
}

/// Reads the allowlist's text; each problem with a line is an error message.
pub fn parse_allowlist(text: &str) -> (Vec<Allowed>, Vec<String>) {
    let mut allowed = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (path, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let reason = reason.trim();
        let at = format!("{ALLOWLIST}:{}", i + 1);
        if !REASONS
            .iter()
            .any(|r| reason.starts_with(r) && reason.len() > r.len())
        {
            problems.push(format!(
                "{at}: `{path}` needs a reason after its path that starts with one of {REASONS:?} and says more"
            ));
        } else if reason.starts_with("test:")
            && !(path.contains("/tests/") || path.starts_with("tests/"))
        {
            problems.push(format!(
                "{at}: `{path}` is not under a tests/ directory, so `test:` is not its reason"
            ));
        }
        if allowed.iter().any(|a: &Allowed| a.path == path) {
            problems.push(format!("{at}: `{path}` is listed twice"));
        }
        allowed.push(Allowed {
            path: path.to_string(),
            reason: reason.to_string(),
            line: i + 1,
        });
    }
    (allowed, problems)
}

/// Every `.rs` file of the members with its line count, those over the limit.
pub fn long_files(root: &Path, members: &[Member]) -> io::Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    for m in members {
        for file in rust_files(root, &m.dir)? {
            let lines = line_count(&read(&root.join(&file))?);
            if lines > LIMIT {
                out.push((file, lines));
            }
        }
    }
    Ok(out)
}

/// What is wrong: long files not listed, listed lines that are no longer
/// true, malformed lines. Empty when the house is in order.
pub fn check(root: &Path, members: &[Member]) -> io::Result<Vec<String>> {
    let (allowed, mut problems) = parse_allowlist(&read(&root.join(ALLOWLIST))?);
    let long = long_files(root, members)?;
    for (file, lines) in &long {
        if !allowed.iter().any(|a| &a.path == file) {
            problems.push(format!(
                "{file} has {lines} lines, over {LIMIT}: split it by concept (a module per idea), \
                 or, for a test or a declarative table, list it in {ALLOWLIST} with its reason"
            ));
        }
    }
    for a in &allowed {
        match long.iter().find(|(f, _)| *f == a.path) {
            Some(_) => {}
            None if root.join(&a.path).is_file() => problems.push(format!(
                "{ALLOWLIST}:{}: {} is no longer over {LIMIT} lines: remove its line",
                a.line, a.path
            )),
            None => problems.push(format!(
                "{ALLOWLIST}:{}: {} does not exist: remove its line",
                a.line, a.path
            )),
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_needs_a_known_reason_that_fits_the_file() {
        let text = "# comment\n\nfinal/src/cli.rs table: clap's command tree\nfinal/tests/a.rs  test: scenarios\n\
                    final/src/b.rs\nfinal/src/c.rs because\nfinal/src/d.rs test: not a test\nfinal/src/cli.rs to split: twice\n";
        let (allowed, problems) = parse_allowlist(text);
        assert_eq!(allowed.len(), 6);
        assert_eq!(allowed[1].reason, "test: scenarios");
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains(":5: `final/src/b.rs` needs a reason"));
        assert!(problems[1].contains(":6: `final/src/c.rs` needs a reason"));
        assert!(problems[2].contains(":7: `final/src/d.rs` is not under a tests/ directory"));
        assert!(problems[3].contains(":8: `final/src/cli.rs` is listed twice"));
    }
}
