//! Health checks: the daemon runs a command in a container every so often
//! and calls the container `healthy` or `unhealthy` by its exit code.
//!
//! The check comes from the image (`HEALTHCHECK` of a Dockerfile, kept in
//! the image config) or from `docker run --health-cmd …`; inspect shows the
//! result as `State.Health`, `docker ps` as `Up 5 minutes (healthy)`, and
//! each change of status is an event (`health_status: healthy`).
//! docker-compose waits on it for `depends_on: condition: service_healthy`.
//!
//! This sits in the compat part: it is what real clients need, built on
//! what the lesson already taught (exec in a running container, events,
//! state kept on disk), with no new idea about how a daemon works.
//!
//! - [`check`]: the `Healthcheck` config, Docker's defaults, image merge;
//! - [`status`]: `starting` → `healthy` / `unhealthy`, the last 5 results;
//! - [`monitor`]: the thread that probes one running container.

pub mod check;
pub mod monitor;
pub mod status;

pub use check::{Healthcheck, Probe};
pub use monitor::{Monitor, SharedHealth, Target};
pub use status::Health;

/// The `Healthcheck` of an image config (`config.Healthcheck` of the
/// config blob), if it has one. oci-spec's config type has no such field,
/// so it is read from the blob's JSON.
pub fn of_image_config(blob: &[u8]) -> Option<Healthcheck> {
    let config: serde_json::Value = serde_json::from_slice(blob).ok()?;
    let check = config.get("config")?.get("Healthcheck")?;
    serde_json::from_value(check.clone()).ok()
}
