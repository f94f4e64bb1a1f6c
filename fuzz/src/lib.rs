//! Fuzzing of the parsers that read what someone else wrote.
//!
//! An image reference comes from a command line or a Dockerfile, a layer
//! and a manifest from a registry, a Dockerfile and its `.dockerignore`
//! from a build context, query strings and JSON bodies from any client of
//! the API, framed streams from the other end of a connection, a template
//! from `inspect -f`. Each [`targets`] function feeds such bytes to one
//! parser and checks what must hold whatever the bytes: no panic, no
//! answer that takes exponential time, round trips that round-trip, and
//! for layers, nothing written outside the layer.
//!
//! Two engines run the same targets:
//!
//! - [`runner`], on the stable toolchain, in the workspace's own build:
//!   each target's seed corpus (`fuzz/corpus/TARGET/`) and every input
//!   that once failed (`fuzz/regressions/TARGET/`) are replayed, then
//!   mutated ([`mutate`]) for a fixed time budget. `cargo test -p
//!   minidock-fuzz` runs it for every target (CI does); the
//!   `minidock-fuzz` binary runs one for longer.
//! - libFuzzer through `cargo fuzz` (coverage-guided, deeper, nightly or
//!   `RUSTC_BOOTSTRAP=1`): `fuzz_targets/` holds one entry point per
//!   target. See `fuzz/README.md`.

pub mod mutate;
pub mod runner;
pub mod targets;

/// One fuzz target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Its name: the directory of its corpus and regressions.
    pub name: &'static str,
    /// What it feeds the bytes to.
    pub what: &'static str,
    /// Runs one input. Returns whether the parser accepted it (accepted
    /// inputs are mutated further); panics when a property does not hold.
    pub run: fn(&[u8]) -> bool,
    /// Tokens the mutator inserts (the syntax of the format).
    pub dictionary: &'static [&'static [u8]],
    /// Whether it needs root (unpacking layers makes device nodes and
    /// files of any owner).
    pub needs_root: bool,
    /// How long one input may take at least, whatever the runner's limit:
    /// a target that writes to disk waits for it, seconds on a busy
    /// machine, where a parser's time is all its own.
    pub slow_at_least: std::time::Duration,
}

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    targets::REFERENCE,
    targets::LAYER_TAR,
    targets::MANIFEST,
    targets::DOCKERFILE,
    targets::DOCKERIGNORE,
    targets::API_QUERY,
    targets::API_JSON,
    targets::FRAMES,
    targets::TEMPLATE,
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// `fuzz/` in the source tree: where the corpora and regressions are.
pub fn fuzz_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
