//! A stage: the part of a Dockerfile from one FROM to the next, and the
//! image it is building. Every step reads and changes it: config steps its
//! config, RUN, COPY and ADD its layers, ARG and SHELL how later
//! instructions are read.

use std::collections::BTreeMap;

use crate::image::ImageState;

// ANCHOR: stage
/// A stage being built.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Its position in the Dockerfile (for `--from=0`).
    pub index: usize,
    /// The image so far.
    pub state: ImageState,
    /// The ARGs declared in this stage, with their values.
    pub args: BTreeMap<String, String>,
    /// The shell of shell-form commands.
    pub shell: Vec<String>,
    /// Whether this stage set CMD (ENTRYPOINT clears an inherited one).
    pub(crate) cmd_set: bool,
}

impl Stage {
    /// A stage before its FROM.
    pub fn new(index: usize) -> Stage {
        Stage {
            index,
            state: ImageState::scratch(),
            args: BTreeMap::new(),
            shell: vec!["/bin/sh".into(), "-c".into()],
            cmd_set: false,
        }
    }
}
// ANCHOR_END: stage

/// Cleans an absolute path: no `.`, no `..` above `/`, no doubled `/`.
pub(crate) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize("/a/./b/../c/"), "/a/c");
        assert_eq!(normalize("/../x"), "/x");
        assert_eq!(normalize(""), "/");
    }
}
