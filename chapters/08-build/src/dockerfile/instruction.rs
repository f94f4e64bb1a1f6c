//! One instruction: `KEYWORD [--flag=value …] arguments`.
//!
//! The arguments come in two forms, and the difference matters at run
//! time:
//!
//! - the **JSON form** `CMD ["nginx", "-g", "daemon off;"]` is the argv
//!   itself: no shell, no word splitting;
//! - the **shell form** `CMD nginx -g 'daemon off;'` is one string, which
//!   RUN, CMD and ENTRYPOINT hand to the shell (`/bin/sh -c`, or what SHELL
//!   set).
//!
//! An argument that starts with `[` but is not a JSON array of strings is
//! the shell form, as Docker reads it.

use std::fmt;

use super::heredoc::{self, Heredoc};
use super::lines::Line;
use super::ParseError;

/// The instructions of the classic builder.
pub const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// The arguments of an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    /// `["a", "b"]`.
    Json(Vec<String>),
    /// The rest of the line, as written (variables not expanded yet).
    Shell(String),
}

/// A `--name=value` (or bare `--name`) flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The name, without the dashes.
    pub name: String,
    /// The value; `None` for a bare flag.
    pub value: Option<String>,
}

/// One instruction of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The line it starts on (1-based).
    pub line: usize,
    /// The keyword, upper case.
    pub keyword: String,
    /// Its flags, in order.
    pub flags: Vec<Flag>,
    /// Its arguments.
    pub args: Args,
    /// The whole logical line as written (for `Step 1/4 : …` and history),
    /// heredocs included.
    pub original: String,
    /// Its heredocs (`COPY <<EOF /file`), in order. A RUN's are already in
    /// its shell-form script.
    pub heredocs: Vec<Heredoc>,
}

impl Instruction {
    /// The value of flag `name`, if given.
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|f| f.name == name)
            .map(|f| f.value.as_deref().unwrap_or("true"))
    }

    /// The arguments as text: the shell form as written, the JSON form
    /// joined by spaces.
    pub fn text(&self) -> String {
        match &self.args {
            Args::Shell(s) => s.clone(),
            Args::Json(v) => v.join(" "),
        }
    }
}

impl fmt::Display for Instruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags: Vec<String> = self
            .flags
            .iter()
            .map(|fl| match &fl.value {
                Some(v) => format!("{}={v}", fl.name),
                None => fl.name.clone(),
            })
            .collect();
        write!(f, "{}: {} [{}] ", self.line, self.keyword, flags.join(" "))?;
        match &self.args {
            Args::Json(v) => write!(f, "json {v:?}"),
            Args::Shell(s) => write!(f, "shell {s:?}"),
        }
    }
}

/// The flags each instruction accepts.
#[allow(dead_code)] // exercise 8.3 (flags) builds on it
fn allowed_flags(keyword: &str) -> &'static [&'static str] {
    match keyword {
        "FROM" => &["platform"],
        "RUN" => &["mount"],
        "COPY" => &["from", "chown", "chmod", "link"],
        "ADD" => &["chown", "chmod", "link", "checksum"],
        "HEALTHCHECK" => &[
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ],
        _ => &[],
    }
}

/// Which instructions take the JSON form.
fn takes_json(keyword: &str) -> bool {
    matches!(
        keyword,
        "RUN" | "CMD" | "ENTRYPOINT" | "SHELL" | "COPY" | "ADD" | "VOLUME"
    )
}

// ANCHOR: parse_line
/// Parses one logical line.
pub fn parse_line(line: &Line, escape: char) -> Result<Instruction, ParseError> {
    let whole = line.text.trim();
    // The instruction's own line, and the heredoc bodies after it.
    let (text, after) = whole.split_once('\n').unwrap_or((whole, ""));
    let text = text.trim_end();
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let keyword = word.to_ascii_uppercase();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return Err(ParseError::new(
            line.number,
            1,
            format!("unknown instruction: {word}"),
        ));
    }
    let column_of = |s: &str| text.len() - s.len() + 1;
    let (flags, rest) = parse_flags(&keyword, rest.trim_start(), line.number, &column_of)?;
    let markers = heredoc::markers(text);
    let heredocs = heredoc::bodies(&markers, after, line.number)?;
    let args = if !heredocs.is_empty() && keyword == "RUN" {
        let offset = column_of(rest) - 1;
        run_script(rest, &whole[offset..], offset, &markers, &heredocs)
    } else if takes_json(&keyword) && rest.starts_with('[') {
        match serde_json::from_str::<Vec<String>>(rest.trim_end()) {
            Ok(words) => Args::Json(words),
            Err(_) => Args::Shell(rest.to_string()),
        }
    } else {
        Args::Shell(rest.to_string())
    };
    if keyword == "SHELL" && !matches!(args, Args::Json(_)) {
        return Err(ParseError::new(
            line.number,
            column_of(rest),
            "SHELL takes the JSON form: SHELL [\"executable\", \"parameters\"]",
        ));
    }
    let _ = escape; // the escape character matters again when words are split
    Ok(Instruction {
        line: line.number,
        keyword,
        flags,
        args,
        original: whole.to_string(),
        heredocs,
    })
}
// ANCHOR_END: parse_line

// ANCHOR: flags
/// Splits off the `--name=value` words at the start of `rest`.
fn parse_flags<'a>(
    keyword: &str,
    rest: &'a str,
    line: usize,
    column_of: &dyn Fn(&str) -> usize,
) -> Result<(Vec<Flag>, &'a str), ParseError> {
    // exercise 8.3 flags: split `--name=value` words off the front of the arguments.
    // hint: flags come first; the first word that does not start with `--` ends them
    // hint: `--name=value` has a value, a bare `--name` has none; each instruction accepts its own names
    // hint: an unknown flag is an error at its column, saying which flags the instruction takes
    let mut flags = Vec::new();
    let mut rest = rest;
    while let Some(after) = rest.strip_prefix("--") {
        let (word, tail) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
        let (name, value) = match word.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (word, None),
        };
        let allowed = allowed_flags(keyword);
        if !allowed.contains(&name) {
            let hint = if keyword == "RUN" {
                " (RUN takes --mount; --network and --security need BuildKit, which this builder is not)"
                    .to_string()
            } else if allowed.is_empty() {
                format!(" ({keyword} takes no flags)")
            } else {
                format!(" ({keyword} takes --{})", allowed.join(", --"))
            };
            return Err(ParseError::new(
                line,
                column_of(rest),
                format!("unknown flag --{name} for {keyword}{hint}"),
            ));
        }
        flags.push(Flag {
            name: name.to_string(),
            value,
        });
        rest = tail.trim_start();
    }
    Ok((flags, rest))
    // end exercise
}
// ANCHOR_END: flags

// ANCHOR: run_script
/// The script of a RUN with heredocs. `RUN <<EOF` alone runs the body as
/// the script (with `#!`, by that interpreter, as a script file would
/// be: `interpreter [arg] script`, the script read from stdin);
/// `RUN python3 <<EOF` is handed to the shell whole (`script`: the line
/// after the flags and the lines after it), which feeds the heredoc to the
/// command, as BuildKit does.
/// `offset` is where `rest` starts in the line the markers were found in.
fn run_script(
    rest: &str,
    script: &str,
    offset: usize,
    markers: &[heredoc::Marker],
    docs: &[Heredoc],
) -> Args {
    let mut command = rest.to_string();
    for m in markers.iter().rev() {
        command.replace_range(m.span.start - offset..m.span.end - offset, "");
    }
    match docs {
        [only] if command.trim().is_empty() => match only.body.strip_prefix("#!") {
            Some(shebang) => {
                let interpreter = shebang.lines().next().unwrap_or("").trim();
                let end = &only.name;
                // As the kernel runs a script: `interpreter [arg] path`,
                // the path being the heredoc, on the command's stdin.
                Args::Shell(format!(
                    "{interpreter} /proc/self/fd/0 <<'{end}'\n{}{end}",
                    only.body
                ))
            }
            None => Args::Shell(only.body.clone()),
        },
        _ => Args::Shell(script.to_string()),
    }
}
// ANCHOR_END: run_script

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Instruction, ParseError> {
        parse_line(
            &Line {
                number: 3,
                text: text.to_string(),
            },
            '\\',
        )
    }

    #[test]
    fn json_and_shell_forms() {
        let i = one(r#"cmd ["echo", "a b"]"#).unwrap();
        assert_eq!(i.keyword, "CMD");
        assert_eq!(i.args, Args::Json(vec!["echo".into(), "a b".into()]));
        let i = one("CMD echo [a]").unwrap();
        assert_eq!(i.args, Args::Shell("echo [a]".into()));
        // not valid JSON: the shell form, as Docker reads it
        let i = one("CMD [echo, a]").unwrap();
        assert_eq!(i.args, Args::Shell("[echo, a]".into()));
        // ENV does not take the JSON form
        let i = one(r#"ENV A=["x"]"#).unwrap();
        assert_eq!(i.args, Args::Shell(r#"A=["x"]"#.into()));
    }

    #[test]
    fn flags() {
        let i = one("COPY --from=build --chown=1:1 --link /a /b").unwrap();
        assert_eq!(i.flag("from"), Some("build"));
        assert_eq!(i.flag("chown"), Some("1:1"));
        assert_eq!(i.flag("link"), Some("true"));
        assert_eq!(i.args, Args::Shell("/a /b".into()));
        let err = one("COPY --frm=x a b").unwrap_err();
        assert_eq!((err.line, err.column), (3, 6));
        assert!(err.message.contains("--from"), "{err}");
        assert_eq!(
            one("RUN --mount=type=cache,target=/c true")
                .unwrap()
                .flag("mount"),
            Some("type=cache,target=/c")
        );
        let err = one("RUN --network=none true").unwrap_err();
        assert!(err.message.contains("BuildKit"), "{err}");
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = one("FRM busybox").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Dockerfile line 3, column 1: unknown instruction: FRM"
        );
        let err = one("SHELL /bin/bash -c").unwrap_err();
        assert_eq!(err.column, 7);
    }

    fn heredoc(text: &str) -> Instruction {
        let lines = super::super::lines::logical_lines(text, '\\');
        assert_eq!(lines.len(), 1, "{lines:?}");
        parse_line(&lines[0], '\\').unwrap()
    }

    #[test]
    fn heredocs_of_run_become_its_script() {
        // alone: the body is the script
        let i = heredoc("RUN <<EOF\necho a\n# b\nEOF\n");
        assert_eq!(i.args, Args::Shell("echo a\n# b\n".into()));
        assert_eq!(i.original, "RUN <<EOF\necho a\n# b\nEOF");
        // with #!: that interpreter, fed the body
        let i = heredoc("RUN <<EOF\n#!/bin/awk -f\nBEGIN { print 1 }\nEOF\n");
        assert_eq!(
            i.args,
            Args::Shell(
                "/bin/awk -f /proc/self/fd/0 <<'EOF'\n#!/bin/awk -f\nBEGIN { print 1 }\nEOF".into()
            )
        );
        // of a command: the shell gets it whole
        let i = heredoc("RUN cat <<-X > /f\n\thi\n\tX\n");
        assert_eq!(i.args, Args::Shell("cat <<-X > /f\n\thi\n\tX".into()));
    }

    #[test]
    fn heredocs_of_copy_are_files() {
        let i = heredoc("COPY <<A <<'B' /d/\n$X\nA\n$Y\nB\n");
        assert_eq!(i.args, Args::Shell("<<A <<'B' /d/".into()));
        let docs: Vec<_> = i
            .heredocs
            .iter()
            .map(|h| (h.name.as_str(), h.body.as_str(), h.expand))
            .collect();
        assert_eq!(docs, [("A", "$X\n", true), ("B", "$Y\n", false)]);
        let lines = super::super::lines::logical_lines("RUN <<EOF\necho\n", '\\');
        let err = parse_line(&lines[0], '\\').unwrap_err();
        assert!(err.message.contains("no end"), "{err}");
    }
}
