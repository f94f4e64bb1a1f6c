// ANCHOR: store_failpoints
//! Fail points of the image store, for crash tests (the mechanism is
//! chapter 01's: `MINIDOCK_FAILPOINT=<point>` makes the process abort
//! there, as abruptly as `kill -9`).
//!
//! Each is a step after which a write to the store is incomplete; a
//! crash test kills `load` (or chapter 04's `pull`) there and checks that
//! [`crate::Store::sweep`], which the engine runs at start, leaves the store
//! exactly as it was before, and that trying again succeeds:
//! - `blob-before-commit`: a blob's bytes are in `ingest/<hex>.partial`,
//!   not yet verified nor renamed into `blobs/`;
//! - `load-after-blobs`: every blob of the archive is stored, no layer is
//!   unpacked, no image registered;
//! - `layer-before-rename`: a layer is extracted into `layers/<hex>.tmp-*`;
//! - `layer-after-rename`: a layer is in place, no image references it;
//! - `index-before-rename`: the new image index is written beside the old
//!   one (`index.json.tmp`), which still holds.

pub use minidock_namespaces::failpoint::{hit, ENV};
// ANCHOR_END: store_failpoints
