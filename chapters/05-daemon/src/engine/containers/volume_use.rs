//! Which containers use which volumes, and when: the volume service
//! (chapter 07) mounts per run what is mounted per use, and removes a
//! container's anonymous volumes with it.

use super::index::{Entry, Inner};
use crate::error::ApiResult;
use crate::locks::{lock, read};
use crate::volumes::{ContainerMounts, VolumeService, VolumeUsers};
use minidock_lifecycle::ContainerId;
use std::collections::BTreeMap;
use std::sync::Arc;

impl Inner {
    /// Who uses which volume, leaving `except` out.
    pub(super) fn volume_users(&self, except: Option<&ContainerId>) -> VolumeUsers {
        let entries = read(&self.entries);
        let mut users = VolumeUsers::new();
        for entry in entries.values().filter(|e| Some(&e.id) != except) {
            for point in entry.mounts.iter().filter(|m| m.kind == "volume") {
                if let Some(name) = &point.name {
                    users
                        .entry(name.clone())
                        .or_default()
                        .push(entry.id.to_string());
                }
            }
        }
        users
    }

    /// A container is gone: tells the volume service, which removes its
    /// anonymous volumes when `anonymous` says so. A failure is reported,
    /// not returned: the container is gone either way.
    pub(super) fn release_volumes(&self, entry: &Entry, anonymous: bool) {
        if let Some(volumes) = &self.volumes {
            let users = || self.volume_users(Some(&entry.id));
            match volumes.release(&entry.mounts, anonymous, &users) {
                Ok(removed) => {
                    for name in removed {
                        self.events
                            .publish("volume", "destroy", &name, volume_attributes());
                    }
                }
                Err(err) => eprintln!("minidockd: the volumes of {}: {err}", entry.id.short()),
            }
        }
    }

    // ANCHOR: adopt_running
    /// The daemon starts and `running` still run: each one's current run
    /// counts as a user of its volumes, before any session can see it end
    /// (the volume service keeps their mounts; it unmounts the others).
    pub(super) fn adopt_running(&self, running: &[Arc<Entry>]) {
        let Some(volumes) = &self.volumes else {
            return;
        };
        let mut users = Vec::new();
        for entry in running.iter().filter(|e| !e.mounts.is_empty()) {
            let mut run = lock(&entry.volume_run);
            run.number += 1;
            run.counted = true;
            users.push((entry.id.to_string(), entry.mounts.clone()));
        }
        if let Err(err) = volumes.adopt(&users) {
            eprintln!("minidockd: the volumes of running containers: {err}");
        }
    }
    // ANCHOR_END: adopt_running

    // ANCHOR: volume_runs
    /// A new run of `entry` begins: the volume service mounts what is
    /// mounted per use and counts the run. Under the container's `op`.
    pub(super) fn begin_volume_use(&self, entry: &Entry) -> ApiResult<()> {
        let mut run = lock(&entry.volume_run);
        run.number += 1;
        run.counted = false;
        if let Some(volumes) = self.volumes.as_ref().filter(|_| !entry.mounts.is_empty()) {
            volumes.activate(entry.id.as_str(), &entry.mounts)?;
            run.counted = true;
        }
        Ok(())
    }

    /// A run of `entry` is over: run `number`, or (`None`) the current
    /// one, which the caller saw end. Uncounted once; a failure is
    /// reported, not returned: the run is over either way.
    pub(super) fn end_volume_use(&self, entry: &Entry, number: Option<u64>) {
        let mut run = lock(&entry.volume_run);
        if !run.counted || number.is_some_and(|n| n != run.number) {
            return;
        }
        run.counted = false;
        if let Some(volumes) = &self.volumes {
            if let Err(err) = volumes.deactivate(entry.id.as_str(), &entry.mounts) {
                eprintln!(
                    "minidockd: unmounting the volumes of {}: {err}",
                    entry.id.short()
                );
            }
        }
    }
    // ANCHOR_END: volume_runs
}

/// Settles a create's volume plan ([`VolumeService::settle`]) once: when
/// asked, or when dropped, whichever way the create returns.
pub(super) struct Settle<'a>(pub Option<&'a (Arc<dyn VolumeService>, ContainerMounts)>);

impl Settle<'_> {
    /// Settles the plan now, if it was not yet.
    pub fn now(&mut self) {
        if let Some((volumes, mounts)) = self.0.take() {
            volumes.settle(mounts);
        }
    }
}

impl Drop for Settle<'_> {
    fn drop(&mut self) {
        self.now();
    }
}

/// The attributes of a volume event: its driver.
pub(crate) fn volume_attributes() -> BTreeMap<String, String> {
    BTreeMap::from([("driver".to_string(), "local".to_string())])
}
