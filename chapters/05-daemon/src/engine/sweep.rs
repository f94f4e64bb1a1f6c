//! Collecting what failed pulls and loads left in the image store.
//!
//! A pull or load that fails or is killed leaves partial blobs, half
//! unpacked layers and content no image was registered with (see
//! `minidock_images::Store::sweep`). The daemon sweeps them when it starts
//! (nothing writes then) and on every image prune — but never while a
//! pull, load or import of its own is writing: their content is not
//! referenced until the very end. A [`WriteGate`] says whether one is.
//! A build (chapter 08, through [`super::gated_build`]) writes too: each
//! step's layer is unreferenced until the step's image is committed.

use minidock_images::Store;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

// ANCHOR: write_gate
/// Shared by the requests that write to the image store, exclusive for the
/// sweep.
#[derive(Debug, Default)]
pub(crate) struct WriteGate(RwLock<()>);

impl WriteGate {
    /// Held while a pull, load, import, build or commit writes.
    pub(crate) fn writing(&self) -> RwLockReadGuard<'_, ()> {
        crate::locks::read(&self.0)
    }

    /// Held by a prune, which removes images and layers: it waits until
    /// no write is in progress, and writes wait for it.
    pub(crate) fn exclusive(&self) -> RwLockWriteGuard<'_, ()> {
        crate::locks::write(&self.0)
    }
}

/// Sweeps the store unless a write is in progress; says what it removed
/// on the daemon's log. A failure is logged: the prune itself succeeded.
pub(crate) fn sweep_unless_busy(store: &Store, gate: &WriteGate) {
    let Ok(_exclusive) = gate.0.try_write() else {
        return;
    };
    sweep(store);
}
// ANCHOR_END: write_gate

// ANCHOR: sweep_now
/// Sweeps the store now (at start-up, before anything is served).
pub(crate) fn sweep(store: &Store) {
    match store.sweep() {
        Ok(swept) if !swept.removed.is_empty() => eprintln!(
            "minidockd: removed {} unreferenced or temporary item(s) from the image store \
             ({} bytes): {}",
            swept.removed.len(),
            swept.bytes,
            swept.removed.join(", ")
        ),
        Ok(_) => {}
        Err(err) => eprintln!("minidockd: sweeping the image store: {err}"),
    }
}
// ANCHOR_END: sweep_now
