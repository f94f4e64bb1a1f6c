//! `minidock-house`: the house checker's command line.
//!
//! ```text
//! minidock-house check              cycles and long files; exits 1 if any
//! minidock-house cycles             every file cycle, one line each, as known-cycles.txt lists them
//! minidock-house coverage [-v]      the book's share of each lesson (-v: file by file)
//! minidock-house appendix [--write] print the generated appendix, or write it to the book
//! ```
//!
//! Each reads the workspace that holds the current directory, or the one
//! given with `--root DIR` (before or after the command).

use std::path::PathBuf;
use std::process::ExitCode;

use minidock_house::{all_coverage, all_cycles, appendix, check_cycles, long_files, workspace};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("minidock-house: {e}");
            ExitCode::from(2)
        }
    }
}

const USAGE: &str =
    "usage: minidock-house [--root DIR] check | cycles | coverage [-v] | appendix [--write]";

/// Takes `--root DIR` (or `--root=DIR`) out of the arguments.
fn take_root(args: &mut Vec<String>) -> Result<Option<PathBuf>, String> {
    let Some(at) = args
        .iter()
        .position(|a| a == "--root" || a.starts_with("--root="))
    else {
        return Ok(None);
    };
    let flag = args.remove(at);
    let dir = match flag.strip_prefix("--root=") {
        Some(dir) => dir.to_string(),
        None if at < args.len() => args.remove(at),
        None => return Err("--root needs a directory: --root DIR".to_string()),
    };
    Ok(Some(PathBuf::from(dir)))
}

fn run(args: &[String]) -> std::io::Result<ExitCode> {
    let mut args = args.to_vec();
    let root = match take_root(&mut args) {
        Ok(Some(dir)) if !dir.is_dir() => {
            eprintln!(
                "minidock-house: --root {}: not a directory; give the checkout to check",
                dir.display()
            );
            return Ok(ExitCode::from(2));
        }
        Ok(Some(dir)) => workspace::find_root(&dir)?,
        Ok(None) => workspace::root()?,
        Err(e) => {
            eprintln!("minidock-house: {e}\n{USAGE}");
            return Ok(ExitCode::from(2));
        }
    };
    let members = workspace::members(&root)?;
    let flag = |f: &str| args.iter().skip(1).any(|a| a == f);
    match args.first().map(String::as_str) {
        Some("check") => {
            let mut problems = check_cycles(&root, &members)?;
            problems.extend(long_files::check(&root, &members)?);
            for p in &problems {
                eprintln!("{p}");
            }
            if problems.is_empty() {
                println!(
                    "the house is in order: no new file cycle, no unexplained file over {} lines",
                    long_files::LIMIT
                );
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::FAILURE)
            }
        }
        Some("cycles") => {
            for (files, _) in all_cycles(&root, &members)? {
                println!("{files}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("coverage") => {
            println!("the book's share of each chapter's lesson lines (test code left out):");
            for c in all_coverage(&root, &members)? {
                println!(
                    "  {:<24} {:>5.1}%  {:>5} of {:>5} lesson lines in {:>2} files; compat {:>5} lines",
                    c.chapter,
                    c.percent(),
                    c.shown_lines(),
                    c.lesson_lines(),
                    c.lesson.len(),
                    c.compat_lines
                );
                if flag("-v") {
                    for (file, lines, shown) in &c.lesson {
                        println!("      {file:<48} {shown:>5} of {lines:>5}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("appendix") => {
            let page = appendix::generate(&root, &members)?;
            if flag("--write") {
                let path = root.join(appendix::PAGE);
                std::fs::write(&path, page).map_err(|e| {
                    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                })?;
                println!("wrote {}", path.display());
            } else {
                print!("{page}");
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("{USAGE}");
            Ok(ExitCode::from(2))
        }
    }
}
