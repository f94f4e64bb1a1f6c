//! What real clients need from the daemon that the chapter's lesson does not
//! walk through: [`types`] (the JSON shapes of the API subset, field by
//! field), [`convert`] (between chapter 03's container model and those
//! shapes), [`unsupported`] (the settings a client may send that minidock
//! refuses by name), [`image_shapes`] (images as `docker images` and
//! `docker image inspect` show them), [`top`] and [`stats`] (`docker top`,
//! `docker stats`), [`disk`] (the sizes of `docker ps -s` and `system df`),
//! [`update`] (`docker update`), [`host_config`] (inspect's
//! `HostConfig` with every key dockerd shows), [`defaults`] (what daemon.json
//! gives new containers), [`health`] (health checks: `State.Health`, the
//! `(healthy)` of `docker ps`, compose's `service_healthy`), [`log_config`]
//! (log drivers and their options), [`warnings`] (what create accepts,
//! drops and reports, as dockerd does), [`links`] (Docker's legacy
//! `--link`).

pub mod convert;
pub mod defaults;
pub mod disk;
pub mod health;
pub mod host_config;
pub mod image_shapes;
pub mod links;
pub mod log_config;
pub mod stats;
pub mod top;
pub mod types;
pub mod unsupported;
pub mod update;
pub mod warnings;
