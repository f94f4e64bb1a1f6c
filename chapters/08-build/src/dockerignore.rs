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

use std::collections::HashSet;

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

// ANCHOR: ignore_parse
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
    // ANCHOR_END: ignore_parse

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
///
/// Trying every way to split the path among several `**` takes time
/// exponential in their number (`**/a/**/a/**/b` against a deep path), and
/// a `.dockerignore` comes with the context, from whoever wrote it. So each
/// position — how much of the pattern and of the path is left — that failed
/// once is remembered in `failed` and never tried again: at most one try
/// per pair of positions.
#[allow(dead_code)] // exercise 8.5 (dockerignore) builds on it
fn matches(pattern: &[String], path: &[&str]) -> bool {
    matches_from(pattern, path, &mut HashSet::new())
}

#[allow(dead_code)] // exercise 8.5 (dockerignore) builds on it, through `matches`
fn matches_from(pattern: &[String], path: &[&str], failed: &mut HashSet<(usize, usize)>) -> bool {
    let position = (pattern.len(), path.len());
    if failed.contains(&position) {
        return false;
    }
    let matched = match pattern.split_first() {
        None => path.is_empty(),
        // a last `**` needs something below: `dir/**` is not `dir` itself
        Some((first, rest)) if first == "**" && rest.is_empty() => !path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| matches_from(rest, &path[skip..], failed))
        }
        Some((first, rest)) => match path.split_first() {
            Some((name, path_rest)) => glob(first, name) && matches_from(rest, path_rest, failed),
            None => false,
        },
    };
    if !matched {
        failed.insert(position);
    }
    matched
}
// ANCHOR_END: matches

/// Shell-style matching of one path part: `*`, `?`, `[…]`, `\` escapes.
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_chars(&p, &n)
}

/// The classic linear matcher: every element but `*` takes one character;
/// on a mismatch, the last `*` seen takes one more character and matching
/// resumes after it. Only the last `*` ever needs to grow (whatever an
/// earlier one would take, the later one can take instead), so the work is
/// at most pattern length × name length — where trying every split for
/// every `*` took 2^n steps on `*a*a*a…b` against `aaaa…`.
fn glob_chars(p: &[char], n: &[char]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    // After the last `*`: where the pattern resumes, and how much of the
    // name that `*` has taken so far.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if p.get(pi) == Some(&'*') {
            pi += 1;
            star = Some((pi, ni));
            continue;
        }
        if let Some(used) = one(&p[pi..], n[ni]) {
            pi += used;
            ni += 1;
            continue;
        }
        match star {
            Some((resume, taken)) => {
                pi = resume;
                ni = taken + 1;
                star = Some((resume, taken + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the pattern element at the start of `p` (not `*`) matches the
/// character `c`, and how many pattern characters it used.
fn one(p: &[char], c: char) -> Option<usize> {
    match p.first()? {
        '?' => Some(1),
        '[' => match class(&p[1..]) {
            Some((set, negated, len)) => {
                let inside = set.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                (inside != negated).then_some(1 + len)
            }
            // an unclosed `[` is a plain character
            None => (c == '[').then_some(1),
        },
        '\\' if p.len() > 1 => (p[1] == c).then_some(2),
        &literal => (literal == c).then_some(1),
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
    fn hostile_patterns_match_in_polynomial_time() {
        // Found by fuzzing: with backtracking, `*` and `**` tried every way
        // to split the name or path among them, 2^n steps for these (years);
        // now they are decided at once. The thread's deadline is a million
        // times what they take, only there to turn a hang into a failure.
        let name = "a".repeat(64);
        let stars = format!("{}b", "*a".repeat(32));
        let deep = vec!["a"; 40].join("/");
        let ignore = Ignore::parse(&format!("{stars}\n{}b\n", "**/a/".repeat(12)));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            tx.send((
                glob(&stars, &name),
                glob(&stars, &format!("{name}b")),
                ignore.excluded(&deep),
                ignore.excluded(&format!("{deep}/b")),
            ))
            .ok();
        });
        let verdicts = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("matching took more than a minute: exponential backtracking is back");
        assert_eq!(verdicts, (false, true, false, true));
    }

    #[test]
    fn globs_agree_with_the_shell() {
        for (pattern, name, want) in [
            ("*", "", true),
            ("*", "abc", true),
            ("a*", "a", true),
            ("*a", "ba", true),
            ("*a", "ab", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("*.tar.gz", "x.tar.gz", true),
            ("**", "x", true),
            ("?", "", false),
            ("[", "[", true),
            ("[a", "[a", true),
            ("*[b]", "ab", true),
            ("a\\", "a\\", true),
            ("\\?", "?", true),
            ("\\?", "x", false),
            ("[]]", "]", true),
            ("[^]]", "a", true),
        ] {
            assert_eq!(glob(pattern, name), want, "{pattern:?} against {name:?}");
        }
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
