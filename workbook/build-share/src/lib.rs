//! No code: this crate only makes the workbook and chapter 01 ask Cargo for the same features of
//! the dependencies they share, so a learner's first `cargo workbook check 1` compiles each of
//! them once instead of twice. Its `Cargo.toml` says which and why.
