//! The limits beyond the lesson's four: swap, the soft memory limit and the
//! cpuset — what `docker run --memory-swap/--memory-reservation/--cpuset-*`
//! and `docker update` set.
//!
//! The v1 and v2 file names differ again, and two of them have a trap each:
//! - v1 keeps *memory plus swap* in `memory.memsw.limit_in_bytes`, which may
//!   never be below `memory.limit_in_bytes`: raising both means the swap
//!   file first, lowering both the memory file first. v2 keeps *swap
//!   alone* in `memory.swap.max`, independent of `memory.max`.
//! - a v1 cpuset group starts with empty `cpuset.cpus`/`cpuset.mems`, and
//!   the kernel refuses to move a process into it (`ENOSPC`) until both are
//!   filled: a new group copies its parent's. On v2 the `cpuset` controller
//!   must be handed down through `cgroup.subtree_control` like the others.

use std::path::Path;

use super::error::{CgroupError, Result};
use super::files::{read_file, read_limit, write_file};

/// `--memory-swap`, as Docker counts it: memory *plus* swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapLimit {
    /// `-1`: as much swap as the host has.
    Unlimited,
    /// Memory and swap together may use this many bytes.
    Total(u64),
}

impl SwapLimit {
    /// From the API's `MemorySwap`: `0` is "not set", `-1` unlimited.
    pub fn from_api(memory_swap: i64) -> Option<SwapLimit> {
        match memory_swap {
            0 => None,
            n if n < 0 => Some(SwapLimit::Unlimited),
            n => Some(SwapLimit::Total(n as u64)),
        }
    }

    /// Back to the API's number.
    pub fn to_api(self) -> i64 {
        match self {
            SwapLimit::Unlimited => -1,
            SwapLimit::Total(n) => i64::try_from(n).unwrap_or(i64::MAX),
        }
    }
}

/// What a pids limit file takes: a number, or `max` for none.
pub(super) fn pids_value(max: u64) -> String {
    if max == u64::MAX {
        "max".to_string()
    } else {
        max.to_string()
    }
}

// ANCHOR: memsw_v1
/// v1: `memory.limit_in_bytes` and `memory.memsw.limit_in_bytes` (memory
/// plus swap), written in the order that keeps memsw ≥ memory at every step.
pub(super) fn v1_memory_and_swap(
    dir: &Path,
    group: &str,
    memory: u64,
    swap: SwapLimit,
) -> Result<()> {
    let mem_file = dir.join("memory.limit_in_bytes");
    let memsw_file = dir.join("memory.memsw.limit_in_bytes");
    if !memsw_file.exists() {
        return Err(CgroupError::MissingController {
            controller: "memory swap accounting (memory.memsw.*; boot with swapaccount=1)",
            group: group.to_string(),
        });
    }
    let current = read_limit(&memsw_file)?.unwrap_or(u64::MAX);
    let (new, raising) = match swap {
        SwapLimit::Unlimited => ("-1".to_string(), true),
        SwapLimit::Total(total) => (total.to_string(), total >= current),
    };
    if raising {
        write_file(&memsw_file, &new)?;
        write_file(&mem_file, &memory.to_string())
    } else {
        write_file(&mem_file, &memory.to_string())?;
        write_file(&memsw_file, &new)
    }
}
// ANCHOR_END: memsw_v1

/// v2: `memory.max`, and `memory.swap.max` = the swap part alone.
pub(super) fn v2_memory_and_swap(
    dir: &Path,
    group: &str,
    memory: u64,
    swap: SwapLimit,
) -> Result<()> {
    let swap_file = dir.join("memory.swap.max");
    if !swap_file.exists() {
        return Err(CgroupError::MissingController {
            controller: "memory swap (memory.swap.max)",
            group: group.to_string(),
        });
    }
    write_file(&dir.join("memory.max"), &memory.to_string())?;
    let swap_only = match swap {
        SwapLimit::Unlimited => "max".to_string(),
        SwapLimit::Total(total) => total.saturating_sub(memory).to_string(),
    };
    write_file(&swap_file, &swap_only)
}

// ANCHOR: cpuset_v1
/// v1: fills the empty `cpuset.cpus` and `cpuset.mems` of each directory
/// from `mount` down to `mount/parent/name` from its parent, so a process
/// can be moved in.
pub(super) fn v1_cpuset_init(mount: &Path, parent: &str, name: &str) -> Result<()> {
    let mut above = mount.to_path_buf();
    for dir in [mount.join(parent), mount.join(parent).join(name)] {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = dir.join(file);
            if !own.exists() {
                // not a real cpuset hierarchy (a test's fake tree)
                continue;
            }
            if read_file(&own)?.trim().is_empty() {
                write_file(&own, read_file(&above.join(file))?.trim())?;
            }
        }
        above = dir;
    }
    Ok(())
}
// ANCHOR_END: cpuset_v1

/// Writes the cpuset files present in `dir` (v1 and v2 share the names).
pub(super) fn write_cpuset(
    dir: &Path,
    group: &str,
    cpus: Option<&str>,
    mems: Option<&str>,
) -> Result<()> {
    for (file, value) in [("cpuset.cpus", cpus), ("cpuset.mems", mems)] {
        let Some(value) = value else { continue };
        let path = dir.join(file);
        if !path.exists() {
            return Err(CgroupError::MissingController {
                controller: "cpuset",
                group: group.to_string(),
            });
        }
        write_file(&path, value)?;
    }
    Ok(())
}
