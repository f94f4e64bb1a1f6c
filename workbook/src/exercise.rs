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

use std::fmt;
use std::path::{Path, PathBuf};

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

/// A marker that does not follow the format. Every variant names the file and line, and
/// says what to change.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MarkerError {
    #[error(
        "{}:{line}: malformed exercise header: {reason}\n  expected: // exercise <chapter>.<n> <name>: <task>",
        file.display()
    )]
    MalformedHeader {
        file: PathBuf,
        line: usize,
        reason: String,
    },
    #[error(
        "{}:{line}: exercise {id} is not closed: add `// end exercise` at the header's indentation after its body",
        file.display()
    )]
    Unterminated {
        file: PathBuf,
        line: usize,
        id: ExerciseId,
    },
    #[error(
        "{}:{line}: `// end exercise` without an open `// exercise` header above it",
        file.display()
    )]
    StrayEnd { file: PathBuf, line: usize },
    #[error(
        "{}:{line}: `// end exercise` of exercise {id} must have the indentation of its header (line {header_line})",
        file.display()
    )]
    EndIndentation {
        file: PathBuf,
        line: usize,
        header_line: usize,
        id: ExerciseId,
    },
    #[error(
        "{}:{line}: exercise {inner} starts inside exercise {outer} (line {outer_line}): exercises cannot nest; close the first one with `// end exercise`",
        file.display()
    )]
    Nested {
        file: PathBuf,
        line: usize,
        inner: ExerciseId,
        outer: ExerciseId,
        outer_line: usize,
    },
    #[error(
        "{}:{line}: exercise {id} has an empty body: put the reference code between its hints and `// end exercise`",
        file.display()
    )]
    EmptyBody {
        file: PathBuf,
        line: usize,
        id: ExerciseId,
    },
    #[error(
        "{}:{line}: exercise {id} uses the same {what} as {other}: ids must be unique",
        file.display()
    )]
    Duplicate {
        file: PathBuf,
        line: usize,
        id: ExerciseId,
        what: &'static str,
        /// The exercise it clashes with and where: `exercise 1.1 one at a.rs:2`.
        other: String,
    },
    #[error(
        "{}:{line}: exercise {id} is numbered for chapter {} but lives in {dir} (chapter {dir_chapter}): number it {dir_chapter}.N",
        file.display(), id.chapter
    )]
    ChapterMismatch {
        file: PathBuf,
        line: usize,
        id: ExerciseId,
        dir: String,
        dir_chapter: u32,
    },
}

/// One line of the file: its text without the line ending, and where it starts.
struct Line<'a> {
    number: usize,
    text: &'a str,
    start: usize,
    ending: &'static str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let (body, ending) = if let Some(body) = raw.strip_suffix("\r\n") {
            (body, "\r\n")
        } else if let Some(body) = raw.strip_suffix('\n') {
            (body, "\n")
        } else {
            (raw, "")
        };
        out.push(Line {
            number: index + 1,
            text: body,
            start,
            ending,
        });
        start += raw.len();
    }
    out
}

fn indentation(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

const HEADER: &str = "// exercise ";
const HINT: &str = "// hint:";
const END: &str = "// end exercise";

/// Parses a header line. `None`: not a header at all (an ordinary comment that happens to start
/// with "exercise", like `// exercise caution here`). A header starts with a digit.
fn parse_header(file: &Path, line: &Line<'_>) -> Option<Result<(ExerciseId, String), MarkerError>> {
    let rest = line.text.trim_start().strip_prefix(HEADER)?;
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let malformed = |reason: &str| MarkerError::MalformedHeader {
        file: file.to_path_buf(),
        line: line.number,
        reason: reason.to_string(),
    };
    Some((|| {
        let (number, rest) = rest.split_once(' ').ok_or_else(|| {
            malformed("the id needs a name after the number, as in `1.3 pivot-root`")
        })?;
        let (chapter, n) = number
            .split_once('.')
            .ok_or_else(|| malformed("the number must be <chapter>.<n>, as in `1.3`"))?;
        let chapter: u32 = chapter
            .parse()
            .map_err(|_| malformed("the chapter number is not a number"))?;
        let n: u32 = n
            .parse()
            .map_err(|_| malformed("the exercise number after the dot is not a number"))?;
        let (name, task) = rest
            .split_once(':')
            .ok_or_else(|| malformed("a `:` must follow the name, then the task"))?;
        let name = name.trim();
        let name_ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(malformed(
                "the name must be lowercase letters, digits and dashes, starting with a letter",
            ));
        }
        let task = task.trim();
        if task.is_empty() {
            return Err(malformed("the task statement after the `:` is empty"));
        }
        Ok((
            ExerciseId {
                chapter,
                number: n,
                name: name.to_string(),
            },
            task.to_string(),
        ))
    })())
}

/// Finds every exercise in `text`. `file` is only used to name the place in errors and is
/// stored in each [`Exercise`].
pub fn parse(file: &Path, text: &str) -> Result<Vec<Exercise>, MarkerError> {
    let lines = lines(text);
    let mut exercises = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        let trimmed = line.text.trim();
        if trimmed == END {
            return Err(MarkerError::StrayEnd {
                file: file.to_path_buf(),
                line: line.number,
            });
        }
        let Some(header) = parse_header(file, line) else {
            i += 1;
            continue;
        };
        let (id, task) = header?;
        let indent = indentation(line.text);
        let mut hints = Vec::new();
        let mut j = i + 1;
        while let Some(hint) = lines
            .get(j)
            .and_then(|l| l.text.trim_start().strip_prefix(HINT))
        {
            hints.push(hint.trim().to_string());
            j += 1;
        }
        let body_first = j;
        let end = loop {
            let Some(candidate) = lines.get(j) else {
                return Err(MarkerError::Unterminated {
                    file: file.to_path_buf(),
                    line: line.number,
                    id,
                });
            };
            if let Some(inner) = parse_header(file, candidate) {
                let (inner, _) = inner?;
                return Err(MarkerError::Nested {
                    file: file.to_path_buf(),
                    line: candidate.number,
                    inner,
                    outer: id,
                    outer_line: line.number,
                });
            }
            if candidate.text.trim() == END {
                if indentation(candidate.text) != indent {
                    return Err(MarkerError::EndIndentation {
                        file: file.to_path_buf(),
                        line: candidate.number,
                        header_line: line.number,
                        id,
                    });
                }
                break j;
            }
            j += 1;
        };
        let body_start = lines.get(body_first).map_or(text.len(), |l| l.start);
        let body_end = lines[end].start;
        let body = &text[body_start..body_end];
        if body.trim().is_empty() {
            return Err(MarkerError::EmptyBody {
                file: file.to_path_buf(),
                line: line.number,
                id,
            });
        }
        exercises.push(Exercise {
            id,
            task,
            hints,
            file: file.to_path_buf(),
            header_line: line.number,
            end_line: lines[end].number,
            indent: indent.to_string(),
            body: body.to_string(),
            line_ending: if line.ending.is_empty() {
                "\n"
            } else {
                line.ending
            },
            body_start,
            body_end,
        });
        i = end + 1;
    }
    Ok(exercises)
}

/// Requires every exercise to carry the chapter number of the directory it lives in:
/// `chapters/01-namespaces/…` holds exercises `1.N` only.
pub fn check_chapter(
    exercises: &[Exercise],
    dir: &str,
    dir_chapter: u32,
) -> Result<(), MarkerError> {
    match exercises.iter().find(|e| e.id.chapter != dir_chapter) {
        Some(e) => Err(MarkerError::ChapterMismatch {
            file: e.file.clone(),
            line: e.header_line,
            id: e.id.clone(),
            dir: dir.to_string(),
            dir_chapter,
        }),
        None => Ok(()),
    }
}

/// Requires ids to be unique: no two exercises share a number (`1.3`) or a name
/// (`pivot-root`), since learners refer to exercises by either.
pub fn check_unique(exercises: &[Exercise]) -> Result<(), MarkerError> {
    for (index, e) in exercises.iter().enumerate() {
        for earlier in &exercises[..index] {
            let what = if earlier.id.key() == e.id.key() {
                "number"
            } else if earlier.id.name == e.id.name {
                "name"
            } else {
                continue;
            };
            return Err(MarkerError::Duplicate {
                file: e.file.clone(),
                line: e.header_line,
                id: e.id.clone(),
                what,
                other: format!(
                    "exercise {} at {}:{}",
                    earlier.id,
                    earlier.file.display(),
                    earlier.header_line
                ),
            });
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn parse_err(text: &str) -> MarkerError {
        parse(Path::new("src/lib.rs"), text).expect_err("must not parse")
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
    fn ordinary_comments_mentioning_exercise_are_not_headers() {
        let text = "// exercise caution: this is prose\n/// exercise 1.1 doc: doc comments are not markers\nfn f() {}\n";
        assert!(parse_ok(text).is_empty());
    }

    #[test]
    fn unterminated_exercise_names_the_header_line() {
        let err = parse_err("fn f() {\n\n    // exercise 1.1 open: never closed.\n    1\n}\n");
        assert!(
            matches!(err, MarkerError::Unterminated { line: 3, .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with("src/lib.rs:3: exercise 1.1 open is not closed"),
            "{text}"
        );
    }

    #[test]
    fn end_marker_at_other_indentation_is_an_error() {
        let err = parse_err("fn f() {\n    // exercise 1.1 a: t\n    1\n// end exercise\n}\n");
        assert!(
            matches!(
                err,
                MarkerError::EndIndentation {
                    line: 4,
                    header_line: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("src/lib.rs:4:"));
    }

    #[test]
    fn stray_end_marker_is_an_error() {
        let err = parse_err("fn f() {\n    1\n    // end exercise\n}\n");
        assert_eq!(
            err,
            MarkerError::StrayEnd {
                file: PathBuf::from("src/lib.rs"),
                line: 3
            }
        );
    }

    #[test]
    fn nested_exercises_are_an_error() {
        let err = parse_err(
            "fn f() {\n    // exercise 1.1 a: t\n    // exercise 1.2 b: u\n    1\n    // end exercise\n    // end exercise\n}\n",
        );
        match err {
            MarkerError::Nested {
                line,
                inner,
                outer,
                outer_line,
                ..
            } => {
                assert_eq!((line, outer_line), (3, 2));
                assert_eq!(
                    (inner.key(), outer.key()),
                    ("1.2".to_string(), "1.1".to_string())
                );
            }
            other => panic!("wrong error: {other:?}"),
        }
    }

    #[test]
    fn empty_body_is_an_error() {
        let err = parse_err(
            "fn f() {\n    // exercise 1.1 a: t\n    // hint: h\n\n    // end exercise\n}\n",
        );
        assert!(
            matches!(err, MarkerError::EmptyBody { line: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        for (header, reason) in [
            ("// exercise 1.1: no name", "name"),
            ("// exercise 1 pivot: no dot", "<chapter>.<n>"),
            ("// exercise 1.x pivot: bad number", "after the dot"),
            ("// exercise 1.1 pivot no colon", "`:`"),
            ("// exercise 1.1 Pivot_Root: bad name", "lowercase"),
            ("// exercise 1.1 pivot:   ", "task"),
        ] {
            let err = parse_err(&format!(
                "fn f() {{\n    {header}\n    1\n    // end exercise\n}}\n"
            ));
            let text = err.to_string();
            assert!(
                text.starts_with("src/lib.rs:2: malformed exercise header"),
                "{text}"
            );
            assert!(text.contains(reason), "{header}: {text}");
        }
    }

    #[test]
    fn duplicate_numbers_and_names_are_errors() {
        let a = parse(
            Path::new("a.rs"),
            "fn f() {\n    // exercise 1.1 one: t\n    1\n    // end exercise\n}\n",
        )
        .unwrap();
        let same_number = parse(
            Path::new("b.rs"),
            "fn g() {\n\n    // exercise 1.1 two: t\n    1\n    // end exercise\n}\n",
        )
        .unwrap();
        let same_name = parse(
            Path::new("b.rs"),
            "fn g() {\n    // exercise 1.2 one: t\n    1\n    // end exercise\n}\n",
        )
        .unwrap();
        let fine = parse(
            Path::new("b.rs"),
            "fn g() {\n    // exercise 1.2 two: t\n    1\n    // end exercise\n}\n",
        )
        .unwrap();

        let all = [a.clone(), same_number].concat();
        let err = check_unique(&all).unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.rs:3: exercise 1.1 two uses the same number as exercise 1.1 one at a.rs:2: ids must be unique"
        );
        let err = check_unique(&[a.clone(), same_name].concat()).unwrap_err();
        assert!(matches!(err, MarkerError::Duplicate { what: "name", .. }));
        check_unique(&[a, fine].concat()).unwrap();
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

    #[test]
    fn file_without_final_newline_still_parses() {
        let text = "fn f() -> u8 {\n    // exercise 1.1 a: t\n    1\n    // end exercise\n}";
        let found = parse_ok(text);
        let replaced = replace_bodies(text, &[(&found[0], found[0].todo_body())]);
        assert!(replaced.ends_with("    // end exercise\n}"));
    }
}
