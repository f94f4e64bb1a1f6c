//! The real services: the chapters before this one, behind the API.
//!
//! - [`images`]: chapter 02's store and chapter 04's registry client;
//! - [`containers`]: chapter 03's runtime, with a live [`session`] to every
//!   running container's shim, [`exec`] instances, and the restart policies
//!   the daemon applies when it starts ([`restart`]);
//! - [`convert`] and [`progress`]: their types in the API's shapes.
//!
//! The daemon never forks: containers are started by chapter 03's runtime,
//! which runs this same binary again as the shim (a fresh, single-threaded
//! process). That is why `minidockd` calls [`dispatch_reexec`] first thing.

pub mod containers;
pub mod convert;
pub mod disk;
pub mod exec;
pub mod images;
mod kill;
mod names;
pub mod progress;
mod recovery;
pub mod restart;
pub mod session;
mod sweep;
pub mod top;
pub mod unsupported;

use crate::daemon::{DaemonConfig, DaemonError, Services};
use crate::events::Events;
use containers::RuntimeContainers;
use images::StoreImages;
use minidock_lifecycle::{Runtime, RuntimeConfig};
use std::sync::Arc;

/// The cgroup under which every container's cgroup is made, unless
/// `--cgroup-parent` says otherwise.
pub const CGROUP_PARENT: &str = "minidock";

/// Runs the shim, init or exec helper role when this process was started
/// as one (a hidden first argument), and never returns then. Call it first
/// in `main`, before any thread exists.
pub fn dispatch_reexec() {
    minidock_lifecycle::reexec::dispatch();
}

/// Builds the real services on the daemon's root: opens the stores, adopts
/// running containers and applies restart policies.
pub fn services(config: &DaemonConfig, events: &Events) -> Result<Services, DaemonError> {
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
    let store = Arc::new(runtime.images().clone());
    let images = StoreImages::new(store, runtime.containers().clone(), events.clone(), tmp);
    let containers = RuntimeContainers::open(runtime, events.clone())
        .map_err(|e| DaemonError::Engine(e.to_string()))?;
    Ok(Services {
        images: Arc::new(images),
        containers: Arc::new(containers),
    })
}

/// Runs the daemon with the real services until SIGTERM or SIGINT.
pub fn run(config: &DaemonConfig) -> Result<(), DaemonError> {
    crate::daemon::run(config, services)
}
