//! [`LocalVolumes`]: the daemon's volume service, over the lesson's store.

use super::api::{api_error, list_matches, prune_all, prune_matches, volume};
use super::plan::{check_destinations, plan};
use crate::copyup::copy_up;
use crate::store::VolumeStore;
use crate::usage::{check_unused, is_dangling, prunable, users_of};
use minidock_daemon::engine::disk::tree_size;
use minidock_daemon::query::Filters;
use minidock_daemon::types::{
    MountPoint, Volume, VolumeCreateBody, VolumeListResponse, VolumePruneResponse, VolumeUsageData,
};
use minidock_daemon::volumes::{ContainerMounts, MountRequest, VolumeService, VolumeUsers};
use minidock_daemon::ApiResult;
use std::path::Path;
use std::sync::Mutex;

/// The `local` volumes of one state root, as the daemon's volume service.
#[derive(Debug)]
pub struct LocalVolumes {
    store: VolumeStore,
    /// Serialises what checks and then changes (remove after the in-use
    /// check, prune, a create's plan): two requests must not interleave.
    lock: Mutex<()>,
}

impl LocalVolumes {
    /// Opens the volumes under `root` (see [`VolumeStore::open`]).
    pub fn open(root: &Path) -> crate::Result<LocalVolumes> {
        Ok(LocalVolumes {
            store: VolumeStore::open(root)?,
            lock: Mutex::new(()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl VolumeService for LocalVolumes {
    fn list(&self, filters: &Filters, users: &VolumeUsers) -> ApiResult<VolumeListResponse> {
        let (all, warnings) = self.store.list();
        let mut volumes = Vec::new();
        for info in &all {
            if list_matches(filters, info, users)? {
                volumes.push(volume(info));
            }
        }
        Ok(VolumeListResponse { volumes, warnings })
    }

    fn create(&self, body: VolumeCreateBody) -> ApiResult<Volume> {
        let _lock = self.lock();
        let name = if body.name.is_empty() {
            crate::name::anonymous()
        } else {
            body.name
        };
        let (info, _) = self
            .store
            .create(&name, &body.driver, body.driver_opts, body.labels)
            .map_err(api_error)?;
        Ok(volume(&info))
    }

    fn inspect(&self, name: &str) -> ApiResult<Volume> {
        self.store.get(name).map(|v| volume(&v)).map_err(api_error)
    }

    fn remove(&self, name: &str, force: bool, users: &VolumeUsers) -> ApiResult<()> {
        let _lock = self.lock();
        match self.store.get(name) {
            Err(crate::Error::NotFound(_)) if force => return Ok(()),
            Err(err) => return Err(api_error(err)),
            Ok(_) => {}
        }
        check_unused(name, users).map_err(api_error)?;
        self.store.remove(name).map_err(api_error)
    }

    fn prune(&self, filters: &Filters, users: &VolumeUsers) -> ApiResult<VolumePruneResponse> {
        let all = prune_all(filters)?;
        let _lock = self.lock();
        let (volumes, _) = self.store.list();
        let mut response = VolumePruneResponse::default();
        for info in prunable(&volumes, users, all) {
            if !prune_matches(filters, info) {
                continue;
            }
            let size = tree_size(&info.mountpoint);
            match self.store.remove(&info.name) {
                Ok(()) => {
                    response
                        .volumes_deleted
                        .get_or_insert_with(Vec::new)
                        .push(info.name.clone());
                    response.space_reclaimed += size;
                }
                Err(crate::Error::NotFound(_)) => {}
                Err(err) => return Err(api_error(err)),
            }
        }
        Ok(response)
    }

    fn usage(&self, users: &VolumeUsers) -> ApiResult<Vec<Volume>> {
        let (volumes, _) = self.store.list();
        Ok(volumes
            .iter()
            .map(|info| Volume {
                usage_data: Some(VolumeUsageData {
                    size: tree_size(&info.source()) as i64,
                    ref_count: users_of(&info.name, users).len() as i64,
                }),
                ..volume(info)
            })
            .collect())
    }

    fn plan(&self, request: &MountRequest) -> ApiResult<ContainerMounts> {
        let _lock = self.lock();
        plan(&self.store, request)
    }

    fn populate(&self, rootfs: &Path, mounts: &ContainerMounts) -> ApiResult<()> {
        // Two creates over one fresh volume must not both copy into it.
        let _lock = self.lock();
        check_destinations(rootfs, &mounts.points)?;
        for point in &mounts.points {
            let Some(name) = point.name.as_ref().filter(|n| mounts.copy_up.contains(n)) else {
                continue;
            };
            let info = self.store.get(name).map_err(api_error)?;
            copy_up(rootfs, Path::new(&point.destination), &info.source()).map_err(api_error)?;
        }
        Ok(())
    }

    fn release(
        &self,
        points: &[MountPoint],
        remove_anonymous: bool,
        users: &VolumeUsers,
    ) -> ApiResult<Vec<String>> {
        let mut removed = Vec::new();
        if !remove_anonymous {
            return Ok(removed);
        }
        let _lock = self.lock();
        for name in points.iter().filter_map(|p| p.name.as_ref()) {
            match self.store.get(name) {
                Ok(info) if info.is_anonymous() && is_dangling(name, users) => {
                    self.store.remove(name).map_err(api_error)?;
                    removed.push(name.clone());
                }
                Ok(_) | Err(crate::Error::NotFound(_)) => {}
                Err(err) => return Err(api_error(err)),
            }
        }
        Ok(removed)
    }
}
