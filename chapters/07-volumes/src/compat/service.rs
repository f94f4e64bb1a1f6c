//! [`LocalVolumes`]: the daemon's volume service, over the lesson's store.

use super::api::{api_error, list_matches, prune_all, prune_matches, volume};
use super::plan::{check_destinations, plan};
use crate::active::Active;
use crate::copyup::copy_up;
use crate::store::VolumeStore;
use crate::usage::{check_unused, is_dangling, prunable, users_of};
use minidock_daemon::compat::disk::tree_size;
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
    /// check, prune, a create's plan, a start's mount): two requests must
    /// not interleave.
    lock: Mutex<State>,
}

/// What the service's lock guards.
#[derive(Debug, Default)]
struct State {
    /// The volumes held by creates in progress: planned, their container
    /// not recorded yet (volume name → how many creates).
    held: BTreeMap<String, usize>,
    /// The running users of the volumes mounted per use (tmpfs volumes).
    active: Active,
}

/// How a create in progress shows among a volume's users.
const BEING_CREATED: &str = "(a container being created)";

impl LocalVolumes {
    /// Opens the volumes under `root` (see [`VolumeStore::open`]).
    pub fn open(root: &Path) -> crate::Result<LocalVolumes> {
        Ok(LocalVolumes {
            store: VolumeStore::open(root)?,
            lock: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends `container`'s use of the per-use volumes among `names`,
    /// unmounting those it was the last user of.
    fn end_use<'a>(
        &self,
        state: &mut State,
        container: &str,
        names: impl Iterator<Item = &'a String>,
    ) -> crate::Result<()> {
        let mut first_error = None;
        for name in names {
            if !state.active.deactivate(name, container) {
                continue;
            }
            let unmounted = match self.store.get(name) {
                Ok(info) => self.store.unmount(&info),
                // removed meanwhile: its tmpfs went with it
                Err(crate::Error::NotFound(_)) => Ok(()),
                Err(err) => Err(err),
            };
            if let Err(err) = unmounted {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The users the daemon knows of, the creates in progress and the running
/// users of tmpfs volumes: asked for under the lock, so no plan comes
/// between the answer and its use.
fn users_with_held(users: UsersOf<'_>, state: &State) -> VolumeUsers {
    let mut all = users();
    for name in state.held.keys() {
        all.entry(name.clone())
            .or_default()
            .push(BEING_CREATED.to_string());
    }
    for name in state.active.volumes() {
        let ids = all.entry(name.clone()).or_default();
        for id in state.active.users(name) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    all
}

/// The names of the volumes among a container's mounts.
fn volume_names(points: &[MountPoint]) -> impl Iterator<Item = &String> {
    points
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
        let mut state = self.lock();
        let planned = plan(&self.store, request)?;
        for name in volume_names(&planned.points) {
            *state.held.entry(name.clone()).or_default() += 1;
        }
        Ok(planned)
    }

    fn settle(&self, mounts: &ContainerMounts) {
        let mut state = self.lock();
        for name in volume_names(&mounts.points) {
            if let Some(count) = state.held.get_mut(name) {
                *count -= 1;
                if *count == 0 {
                    state.held.remove(name);
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
            // A tmpfs volume no running container uses is not mounted:
            // copied into now, the content would be lost at the first
            // mount (Docker's local driver mounts, copies and unmounts:
            // the same). Never write it into the directory below.
            if !VolumeStore::is_present(&info) {
                continue;
            }
            copy_up(rootfs, Path::new(&point.destination), &info.source()).map_err(api_error)?;
        }
        Ok(())
    }

    // ANCHOR: activate
    fn activate(&self, container: &str, points: &[MountPoint]) -> ApiResult<()> {
        let mut state = self.lock();
        let mut counted: Vec<String> = Vec::new();
        for name in volume_names(points) {
            let mounted = self.store.get(name).and_then(|info| {
                if !VolumeStore::mounted_per_use(&info) {
                    return Ok(false);
                }
                state.active.activate(name, container);
                counted.push(name.clone());
                // mounts only if no running user mounted it already
                self.store.mount(&info).map(|()| true)
            });
            if let Err(err) = mounted {
                // a start that cannot have all its volumes uses none
                self.end_use(&mut state, container, counted.iter()).ok();
                return Err(api_error(err));
            }
        }
        Ok(())
    }

    fn deactivate(&self, container: &str, points: &[MountPoint]) -> ApiResult<()> {
        let mut state = self.lock();
        self.end_use(&mut state, container, volume_names(points))
            .map_err(api_error)
    }
    // ANCHOR_END: activate

    fn adopt(&self, running: &[(String, Vec<MountPoint>)]) -> ApiResult<()> {
        let mut state = self.lock();
        let mut first_error = None;
        for (container, points) in running {
            for name in volume_names(points) {
                match self.store.get(name) {
                    Ok(info) if VolumeStore::mounted_per_use(&info) => {
                        state.active.adopt(name, container);
                        // still mounted from before the restart: kept as
                        // it is; mounted afresh only if it went away
                        if let Err(err) = self.store.mount(&info) {
                            first_error.get_or_insert(err);
                        }
                    }
                    Ok(_) | Err(crate::Error::NotFound(_)) => {}
                    Err(err) => {
                        first_error.get_or_insert(err);
                    }
                }
            }
        }
        // A tmpfs whose last user stopped while no daemon was there to see
        // it: its data is gone now, as if the daemon had seen the stop.
        let (volumes, _) = self.store.list();
        for info in volumes.iter().filter(|v| !state.active.is_active(&v.name)) {
            if let Err(err) = self.store.unmount(info) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), |err| Err(api_error(err)))
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
