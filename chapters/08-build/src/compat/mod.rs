//! The compat part: what Docker's clients need beyond the lesson.
//!
//! - [`changes`]: `--change 'CMD ["x"]'` of `commit` and `import`;
//! - [`commit`]: a container's upper directory as a new image;
//! - [`export`]: a container's whole file system as a tar;
//! - [`daemon`]: chapter 05's `BuildService`, with the JSON stream shapes
//!   of the classic builder.

pub mod changes;
pub mod commit;
pub mod daemon;
pub mod export;
