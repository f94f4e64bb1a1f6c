//! The `/networks` endpoints, client side.

use super::{query, Client, ClientError};
use minidock_daemon::query::Filters;
use minidock_daemon::types::*;

impl Client {
    /// `GET /networks`.
    pub fn networks(&self, filters: &Filters) -> Result<Vec<NetworkResource>, ClientError> {
        let q = query(&[("filters", (!filters.is_empty()).then(|| filters.to_json()))]);
        self.get(&format!("/networks{q}"), "the network list")
    }

    /// `GET /networks/{id}`.
    pub fn network_inspect(&self, id: &str) -> Result<NetworkResource, ClientError> {
        self.get(&format!("/networks/{id}"), "the network")
    }

    /// `POST /networks/create`.
    pub fn network_create(
        &self,
        request: &NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, ClientError> {
        self.post_json("/networks/create", request, "the created network")
    }

    /// `DELETE /networks/{id}`.
    pub fn network_remove(&self, id: &str) -> Result<(), ClientError> {
        self.delete(&format!("/networks/{id}"))
    }

    /// `POST /networks/{id}/connect`.
    pub fn network_connect(
        &self,
        id: &str,
        request: &NetworkConnectRequest,
    ) -> Result<(), ClientError> {
        self.post_json_empty(&format!("/networks/{id}/connect"), request)
    }

    /// `POST /networks/{id}/disconnect`.
    pub fn network_disconnect(
        &self,
        id: &str,
        request: &NetworkDisconnectRequest,
    ) -> Result<(), ClientError> {
        self.post_json_empty(&format!("/networks/{id}/disconnect"), request)
    }

    /// `POST /networks/prune`.
    pub fn networks_prune(&self, filters: &Filters) -> Result<NetworkPruneResponse, ClientError> {
        self.prune("/networks/prune", filters, "the pruned networks")
    }
}
