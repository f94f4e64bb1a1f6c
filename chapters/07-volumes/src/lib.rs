//! # Chapter 07 — volumes: data that outlives its container
//!
//! A container's writable layer is its overlay's upper directory, and `rm`
//! deletes it. Volumes are directories the engine keeps *beside* the
//! containers (`ROOT/volumes/<name>/_data`) and bind-mounts into them, so a
//! database's files survive the container that wrote them.
//!
//! The lesson, in reading order:
//!
//! - [`name`]: which names a volume may have, and why they can never leave
//!   the volumes directory;
//! - [`store`]: the `local` driver: create, list, inspect, remove, with
//!   labels and driver options (`type=tmpfs`, `o=bind`);
//! - [`mountspec`]: `-v name:/path:ro`, `-v /path`, `--mount type=…`,
//!   `--tmpfs /path:size=…`, parsed into one [`mountspec::MountSpec`];
//! - [`copyup`]: a fresh volume over an image directory first gets that
//!   directory's content, owners and modes — never through a symlink;
//! - [`usage`]: which containers use a volume: the in-use check of `rm`,
//!   `dangling`, what `prune` may take;
//! - [`active`]: a tmpfs volume exists only while containers run with it:
//!   the first start mounts it, the last stop unmounts it.
//!
//! [`error`] holds the errors of all of them.
//!
//! The compat part ([`compat`]) is what Docker's clients need on top: the
//! API's shapes and filters, `UsageData` for `system df`, and the
//! [`compat::LocalVolumes`] service that chapter 05's daemon is given.

pub mod active;
pub mod compat;
pub mod copyup;
pub mod error;
pub mod mountspec;
pub mod name;
pub mod store;
pub mod usage;

pub use error::{Error, Result};
pub use store::{VolumeInfo, VolumeStore};
