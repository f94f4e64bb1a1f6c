//! Parser directives: `# escape=` and `# syntax=` at the top of a Dockerfile.
//!
//! A directive is a comment of the form `# name=value`, and only counts
//! before anything else: the first line that is not a directive (an
//! instruction, a blank line, an ordinary comment) ends them. Docker reads
//! two: `escape` (the character that escapes and continues lines, `\` or
//! `` ` `` — the backtick suits Windows paths) and `syntax` (which frontend
//! BuildKit should use: noted here, and ignored, since this is the classic
//! builder).

use super::ParseError;

/// The directives of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// The escape character: `\` unless `# escape=` says otherwise.
    pub escape: char,
    /// What `# syntax=` asked for, if anything.
    pub syntax: Option<String>,
}

impl Default for Directives {
    fn default() -> Directives {
        Directives {
            escape: '\\',
            syntax: None,
        }
    }
}

// ANCHOR: directives
/// Reads the directives at the top of `text`.
pub fn read(text: &str) -> Result<Directives, ParseError> {
    let mut found = Directives::default();
    let mut seen = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if !directive(n + 1, line, &mut seen, &mut found)? {
            break;
        }
    }
    Ok(found)
}

/// Reads line `n` as a directive into `found`; `false` when it is not one
/// (which ends the directives).
fn directive(
    n: usize,
    line: &str,
    seen: &mut Vec<String>,
    found: &mut Directives,
) -> Result<bool, ParseError> {
    // exercise 8.1 directives: read `# name=value` lines until the first line that is not one.
    // hint: a directive is a comment, `#` first (after blanks), whose text is `name=value`
    // hint: the names are case-insensitive; an unknown name ends the directives like any comment
    // hint: `escape` takes one character, `\` or a backtick; a directive given twice is an error
    let Some(comment) = line.trim_start().strip_prefix('#') else {
        return Ok(false);
    };
    let Some((name, value)) = comment.split_once('=') else {
        return Ok(false);
    };
    let name = name.trim().to_ascii_lowercase();
    let value = value.trim();
    if name.contains(char::is_whitespace) || !matches!(name.as_str(), "escape" | "syntax") {
        return Ok(false);
    }
    if seen.contains(&name) {
        return Err(ParseError::new(
            n,
            1,
            format!("the directive {name} is given twice"),
        ));
    }
    seen.push(name.clone());
    if name == "escape" {
        found.escape = match value {
            "\\" => '\\',
            "`" => '`',
            _ => {
                return Err(ParseError::new(
                    n,
                    line.find('=').unwrap_or(0) + 2,
                    format!("invalid escape character {value:?}: use \\ or `"),
                ))
            }
        };
    } else {
        found.syntax = Some(value.to_string());
    }
    Ok(true)
    // end exercise
}
// ANCHOR_END: directives

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_and_syntax() {
        let d = read("# escape=`\n# syntax=docker/dockerfile:1\nFROM x\n").unwrap();
        assert_eq!(d.escape, '`');
        assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1"));
    }

    #[test]
    fn a_directive_after_an_instruction_is_a_comment() {
        let d = read("FROM x\n# escape=`\n").unwrap();
        assert_eq!(d.escape, '\\');
        let d = read("# a comment\n# escape=`\n").unwrap();
        assert_eq!(d.escape, '\\');
    }

    #[test]
    fn bad_escape_and_twice_are_errors() {
        let err = read("# escape=x\n").unwrap_err();
        assert_eq!((err.line, err.column), (1, 10));
        assert!(err.message.contains("invalid escape"), "{err}");
        let err = read("# escape=`\n#ESCAPE=\\\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
