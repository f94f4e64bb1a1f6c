//! Logical lines: what is left of a Dockerfile once comments, blank lines
//! and line continuations are dealt with.
//!
//! ```text
//! 1  FROM busybox
//! 2  # a comment               dropped
//! 3  RUN echo a \              continued: the escape character and the
//! 4      # inside, dropped      newline go, the next line is appended
//! 5      && echo b
//! ```
//!
//! gives two logical lines: `FROM busybox` (line 1) and
//! `RUN echo a     && echo b` (line 3). A comment is a line whose first
//! non-blank character is `#`; a `#` anywhere else is an argument.
//!
//! An instruction with heredocs (`RUN <<EOF`) takes the lines after it, up
//! to each heredoc's end line, as they are: its logical line holds them
//! after a newline, for [`super::heredoc`] to cut out.

/// One logical line: its text and the physical line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based number of the first physical line.
    pub number: usize,
    /// The joined text, without the continuation characters.
    pub text: String,
}

// ANCHOR: logical_lines
/// Splits `text` into logical lines, with `escape` as the continuation
/// character.
pub fn logical_lines(text: &str, escape: char) -> Vec<Line> {
    let mut out = Vec::new();
    let mut current: Option<Line> = None;
    // Heredocs (`RUN <<EOF`) whose end line has not come yet: the lines up
    // to it are the last instruction's, kept whole (a `#` is no comment).
    let mut heredocs = std::collections::VecDeque::new();
    let mut seen = 0;
    for (n, raw) in text.lines().enumerate() {
        if let Some(last) = out.get(seen) {
            let last: &Line = last;
            heredocs.extend(super::heredoc::markers(&last.text));
            seen += 1;
        }
        if let (Some(marker), Some(line)) = (heredocs.front(), out.last_mut()) {
            line.text.push('\n');
            line.text.push_str(raw);
            if super::heredoc::ends(marker, raw) {
                heredocs.pop_front();
            }
            continue;
        }
        // exercise 8.2 continuation: join lines that end in the escape character, drop comments.
        // hint: a comment or a blank line is skipped, also in the middle of a continued instruction
        // hint: a line whose text, trailing blanks removed, ends in `escape` goes on the next line
        // hint: keep the number of the line an instruction starts on: errors name it
        let trimmed = raw.trim_start();
        if trimmed.starts_with('#') || trimmed.trim().is_empty() {
            continue;
        }
        let mut piece = if current.is_some() { raw } else { trimmed };
        let continues = piece.trim_end().ends_with(escape);
        if continues {
            piece = piece.trim_end();
            piece = &piece[..piece.len() - escape.len_utf8()];
        }
        let line = current.get_or_insert_with(|| Line {
            number: n + 1,
            text: String::new(),
        });
        line.text.push_str(piece);
        if !continues {
            out.extend(current.take());
        }
        // end exercise
    }
    // A last line that ends in the escape character ends there.
    out.extend(current.take().filter(|l| !l.text.trim().is_empty()));
    out
}
// ANCHOR_END: logical_lines

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str, escape: char) -> Vec<(usize, String)> {
        logical_lines(input, escape)
            .into_iter()
            .map(|l| (l.number, l.text))
            .collect()
    }

    #[test]
    fn comments_blank_lines_and_continuations() {
        let got = texts(
            "FROM busybox\n# c\n\nRUN echo a \\\n    # inside\n    && echo b\n  CMD x # not a comment\n",
            '\\',
        );
        assert_eq!(
            got,
            vec![
                (1, "FROM busybox".to_string()),
                (4, "RUN echo a     && echo b".to_string()),
                (7, "CMD x # not a comment".to_string()),
            ]
        );
    }

    #[test]
    fn backtick_escape() {
        let got = texts("RUN dir c:\\ `\n  && echo done\n", '`');
        assert_eq!(got, vec![(1, "RUN dir c:\\   && echo done".to_string())]);
    }

    #[test]
    fn heredoc_lines_belong_to_their_instruction() {
        let got = texts("RUN <<EOF\n# kept\n\nFROM x\nEOF\nCMD y\n", '\\');
        assert_eq!(
            got,
            vec![
                (1, "RUN <<EOF\n# kept\n\nFROM x\nEOF".to_string()),
                (6, "CMD y".to_string()),
            ]
        );
    }

    #[test]
    fn trailing_continuation_at_end_of_file() {
        let got = texts("RUN a \\", '\\');
        assert_eq!(got, vec![(1, "RUN a ".to_string())]);
    }
}
