//! Every fuzz target, for a fixed budget: its regressions and seed corpus
//! replayed, then mutants for `MINIDOCK_FUZZ_SECONDS` (default 8) each.
//! The targets run side by side, as the test harness runs tests.
//!
//! The mutants come from a fixed seed (`MINIDOCK_FUZZ_SEED`, default 1), so
//! a run is repeatable up to how many mutants fit in the time; a failing
//! input is saved under `target/tmp/fuzz-findings/` and printed.

use minidock_fuzz::runner::{run, Budget};
use minidock_fuzz::{fuzz_dir, target, TARGETS};
use std::time::Duration;

fn budget() -> Budget {
    let number = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number"))
            })
            .unwrap_or(default)
    };
    Budget {
        time: Duration::from_secs(number("MINIDOCK_FUZZ_SECONDS", 8)),
        seed: number("MINIDOCK_FUZZ_SEED", 1),
        max_len: 4096,
        // Unoptimised and on a busy machine: 5 s is still thousands of
        // times what any of these parsers needs for 4 KiB.
        slow: Duration::from_secs(5),
        findings: std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-findings"),
    }
}

fn fuzz(name: &str) {
    let t = target(name).unwrap_or_else(|| panic!("no fuzz target {name}"));
    match run(t, &fuzz_dir(), &budget()) {
        Ok(report) => {
            assert!(report.mutants > 0, "{report}: no mutant ran");
            println!("{report}");
        }
        Err(finding) => panic!("{finding}"),
    }
}

#[test]
fn every_target_is_run_here_and_has_a_corpus() {
    let here = include_str!("fuzz.rs");
    for t in TARGETS {
        assert!(
            here.contains(&format!("fn {}() {{", t.name)),
            "fuzz target {} has no test in fuzz/tests/fuzz.rs",
            t.name
        );
        let corpus = fuzz_dir().join("corpus").join(t.name);
        assert!(
            minidock_fuzz::runner::inputs_in(&corpus).len() >= 2,
            "fuzz target {} needs a seed corpus in {}",
            t.name,
            corpus.display()
        );
        let entry = fuzz_dir()
            .join("fuzz_targets")
            .join(format!("{}.rs", t.name));
        assert!(
            entry.exists(),
            "fuzz target {} has no libFuzzer entry point {}",
            t.name,
            entry.display()
        );
    }
}

#[test]
fn reference() {
    fuzz("reference");
}

#[test]
fn layer_tar() {
    fuzz("layer_tar");
}

#[test]
fn manifest() {
    fuzz("manifest");
}

#[test]
fn dockerfile() {
    fuzz("dockerfile");
}

#[test]
fn dockerignore() {
    fuzz("dockerignore");
}

#[test]
fn api_query() {
    fuzz("api_query");
}

#[test]
fn api_json() {
    fuzz("api_json");
}

#[test]
fn frames() {
    fuzz("frames");
}

#[test]
fn template() {
    fuzz("template");
}
