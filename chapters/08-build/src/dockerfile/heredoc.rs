//! Heredocs: text written inside the Dockerfile, after the instruction.
//!
//! ```text
//! RUN <<EOF                   the script of the step: run by the shell
//! apk add curl
//! # a comment of the script, not of the Dockerfile
//! EOF
//! COPY <<EOF /etc/app.conf    a file named after the word, copied like a
//! port=${PORT}                context file; ${PORT} expanded (the word is
//! EOF                         not quoted: <<'EOF' keeps the text as it is)
//! RUN python3 <<EOF           a heredoc of the command: the shell feeds it
//! print("hi")                 to python3's stdin
//! EOF
//! ```
//!
//! `<<-EOF` strips leading tabs from the body and the end line. The body's
//! lines are read as they are: a `#` there is not a comment, a blank line
//! is kept. [`super::lines`] hands the lines after an instruction with
//! heredocs over whole; this module finds the markers on the instruction's
//! own line and cuts the bodies out.

use super::ParseError;

/// One `<<WORD` on an instruction's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The word: the end line, and the file's name for COPY.
    pub name: String,
    /// `<<-`: leading tabs are stripped.
    pub strip_tabs: bool,
    /// `<<'EOF'` or `<<"EOF"`: the body is taken as it is.
    pub quoted: bool,
    /// Byte range of the marker in the line.
    pub span: std::ops::Range<usize>,
}

/// One heredoc, with its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The word after `<<`.
    pub name: String,
    /// The text, each line ending in a newline.
    pub body: String,
    /// Whether the builder expands variables in it (the word was not
    /// quoted). A RUN's shell does its own expansion.
    pub expand: bool,
}

/// The instructions that take heredocs.
pub fn takes_heredocs(keyword: &str) -> bool {
    matches!(keyword, "RUN" | "COPY" | "ADD")
}

// ANCHOR: markers
/// The `<<WORD` markers of an instruction's line (`<<<` is the shell's
/// here-string, `1<<2` arithmetic: neither is a marker).
pub fn markers(line: &str) -> Vec<Marker> {
    let word = line.split_whitespace().next().unwrap_or("");
    if !takes_heredocs(&word.to_ascii_uppercase()) {
        return Vec::new();
    }
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = line[at..].find("<<") {
        let start = at + offset;
        let mut i = start + 2;
        at = i;
        if bytes.get(i) == Some(&b'<') {
            at = i + 1; // past the third `<` (one byte: a char boundary)
            continue;
        }
        if start > 0 && bytes[start - 1] == b'<' {
            continue; // `<<<` seen from its second `<`; what follows may be any char
        }
        let strip_tabs = bytes.get(i) == Some(&b'-');
        if strip_tabs {
            i += 1;
        }
        let quote = match bytes.get(i) {
            Some(&q @ (b'\'' | b'"')) => {
                i += 1;
                Some(q)
            }
            _ => None,
        };
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            i += 1;
        }
        let name = &line[name_start..i];
        if name.is_empty()
            || !name.as_bytes()[0].is_ascii_alphabetic() && name.as_bytes()[0] != b'_'
        {
            continue;
        }
        if let Some(q) = quote {
            if bytes.get(i) != Some(&q) {
                continue;
            }
            i += 1;
        }
        found.push(Marker {
            name: name.to_string(),
            strip_tabs,
            quoted: quote.is_some(),
            span: start..i,
        });
        at = i;
    }
    found
}
// ANCHOR_END: markers

/// Whether `raw` ends the heredoc of `marker`.
pub fn ends(marker: &Marker, raw: &str) -> bool {
    let raw = if marker.strip_tabs {
        raw.trim_start_matches('\t')
    } else {
        raw
    };
    raw == marker.name
}

// ANCHOR: bodies
/// Cuts the bodies of `markers` out of `rest`, the lines after the
/// instruction's own (as [`super::lines`] kept them), in order. Line
/// `line` is the instruction's, for errors.
pub fn bodies(markers: &[Marker], rest: &str, line: usize) -> Result<Vec<Heredoc>, ParseError> {
    let mut lines = rest.lines();
    let mut out = Vec::new();
    for marker in markers {
        let mut body = String::new();
        let mut ended = false;
        for raw in lines.by_ref() {
            if ends(marker, raw) {
                ended = true;
                break;
            }
            body.push_str(if marker.strip_tabs {
                raw.trim_start_matches('\t')
            } else {
                raw
            });
            body.push('\n');
        }
        if !ended {
            return Err(ParseError::new(
                line,
                marker.span.start + 1,
                format!(
                    "the heredoc <<{} has no end: close it with a line that is {} alone",
                    marker.name, marker.name
                ),
            ));
        }
        out.push(Heredoc {
            name: marker.name.clone(),
            body,
            expand: !marker.quoted,
        });
    }
    Ok(out)
}
// ANCHOR_END: bodies

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of `<` followed by a character of several bytes (found by the
    /// fuzzer: the search went on one byte too far, inside the character).
    #[test]
    fn a_multibyte_character_after_a_run_of_angle_brackets() {
        assert!(markers("RUN x &<<<<<\u{e9}]").is_empty());
        assert!(markers("COPY x <<<<\u{e9} y").is_empty());
    }

    fn names(line: &str) -> Vec<(String, bool, bool)> {
        markers(line)
            .into_iter()
            .map(|m| (m.name, m.strip_tabs, m.quoted))
            .collect()
    }

    #[test]
    fn markers_and_what_is_not_one() {
        assert_eq!(names("RUN <<EOF"), [("EOF".to_string(), false, false)]);
        assert_eq!(
            names("COPY <<-'a1' <<\"B\" /d/"),
            [
                ("a1".to_string(), true, true),
                ("B".to_string(), false, true)
            ]
        );
        assert!(names("RUN cat <<< 1 && echo $((1<<2))").is_empty());
        assert!(names("RUN cat <<'EOF").is_empty(), "unclosed quote");
        assert!(names("ENV A=<<EOF").is_empty(), "ENV takes no heredoc");
        assert_eq!(markers("RUN python3 <<X")[0].span, 12..15);
    }

    #[test]
    fn bodies_in_order_with_tabs_stripped() {
        let m = markers("COPY <<-A <<B /d/");
        let got = bodies(&m, "\t\tone\n\tA\n# two\n\nB\n", 4).unwrap();
        assert_eq!(got[0].body, "one\n");
        assert_eq!(got[1].body, "# two\n\n");
        assert!(got[0].expand);
        let err = bodies(&markers("RUN <<EOF"), "echo\n", 4).unwrap_err();
        assert_eq!((err.line, err.column), (4, 5));
        assert!(err.message.contains("no end"), "{err}");
    }
}
