//! What real clients need from the daemon that the chapter's lesson does not
//! walk through: [`update`] (`docker update`), [`host_config`] (inspect's
//! `HostConfig` with every key dockerd shows), [`defaults`] (what daemon.json
//! gives new containers), [`log_config`] (log drivers and their options).

pub mod defaults;
pub mod host_config;
pub mod log_config;
pub mod update;
