// ANCHOR: lifecycle_failpoints
//! Fail points: a way for crash tests to kill the engine at an exact step.
//!
//! A promise like "an engine killed in the middle of `create` leaves no
//! half-made container" cannot be tested by killing the engine at a random
//! moment: the test would pass or fail by timing. Real engines and
//! databases (etcd's `gofail`, TiKV's `fail-rs`, FoundationDB's simulator)
//! name the dangerous steps instead, and let a test make the process die
//! right there. This is the smallest such mechanism:
//!
//! ```text
//! MINIDOCK_FAILPOINT=create-after-mount minidockd …
//! ```
//!
//! When the engine reaches the point named by `MINIDOCK_FAILPOINT`, it
//! aborts (`SIGABRT`), as abruptly as `kill -9`: no destructor runs, no file
//! is closed cleanly, no mount is undone. The variable is read once. It
//! exists only for crash tests; unset, [`hit`] costs one comparison. The
//! mechanism is chapter 01's (`minidock_namespaces::failpoint`, which can
//! also *delay* at a point); this chapter adds its own points.
//!
//! The points (see [`crate::runtime::Runtime::create`]):
//! - `create-after-dir`: the container directory exists, nothing in it;
//! - `create-after-mount`: `state.json` is written and the overlay root file
//!   system is mounted, `config.json` is not written yet;
//! - `create-after-config`: `config.json` is written, `create` has not
//!   returned;
//! - `remove-after-rename`: `rm` renamed the container's directory to
//!   `.removing-<id>` and has not deleted it yet (the next engine does, see
//!   [`crate::recover`]).

pub use minidock_namespaces::failpoint::{hit, ENV};
// ANCHOR_END: lifecycle_failpoints
