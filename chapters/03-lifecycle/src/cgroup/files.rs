//! Reading and writing cgroup files, the same for v1 and v2: a missing
//! file is an error (a missing controller), never a file made anew.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::error::{CgroupError, Result};

// ANCHOR: cgroup_write_file
/// Writes `value` into an existing cgroup file. The file is never created:
/// on a real cgroup file system a missing file means a missing controller,
/// and creating a plain file instead would hide that.
pub(crate) fn write_file(path: &Path, value: &str) -> Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|source| CgroupError::Io {
            op: "open for writing",
            path: path.into(),
            source,
        })?;
    file.write_all(value.as_bytes())
        .map_err(|source| CgroupError::Io {
            op: "write",
            path: path.into(),
            source,
        })
}
// ANCHOR_END: cgroup_write_file

pub(crate) fn read_file(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|source| CgroupError::Io {
        op: "read",
        path: path.into(),
        source,
    })
}

/// Reads a file holding one number (or `max`, read as `None`).
pub(crate) fn read_limit(path: &Path) -> Result<Option<u64>> {
    let text = read_file(path)?;
    let t = text.trim();
    if t == "max" {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| CgroupError::Parse {
        path: path.into(),
        content: text.clone(),
    })
}

pub(crate) fn read_u64(path: &Path) -> Result<u64> {
    read_limit(path)?.ok_or_else(|| CgroupError::Parse {
        path: path.into(),
        content: "max".into(),
    })
}

/// The value of `key` in a flat-keyed file (`memory.events`,
/// `memory.oom_control`, `cpu.stat`): lines of `key value`.
pub(crate) fn read_keyed(path: &Path, key: &str) -> Result<Option<u64>> {
    let text = read_file(path)?;
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        if parts.next() == Some(key) {
            let value = parts.next().unwrap_or("");
            return value.parse().map(Some).map_err(|_| CgroupError::Parse {
                path: path.into(),
                content: line.to_string(),
            });
        }
    }
    Ok(None)
}

pub(super) fn read_pids(path: &Path) -> Result<Vec<i32>> {
    let text = read_file(path)?;
    text.split_whitespace()
        .map(|p| {
            p.parse().map_err(|_| CgroupError::Parse {
                path: path.into(),
                content: text.clone(),
            })
        })
        .collect()
}

/// Creates `dir` and its parents, keeping an existing one.
pub(crate) fn mkdir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| CgroupError::Io {
        op: "create cgroup directory",
        path: dir.into(),
        source,
    })
}
// ANCHOR: cgroup_remove_dir

/// `rmdir` on a cgroup fails with `EBUSY` for a short while after its last
/// process exited (the kernel still tears it down), so retry until `timeout`.
pub(super) fn remove_dir_retrying(dir: &Path, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && start.elapsed() < timeout => {
                sleep(Duration::from_millis(10));
            }
            Err(source) => {
                return Err(CgroupError::Io {
                    op: "remove cgroup directory",
                    path: dir.into(),
                    source,
                })
            }
        }
    }
}

/// Polls `done` every few milliseconds until it is true or `timeout` passed.
pub(crate) fn wait_for(timeout: Duration, mut done: impl FnMut() -> Result<bool>) -> Result<bool> {
    let start = Instant::now();
    loop {
        if done()? {
            return Ok(true);
        }
        if start.elapsed() > timeout {
            return Ok(false);
        }
        sleep(Duration::from_millis(5));
    }
}
// ANCHOR_END: cgroup_remove_dir
