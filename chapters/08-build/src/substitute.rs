//! Variables in instructions: `$VAR`, `${VAR}`, `${VAR:-word}`,
//! `${VAR:+word}`.
//!
//! The builder, not the shell, expands variables in the instructions that
//! Docker lists: ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER,
//! VOLUME, WORKDIR and ARG (and ONBUILD's instruction when it runs). RUN,
//! CMD and ENTRYPOINT are left alone: in the shell form the container's
//! shell expands them, in the JSON form nothing does.
//!
//! The rules are a small part of the shell's:
//!
//! | written          | gives                                            |
//! |------------------|--------------------------------------------------|
//! | `$V`, `${V}`     | the value of V, empty if unset                   |
//! | `${V:-word}`     | V if set and not empty, else `word`              |
//! | `${V-word}`      | V if set (even empty), else `word`               |
//! | `${V:+word}`     | `word` if V is set and not empty, else empty     |
//! | `${V+word}`      | `word` if V is set, else empty                   |
//! | `'$V'`           | `$V`: nothing is expanded in single quotes       |
//! | `\$V`            | `$V`: the escape character makes `$` plain       |
//!
//! Quotes group words and are removed: `ENV A="x y"` sets A to `x y`.

use std::fmt;

/// Looks a variable up: `Some(value)` when it is set.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A word that cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SubstituteError {
    /// The text being expanded.
    pub input: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SubstituteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot expand {:?}: {}", self.input, self.message)
    }
}

/// The lexer over one input.
struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    escape: char,
    lookup: Lookup<'a>,
    input: &'a str,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += 1;
        c
    }

    fn error(&self, message: impl Into<String>) -> SubstituteError {
        SubstituteError {
            input: self.input.to_string(),
            message: message.into(),
        }
    }

    /// Reads words until the end (or, with `in_brace`, an unescaped `}`).
    /// With `split`, unquoted blanks separate words.
    fn words(&mut self, split: bool, in_brace: bool) -> Result<Vec<String>, SubstituteError> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut has_word = false;
        while let Some(c) = self.peek() {
            if in_brace && c == '}' {
                break;
            }
            self.pos += 1;
            match c {
                c if split && c.is_whitespace() => {
                    if has_word {
                        words.push(std::mem::take(&mut word));
                        has_word = false;
                    }
                }
                c if c == self.escape => {
                    has_word = true;
                    match self.next() {
                        Some(n) => word.push(n),
                        None => word.push(c),
                    }
                }
                '\'' => {
                    has_word = true;
                    loop {
                        match self.next() {
                            Some('\'') => break,
                            Some(n) => word.push(n),
                            None => return Err(self.error("a single quote is not closed")),
                        }
                    }
                }
                '"' => {
                    has_word = true;
                    self.double_quoted(&mut word)?;
                }
                '$' => {
                    has_word = true;
                    self.dollar(&mut word)?;
                }
                c => {
                    has_word = true;
                    word.push(c);
                }
            }
        }
        if has_word || !split {
            words.push(word);
        }
        Ok(words)
    }

    fn double_quoted(&mut self, word: &mut String) -> Result<(), SubstituteError> {
        loop {
            match self.next() {
                Some('"') => return Ok(()),
                Some('$') => self.dollar(word)?,
                Some(c) if c == self.escape => match self.peek() {
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        self.pos += 1;
                        word.push(n);
                    }
                    _ => word.push(c),
                },
                Some(c) => word.push(c),
                None => return Err(self.error("a double quote is not closed")),
            }
        }
    }

    // ANCHOR: dollar
    /// After a `$`: a variable, `${…}`, or a plain `$`.
    fn dollar(&mut self, word: &mut String) -> Result<(), SubstituteError> {
        let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if self.peek() != Some('{') {
            let start = self.pos;
            while self.peek().is_some_and(is_name) {
                self.pos += 1;
            }
            if start == self.pos {
                word.push('$'); // `$` alone, or before something that names nothing
            } else {
                let name: String = self.chars[start..self.pos].iter().collect();
                word.push_str(&(self.lookup)(&name).unwrap_or_default());
            }
            return Ok(());
        }
        self.pos += 1; // the `{`
        let start = self.pos;
        while self.peek().is_some_and(is_name) {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if name.is_empty() {
            return Err(self.error("${} names no variable"));
        }
        let value = (self.lookup)(&name);
        // exercise 8.4 modifiers: `${V}`, `${V:-word}`, `${V-word}`, `${V:+word}`, `${V+word}`.
        // hint: after the name comes `}`, or an optional `:` and then `-` or `+`, a word, and `}`
        // hint: the colon makes an empty value count as unset; the word may hold variables itself
        // hint: the word is read by the same method that reads words elsewhere in this parser, told to stop at the closing brace
        let colon = self.peek() == Some(':');
        if colon {
            self.pos += 1;
        }
        let modifier = self.next();
        match modifier {
            Some('}') if !colon => {
                word.push_str(&value.unwrap_or_default());
                return Ok(());
            }
            Some(m @ ('-' | '+')) => {
                let alternative = self.words(false, true)?.concat();
                if self.next() != Some('}') {
                    return Err(self.error(format!("${{{name}… is not closed with }}")));
                }
                let set = match &value {
                    Some(v) => !(colon && v.is_empty()),
                    None => false,
                };
                match (m, set) {
                    ('-', true) => word.push_str(&value.unwrap_or_default()),
                    ('-', false) => word.push_str(&alternative),
                    (_, true) => word.push_str(&alternative),
                    (_, false) => {}
                }
            }
            Some(other) => {
                return Err(self.error(format!(
                    "unsupported modifier {other:?} in ${{{name}…}}: use ${{{name}}}, ${{{name}:-word}} or ${{{name}:+word}}"
                )))
            }
            None => return Err(self.error(format!("${{{name} is not closed with }}"))),
        }
        Ok(())
        // end exercise
    }
    // ANCHOR_END: dollar
}

/// Expands `input` into one word (quotes removed, blanks kept).
pub fn expand(input: &str, escape: char, lookup: Lookup) -> Result<String, SubstituteError> {
    let mut lexer = Lexer {
        chars: input.chars().collect(),
        pos: 0,
        escape,
        lookup,
        input,
    };
    Ok(lexer.words(false, false)?.concat())
}

/// Expands the variables of a heredoc's text (`COPY <<EOF`): quotes and
/// blanks are the file's and stay as they are; only `$` is special, and
/// the escape character before `$` keeps it literal.
pub fn expand_text(input: &str, escape: char, lookup: Lookup) -> Result<String, SubstituteError> {
    let mut lexer = Lexer {
        chars: input.chars().collect(),
        pos: 0,
        escape,
        lookup,
        input,
    };
    let mut out = String::new();
    while let Some(c) = lexer.next() {
        match c {
            c if c == escape && lexer.peek() == Some('$') => {
                lexer.pos += 1;
                out.push('$');
            }
            '$' => lexer.dollar(&mut out)?,
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Expands `input` and splits it into words at unquoted blanks.
pub fn words(input: &str, escape: char, lookup: Lookup) -> Result<Vec<String>, SubstituteError> {
    let mut lexer = Lexer {
        chars: input.chars().collect(),
        pos: 0,
        escape,
        lookup,
        input,
    };
    lexer.words(true, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/root".into()),
            "EMPTY" => Some(String::new()),
            "V" => Some("1.2".into()),
            _ => None,
        }
    }

    fn x(input: &str) -> String {
        expand(input, '\\', &env).unwrap()
    }

    #[test]
    fn plain_and_braced() {
        assert_eq!(x("$HOME/bin"), "/root/bin");
        assert_eq!(x("${HOME}bin"), "/rootbin");
        assert_eq!(x("a$UNSET.b"), "a.b");
        assert_eq!(x("cost: 5$"), "cost: 5$");
        assert_eq!(x("$V-$V"), "1.2-1.2");
    }

    #[test]
    fn modifiers() {
        assert_eq!(x("${V:-0}"), "1.2");
        assert_eq!(x("${UNSET:-0}"), "0");
        assert_eq!(x("${EMPTY:-0}"), "0");
        assert_eq!(x("${EMPTY-0}"), "");
        assert_eq!(x("${UNSET-0}"), "0");
        assert_eq!(x("${V:+yes}"), "yes");
        assert_eq!(x("${EMPTY:+yes}"), "");
        assert_eq!(x("${EMPTY+yes}"), "yes");
        assert_eq!(x("${UNSET:+yes}"), "");
        assert_eq!(x("${UNSET:-$HOME/x}"), "/root/x");
    }

    #[test]
    fn heredoc_text_keeps_quotes_and_blanks() {
        let lookup = |k: &str| (k == "PORT").then(|| "80".to_string());
        assert_eq!(
            expand_text("port = '$PORT' \"${PORT}\"  \\$PORT $\n", '\\', &lookup).unwrap(),
            "port = '80' \"80\"  $PORT $\n"
        );
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(x("'$HOME'"), "$HOME");
        assert_eq!(x("\"$HOME\""), "/root");
        assert_eq!(x("\\$HOME"), "$HOME");
        assert_eq!(x("\"a \\\" b\""), "a \" b");
        assert_eq!(expand("`$HOME", '`', &env).unwrap(), "$HOME");
    }

    #[test]
    fn splitting_into_words() {
        let got = words("a \"b c\" ${HOME} 'd e'  ", '\\', &env).unwrap();
        assert_eq!(got, vec!["a", "b c", "/root", "d e"]);
        let got = words("A=\"x y\" B=$V", '\\', &env).unwrap();
        assert_eq!(got, vec!["A=x y", "B=1.2"]);
    }

    #[test]
    fn errors() {
        assert!(expand("${HOME", '\\', &env).is_err());
        assert!(expand("${HOME:?x}", '\\', &env)
            .unwrap_err()
            .to_string()
            .contains("unsupported modifier"));
        assert!(expand("'open", '\\', &env).is_err());
        assert!(expand("${}", '\\', &env).is_err());
    }
}
