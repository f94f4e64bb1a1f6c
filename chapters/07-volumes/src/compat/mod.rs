//! The compat part: what Docker's clients need on top of the lesson.
//!
//! - [`api`]: volumes and errors in the Engine API's shapes, the filters of
//!   `volume ls` and `volume prune`, `UsageData` for `system df`;
//! - [`plan`]: every way a create request can ask for a mount (`Binds`,
//!   `Mounts`, `Tmpfs`, `VolumesFrom`, `Config.Volumes`, the image's
//!   `VOLUME`) turned into binds, tmpfs mounts and inspect's `Mounts`;
//! - [`service`]: [`LocalVolumes`], chapter 05's `VolumeService` over the
//!   lesson's store, which `minidockd` plugs into the daemon.

pub mod api;
pub mod plan;
pub mod service;

pub use service::LocalVolumes;
