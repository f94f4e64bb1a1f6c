//! `docker rm`: the container's process killed (with `--force`), its shim
//! gone, then every trace removed — the mounted root file system, the
//! cgroup, the run directory and the container directory.

use std::fs;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{image_err, shim_alive, shim_process_of, Runtime, KILL_WAIT, POLL};
use crate::cgroup::CgroupError;
use crate::error::{Error, IoContext, Result};
use crate::id::ContainerId;
use crate::shim;
use crate::state::{transition, Event, StateRecord};

impl Runtime {
    // ANCHOR: remove
    /// `docker rm [-f]`: kills a running container only with `force`, then
    /// unmounts its rootfs, removes its cgroup, its run directory and its
    /// directory. Nothing of it is left.
    pub fn remove(&self, id: &ContainerId, force: bool) -> Result<()> {
        let mut record = self.reconcile(id)?;
        transition(id.as_str(), &record.state, Event::Remove { force })?;
        if self.shim_waits_to_restart(id, &record) {
            // A restart policy between two runs: the removal ends it. The
            // shim may have started the next run just before: look again.
            self.mark_stopped_by_user(id)?;
            record = self.reconcile(id)?;
            transition(id.as_str(), &record.state, Event::Remove { force })?;
        }
        if record.state.is_alive() {
            self.mark_stopped_by_user(id)?;
            match self.cgroup(id)?.kill_all() {
                Ok(()) => {}
                // it exited meanwhile, and its shim removed the cgroup:
                // ENOENT, or ENODEV from a file of a group being torn down
                Err(CgroupError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound
                        || source.raw_os_error() == Some(nix::errno::Errno::ENODEV as i32) => {}
                Err(e) => return Err(e.into()),
            }
            if !self.wait_exited(id, KILL_WAIT)? {
                return Err(Error::NotKilled {
                    what: format!("container {}", id.short()),
                    waited: KILL_WAIT,
                });
            }
        }
        self.wait_for_shim_exit(id, KILL_WAIT)?;
        let dir = self.containers.dir(id);
        minidock_images::unmount_rootfs(&dir).map_err(image_err)?;
        self.cgroup(id)?.remove(KILL_WAIT)?;
        let run = shim::run_path(&self.config.run_dir, id);
        match fs::remove_dir_all(&run) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).ctx("remove", &run),
        }
        self.containers.remove(id)
    }
    // ANCHOR_END: remove

    // ANCHOR: remove_wait_shim
    /// Whether the container is between two runs of its restart policy:
    /// not running, but its shim is alive (waiting out the back-off).
    pub(super) fn shim_waits_to_restart(&self, id: &ContainerId, record: &StateRecord) -> bool {
        !record.state.is_alive()
            && (record.shim_pid.is_some_and(|p| shim_alive(p, id)) || shim_process_of(id).is_some())
    }

    /// Waits until the container's shim is gone (it records the exit, then
    /// cleans up and exits).
    pub(super) fn wait_for_shim_exit(&self, id: &ContainerId, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let record = match self.containers.state(id) {
                Ok(r) => r,
                Err(Error::NoSuchContainer(_)) => return Ok(()),
                Err(e) => return Err(e),
            };
            let shim_running =
                record.shim_pid.is_some_and(|p| shim_alive(p, id)) || shim_process_of(id).is_some();
            if !shim_running {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(Error::ShimDidNotExit {
                    id: id.short().to_string(),
                });
            }
            sleep(POLL);
        }
    }
    // ANCHOR_END: remove_wait_shim
}
