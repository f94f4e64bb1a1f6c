//! The client's calls for volumes, `system df` and `rm -v`.

use super::{flag, query, Client, ClientError};
use minidock_daemon::query::Filters;
use minidock_daemon::types::{
    SystemDfResponse, Volume, VolumeCreateBody, VolumeListResponse, VolumePruneResponse,
};

impl Client {
    /// `GET /volumes?filters=`.
    pub fn volumes(&self, filters: &Filters) -> Result<VolumeListResponse, ClientError> {
        let q = query(&[("filters", (!filters.is_empty()).then(|| filters.to_json()))]);
        self.get(&format!("/volumes{q}"), "the volume list")
    }

    /// `POST /volumes/create`.
    pub fn volume_create(&self, body: &VolumeCreateBody) -> Result<Volume, ClientError> {
        self.post_json("/volumes/create", body, "the new volume")
    }

    /// `GET /volumes/{name}`.
    pub fn volume_inspect(&self, name: &str) -> Result<Volume, ClientError> {
        self.get(&format!("/volumes/{name}"), "the volume")
    }

    /// `DELETE /volumes/{name}?force=`.
    pub fn volume_remove(&self, name: &str, force: bool) -> Result<(), ClientError> {
        let q = query(&[("force", flag(force))]);
        self.delete(&format!("/volumes/{name}{q}"))
    }

    /// `POST /volumes/prune?filters=`.
    pub fn volumes_prune(&self, filters: &Filters) -> Result<VolumePruneResponse, ClientError> {
        self.prune("/volumes/prune", filters, "the pruned volumes")
    }

    /// `GET /system/df`.
    pub fn system_df(&self) -> Result<SystemDfResponse, ClientError> {
        self.get("/system/df", "the disk usage")
    }

    /// `DELETE /containers/{id}?force=&v=`: `v` removes its anonymous
    /// volumes too.
    pub fn container_remove_with_volumes(
        &self,
        id: &str,
        force: bool,
        volumes: bool,
    ) -> Result<(), ClientError> {
        let q = query(&[("force", flag(force)), ("v", flag(volumes))]);
        self.delete(&format!("/containers/{id}{q}"))
    }
}
