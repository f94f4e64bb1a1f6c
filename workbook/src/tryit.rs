//! The book's Try-its as a runnable script: the shell blocks a reader is told to type, with the
//! output the book promises.
//!
//! A block the book presents as runnable is fenced as ```` ```console,runnable ````. Inside it:
//!
//! ```text
//! # a command, typed at a root prompt (`# `)
//! the output it prints (stdout and stderr, as a terminal shows them)
//! # a long command ends its line with \
//!     and goes on on the next line
//! # cat > /tmp/file <<'EOF'
//! a here-document runs up to its end word
//! EOF
//! ```
//!
//! The output is compared line by line, trailing spaces and trailing blank lines ignored. Two
//! placeholders cover what differs from machine to machine (ids, times, inode numbers, sizes):
//!
//! - `[..]` inside a line matches any text on that line (`uts:[..]`, `Digest: sha256:[..]`);
//! - a line of its own `...` matches any number of lines, none included.
//!
//! A command with no output lines below it must print nothing. These are the placeholders of
//! Rust's snapshot tools (trycmd, snapbox), so a reader of Rust docs knows them already; the book's
//! preprocessor shows `[..]` as `…`.

use std::fmt;

/// One command of a runnable block and the output the book shows for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based line of the command in the Markdown file.
    pub line: usize,
    /// The command as the reader types it, without the prompt; continuation lines and
    /// here-documents included, joined with newlines.
    pub command: String,
    /// The expected output lines, placeholders included.
    pub expected: Vec<String>,
}

/// The fence that marks a block as runnable.
pub const FENCE: &str = "```console,runnable";

/// A runnable block that cannot be read as commands and output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Whether a fence line opens a runnable block: `console` with `runnable` among its classes.
fn is_runnable_fence(line: &str) -> bool {
    let Some(info) = line.trim_end().strip_prefix("```") else {
        return false;
    };
    let mut classes = info.split(',').map(str::trim);
    classes.next() == Some("console") && classes.any(|c| c == "runnable")
}

/// The end word of a here-document the command opens (`<<EOF`, `<<'EOF'`, `<<-"EOF"`), if any.
fn heredoc_end(command_line: &str) -> Option<String> {
    let at = command_line.find("<<")?;
    let rest = command_line[at + 2..].trim_start_matches('-').trim_start();
    if rest.starts_with('<') {
        return None; // `<<<` is a here-string
    }
    let word: String = rest
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// Every step of every runnable block of a Markdown page, in order.
pub fn parse(markdown: &str) -> Result<Vec<Step>, ParseError> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut steps: Vec<Step> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_runnable_fence(lines[i]) {
            i += 1;
            continue;
        }
        let fence_line = i + 1;
        i += 1;
        let mut in_block = false;
        loop {
            let Some(line) = lines.get(i) else {
                return Err(ParseError {
                    line: fence_line,
                    message: "runnable block is not closed with ```".into(),
                });
            };
            if line.trim_end() == "```" {
                i += 1;
                break;
            }
            if let Some(command) = line.strip_prefix("# ") {
                let start = i + 1;
                let mut text = command.to_string();
                let mut last = command.to_string();
                while last.trim_end().ends_with('\\') {
                    i += 1;
                    let Some(next) = lines.get(i) else { break };
                    text.push('\n');
                    text.push_str(next);
                    last = next.to_string();
                }
                if let Some(end) = heredoc_end(&text) {
                    loop {
                        i += 1;
                        let Some(next) = lines.get(i) else {
                            return Err(ParseError {
                                line: start,
                                message: format!("here-document without its end line `{end}`"),
                            });
                        };
                        text.push('\n');
                        text.push_str(next);
                        if next.trim_end() == end {
                            break;
                        }
                    }
                }
                steps.push(Step {
                    line: start,
                    command: text,
                    expected: Vec::new(),
                });
                in_block = true;
            } else if in_block {
                if let Some(step) = steps.last_mut() {
                    step.expected.push(line.trim_end().to_string());
                }
            } else if !line.trim().is_empty() {
                return Err(ParseError {
                    line: i + 1,
                    message: format!(
                        "a runnable block starts with a command at the root prompt `# `, not `{line}`"
                    ),
                });
            }
            i += 1;
        }
    }
    for step in &mut steps {
        while step.expected.last().is_some_and(|l| l.is_empty()) {
            step.expected.pop();
        }
    }
    Ok(steps)
}

/// Whether one output line matches one expected line (`[..]` matches any text).
pub fn line_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split("[..]").collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether the output lines match the expected ones (`...` alone on a line matches any number
/// of lines).
pub fn output_matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=actual.len()).any(|skip| output_matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| line_matches(first, a) && output_matches(rest, more)),
    }
}

/// Output as compared: lines without trailing spaces, no blank lines at the end.
pub fn normalise(output: &str) -> Vec<String> {
    let mut lines: Vec<String> = output.lines().map(|l| l.trim_end().to_string()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// How the book shows a runnable block: the fence says `console` only, and `[..]` reads `…`.
pub fn render(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut in_block = false;
    for line in markdown.split_inclusive('\n') {
        if !in_block && is_runnable_fence(line) {
            in_block = true;
            out.push_str("```console");
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
            continue;
        }
        if in_block && line.trim_end() == "```" {
            in_block = false;
        }
        if in_block {
            out.push_str(&line.replace("[..]", "…"));
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "Text.\n\n```console\n# not runnable\n```\n\n\
        ```console,runnable\n\
        # echo one \\\n    two\n\
        one two\n\
        # mkdir -p /tmp/x\n\
        # cat > /tmp/x/f <<'EOF'\nline\nEOF\n\
        # cat /tmp/x/f\nline\n\n\
        ```\n";

    #[test]
    fn commands_continuations_heredocs_and_output_are_read_from_runnable_blocks_only() {
        let steps = parse(PAGE).unwrap();
        let commands: Vec<_> = steps.iter().map(|s| s.command.as_str()).collect();
        assert_eq!(
            commands,
            [
                "echo one \\\n    two",
                "mkdir -p /tmp/x",
                "cat > /tmp/x/f <<'EOF'\nline\nEOF",
                "cat /tmp/x/f"
            ]
        );
        assert_eq!(steps[0].line, 8);
        assert_eq!(steps[0].expected, ["one two"]);
        assert!(steps[1].expected.is_empty());
        assert!(steps[2].expected.is_empty());
        assert_eq!(steps[3].expected, ["line"]);
    }

    #[test]
    fn a_runnable_block_must_start_with_a_command_and_be_closed() {
        let err = parse("```console,runnable\noutput first\n```\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let err = parse("```console,runnable\n# true\n").unwrap_err();
        assert_eq!(err.line, 1, "{err}");
    }

    #[test]
    fn placeholders_match_what_differs_and_nothing_else() {
        assert!(line_matches("uts:[..]", "uts:[4026531838]"));
        assert!(line_matches("a [..] c [..] e", "a b c d e"));
        assert!(line_matches("[..]", ""));
        assert!(!line_matches("uts:[..]", "pid:[4026531838]"));
        assert!(!line_matches("ab[..]ba", "aba"));
        assert!(!line_matches("exact", "exact "));
        let lines = |s: &str| normalise(s);
        assert!(output_matches(&lines("a\n...\nz"), &lines("a\nb\nc\nz\n")));
        assert!(output_matches(&lines("a\n...\nz"), &lines("a\nz")));
        assert!(!output_matches(&lines("a\n...\nz"), &lines("a\nb")));
        assert!(!output_matches(&[], &lines("unexpected")));
        assert!(output_matches(&[], &lines("\n\n")));
    }

    #[test]
    fn the_book_shows_a_plain_console_block_with_ellipses() {
        let out = render("```console,runnable\n# ls\nuts:[..]\n```\nkeep [..]\n");
        assert_eq!(out, "```console\n# ls\nuts:…\n```\nkeep [..]\n");
    }
}
