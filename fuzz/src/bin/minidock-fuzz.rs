//! Runs fuzz targets longer than CI does, or replays inputs.
//!
//! ```text
//! minidock-fuzz                         every target, 60 s each
//! minidock-fuzz TARGET [SECONDS]        one target (SECONDS: 60)
//! minidock-fuzz TARGET FILE...          replay these inputs (a finding)
//! MINIDOCK_FUZZ_SEED=N                  another sequence of mutants
//! ```
//!
//! Build it optimised for speed: `cargo run --release -p minidock-fuzz -- …`.

use minidock_fuzz::runner::{run, Budget};
use minidock_fuzz::{fuzz_dir, target, TARGETS};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed = std::env::var("MINIDOCK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let budget = |seconds: u64| Budget {
        time: Duration::from_secs(seconds),
        seed,
        max_len: 4096,
        slow: Duration::from_secs(2),
        findings: fuzz_dir().join("findings"),
    };
    let (targets, seconds, files) = match args.as_slice() {
        [] => (TARGETS.iter().collect::<Vec<_>>(), 60, Vec::new()),
        [name, rest @ ..] => {
            let Some(t) = target(name) else {
                let names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
                eprintln!("no fuzz target {name:?}; there are: {}", names.join(", "));
                return ExitCode::from(2);
            };
            match rest {
                [] => (vec![t], 60, Vec::new()),
                [seconds] if seconds.parse::<u64>().is_ok() => {
                    (vec![t], seconds.parse().unwrap_or(60), Vec::new())
                }
                files => (vec![t], 0, files.to_vec()),
            }
        }
    };
    if !files.is_empty() {
        let t = targets[0];
        for file in &files {
            let input = match std::fs::read(file) {
                Ok(input) => input,
                Err(e) => {
                    eprintln!("read {file}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let accepted = (t.run)(&input);
            println!("{file}: no failure (accepted: {accepted})");
        }
        return ExitCode::SUCCESS;
    }
    let mut failed = false;
    for t in targets {
        match run(t, &fuzz_dir(), &budget(seconds)) {
            Ok(report) => println!("{report}"),
            Err(finding) => {
                eprintln!("{finding}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
