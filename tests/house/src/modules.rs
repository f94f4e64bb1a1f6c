//! The module tree of a crate, file by file, and the edges between its
//! files: file A has an edge to file B when A names a module that lives in
//! B through a `crate::`, `super::` or `self::` path (in a `use` or in the
//! code). Test code (`#[cfg(test)]`) makes no edges: a test may reach
//! anywhere.
//!
//! A module naming one of its own submodules is containment, not an edge:
//! `store/mod.rs` re-exporting `store/images.rs` is how a module is built.
//! A submodule naming its parent (`super::Thing`) is an edge.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use crate::source::{matching_brace, Source, Spanned, Token};
use crate::workspace::read;

/// A module path inside one crate (`["store", "images"]`); the root is `[]`.
pub type ModPath = Vec<String>;

/// One file of a crate's module tree.
#[derive(Debug)]
pub struct FileModule {
    /// The file, relative to the workspace root.
    pub file: String,
    /// Its module path.
    pub path: ModPath,
    /// The file, read.
    pub source: Source,
    /// Its lines, as `wc -l` counts them.
    pub lines: usize,
}

/// An edge between two files of one tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// The file that names the other (index into [`Tree::files`]).
    pub from: usize,
    /// The file named.
    pub to: usize,
    /// The first line of `from` that names it.
    pub line: usize,
}

/// The module tree that grows from one crate root (`src/lib.rs`, or one
/// binary), and its edges.
#[derive(Debug)]
pub struct Tree {
    /// The crate root, relative to the workspace root.
    pub root: String,
    /// Every file module, in the order `mod` declarations reach them
    /// (depth first, so the root comes first).
    pub files: Vec<FileModule>,
    /// Inline modules (`mod x { … }`) and which file holds them.
    pub inline: BTreeMap<ModPath, usize>,
    /// The edges, one per pair of files, sorted.
    pub edges: Vec<Edge>,
}

impl Tree {
    /// Reads the tree that grows from `root_file` (relative to `root`).
    pub fn read(root: &Path, root_file: &str) -> io::Result<Tree> {
        let mut tree = Tree {
            root: root_file.to_string(),
            files: Vec::new(),
            inline: BTreeMap::new(),
            edges: Vec::new(),
        };
        tree.load(root, root_file, Vec::new(), true)?;
        tree.edges = tree.find_edges();
        Ok(tree)
    }

    /// The index of the file that holds module `path` (or its longest
    /// known prefix).
    pub fn file_of(&self, path: &[String]) -> usize {
        for len in (0..=path.len()).rev() {
            let prefix = &path[..len];
            if let Some(i) = self.files.iter().position(|f| f.path == prefix) {
                return i;
            }
            if let Some(&i) = self.inline.get(prefix) {
                return i;
            }
        }
        0
    }

    /// Loads `file` as module `path`; `mod_rs` says whether its submodules
    /// live beside it (`lib.rs`, `main.rs`, `mod.rs`) or in a directory
    /// named after it (`store.rs` → `store/`).
    fn load(&mut self, root: &Path, file: &str, path: ModPath, mod_rs: bool) -> io::Result<()> {
        let text = read(&root.join(file))?;
        let source = Source::parse(&text);
        let index = self.files.len();
        let dir = {
            let parent = file.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            if mod_rs {
                parent.to_string()
            } else {
                let stem = file
                    .rsplit('/')
                    .next()
                    .unwrap_or(file)
                    .trim_end_matches(".rs");
                format!("{parent}/{stem}")
            }
        };
        let declared = declared_modules(&source.tokens);
        self.files.push(FileModule {
            file: file.to_string(),
            path: path.clone(),
            source,
            lines: text.lines().count(),
        });
        for (inline_path, name) in declared {
            let mut module = path.clone();
            module.extend(inline_path.iter().cloned());
            if let Some(name) = name {
                let sub_dir = std::iter::once(dir.clone())
                    .chain(inline_path.iter().cloned())
                    .collect::<Vec<_>>()
                    .join("/");
                let flat = format!("{sub_dir}/{name}.rs");
                let nested = format!("{sub_dir}/{name}/mod.rs");
                module.push(name.clone());
                if root.join(&flat).is_file() {
                    self.load(root, &flat, module, false)?;
                } else if root.join(&nested).is_file() {
                    self.load(root, &nested, module, true)?;
                } else {
                    return Err(io::Error::other(format!(
                        "{file}: `mod {name};` but neither {flat} nor {nested} exists"
                    )));
                }
            } else {
                self.inline.insert(module, index);
            }
        }
        Ok(())
    }

    fn find_edges(&self) -> Vec<Edge> {
        let mut edges: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for (from, f) in self.files.iter().enumerate() {
            for (line, inline, path) in named_paths(&f.source.tokens) {
                let mut here = f.path.clone();
                here.extend(inline);
                let Some(target) = resolve(&here, &path) else {
                    continue;
                };
                let to = self.file_of(&target);
                let to_path = &self.files[to].path;
                // itself, or one of its own submodules: not an edge
                if to_path.starts_with(&f.path) {
                    continue;
                }
                edges.entry((from, to)).or_insert(line);
            }
        }
        edges
            .into_iter()
            .map(|((from, to), line)| Edge { from, to, line })
            .collect()
    }

    /// A module's name for people: `store::images`, or `crate` for the root.
    pub fn name(&self, index: usize) -> String {
        let p = &self.files[index].path;
        if p.is_empty() {
            "crate".to_string()
        } else {
            p.join("::")
        }
    }
}

/// The `mod` items of a file: for each, the inline modules it sits in and
/// the name of a file module (`mod x;`), or `None` for an inline module
/// itself (`mod x { … }`, reported with its own name as the last element of
/// the path).
fn declared_modules(tokens: &[Spanned]) -> Vec<(Vec<String>, Option<String>)> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, usize)> = Vec::new(); // inline module, index of its closing brace
    for i in 0..tokens.len() {
        while stack.last().is_some_and(|(_, close)| *close < i) {
            stack.pop();
        }
        if tokens[i].token != Token::Ident("mod".into()) {
            continue;
        }
        let (Some(Token::Ident(name)), Some(next)) =
            (tokens.get(i + 1).map(|t| &t.token), tokens.get(i + 2))
        else {
            continue;
        };
        let inline: Vec<String> = stack.iter().map(|(n, _)| n.clone()).collect();
        match next.token {
            Token::Punct(';') => out.push((inline, Some(name.clone()))),
            Token::Punct('{') => {
                let mut path = inline;
                path.push(name.clone());
                out.push((path, None));
                if let Some(close) = matching_brace(tokens, i + 2) {
                    stack.push((name.clone(), close));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every path a file names that starts with `crate`, `super` or `self`:
/// (line, the inline modules it sits in, the path's segments).
pub fn named_paths(tokens: &[Spanned]) -> Vec<(usize, Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        while stack.last().is_some_and(|(_, close)| *close < i) {
            stack.pop();
        }
        let inline = || stack.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        let ident = |k: usize| match tokens.get(k).map(|t| &t.token) {
            Some(Token::Ident(s)) => Some(s.as_str()),
            _ => None,
        };
        match ident(i) {
            Some("mod") if tokens.get(i + 2).map(|t| &t.token) == Some(&Token::Punct('{')) => {
                if let (Some(name), Some(close)) = (ident(i + 1), matching_brace(tokens, i + 2)) {
                    stack.push((name.to_string(), close));
                }
                i += 3;
            }
            Some("use") => {
                let line = tokens[i].line;
                let mut paths = Vec::new();
                let mut k = i + 1;
                use_tree(tokens, &mut k, Vec::new(), &mut paths);
                for p in paths {
                    if matches!(
                        p.first().map(String::as_str),
                        Some("crate" | "super" | "self")
                    ) {
                        out.push((line, inline(), p));
                    }
                }
                i = k.max(i + 1);
            }
            Some(first @ ("crate" | "super" | "self"))
                if tokens.get(i + 1).map(|t| &t.token) == Some(&Token::PathSep)
                    && !(i > 0 && tokens[i - 1].token == Token::Punct('$')) =>
            {
                let line = tokens[i].line;
                let mut path = vec![first.to_string()];
                let mut k = i + 1;
                while tokens.get(k).map(|t| &t.token) == Some(&Token::PathSep) {
                    match ident(k + 1) {
                        Some(s) => path.push(s.to_string()),
                        None => break,
                    }
                    k += 2;
                }
                out.push((line, inline(), path));
                i = k;
            }
            _ => i += 1,
        }
    }
    out
}

/// Every path of every `use` item of a file, whatever its first segment.
pub fn use_paths(tokens: &[Spanned]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.token == Token::Ident("use".into()) {
            let mut k = i + 1;
            use_tree(tokens, &mut k, Vec::new(), &mut out);
        }
    }
    out
}

/// Parses a use tree at `*k` under `prefix`, pushing each full path.
fn use_tree(tokens: &[Spanned], k: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    if tokens.get(*k).map(|t| &t.token) == Some(&Token::PathSep) {
        *k += 1; // `::std::…`: an extern crate
    }
    loop {
        match tokens.get(*k).map(|t| &t.token) {
            Some(Token::Ident(s)) if s == "self" && !path.is_empty() => {
                *k += 1;
                out.push(path);
                skip_rename(tokens, k);
                return;
            }
            Some(Token::Ident(s)) => {
                path.push(s.clone());
                *k += 1;
                if tokens.get(*k).map(|t| &t.token) == Some(&Token::PathSep) {
                    *k += 1;
                    continue;
                }
                skip_rename(tokens, k);
                out.push(path);
                return;
            }
            Some(Token::Punct('*')) => {
                *k += 1;
                out.push(path);
                return;
            }
            Some(Token::Punct('{')) => {
                *k += 1;
                loop {
                    match tokens.get(*k).map(|t| &t.token) {
                        Some(Token::Punct('}')) => {
                            *k += 1;
                            return;
                        }
                        Some(Token::Punct(',')) => *k += 1,
                        None => return,
                        Some(_) => {
                            let before = *k;
                            use_tree(tokens, k, path.clone(), out);
                            if *k == before {
                                *k += 1;
                            }
                        }
                    }
                }
            }
            _ => return,
        }
    }
}

fn skip_rename(tokens: &[Spanned], k: &mut usize) {
    if tokens.get(*k).map(|t| &t.token) == Some(&Token::Ident("as".into())) {
        *k += 2;
    }
}

/// The module path a `crate`/`super`/`self` path names, seen from module
/// `here`; `None` when it climbs above the crate.
pub fn resolve(here: &[String], path: &[String]) -> Option<ModPath> {
    let mut base: Vec<String>;
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &path[1..];
        }
        Some("self") => {
            base = here.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            base = here.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        named_paths(&Source::parse(text).tokens)
            .into_iter()
            .map(|(line, inline, p)| format!("{line}:{}:{}", inline.join("/"), p.join("::")))
            .collect()
    }

    #[test]
    fn use_trees_expand_to_every_path() {
        let text =
            "use crate::{a::{self, B}, c::*, d as e};\nuse super::super::f::G;\nuse std::io;\n";
        assert_eq!(
            paths(text),
            [
                "1::crate::a",
                "1::crate::a::B",
                "1::crate::c",
                "1::crate::d",
                "2::super::super::f::G"
            ]
        );
    }

    #[test]
    fn paths_in_code_count_but_macro_crate_does_not() {
        let text = "fn f() { crate::store::open(); $crate::x::y(); let v = Vec::<u8>::new(); }\nmod inner {\n    fn g() { super::h(); }\n}\n";
        assert_eq!(paths(text), ["1::crate::store::open", "3:inner:super::h"]);
    }

    #[test]
    fn resolve_climbs_and_descends() {
        let here = vec!["server".to_string(), "handlers".to_string()];
        let p = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
        assert_eq!(
            resolve(&here, &p("super::system::info")),
            Some(p("server::system::info"))
        );
        assert_eq!(resolve(&here, &p("crate::engine")), Some(p("engine")));
        assert_eq!(
            resolve(&here, &p("self::x")),
            Some(p("server::handlers::x"))
        );
        assert_eq!(resolve(&[], &p("super::x")), None);
    }
}
