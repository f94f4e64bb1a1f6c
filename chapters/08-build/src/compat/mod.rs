//! The compat part: what Docker's clients need beyond the lesson.
//!
//! - [`changes`]: `--change 'CMD ["x"]'` of `commit` and `import`;
//! - [`commit`]: a container's upper directory as a new image;
//! - [`export`]: a container's whole file system as a tar;
//! - [`daemon`]: chapter 05's `BuildService`, with the JSON stream shapes
//!   of the classic builder;
//! - [`network`]: the daemon's default network for RUN containers;
//! - [`platform`]: `FROM --platform` and `$TARGETARCH` and kin;
//! - [`run_mount`]: `RUN --mount=type=cache|bind|tmpfs`;
//! - [`usage`]: the cache's size for `system df`, and `builder prune`.

pub mod changes;
pub mod commit;
pub mod daemon;
pub mod export;
pub mod network;
pub mod platform;
pub mod run_mount;
pub mod usage;
