//! What the daemon does at start with state it cannot use: it starts
//! anyway, and says so.
//!
//! Chapter 03's [`Runtime::recover`] finishes interrupted removals and
//! quarantines unreadable container directories; chapter 02 rebuilds an
//! unreadable image index and sweeps what failed pulls and loads left.
//! Each quarantine is reported on the daemon's log, in `docker info`'s
//! warnings and as a `daemon` event (`quarantine`), so nobody has to find
//! out by reading directories.

use crate::events::Events;
use minidock_lifecycle::Runtime;
use std::collections::BTreeMap;
use std::path::Path;

// ANCHOR: recover_index
/// Recovers the root before anything is served. Fails only when the root
/// itself cannot be read.
pub(crate) fn recover(runtime: &Runtime, events: &Events) -> Result<(), String> {
    let root = runtime.config().root.clone();
    let shown = |p: &Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
    match runtime.images().recover_index() {
        Ok(None) => {}
        Ok(Some(r)) => events.warn(
            "quarantine",
            format!(
                "the image index could not be read ({}): it was moved to {} and rebuilt from \
                 the store with {} image(s), untagged",
                r.reason.replace(&root.display().to_string(), "ROOT"),
                shown(&r.moved_to),
                r.rebuilt
            ),
            BTreeMap::from([("path".to_string(), shown(&r.moved_to))]),
        ),
        Err(e) => return Err(format!("cannot recover the image index: {e}")),
    }
    // ANCHOR_END: recover_index
    // ANCHOR: recover_containers
    super::sweep::sweep(runtime.images());
    let recovery = runtime
        .recover()
        .map_err(|e| format!("cannot recover the container directories: {e}"))?;
    if let Err(e) = minidock_lifecycle::shim::sweep_old_tombstones(&runtime.config().run_dir) {
        eprintln!("minidockd: sweeping old tombstones: {e}");
    }
    for id in &recovery.removed {
        eprintln!("minidockd: finished the interrupted removal of container {id}");
    }
    for q in &recovery.quarantined {
        events.warn(
            "quarantine",
            format!(
                "container {} could not be read ({}): its directory was moved to {}",
                q.id,
                q.reason.replace(&root.display().to_string(), "ROOT"),
                shown(&q.moved_to)
            ),
            BTreeMap::from([
                ("container".to_string(), q.id.clone()),
                ("path".to_string(), shown(&q.moved_to)),
            ]),
        );
    }
    Ok(())
}
// ANCHOR_END: recover_containers
