//! The real services: the chapters before this one, behind the API.
//!
//! - [`images`]: chapter 02's store and chapter 04's registry client;
//! - [`containers`]: chapter 03's runtime, with a live [`session`] to every
//!   running container's shim, [`exec`] instances, and the restart policies
//!   the daemon applies when it starts ([`restart`]);
//! - [`progress`]: their pull and push progress in the API's shape (the
//!   rest of their types in the API's shapes is
//!   [`compat::convert`](crate::compat::convert)).
//!
//! The daemon never forks: containers are started by chapter 03's runtime,
//! which runs this same binary again as the shim (a fresh, single-threaded
//! process). That is why `minidockd` calls [`dispatch_reexec`] first thing.

pub mod containers;
pub mod copy_view;
pub mod exec;
mod expose;
mod gated_build;
pub mod host;
pub mod images;
mod kill;
mod names;
pub(crate) mod proc;
pub mod progress;
mod recovery;
pub mod restart;
pub mod session;
mod sweep;

use crate::builder::BuildService;
use crate::daemon::{DaemonConfig, DaemonError, Services};
use crate::events::Events;
use crate::networks::NetworkService;
use crate::volumes::VolumeService;
use containers::RuntimeContainers;
use images::StoreImages;
use minidock_lifecycle::{Runtime, RuntimeConfig};
use std::sync::Arc;

// ANCHOR: dispatch_reexec
/// Runs the shim, init or exec helper role when this process was started
/// as one (a hidden first argument), and never returns then. Call it first
/// in `main`, before any thread exists.
pub fn dispatch_reexec() {
    minidock_lifecycle::reexec::dispatch();
}
// ANCHOR_END: dispatch_reexec

/// Services of later chapters that the `minidockd` binary plugs into the
/// engine (the daemon must not depend on them).
#[derive(Default, Clone)]
pub struct Plugins {
    /// Networks (chapter 06); without it containers get `none` or `host`.
    pub networks: Option<Arc<dyn NetworkService>>,
    /// Volumes (chapter 07); without it containers get binds of host paths only.
    pub volumes: Option<Arc<dyn VolumeService>>,
    /// The image builder (chapter 08); without it `/build` and `/commit`
    /// answer 501.
    pub build: Option<Arc<dyn BuildService>>,
}

/// Builds the real services on the daemon's root: opens the stores, adopts
/// running containers and applies restart policies.
pub fn services(config: &DaemonConfig, events: &Events) -> Result<Services, DaemonError> {
    services_with(config, events, Plugins::default())
}

// ANCHOR: services_recover
/// [`services`] with the plugins of later chapters.
pub fn services_with(
    config: &DaemonConfig,
    events: &Events,
    plugins: Plugins,
) -> Result<Services, DaemonError> {
    let helper = std::env::current_exe()
        .map_err(|e| DaemonError::Engine(format!("cannot find the daemon's own binary: {e}")))?;
    let runtime = Runtime::new(RuntimeConfig {
        root: config.root.clone(),
        run_dir: config.run.clone(),
        helper_binary: helper,
        cgroup_parent: config.cgroup_parent.clone(),
    })
    .map_err(|e| DaemonError::Engine(e.to_string()))?;
    let tmp = config.root.join("tmp");
    if tmp.exists() {
        // Spool files of a daemon that died.
        std::fs::remove_dir_all(&tmp).map_err(|source| DaemonError::Directory {
            path: tmp.clone(),
            source,
        })?;
    }
    crate::daemon::secure_dir(&tmp, 0o700)?;
    recovery::recover(&runtime, events).map_err(DaemonError::Engine)?;
    // ANCHOR_END: services_recover
    // ANCHOR: services_wire
    let store = Arc::new(runtime.images().clone());
    let images = StoreImages::new(store, runtime.containers().clone(), events.clone(), tmp)
        .with_registry(config.registry.clone());
    let containers = RuntimeContainers::open(
        runtime,
        events.clone(),
        plugins.networks.clone(),
        plugins.volumes.clone(),
    )
    .map_err(|e| DaemonError::Engine(e.to_string()))?;
    let containers = Arc::new(containers);
    // A build writes to the image store (under the same gate as pulls) and
    // may leave containers (which the container service then lists).
    let build = plugins.build.map(|inner| {
        let gated = gated_build::GatedBuild::new(inner, images.write_gate(), containers.clone());
        Arc::new(gated) as Arc<dyn BuildService>
    });
    Ok(Services {
        images: Arc::new(images),
        containers,
        host: Arc::new(host::ProcHost),
        networks: plugins.networks,
        volumes: plugins.volumes,
        build,
    })
}
// ANCHOR_END: services_wire

/// Runs the daemon with the real services until SIGTERM or SIGINT.
pub fn run(config: &DaemonConfig) -> Result<(), DaemonError> {
    crate::daemon::run(config, services)
}

/// Runs the daemon with the real services and the plugins that `plugins`
/// builds (once the root is locked, given the event bus).
pub fn run_with(
    config: &DaemonConfig,
    plugins: impl FnOnce(&DaemonConfig, &Events) -> Result<Plugins, DaemonError>,
) -> Result<(), DaemonError> {
    crate::daemon::run(config, |config, events| {
        let plugins = plugins(config, events)?;
        services_with(config, events, plugins)
    })
}
