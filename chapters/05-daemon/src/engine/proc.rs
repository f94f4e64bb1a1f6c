//! What the engine reads of the host's processes and machine in `/proc`,
//! beyond what chapter 03's [`minidock_lifecycle::proc`] reads (whether a
//! process is alive, the machine's memory): waiting for a shim to be gone,
//! the machine's CPU time that `docker stats` divides by, and the
//! daemon's open descriptors that `/info` reports.

use std::time::{Duration, Instant};

/// Waits (up to `limit`) until `pid` is gone.
pub(crate) fn wait_gone(pid: i32, limit: Duration) {
    let start = Instant::now();
    while minidock_lifecycle::proc::alive(pid) && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// CPU time of the whole machine, in nanoseconds (the denominator of
/// `docker stats`' CPU percentage).
pub(crate) fn system_cpu_ns() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("cpu "))?;
            let jiffies: u64 = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse::<u64>().ok())
                .sum();
            Some(jiffies * (1_000_000_000 / ticks))
        })
        .unwrap_or(0)
}

/// Open descriptors of this process.
pub(crate) fn open_fds() -> i64 {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as i64)
        .unwrap_or(0)
}
