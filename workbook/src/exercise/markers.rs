//! Reading the markers: the parser that finds each `// exercise …` block, its hints and its
//! body in a source file, and the errors that say, with file and line, what to change when a
//! marker does not follow the format.

use std::path::{Path, PathBuf};

use super::{Exercise, ExerciseId};

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
        let hints_start = lines.get(i + 1).map_or(text.len(), |l| l.start);
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
            hint_lines: text[hints_start..body_start].to_string(),
            hints_start,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercise::replace_bodies;

    fn parse_ok(text: &str) -> Vec<Exercise> {
        parse(Path::new("src/lib.rs"), text).expect("parses")
    }

    fn parse_err(text: &str) -> MarkerError {
        parse(Path::new("src/lib.rs"), text).expect_err("must not parse")
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
    fn file_without_final_newline_still_parses() {
        let text = "fn f() -> u8 {\n    // exercise 1.1 a: t\n    1\n    // end exercise\n}";
        let found = parse_ok(text);
        let replaced = replace_bodies(text, &[(&found[0], found[0].todo_body())]);
        assert!(replaced.ends_with("    // end exercise\n}"));
    }
}
