//! The Dockerfile: from text to a list of instructions.
//!
//! A Dockerfile is read in three passes, each small:
//!
//! 1. [`directives`]: the `# escape=` and `# syntax=` lines at the very top
//!    (the escape character changes how the rest is read);
//! 2. [`lines`]: physical lines become *logical* lines — comments and blank
//!    lines dropped, a line ending in the escape character continued on the
//!    next;
//! 3. [`instruction`]: each logical line becomes an [`Instruction`] — its
//!    keyword, its `--flags`, and its arguments in JSON form
//!    (`["sh", "-c", "x"]`) or shell form (`sh -c x`), and its
//!    [`heredoc`]s (`RUN <<EOF`, `COPY <<EOF /file`).
//!
//! Variables (`$HOME`, `${VERSION:-1}`) are *not* expanded here: their
//! values depend on the ENV and ARG steps before, so the builder expands
//! them step by step (see [`crate::substitute`]).

pub mod directives;
pub mod heredoc;
pub mod instruction;
pub mod lines;

pub use directives::Directives;
pub use heredoc::Heredoc;
pub use instruction::{Args, Flag, Instruction};

use std::fmt;

/// A Dockerfile that could not be read, with the place of the problem
/// (1-based line and column of the Dockerfile).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Dockerfile line {line}, column {column}: {message}")]
pub struct ParseError {
    /// The line (1-based).
    pub line: usize,
    /// The column (1-based, in characters).
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(line: usize, column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The parser directives at the top.
    pub directives: Directives,
    /// The instructions, in order.
    pub instructions: Vec<Instruction>,
}

impl fmt::Display for Dockerfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.instructions {
            writeln!(f, "{i}")?;
        }
        Ok(())
    }
}

// ANCHOR: parse
/// Parses a whole Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let directives = directives::read(text)?;
    let mut instructions = Vec::new();
    for line in lines::logical_lines(text, directives.escape) {
        instructions.push(instruction::parse_line(&line, directives.escape)?);
    }
    if instructions.is_empty() {
        return Err(ParseError::new(
            1,
            1,
            "the Dockerfile has no instructions: it needs at least a FROM",
        ));
    }
    Ok(Dockerfile {
        directives,
        instructions,
    })
}
// ANCHOR_END: parse

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_dockerfile() {
        let df = parse(
            "# syntax=docker/dockerfile:1\n\
             FROM busybox AS base\n\
             # a comment\n\
             RUN echo a \\\n  && echo b\n\
             \n\
             COPY --chown=1:2 [\"a b\", \"/c\"]\n\
             CMD [\"sh\"]\n",
        )
        .unwrap();
        insta::assert_snapshot!(df.to_string(), @r#"
        2: FROM [] shell "busybox AS base"
        4: RUN [] shell "echo a   && echo b"
        7: COPY [chown=1:2] json ["a b", "/c"]
        8: CMD [] json ["sh"]
        "#);
        assert_eq!(df.directives.syntax.as_deref(), Some("docker/dockerfile:1"));
    }

    #[test]
    fn empty_is_an_error() {
        let err = parse("# only a comment\n\n").unwrap_err();
        assert!(err.message.contains("no instructions"), "{err}");
    }
}
