//! What real clients need from the daemon that the chapter's lesson does not
//! walk through: [`update`] (`docker update`), [`host_config`] (inspect's
//! `HostConfig` with every key dockerd shows), [`defaults`] (what daemon.json
//! gives new containers), [`health`] (health checks: `State.Health`, the
//! `(healthy)` of `docker ps`, compose's `service_healthy`).

pub mod defaults;
pub mod health;
pub mod host_config;
pub mod update;
