//! Empty on purpose: Cargo builds `[build-dependencies]` only for a package with a build script,
//! and this package exists for those dependencies' features (see Cargo.toml).

fn main() {}
