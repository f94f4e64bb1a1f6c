//! Networking for RUN steps: a RUN container joins the default bridge, as
//! the classic builder's do (`RUN apk add …` needs to reach a mirror).
//!
//! The network is the daemon's (chapter 06, behind chapter 05's
//! [`NetworkService`] trait): the builder gets the same service the
//! daemon's containers use, asks it to wire the step's container before
//! its start, and unwires it when the step ends. Without a service (a
//! builder outside the daemon, as in this chapter's tests) a RUN has only
//! its own loopback.

use std::fmt;
use std::sync::Arc;

use minidock_daemon::networks::{ContainerRef, NetworkService};
use minidock_daemon::types::ContainerCreateBody;
use minidock_lifecycle::config::Bind;
use minidock_lifecycle::{ContainerId, Runtime};

use crate::error::{Error, Result};

/// The network service RUN containers are wired with.
#[derive(Clone)]
pub struct RunNetwork(pub Arc<dyn NetworkService>);

impl fmt::Debug for RunNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RunNetwork")
    }
}

/// A RUN container's wiring; dropping it unwires the container (and
/// forgets the namespace and files in its config, so that a kept
/// intermediate container does not point at a namespace that is gone).
pub(crate) struct Wired<'a> {
    network: &'a RunNetwork,
    runtime: &'a Runtime,
    id: ContainerId,
}

impl Drop for Wired<'_> {
    fn drop(&mut self) {
        if let Err(err) = self.network.0.teardown(self.id.as_str()) {
            eprintln!(
                "minidockd: unwiring build container {}: {err}",
                self.id.short()
            );
        }
        self.runtime
            .containers()
            .update(&self.id, |c| {
                c.host_config.netns = None;
                c.host_config.etc_files.clear();
            })
            .ok();
    }
}

// ANCHOR: wire
/// Wires the created container `id` to the default network, recording
/// the namespace to join and the files to mount in its config (its shim
/// reads them at start).
pub(crate) fn wire<'a>(
    network: &'a RunNetwork,
    runtime: &'a Runtime,
    id: &ContainerId,
) -> Result<Option<Wired<'a>>> {
    let container = runtime.containers().container(id)?;
    let reference = ContainerRef {
        id: id.to_string(),
        name: container.name.clone(),
        hostname: id.short().to_string(),
        running: false,
    };
    let mut request = ContainerCreateBody::default();
    request.host_config.network_mode = Some("default".into());
    let setup = network
        .0
        .setup(&reference, &request)
        .map_err(|e| Error::Network(e.to_string()))?;
    let Some(setup) = setup else {
        return Ok(None);
    };
    let wired = Wired {
        network,
        runtime,
        id: id.clone(),
    };
    let files: Vec<Bind> = setup
        .files
        .iter()
        .map(|(source, destination)| Bind {
            source: source.clone(),
            destination: destination.clone(),
            read_only: false,
            propagation: Default::default(),
        })
        .collect();
    runtime.containers().update(id, |c| {
        c.host_config.netns = setup.netns.clone();
        c.host_config.etc_files = files;
    })?;
    Ok(Some(wired))
}
// ANCHOR_END: wire
