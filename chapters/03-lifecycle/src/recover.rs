//! Start-up recovery: whatever one container directory holds, the engine
//! starts and serves the others.
//!
//! A crash, a full disk or a person with an editor can leave a container
//! directory the engine cannot use. Refusing to start then makes every
//! other container unmanageable, so [`Runtime::recover`] looks at each
//! directory once, before anything is served, and does one of three things:
//!
//! - **finishes** an interrupted `rm`: a `.removing-<id>` directory (the
//!   store renames a container away before deleting it, and a `--rm`
//!   container's shim before even unmounting it), or a directory
//!   with `config.json` but no `state.json` (what a `rm` of an older engine
//!   left when it died half-way). The container was being removed: its
//!   root file system is unmounted, its cgroup and run directory removed,
//!   its directory deleted;
//! - **quarantines** a directory whose `config.json` or `state.json` cannot
//!   be read (truncated, empty, not JSON): its root file system is
//!   unmounted and the directory is moved to `ROOT/quarantine/`, where a
//!   person can look at it. Nothing is deleted that might be evidence;
//! - leaves every other container alone.
//!
//! What it did is returned, so the daemon can say so in its log, in
//! `docker info`'s warnings and as an event.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, IoContext, Result};
use crate::id::ContainerId;
use crate::runtime::Runtime;
use crate::store::{self, Container, CONFIG, REMOVING, STATE};
use crate::time::Timestamp;

/// A directory moved aside because it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// The container id the directory was named after.
    pub id: String,
    /// Where it is now.
    pub moved_to: PathBuf,
    /// Why it could not be used.
    pub reason: String,
}

/// What [`Runtime::recover`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Containers whose interrupted removal was finished.
    pub removed: Vec<String>,
    /// Directories moved to the quarantine.
    pub quarantined: Vec<Quarantined>,
}

// ANCHOR: quarantine
/// The directory, under the engine root, of what could not be read.
pub fn quarantine_dir(root: &Path) -> PathBuf {
    root.join("quarantine")
}

/// Moves `path` to the quarantine under `root` as `<kind>-<name>-<time>`,
/// returning where it went.
pub fn quarantine(root: &Path, path: &Path, kind: &str) -> Result<PathBuf> {
    let dir = quarantine_dir(root);
    minidock_images::create_private_dir(&dir).ctx("create", &dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let now = Timestamp::now().to_string().replace(':', "");
    let target = dir.join(format!("{kind}-{name}-{now}"));
    fs::rename(path, &target).ctx("move to the quarantine", path)?;
    Ok(target)
}
// ANCHOR_END: quarantine

// ANCHOR: recover_walk
impl Runtime {
    /// Finishes interrupted removals and quarantines unreadable container
    /// directories (see the module documentation). Call it once when the
    /// engine starts, before serving.
    pub fn recover(&self) -> Result<Recovery> {
        let store = self.containers();
        let _lock = store.lock_store()?;
        let mut recovery = Recovery::default();
        let dir = store.path().to_path_buf();
        for entry in fs::read_dir(&dir).ctx("read", &dir)? {
            let entry = entry.ctx("read", &dir)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if let Some(id) = name.strip_prefix(REMOVING) {
                // Renamed away, maybe still mounted: a `--rm` shim
                // renames first and unmounts after.
                match id.parse::<ContainerId>() {
                    Ok(parsed) => self.finish_removal(&parsed, &path)?,
                    Err(_) => store::remove_detached(&path)?,
                }
                recovery.removed.push(id.to_string());
                continue;
            }
            let Ok(id) = name.parse::<ContainerId>() else {
                continue; // the lock file, or something that is not ours
            };
            if !path.join(CONFIG).exists() {
                continue; // an interrupted create: the store removes those
            }
            let config = store::read_json::<Container>(&path.join(CONFIG));
            let state = store::read_json::<crate::state::StateRecord>(&path.join(STATE));
            let state_missing = matches!(&state, Err(Error::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound);
            // ANCHOR_END: recover_walk
            // ANCHOR: recover_decide
            match (config, state) {
                (Ok(_), Ok(_)) => {}
                (Ok(_), Err(_)) if state_missing => {
                    self.finish_removal(&id, &path)?;
                    recovery.removed.push(id.to_string());
                }
                (Err(e), _) | (_, Err(e)) => {
                    minidock_images::unmount_rootfs(&path).map_err(Error::Image)?;
                    let moved_to = quarantine(self.config().root.as_path(), &path, "container")?;
                    recovery.quarantined.push(Quarantined {
                        id: id.to_string(),
                        moved_to,
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok(recovery)
    }
    // ANCHOR_END: recover_decide

    // ANCHOR: finish_removal
    /// The rest of a `rm` that died after it deleted `state.json`: the
    /// container's processes were killed before that, so only its files,
    /// mounts and cgroup are left.
    fn finish_removal(&self, id: &ContainerId, dir: &Path) -> Result<()> {
        minidock_images::unmount_rootfs(dir).map_err(Error::Image)?;
        if let Ok(cgroup) = self.cgroup(id) {
            cgroup.kill_all().ok();
            cgroup.remove(Duration::from_secs(5))?;
        }
        let run = crate::shim::run_path(&self.config().run_dir, id);
        match fs::remove_dir_all(&run) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).ctx("remove", &run),
        }
        store::remove_unmounted_dir(dir)
    }
    // ANCHOR_END: finish_removal
}
