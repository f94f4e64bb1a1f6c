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
//! exists only for crash tests; unset, [`hit`] costs one comparison.
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

use std::sync::OnceLock;

/// The environment variable naming the point to die at.
pub const ENV: &str = "MINIDOCK_FAILPOINT";

/// Aborts the process when `point` is the one named by [`ENV`].
pub fn hit(point: &str) {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    if ARMED.get_or_init(|| std::env::var(ENV).ok()).as_deref() == Some(point) {
        eprintln!("{ENV}={point}: aborting here, as a crash test asked");
        std::process::abort();
    }
}
