//! `--rm`: the shim removes its container when the container's process
//! ends, and leaves its final state behind as a *tombstone* in the run
//! directory for a while, so that a `wait` that did not see the exit can
//! still report the exit code.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{IoContext, Result};
use crate::id::ContainerId;
use crate::state::{transition, Event};
use crate::store::ContainerStore;

/// `--rm`: the container goes away when its process does. Its final
/// state is left as a tombstone in the run directory first, so a `wait`
/// that did not see the exit can still report the exit code.
///
/// The container leaves everyone's sight with one rename of its directory
/// ([`ContainerStore::detach`]), which the engine's watch sees at once:
/// `run --rm` returns then. Unmounting the overlay comes after: it flushes
/// the upper file system to disk (a `syncfs` of the host's disk, the
/// slowest step of a short run on a busy host), and the files are deleted
/// last. A crash in between leaves a `.removing-<id>` directory that the
/// next engine finishes. The last states are written without `fsync`:
/// after a power cut nobody reads them.
pub fn remove_after_exit(store: &ContainerStore, run_dir: &Path, id: &ContainerId) -> Result<()> {
    let last = store.state(id)?;
    write_tombstone(run_dir, id, &last)?;
    store.update_state_unsynced(id, |r| {
        r.state = transition(id.as_str(), &r.state, Event::Remove { force: false })?;
        Ok(())
    })?;
    match store.detach(id)? {
        Some(doomed) => crate::store::remove_detached(&doomed),
        None => Ok(()),
    }
}

/// Where the final state of an auto-removed container is kept.
pub fn tombstone(run_dir: &Path, id: &ContainerId) -> PathBuf {
    run_dir.join("removed").join(format!("{id}.json"))
}

/// How long tombstones are kept.
const TOMBSTONE_AGE: Duration = Duration::from_secs(600);

fn write_tombstone(
    run_dir: &Path,
    id: &ContainerId,
    record: &crate::state::StateRecord,
) -> Result<()> {
    let dir = run_dir.join("removed");
    minidock_images::create_private_dir(&dir).ctx("create", &dir)?;
    // Old tombstones nobody asked for are swept on the way — at most once
    // a minute: after many `--rm` runs the directory holds hundreds of
    // them, and looking at each on every exit would slow every one down.
    // A marker file's time says when the last sweep was.
    let marker = dir.join(".swept");
    let swept_lately = fs::metadata(&marker)
        .and_then(|m| m.modified())
        .map(|t| t.elapsed().unwrap_or_default() < SWEEP_INTERVAL)
        .unwrap_or(false);
    if !swept_lately {
        File::create(&marker)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            .ctx("touch", &marker)?;
        sweep_tombstones(&dir)?;
    }
    // The run directory does not outlive a reboot (it is a tmpfs, as
    // /run is), and a tombstone is read only minutes after: no fsync.
    let path = tombstone(run_dir, id);
    crate::atomic::replace_atomic(&path, &crate::store::json_bytes(&path, record)?)
}

/// How often old tombstones are looked for.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Removes the tombstones (of `run_dir`) older than [`TOMBSTONE_AGE`]: the
/// engine calls it when it starts, so they do not outlive their use when
/// no container exits for a long time.
pub fn sweep_old_tombstones(run_dir: &Path) -> Result<()> {
    let dir = run_dir.join("removed");
    if !dir.exists() {
        return Ok(());
    }
    sweep_tombstones(&dir)
}

/// Removes the tombstones in `dir` older than [`TOMBSTONE_AGE`].
fn sweep_tombstones(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).ctx("read", dir)?.flatten() {
        if entry.file_name() == ".swept" {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .map(|t| t.elapsed().unwrap_or_default() > TOMBSTONE_AGE)
            .unwrap_or(false);
        if old {
            fs::remove_file(entry.path()).ok();
        }
    }
    Ok(())
}

/// The final state of a container removed by `--rm`, if it is recent.
pub fn read_tombstone(run_dir: &Path, id: &ContainerId) -> Option<crate::state::StateRecord> {
    crate::store::read_json(&tombstone(run_dir, id)).ok()
}
