//! Exercise markers in the chapters' reference code, and the one transformation the
//! workbook makes to them: swapping an exercise's body for `todo!()` and back.
//!
//! An exercise is marked in place, inside a function body:
//!
//! ```text
//!     // exercise 1.3 pivot-root: make the rootfs the new root with pivot_root.
//!     // hint: first hint
//!     // hint: second, more specific hint
//!     ...reference lines (the body)...
//!     // end exercise
//! ```
//!
//! The header is `// exercise <chapter>.<n> <name>: <task>`, the `// hint:` lines follow it
//! directly, and `// end exercise` closes the block at the header's indentation. Everything in
//! between is the body. Because the block is the tail of its function, a body replaced by
//! `todo!("exercise 1.3 pivot-root: …")` still type-checks: `todo!()` has type `!`.
//!
//! The parser works on lines but remembers byte offsets, so a replacement touches nothing but
//! the body: the rest of the file (CRLF line endings included) stays byte-for-byte the same.
//!
//! `start` goes one step further ([`start_blocks`]): it removes the `// hint:` lines too, so
//! the learner's file keeps only the header and the `todo!()`. Hints are graduated — the
//! concept first, the code's shape last — and a learner who sees all of them at once reads the
//! answer before trying. `cargo workbook hint` reads them from the reference commit instead.

use std::fmt;
use std::path::PathBuf;

mod markers;

pub use markers::{check_chapter, check_unique, parse, MarkerError};

/// A stable exercise id such as `1.3 pivot-root`: chapter, number within the chapter, name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExerciseId {
    pub chapter: u32,
    pub number: u32,
    pub name: String,
}

impl ExerciseId {
    /// The short numeric key, `1.3`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.chapter, self.number)
    }

    /// The anchor the book uses for this exercise, `ex-1.3`.
    pub fn anchor(&self) -> String {
        format!("ex-{}", self.key())
    }

    /// The name as it would appear in a Rust identifier (`pivot_root`), used to find tests
    /// named after the exercise.
    pub fn snake_name(&self) -> String {
        self.name.replace('-', "_")
    }
}

impl fmt::Display for ExerciseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{} {}", self.chapter, self.number, self.name)
    }
}

/// One exercise found in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    pub id: ExerciseId,
    /// The one-line task statement from the header.
    pub task: String,
    /// The hints, in order, least specific first.
    pub hints: Vec<String>,
    /// The file as it was named to [`parse`] (the workbook uses paths relative to the
    /// workspace root, the same paths rustc prints in its messages).
    pub file: PathBuf,
    /// 1-based line of the `// exercise` header.
    pub header_line: usize,
    /// 1-based line of the `// end exercise` marker.
    pub end_line: usize,
    /// The whitespace before the header (and the end marker).
    pub indent: String,
    /// The body exactly as it is in the file, line endings included.
    pub body: String,
    /// The line ending of the header line: `\n` or `\r\n`.
    pub line_ending: &'static str,
    /// The hint lines exactly as they are in the file (empty after `start`).
    hint_lines: String,
    /// Byte offset of the line after the header: where the hints (if any) and then the body
    /// start.
    hints_start: usize,
    /// Byte range of the body in the file.
    body_start: usize,
    body_end: usize,
}

impl Exercise {
    /// 1-based line of the body's first line.
    pub fn body_line(&self) -> usize {
        self.header_line + 1 + self.hints.len()
    }

    /// Whether `line` (1-based) lies in the block, markers included.
    pub fn contains_line(&self, line: usize) -> bool {
        (self.header_line..=self.end_line).contains(&line)
    }

    /// Whether the body is (still) a `todo!()`: its only non-blank line that is not a comment
    /// starts with `todo!(`.
    pub fn is_todo(&self) -> bool {
        let mut lines = self
            .body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"));
        matches!((lines.next(), lines.next()), (Some(first), None) if first.starts_with("todo!("))
    }

    /// The body `start` puts in place of the reference: one `todo!()` line whose panic message
    /// names the exercise, so a failing test says which exercise it is waiting for. The body's
    /// `// SAFETY:` comments stay above it: they are obligations the learner's `unsafe` code
    /// must meet too, so they become part of the task.
    pub fn todo_body(&self) -> String {
        let message = format!("exercise {}: {}", self.id, self.task);
        let mut out = String::new();
        for comment in self.safety_comments() {
            out.push_str(&self.indent);
            out.push_str(comment);
            out.push_str(self.line_ending);
        }
        out.push_str(&format!(
            "{}todo!(\"{}\"){}",
            self.indent,
            escape_for_todo(&message),
            self.line_ending
        ));
        out
    }

    /// The lines of the body's `// SAFETY:` comments (each with the comment lines that continue
    /// it), trimmed.
    pub fn safety_comments(&self) -> Vec<&str> {
        let mut kept = Vec::new();
        let mut in_safety = false;
        for line in self.body.lines().map(str::trim) {
            if line.starts_with("// SAFETY:") {
                in_safety = true;
            } else if !(in_safety && line.starts_with("//") && !line.starts_with("// hint:")) {
                in_safety = false;
                continue;
            }
            kept.push(line);
        }
        kept
    }

    /// Whether this body says the same as `other`, ignoring line endings, trailing whitespace
    /// and blank lines at either end: what a formatter or an editor may change on its own.
    pub fn same_body(&self, other: &str) -> bool {
        normalize_body(&self.body) == normalize_body(other)
    }
}

/// The body as compared by [`Exercise::same_body`].
pub fn normalize_body(body: &str) -> String {
    let lines: Vec<&str> = body.lines().map(str::trim_end).collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    match (first, last) {
        (Some(first), Some(last)) => lines[first..=last].join("\n"),
        _ => String::new(),
    }
}

/// Makes `message` safe inside `todo!("…")`: a string literal that is also a format string,
/// so quotes and backslashes are escaped and braces doubled.
fn escape_for_todo(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '{' => out.push_str("{{"),
            '}' => out.push_str("}}"),
            c => out.push(c),
        }
    }
    out
}

/// Returns `text` with the bodies of the given exercises replaced. The exercises must have been
/// parsed from this very `text`. A new body that does not end in a line ending gets the
/// exercise's own, so the end marker stays on its own line.
pub fn replace_bodies(text: &str, replacements: &[(&Exercise, String)]) -> String {
    let mut sorted: Vec<&(&Exercise, String)> = replacements.iter().collect();
    sorted.sort_by_key(|(e, _)| std::cmp::Reverse(e.body_start));
    let mut out = text.to_string();
    for (exercise, body) in sorted {
        let mut body = body.clone();
        if !body.ends_with('\n') {
            body.push_str(exercise.line_ending);
        }
        out.replace_range(exercise.body_start..exercise.body_end, &body);
    }
    out
}

/// Returns `text` as `start` leaves it: each of `exercises` (parsed from this very `text`) keeps
/// its header and end marker, its hints are gone and its body is [`Exercise::todo_body`].
pub fn start_blocks(text: &str, exercises: &[&Exercise]) -> String {
    let mut sorted: Vec<&&Exercise> = exercises.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.hints_start));
    let mut out = text.to_string();
    for exercise in sorted {
        out.replace_range(
            exercise.hints_start..exercise.body_end,
            &exercise.todo_body(),
        );
    }
    out
}

/// Returns `text` with `exercise` (parsed from this very `text`) made the `reference` again:
/// the reference's hint lines and body, byte for byte, after the header. `solution` uses it, so a
/// whole chapter put back is the recorded commit's file again.
pub fn restore_block(text: &str, exercise: &Exercise, reference: &Exercise) -> String {
    let mut out = text.to_string();
    let block = format!("{}{}", reference.hint_lines, reference.body);
    out.replace_range(exercise.hints_start..exercise.body_end, &block);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const TWO: &str = "\
pub fn set_hostname(name: &str) -> Result<(), Error> {
    // exercise 1.2 set-hostname: give the new UTS namespace its own hostname.
    // hint: nix::unistd::sethostname
    nix::unistd::sethostname(name)?;
    Ok(())
    // end exercise
}

impl Init {
    fn pivot(&self) -> Result<(), Error> {
        let root = &self.root;
        if root.exists() {
            // exercise 1.3 pivot-root: make the rootfs the new root with pivot_root.
            // hint: first hint
            // hint: second, more specific hint
            pivot_root(root, &root.join(\"old\"))?;
            // a comment in the body stays in the body
            Ok(())
            // end exercise
        } else {
            Err(Error::Missing)
        }
    }
}
";

    fn parse_ok(text: &str) -> Vec<Exercise> {
        parse(Path::new("src/lib.rs"), text).expect("parses")
    }

    #[test]
    fn finds_every_exercise_with_its_parts() {
        let found = parse_ok(TWO);
        assert_eq!(found.len(), 2);
        let hostname = &found[0];
        assert_eq!(hostname.id.to_string(), "1.2 set-hostname");
        assert_eq!(
            hostname.task,
            "give the new UTS namespace its own hostname."
        );
        assert_eq!(hostname.hints, vec!["nix::unistd::sethostname"]);
        assert_eq!(
            hostname.body,
            "    nix::unistd::sethostname(name)?;\n    Ok(())\n"
        );
        assert_eq!((hostname.header_line, hostname.end_line), (2, 6));
        assert_eq!(hostname.body_line(), 4);
        assert_eq!(hostname.indent, "    ");

        let pivot = &found[1];
        assert_eq!(pivot.id.key(), "1.3");
        assert_eq!(pivot.id.name, "pivot-root");
        assert_eq!(pivot.id.anchor(), "ex-1.3");
        assert_eq!(pivot.id.snake_name(), "pivot_root");
        assert_eq!(pivot.hints.len(), 2);
        assert_eq!(pivot.indent, "            ");
        assert!(pivot
            .body
            .contains("a comment in the body stays in the body"));
        assert!(pivot.contains_line(13) && pivot.contains_line(19));
        assert!(!pivot.contains_line(12) && !pivot.contains_line(20));
    }

    #[test]
    fn todo_replacement_keeps_markers_and_everything_else() {
        let found = parse_ok(TWO);
        let replaced = replace_bodies(
            TWO,
            &[
                (&found[0], found[0].todo_body()),
                (&found[1], found[1].todo_body()),
            ],
        );
        let expected = TWO
            .replace(
                "    nix::unistd::sethostname(name)?;\n    Ok(())\n",
                "    todo!(\"exercise 1.2 set-hostname: give the new UTS namespace its own hostname.\")\n",
            )
            .replace(
                "            pivot_root(root, &root.join(\"old\"))?;\n            // a comment in the body stays in the body\n            Ok(())\n",
                "            todo!(\"exercise 1.3 pivot-root: make the rootfs the new root with pivot_root.\")\n",
            );
        assert_eq!(replaced, expected);

        // Parsing again finds the same exercises, now todo, with the same hints.
        let again = parse_ok(&replaced);
        assert_eq!(again.len(), 2);
        assert!(again.iter().all(Exercise::is_todo));
        assert_eq!(again[1].hints, found[1].hints);

        // Putting the reference bodies back restores the file byte for byte.
        let restored = replace_bodies(
            &replaced,
            &[
                (&again[0], found[0].body.clone()),
                (&again[1], found[1].body.clone()),
            ],
        );
        assert_eq!(restored, TWO);
    }

    #[test]
    fn start_blocks_drops_the_hints_and_keeps_header_safety_and_end() {
        let text = "fn f() -> u8 {\n    // exercise 1.2 fork: fork.\n    // hint: the idea\n    // hint: the call\n    // SAFETY: single-threaded.\n    let r = unsafe { fork() };\n    r\n    // end exercise\n}\n";
        let found = parse_ok(text);
        let started = start_blocks(text, &[&found[0]]);
        assert_eq!(
            started,
            "fn f() -> u8 {\n    // exercise 1.2 fork: fork.\n    // SAFETY: single-threaded.\n    todo!(\"exercise 1.2 fork: fork.\")\n    // end exercise\n}\n"
        );
        assert!(!started.contains("hint"), "{started}");
        let again = parse_ok(&started);
        assert!(again[0].is_todo());
        assert!(again[0].hints.is_empty());
        assert_eq!(again[0].body_line(), 3);
        // The solution puts hints and body back byte for byte.
        assert_eq!(restore_block(&started, &again[0], &found[0]), text);
    }

    #[test]
    fn start_blocks_handles_several_exercises_and_crlf() {
        let found = parse_ok(TWO);
        let started = start_blocks(TWO, &[&found[0], &found[1]]);
        assert!(!started.contains("// hint:"), "{started}");
        let again = parse_ok(&started);
        assert_eq!(again.len(), 2);
        assert!(again.iter().all(Exercise::is_todo));
        let crlf = TWO.replace('\n', "\r\n");
        let found = parse_ok(&crlf);
        let started = start_blocks(&crlf, &[&found[1]]);
        assert!(
            !started.replace("\r\n", "").contains('\n'),
            "CRLF kept: {started:?}"
        );
        assert_eq!(parse_ok(&started)[1].hints.len(), 0);
        assert_eq!(parse_ok(&started)[0].hints, found[0].hints);
    }

    #[test]
    fn replacing_one_exercise_leaves_the_other() {
        let found = parse_ok(TWO);
        let replaced = replace_bodies(TWO, &[(&found[1], found[1].todo_body())]);
        let again = parse_ok(&replaced);
        assert!(!again[0].is_todo());
        assert_eq!(again[0].body, found[0].body);
        assert!(again[1].is_todo());
    }

    #[test]
    fn crlf_files_keep_their_line_endings() {
        let crlf = TWO.replace('\n', "\r\n");
        let found = parse_ok(&crlf);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].line_ending, "\r\n");
        assert_eq!(found[0].hints, vec!["nix::unistd::sethostname"]);
        let replaced = replace_bodies(&crlf, &[(&found[0], found[0].todo_body())]);
        assert!(
            !replaced.replace("\r\n", "").contains('\n'),
            "a bare LF crept in"
        );
        let again = parse_ok(&replaced);
        assert!(again[0].is_todo());
        let restored = replace_bodies(&replaced, &[(&again[0], found[0].body.clone())]);
        assert_eq!(restored, crlf);
    }

    #[test]
    fn todo_message_is_a_valid_literal_even_with_quotes_and_braces() {
        let text = "fn f() -> u8 {\n    // exercise 2.1 odd-task: return \"x\" {not} a \\path.\n    1\n    // end exercise\n}\n";
        let found = parse_ok(text);
        assert_eq!(
            found[0].todo_body(),
            "    todo!(\"exercise 2.1 odd-task: return \\\"x\\\" {{not}} a \\\\path.\")\n"
        );
    }

    #[test]
    fn a_random_body_round_trips() {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        for _ in 0..50 {
            let body_lines: Vec<String> = (0..rng.gen_range(1..8))
                .map(|_| {
                    let width = rng.gen_range(1..30);
                    let words: String = (0..width)
                        .map(|_| rng.gen_range(b'a'..=b'z') as char)
                        .collect();
                    format!(
                        "{}let _{words} = {};",
                        " ".repeat(rng.gen_range(4..12)),
                        rng.gen::<u16>()
                    )
                })
                .collect();
            let body = body_lines.join("\n") + "\n";
            let text = format!(
                "fn f() {{\n    // exercise 3.7 random: do it.\n{body}    // end exercise\n}}\n"
            );
            let found = parse_ok(&text);
            assert_eq!(found[0].body, body);
            let todo = replace_bodies(&text, &[(&found[0], found[0].todo_body())]);
            let again = parse_ok(&todo);
            assert_eq!(replace_bodies(&todo, &[(&again[0], body.clone())]), text);
        }
    }

    #[test]
    fn safety_obligations_stay_above_the_todo() {
        let text = "fn f() -> u8 {\n    // exercise 1.2 fork: fork.\n    // hint: h\n    let x = 1;\n    // SAFETY: the helper is single-threaded,\n    // so the child may run any code.\n    let r = unsafe { fork() };\n    // an ordinary comment goes\n    r\n    // end exercise\n}\n";
        let found = parse_ok(text);
        assert_eq!(
            found[0].todo_body(),
            "    // SAFETY: the helper is single-threaded,\n    // so the child may run any code.\n    todo!(\"exercise 1.2 fork: fork.\")\n"
        );
        let started = replace_bodies(text, &[(&found[0], found[0].todo_body())]);
        let again = parse_ok(&started);
        assert!(again[0].is_todo(), "{started}");
        assert_eq!(again[0].todo_body(), found[0].todo_body());
    }

    #[test]
    fn is_todo_recognises_only_a_lone_todo() {
        let mk = |body: &str| {
            let text =
                format!("fn f() {{\n    // exercise 1.1 a: t\n{body}    // end exercise\n}}\n");
            parse_ok(&text)[0].is_todo()
        };
        assert!(mk("    todo!()\n"));
        assert!(mk("\n    todo!(\"exercise 1.1 a: t\")\n\n"));
        assert!(!mk("    let x = 1;\n    todo!()\n"));
        assert!(!mk("    Ok(())\n"));
    }

    #[test]
    fn same_body_ignores_line_endings_and_trailing_space() {
        let found = parse_ok(TWO);
        assert!(found[0].same_body("\n    nix::unistd::sethostname(name)?;   \r\n    Ok(())\r\n\n"));
        assert!(!found[0].same_body("    nix::unistd::sethostname(\"x\")?;\n    Ok(())\n"));
    }

    #[test]
    fn exercise_numbers_must_match_the_chapter_directory() {
        let found = parse_ok(TWO);
        check_chapter(&found, "chapters/01-namespaces", 1).unwrap();
        let err = check_chapter(&found, "chapters/02-images", 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "src/lib.rs:2: exercise 1.2 set-hostname is numbered for chapter 1 but lives in chapters/02-images (chapter 2): number it 2.N"
        );
    }
}
