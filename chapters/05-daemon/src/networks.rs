//! The network service: `/networks`, and what a container's life needs
//! from the network.
//!
//! The daemon does not know how networks are made: that is chapter 06. It
//! defines this trait, and the `minidockd` binary plugs chapter 06's
//! driver in (see [`crate::engine::Plugins`]). A daemon without one serves
//! containers with `--network none` or `host` only, as before.

use crate::compat::types::*;
use crate::error::ApiResult;
use crate::query::Filters;
use std::path::PathBuf;

// ANCHOR: network_service
/// A container, as the network service needs to know it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerRef {
    /// Its full id.
    pub id: String,
    /// Its name, without the leading `/`.
    pub name: String,
    /// Its hostname.
    pub hostname: String,
    /// Whether its process runs.
    pub running: bool,
}

/// What the container's start needs from the network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSetup {
    /// The network namespace to join instead of a new one.
    pub netns: Option<PathBuf>,
    /// Files to bind-mount: host path, path in the container.
    pub files: Vec<(PathBuf, PathBuf)>,
}

/// Networks (chapter 06): the `/networks` endpoints, and a container's
/// wiring from its start to its removal.
pub trait NetworkService: Send + Sync + 'static {
    /// `GET /networks`.
    fn list(&self, filters: &Filters) -> ApiResult<Vec<NetworkResource>>;
    /// `GET /networks/{id}`: by id, unique id prefix or name.
    fn inspect(&self, id: &str) -> ApiResult<NetworkResource>;
    /// `POST /networks/create`.
    fn create(&self, request: NetworkCreateRequest) -> ApiResult<NetworkCreateResponse>;
    /// `DELETE /networks/{id}`.
    fn remove(&self, id: &str) -> ApiResult<()>;
    /// `POST /networks/{id}/connect`.
    fn connect(
        &self,
        network: &str,
        container: &ContainerRef,
        endpoint: EndpointSettings,
    ) -> ApiResult<()>;
    /// `POST /networks/{id}/disconnect`.
    fn disconnect(&self, network: &str, container: &ContainerRef, force: bool) -> ApiResult<()>;
    // ANCHOR_END: network_service
    // ANCHOR: network_service_rest
    /// `POST /networks/prune`.
    fn prune(&self, filters: &Filters) -> ApiResult<NetworkPruneResponse>;

    /// At create: whether the request's network settings can be honoured
    /// (the network exists, the ports parse), so that a bad one fails the
    /// create, not the start.
    fn check(&self, request: &ContainerCreateBody) -> ApiResult<()>;
    /// Before each start: wires the container (once; later starts reuse
    /// the wiring) and says what the start must join and mount. `None`
    /// when the request's network mode is not the service's (`host`,
    /// `none`, `container:…`).
    fn setup(
        &self,
        container: &ContainerRef,
        request: &ContainerCreateBody,
    ) -> ApiResult<Option<NetworkSetup>>;
    /// At removal: unwires the container and releases its addresses and
    /// ports. Nothing to do is no error.
    fn teardown(&self, container_id: &str) -> ApiResult<()>;
    /// When the container stops, or its start fails: gives its addresses,
    /// ports and links back, but remembers which networks it is on, so
    /// that its next start joins them again (as Docker does: a stopped
    /// container holds no address). Nothing to do is no error; a service
    /// that keeps its wiring from stop to start need not implement it.
    fn release(&self, container_id: &str) -> ApiResult<()> {
        let _ = container_id;
        Ok(())
    }
    /// For inspect and `ps`: the container's settings, if it is wired.
    fn settings(&self, container_id: &str) -> Option<NetworkSettings>;
    /// At daemon start: unwires what belongs to no container in `existing`
    /// (a crash between setup and removal).
    fn reconcile(&self, existing: &[ContainerRef]);
    /// Legacy links (compat, see [`crate::compat::links`]): a link's target
    /// started again, so the running container `container_id` that links
    /// to it gets these `--add-host` entries (its own and its links') in
    /// its `/etc/hosts` now. Nothing to do when it is not wired.
    fn update_extra_hosts(&self, container_id: &str, extra_hosts: &[String]) -> ApiResult<()> {
        let _ = (container_id, extra_hosts);
        Ok(())
    }
    /// For `stats`: bytes received and sent by each of the container's
    /// interfaces (not `lo`), if it is wired.
    fn interface_counters(&self, container_id: &str) -> Option<Vec<(String, u64, u64)>> {
        let _ = container_id;
        None
    }
}
// ANCHOR_END: network_service_rest
