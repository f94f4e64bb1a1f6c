//! What real clients need from the daemon that the chapter's lesson does not
//! walk through: [`update`] (`docker update`), [`host_config`] (inspect's
//! `HostConfig` with every key dockerd shows).

pub mod host_config;
pub mod update;
