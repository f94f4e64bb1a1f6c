//! # minidock — the working engine
//!
//! `final/` is thin on purpose: argument parsing, output formatting and the
//! wiring between the chapter crates. Every concept lives in the chapter that
//! teaches it. The two binaries are `minidock` (the client) and `minidockd`
//! (the daemon); both are filled by the issue for `final/`.
