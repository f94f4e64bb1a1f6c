//! What the engine reads of the host's processes and machine in `/proc`.
//!
//! Kept in one place so that each reading has one parser: whether a shim
//! is still alive, and the machine's CPU time and memory that `docker
//! stats` divides by, and `/info` reports.

use std::time::{Duration, Instant};

/// Whether `pid` is a live process (a zombie is not: it has exited and
/// only waits for its parent to collect it).
pub(crate) fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().chars().next())
        })
        .flatten()
        .is_some_and(|state| state != 'Z' && state != 'X')
}

/// Waits (up to `limit`) until `pid` is gone.
pub(crate) fn wait_gone(pid: i32, limit: Duration) {
    let start = Instant::now();
    while alive(pid) && start.elapsed() < limit {
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

/// The host's memory, the "limit" of a container without one.
pub(crate) fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
                .map(|k| k * 1024)
        })
        .unwrap_or(0)
}

/// Open descriptors of this process.
pub(crate) fn open_fds() -> i64 {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as i64)
        .unwrap_or(0)
}
