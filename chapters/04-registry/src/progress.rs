//! Progress events of a pull or push.
//!
//! The library does not draw anything: it calls a callback with events, and
//! the caller decides — the CLI draws progress bars, the daemon (chapter 05)
//! turns them into Docker's JSON progress stream
//! (`{"status":"Downloading","id":"a3ed95caeb02","progressDetail":{…}}`).
//! Layers download on several threads, so the callback must be `Send + Sync`.

use minidock_images::Digest;

// ANCHOR: progress_events
/// One step of a pull (or push: the same events, with "layer" meaning
/// "blob being uploaded").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Fetching the manifest (and index) of the reference.
    Resolving,
    /// A layer starts to transfer; `size` is its size in bytes.
    LayerStart {
        /// The layer's digest.
        digest: Digest,
        /// Its size in bytes.
        size: u64,
    },
    /// `current` of `total` bytes of a layer are there.
    LayerProgress {
        /// The layer's digest.
        digest: Digest,
        /// Bytes transferred so far.
        current: u64,
        /// The layer's size in bytes.
        total: u64,
    },
    /// A layer was transferred and verified.
    LayerDone {
        /// The layer's digest.
        digest: Digest,
    },
    /// A layer was already there: nothing to transfer.
    LayerExists {
        /// The layer's digest.
        digest: Digest,
    },
    /// All blobs are there; the layers are being unpacked.
    Extracting,
    /// Finished: the digest of the image manifest.
    Done {
        /// The image manifest's digest.
        digest: Digest,
    },
}
// ANCHOR_END: progress_events

/// The type of a progress callback.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// A callback that ignores every event.
pub fn no_progress(_: Progress) {}
