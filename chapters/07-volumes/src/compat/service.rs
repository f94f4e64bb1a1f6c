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
use minidock_daemon::volumes::{
    ContainerMounts, MountRequest, UsersOf, VolumeService, VolumeUsers,
};
use minidock_daemon::ApiResult;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// The `local` volumes of one state root, as the daemon's volume service.
#[derive(Debug)]
pub struct LocalVolumes {
    store: VolumeStore,
    /// Serialises what checks and then changes (remove after the in-use
    /// check, prune, a create's plan): two requests must not interleave.
    /// It guards the volumes held by creates in progress: planned, their
    /// container not recorded yet (volume name → how many creates).
    lock: Mutex<BTreeMap<String, usize>>,
}

/// How a create in progress shows among a volume's users.
const BEING_CREATED: &str = "(a container being created)";

impl LocalVolumes {
    /// Opens the volumes under `root` (see [`VolumeStore::open`]).
    pub fn open(root: &Path) -> crate::Result<LocalVolumes> {
        Ok(LocalVolumes {
            store: VolumeStore::open(root)?,
            lock: Mutex::new(BTreeMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, usize>> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The users the daemon knows of, and the creates in progress: asked for
/// under the lock, so no plan comes between the answer and its use.
fn users_with_held(users: UsersOf<'_>, held: &BTreeMap<String, usize>) -> VolumeUsers {
    let mut all = users();
    for name in held.keys() {
        all.entry(name.clone())
            .or_default()
            .push(BEING_CREATED.to_string());
    }
    all
}

/// The names of the volumes among a container's mounts.
fn volume_names(mounts: &ContainerMounts) -> impl Iterator<Item = &String> {
    mounts
        .points
        .iter()
        .filter(|p| p.kind == "volume")
        .filter_map(|p| p.name.as_ref())
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

    fn remove(&self, name: &str, force: bool, users: UsersOf<'_>) -> ApiResult<()> {
        let held = self.lock();
        match self.store.get(name) {
            Err(crate::Error::NotFound(_)) if force => return Ok(()),
            Err(err) => return Err(api_error(err)),
            Ok(_) => {}
        }
        check_unused(name, &users_with_held(users, &held)).map_err(api_error)?;
        self.store.remove(name).map_err(api_error)
    }

    fn prune(&self, filters: &Filters, users: UsersOf<'_>) -> ApiResult<VolumePruneResponse> {
        let all = prune_all(filters)?;
        let held = self.lock();
        let users = users_with_held(users, &held);
        let (volumes, _) = self.store.list();
        let mut response = VolumePruneResponse::default();
        for info in prunable(&volumes, &users, all) {
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

    // ANCHOR: settle
    fn plan(&self, request: &MountRequest) -> ApiResult<ContainerMounts> {
        let mut held = self.lock();
        let planned = plan(&self.store, request)?;
        for name in volume_names(&planned) {
            *held.entry(name.clone()).or_default() += 1;
        }
        Ok(planned)
    }

    fn settle(&self, mounts: &ContainerMounts) {
        let mut held = self.lock();
        for name in volume_names(mounts) {
            if let Some(count) = held.get_mut(name) {
                *count -= 1;
                if *count == 0 {
                    held.remove(name);
                }
            }
        }
    }
    // ANCHOR_END: settle

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
        users: UsersOf<'_>,
    ) -> ApiResult<Vec<String>> {
        let mut removed = Vec::new();
        if !remove_anonymous {
            return Ok(removed);
        }
        let held = self.lock();
        let users = users_with_held(users, &held);
        for name in points.iter().filter_map(|p| p.name.as_ref()) {
            match self.store.get(name) {
                Ok(info) if info.is_anonymous() && is_dangling(name, &users) => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use minidock_daemon::types::MountPoint;
    use minidock_daemon::ApiError;

    #[test]
    fn a_planned_volume_stays_until_its_container_is_recorded() {
        let root = tempfile::tempdir().unwrap();
        let volumes = LocalVolumes::open(root.path()).unwrap();
        let request = MountRequest {
            binds: vec!["data:/d".into(), "/e".into()],
            ..Default::default()
        };
        let planned = volumes.plan(&request).unwrap();
        let anonymous = planned.points[1].clone();
        // The create is between its plan and the record of its container:
        // the daemon's users do not know it yet.
        let nobody = VolumeUsers::new;
        match volumes.remove("data", false, &nobody) {
            Err(ApiError::Conflict(message)) => {
                assert!(message.contains(BEING_CREATED), "{message}")
            }
            other => panic!("removed under a create: {other:?}"),
        }
        let released = volumes
            .release(std::slice::from_ref(&anonymous), true, &nobody)
            .unwrap();
        assert!(released.is_empty());
        // Recorded: the users name it, and the plan lets go.
        let name = anonymous.name.clone().unwrap();
        let recorded = || {
            VolumeUsers::from([
                ("data".to_string(), vec!["c1".to_string()]),
                (name.clone(), vec!["c1".to_string()]),
            ])
        };
        volumes.settle(&planned);
        assert!(matches!(
            volumes.remove("data", false, &recorded),
            Err(ApiError::Conflict(_))
        ));
        // The container is gone: now both go.
        volumes.remove("data", false, &nobody).unwrap();
        let points: Vec<MountPoint> = vec![anonymous];
        assert_eq!(volumes.release(&points, true, &nobody).unwrap(), [name]);
        assert!(volumes.store.list().0.is_empty());
    }
}
