//! Reading a Rust file as the checks need it: code without comments and
//! literals, cut into tokens, with the `#[cfg(test)]` items set apart.
//!
//! This is not a Rust parser. It knows just enough to find `mod` items,
//! `use` trees and `crate::`/`super::`/`self::` paths, which is all the
//! module graph is made of, and never needs a build of the code it reads.

/// One token of cleaned code. Everything that is not an identifier or a
/// path separator is a single punctuation character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// An identifier or keyword (`mod`, `crate`, `store`, …).
    Ident(String),
    /// `::`.
    PathSep,
    /// Any other character that is not white space.
    Punct(char),
}

/// A token and the 1-based line it starts on.
#[derive(Debug, Clone)]
pub struct Spanned {
    /// The token.
    pub token: Token,
    /// Its line, counted from 1.
    pub line: usize,
}

/// A file, read: its tokens outside `#[cfg(test)]` items, and which lines
/// those test items cover.
#[derive(Debug, Default)]
pub struct Source {
    /// The tokens of the code that is not test code.
    pub tokens: Vec<Spanned>,
    /// For each line (index 0 = line 1): whether it belongs to a
    /// `#[cfg(test)]` item.
    pub test_lines: Vec<bool>,
}

impl Source {
    /// Reads `text`.
    pub fn parse(text: &str) -> Source {
        let cleaned = clean(text);
        let all = tokenize(&cleaned);
        let line_count = text.lines().count();
        let mut test_lines = vec![false; line_count];
        let mut tokens = Vec::with_capacity(all.len());
        let mut i = 0;
        while i < all.len() {
            if let Some(end) = cfg_test_item(&all, i) {
                let (first, last) = (all[i].line, all[end].line);
                for line in first..=last.min(line_count) {
                    test_lines[line - 1] = true;
                }
                i = end + 1;
                continue;
            }
            tokens.push(all[i].clone());
            i += 1;
        }
        Source { tokens, test_lines }
    }

    /// How many lines are not test code.
    pub fn code_lines(&self) -> usize {
        self.test_lines.iter().filter(|t| !**t).count()
    }
}

/// If the tokens at `i` begin `#[cfg(test)]`, the index of the last token of
/// the item it marks (its closing `}` or `;`).
fn cfg_test_item(tokens: &[Spanned], i: usize) -> Option<usize> {
    let want = [
        Token::Punct('#'),
        Token::Punct('['),
        Token::Ident("cfg".into()),
        Token::Punct('('),
        Token::Ident("test".into()),
        Token::Punct(')'),
        Token::Punct(']'),
    ];
    if tokens.len() < i + want.len()
        || tokens[i..i + want.len()]
            .iter()
            .zip(&want)
            .any(|(a, b)| a.token != *b)
    {
        return None;
    }
    // The item runs to its first `;` at depth 0, or to the `}` that closes its
    // first `{` (other attributes' brackets and parentheses balance on the way).
    let mut depth = 0i32;
    let mut j = i + want.len();
    while j < tokens.len() {
        match tokens[j].token {
            Token::Punct('(') | Token::Punct('[') => depth += 1,
            Token::Punct(')') | Token::Punct(']') => depth -= 1,
            Token::Punct(';') if depth == 0 => return Some(j),
            Token::Punct('{') if depth == 0 => return matching_brace(tokens, j),
            _ => {}
        }
        j += 1;
    }
    None
}

/// The index of the `}` that closes the `{` at `open`.
pub fn matching_brace(tokens: &[Spanned], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match t.token {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// `text` with every comment, string and character literal turned into
/// spaces; line breaks stay where they were, so lines still count.
pub fn clean(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let at_word_start = i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&c, i).filter(|_| at_word_start) {
            // r"…", r#"…"#, br"…", cr"…": no escapes, ends at a quote and the same hashes.
            while c[i] != '"' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
            while i < c.len() {
                if c[i] == '"' && (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += 1 + hashes;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' && (c.get(i + 1) == Some(&'\\') || c.get(i + 2) == Some(&'\'')) {
            // A character literal ('a', '\n', '\''); a lone quote is a lifetime.
            out.push(' ');
            i += 1;
            if c[i] == '\\' {
                out.push(' ');
                i += 1;
            }
            while i < c.len() && c[i] != '\'' {
                blank(&mut out, c[i]);
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// If a raw string literal starts at `i`, how many `#` it uses.
fn raw_string_start(c: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if matches!(c.get(j), Some('b') | Some('c')) {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some(hashes)
}

/// Cuts cleaned code into tokens.
pub fn tokenize(cleaned: &str) -> Vec<Spanned> {
    let mut tokens = Vec::new();
    let mut line = 1;
    let c: Vec<char> = cleaned.chars().collect();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            tokens.push(Spanned {
                token: Token::Ident(word),
                line,
            });
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            tokens.push(Spanned {
                token: Token::PathSep,
                line,
            });
            i += 2;
        } else {
            tokens.push(Spanned {
                token: Token::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idents(text: &str) -> Vec<String> {
        Source::parse(text)
            .tokens
            .into_iter()
            .filter_map(|t| match t.token {
                Token::Ident(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn comments_and_literals_hide_what_they_contain() {
        let text = "use a; // use crate::b\n/* crate::c /* nested */ crate::d */ let s = \"crate::e\\\"\";\nlet r = r#\"crate::f\"#; let c = '\"'; fn f<'a>(x: &'a str) {}";
        assert_eq!(
            idents(text),
            ["use", "a", "let", "s", "let", "r", "let", "c", "fn", "f", "a", "x", "a", "str"]
        );
    }

    #[test]
    fn test_items_are_set_apart_with_their_lines() {
        let text = "mod a;\n#[cfg(test)]\nmod tests {\n    use crate::b;\n}\nmod c;\n#[cfg(test)]\nmod more;\n";
        let source = Source::parse(text);
        assert_eq!(
            source.test_lines,
            [false, true, true, true, true, false, true, true]
        );
        assert_eq!(source.code_lines(), 2);
        let lines: Vec<usize> = source.tokens.iter().map(|t| t.line).collect();
        assert_eq!(lines, [1, 1, 1, 6, 6, 6]);
    }
}
