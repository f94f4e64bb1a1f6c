//! Bounds on what clients can hold: time to send a request's headers,
//! time a connection may sit idle, and how many connections are open.
//!
//! Without them, a client that opens connections and sends half a header
//! (or nothing) keeps each one — and a file descriptor — forever; with the
//! descriptor limit reached, nobody else gets an answer, not even
//! `/_ping`. So a connection must deliver each request's headers within
//! [`header_read_timeout`] of becoming ready for one (which also closes a
//! keep-alive connection that idles that long: clients reconnect), and
//! the daemon serves at most [`max_connections`] at once: past that it
//! stops accepting, says so on its log, and accepts again when one closes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The header-read (and idle) timeout, in milliseconds.
static HEADER_READ_TIMEOUT_MS: AtomicU64 = AtomicU64::new(30_000);

/// How long a connection may take to send a request's headers, counted
/// from when it is ready for the next request (so also its idle time).
pub fn header_read_timeout() -> Duration {
    Duration::from_millis(HEADER_READ_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// Changes [`header_read_timeout`] for every connection accepted from now
/// on (for an embedding program, and tests that cannot wait 30 s).
pub fn set_header_read_timeout(timeout: Duration) {
    HEADER_READ_TIMEOUT_MS.store(timeout.as_millis() as u64, Ordering::Relaxed);
}

/// Descriptors kept for everything but connections: the stores, shim
/// sockets, log files, pipes of exec.
const RESERVED_FDS: u64 = 256;

/// The most connections served at once: what the descriptor limit leaves
/// after [`RESERVED_FDS`], at least 16 and at most 16 384.
pub fn max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 1024,
        rlim_max: 1024,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    let soft: u64 = limit.rlim_cur;
    soft.saturating_sub(RESERVED_FDS).clamp(16, 16_384) as usize
}
