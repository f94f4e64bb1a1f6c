//! `.dockerignore`: which files of the context the build never sees.
//!
//! One pattern a line, Docker's rules:
//!
//! - blank lines and lines starting with `#` are ignored;
//! - a pattern is a path relative to the context root, cleaned (`./a/`,
//!   `/a` and `a` are the same), its parts matched one by one: `*` is any
//!   run of characters but `/`, `?` one character but `/`, `[a-c]` a class,
//!   and a whole part `**` any number of directories (also none);
//! - a pattern that matches a directory excludes everything below it;
//! - `!pattern` is an exception: it brings back what an earlier pattern
//!   excluded. The **last** pattern that matches a path decides.
//!
//! ```text
//! *.log          excludes a.log, not logs/b.log
//! **/*.log       excludes both
//! build          excludes build/ and all below it
//! !build/keep    … but keeps build/keep
//! ```

/// One line of a `.dockerignore`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// The cleaned pattern, split at `/`.
    parts: Vec<String>,
    /// `!pattern`: an exception.
    exception: bool,
}

/// The patterns of one `.dockerignore`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

/// Cleans a path or pattern as Go's `filepath.Clean` does, relative to the
/// root: no empty parts, no `.`, `..` taking the part before it away.
fn clean(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p.to_string()),
        }
    }
    parts
}

impl Ignore {
    /// Reads the text of a `.dockerignore`.
    pub fn parse(text: &str) -> Ignore {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let parts = clean(pattern);
            if parts.is_empty() {
                continue;
            }
            patterns.push(Pattern { parts, exception });
        }
        Ignore { patterns }
    }

    /// Whether there are exceptions: then an excluded directory must still
    /// be walked, since something below it may be brought back.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    // ANCHOR: excluded
    /// Whether `path` (relative to the context root) is excluded.
    pub fn excluded(&self, path: &str) -> bool {
        let parts = clean(path);
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        // exercise 8.5 dockerignore: the last pattern that matches the path, or one of its parent directories, decides.
        // hint: walk the patterns in order and remember the verdict of the last one that matches
        // hint: a pattern matches a path if it matches the path itself or any of its parent directories
        // hint: the matcher in this module compares a pattern's parts with the first parts of the path; an exception says "keep"
        let mut excluded = false;
        for pattern in &self.patterns {
            let matched = (1..=parts.len()).any(|n| matches(&pattern.parts, &parts[..n]));
            if matched {
                excluded = !pattern.exception;
            }
        }
        excluded
        // end exercise
    }
    // ANCHOR_END: excluded
}

// ANCHOR: matches
/// Whether the parts of a pattern match the parts of a path, `**`
/// matching any number of parts.
#[allow(dead_code)] // exercise 8.5 (dockerignore) builds on it
fn matches(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        // a last `**` needs something below: `dir/**` is not `dir` itself
        Some((first, rest)) if first == "**" && rest.is_empty() => !path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| matches(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((name, path_rest)) => glob(first, name) && matches(rest, path_rest),
            None => false,
        },
    }
}
// ANCHOR_END: matches

/// Shell-style matching of one path part: `*`, `?`, `[…]`, `\` escapes.
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_at(&p, &n)
}

fn glob_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|skip| glob_at(&p[1..], &n[skip..])),
        Some('?') => !n.is_empty() && glob_at(&p[1..], &n[1..]),
        Some('[') => match (n.first(), class(&p[1..])) {
            (Some(c), Some((set, negated, len))) => {
                let inside = set.iter().any(|(lo, hi)| lo <= c && c <= hi);
                inside != negated && glob_at(&p[1 + len..], &n[1..])
            }
            // an unclosed `[` is a plain character
            (Some(c), None) => *c == '[' && glob_at(&p[1..], &n[1..]),
            (None, _) => false,
        },
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && glob_at(&p[2..], &n[1..]),
        Some(c) => n.first() == Some(c) && glob_at(&p[1..], &n[1..]),
    }
}

/// A character class after its `[`: the ranges, whether it is negated, and
/// how many pattern characters it used (with the `]`).
type Class = (Vec<(char, char)>, bool, usize);

fn class(p: &[char]) -> Option<Class> {
    let mut i = 0;
    let negated = matches!(p.first(), Some('^' | '!'));
    if negated {
        i += 1;
    }
    let mut set = Vec::new();
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((set, negated, i + 1));
        }
        first = false;
        let mut lo = p[i];
        if lo == '\\' && i + 1 < p.len() {
            i += 1;
            lo = p[i];
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            set.push((lo, p[i + 2]));
            i += 3;
        } else {
            set.push((lo, lo));
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*.log", "a.log"));
        assert!(!glob("*.log", "a.txt"));
        assert!(glob("a?c", "abc"));
        assert!(glob("[a-c]x", "bx"));
        assert!(!glob("[!a-c]x", "bx"));
        assert!(glob("\\*", "*"));
        assert!(!glob("\\*", "a"));
    }

    #[test]
    fn docker_rules() {
        let ignore = Ignore::parse(
            "# comment\n\n*.log\n/build\n**/tmp\nsecret/**\n!build/keep\n./docs/*.md\n",
        );
        let verdicts: Vec<(&str, bool)> = [
            "a.log",
            "logs/b.log",
            "build",
            "build/x/y",
            "build/keep",
            "tmp",
            "a/b/tmp/c",
            "secret",
            "secret/key",
            "docs/README.md",
            "docs/sub/x.md",
            "src/main.rs",
        ]
        .into_iter()
        .map(|p| (p, ignore.excluded(p)))
        .collect();
        insta::assert_debug_snapshot!(verdicts, @r#"
        [
            (
                "a.log",
                true,
            ),
            (
                "logs/b.log",
                false,
            ),
            (
                "build",
                true,
            ),
            (
                "build/x/y",
                true,
            ),
            (
                "build/keep",
                false,
            ),
            (
                "tmp",
                true,
            ),
            (
                "a/b/tmp/c",
                true,
            ),
            (
                "secret",
                false,
            ),
            (
                "secret/key",
                true,
            ),
            (
                "docs/README.md",
                true,
            ),
            (
                "docs/sub/x.md",
                false,
            ),
            (
                "src/main.rs",
                false,
            ),
        ]
        "#);
        assert!(ignore.has_exceptions());
    }

    #[test]
    fn last_match_wins() {
        let ignore = Ignore::parse("!a\na\n");
        assert!(ignore.excluded("a"));
        let ignore = Ignore::parse("*\n!keep\n");
        assert!(!ignore.excluded("keep"));
        assert!(ignore.excluded("other"));
        assert!(ignore.excluded("./x/../other"));
    }
}
