//! `cargo workbook watch N`: check chapter N again each time one of its files is saved, as
//! rustlings does, until Ctrl-C.
//!
//! It polls the modification times of the chapter's `.rs` files (and `Cargo.toml`) once a
//! second: no file-notification library, and it works on every file system, network mounts
//! included. A save that lands while a check runs triggers one more check after it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Result;

use super::check;
use crate::workspace::Workspace;

/// The chapter's source files with their modification times.
pub fn snapshot(root: &Path, dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    walkdir::WalkDir::new(root.join(dir))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_type().is_file()
                && (e.path().extension().is_some_and(|x| x == "rs")
                    || e.file_name() == "Cargo.toml")
        })
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            Some((e.path().to_path_buf(), modified))
        })
        .collect()
}

pub fn run(root: &Path, chapter: u32, options: &check::Options) -> Result<bool> {
    crate::signals::install()?;
    let mut seen = BTreeMap::new();
    loop {
        // Loaded again each round: line numbers move as the learner edits.
        let workspace = Workspace::load(root);
        match &workspace {
            Ok(workspace) => {
                let dir = workspace.chapter(chapter)?.dir.clone();
                seen = snapshot(root, &dir);
                println!("\n──── cargo workbook check {chapter} ────");
                let checked = check::run(
                    workspace,
                    &check::Options {
                        chapter: Some(chapter),
                        ..options.clone()
                    },
                );
                if crate::signals::interrupted() {
                    return Ok(true);
                }
                checked?;
            }
            Err(e) => println!("\n{e:#}"),
        }
        println!("watching chapter {chapter}: save a file to check again, Ctrl-C to stop");
        let dir = match &workspace {
            Ok(w) => w.chapter(chapter)?.dir.clone(),
            Err(_) => PathBuf::from("chapters"),
        };
        loop {
            if crate::signals::interrupted() {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_secs(1));
            if snapshot(root, &dir) != seen {
                break;
            }
        }
    }
}
