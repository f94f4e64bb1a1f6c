//! Control groups: what a container may use (memory, CPU, processes) and the
//! freezer behind `docker pause`.
//!
//! Linux has two cgroup file systems. **v1** mounts one hierarchy per
//! controller (`/sys/fs/cgroup/memory/…`, `/sys/fs/cgroup/pids/…`), so one
//! container is one directory *in each* hierarchy. **v2** has one unified
//! tree (`/sys/fs/cgroup/…`) where a group is one directory and controllers
//! are switched on for children through `cgroup.subtree_control`. File names
//! differ too (`memory.limit_in_bytes` vs `memory.max`). The [`Cgroup`] trait
//! hides the difference: the rest of the engine says "limit memory to 16 MiB"
//! and the v1 or v2 type writes the right file.
//!
//! Every type takes the cgroup file system's location as a parameter, so the
//! unit tests drive both versions against fake trees in temporary
//! directories and check exactly what was written.

//!
//! The trait and the limits are here; [`CgroupRoot`] (in `root`) finds the
//! host's cgroups and makes a container's group, `files` reads and writes
//! the cgroup files every version shares.

pub mod device_program;
pub mod device_rules;
mod error;
mod files;
mod limits;
mod mountinfo;
mod root;
mod v1;
mod v2;

use std::io;
use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant};

pub use device_rules::{DeviceKind, DeviceRule, DEFAULT_RULES as DEFAULT_DEVICE_RULES};
pub use error::{CgroupError, Result};
use files::{read_pids, remove_dir_retrying, write_file};
pub use limits::SwapLimit;
pub use mountinfo::{parse_mountinfo, MountInfo};
pub use root::{CgroupRoot, DEFAULT_BASE};
pub use v1::{CgroupV1, V1_USED};
pub use v2::CgroupV2;

/// Which cgroup file system a host uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// One hierarchy per controller (or set of controllers), each with its own tree.
    V1,
    /// The unified hierarchy: one tree, every controller in it.
    V2,
}

// ANCHOR: cgroup_stats
/// Resource usage of a group, as `docker stats` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CgroupStats {
    /// Memory charged to the group now, in bytes.
    pub memory_usage: u64,
    /// Highest memory usage seen, when the kernel tracks it (v1
    /// `memory.max_usage_in_bytes`, v2 `memory.peak` since Linux 5.19).
    pub memory_max_usage: Option<u64>,
    /// The memory limit, `None` when unlimited.
    pub memory_limit: Option<u64>,
    /// CPU time used by all processes of the group, in nanoseconds.
    pub cpu_usage_ns: u64,
    /// Number of processes (tasks) in the group.
    pub pids_current: u64,
    /// The pids limit, `None` when unlimited.
    pub pids_limit: Option<u64>,
}

/// The limits of one container, in the units of `docker run`'s flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// `--memory`: bytes.
    pub memory: Option<u64>,
    /// `--cpus`: CPU time per period, as (quota µs, period µs).
    pub cpu_quota: Option<(u64, u64)>,
    /// `--cpu-shares`: relative weight, 2..262144 (default 1024).
    pub cpu_shares: Option<u64>,
    /// `--pids-limit`: most processes at once.
    pub pids_max: Option<u64>,
    /// `--memory-swap`: memory plus swap (needs `memory`).
    pub memory_swap: Option<SwapLimit>,
    /// `--memory-reservation`: a soft limit, reclaimed down to under
    /// memory pressure.
    pub memory_reservation: Option<u64>,
    /// `--cpuset-cpus` (`0-2,4`); `None` = every CPU.
    pub cpuset_cpus: Option<String>,
    /// `--cpuset-mems`; `None` = every memory node.
    pub cpuset_mems: Option<String>,
    /// `--oom-kill-disable`: out of memory, the group's processes wait for
    /// memory instead of being killed (cgroup v1 only).
    pub oom_kill_disable: bool,
}
// ANCHOR_END: cgroup_stats

/// `--cpus 1.5` → quota 150 000 µs per period of 100 000 µs, as Docker
/// computes it from `NanoCpus`.
pub fn cpus_to_quota(nano_cpus: u64) -> (u64, u64) {
    const PERIOD_US: u64 = 100_000;
    (nano_cpus * PERIOD_US / 1_000_000_000, PERIOD_US)
}

/// cgroup v1 `cpu.shares` (2..262144) → cgroup v2 `cpu.weight` (1..10000),
/// the linear map runc and the kernel documentation use.
pub fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

// ANCHOR: cgroup_trait
/// One container's control group, v1 or v2.
///
/// Methods take `&self` and touch only files: a `Cgroup` is a handle on
/// directories, it owns no process.
pub trait Cgroup: std::fmt::Debug + Send + Sync {
    /// v1 or v2.
    fn version(&self) -> CgroupVersion;

    /// The group's name, e.g. `minidock/3f2a…`, for messages.
    fn name(&self) -> String;

    /// The directories of the group: one per hierarchy on v1, one on v2.
    fn dirs(&self) -> Vec<PathBuf>;

    /// The `cgroup.procs` files a process id is written into to move that
    /// process into the group (all hierarchies on v1).
    fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs()
            .into_iter()
            .map(|d| d.join("cgroup.procs"))
            .collect()
    }

    /// The files a single-threaded process writes `0` ("the writer") into
    /// to move *itself* into the group, as the container's PID 1 and an
    /// exec's process do. The `cgroup.procs` files, unless a version knows
    /// a cheaper way (v1 does: see its `join_files`).
    fn join_files(&self) -> Vec<PathBuf> {
        self.procs_files()
    }

    /// Moves process `pid` (and, on v1 too, all its threads) into the group.
    fn add_pid(&self, pid: i32) -> Result<()> {
        for file in self.procs_files() {
            write_file(&file, &pid.to_string())?;
        }
        Ok(())
    }

    /// Limits memory (RAM) to `bytes`; above it the kernel reclaims, then
    /// OOM-kills inside the group.
    fn set_memory_limit(&self, bytes: u64) -> Result<()>;

    /// Allows `quota_us` of CPU time per `period_us` (`--cpus`).
    fn set_cpus(&self, quota_us: u64, period_us: u64) -> Result<()>;

    /// Relative CPU weight against other groups (`--cpu-shares`).
    fn set_cpu_shares(&self, shares: u64) -> Result<()>;

    /// Most processes the group may hold; `fork` fails with `EAGAIN` above.
    /// `u64::MAX` lifts the limit (`max`).
    fn set_pids_max(&self, max: u64) -> Result<()>;

    /// Stops every process of the group and waits until the kernel reports
    /// the group frozen.
    fn freeze(&self) -> Result<()>;

    /// Lets the processes run again.
    fn thaw(&self) -> Result<()>;

    /// Whether the group is frozen now.
    fn is_frozen(&self) -> Result<bool>;

    /// Current usage.
    fn stats(&self) -> Result<CgroupStats>;

    /// Whether the kernel's OOM killer has killed a process of this group.
    fn oom_killed(&self) -> Result<bool>;
    // ANCHOR_END: cgroup_trait

    /// Lets the group's processes open and `mknod` only the devices that
    /// `rules` allow (v1: `devices.deny`/`devices.allow`; v2: an eBPF
    /// program, see [`device_program`]). Set before any process joins.
    fn restrict_devices(&self, rules: &[DeviceRule]) -> Result<()>;

    /// `--memory` with `--memory-swap`: RAM limit and the limit of RAM plus
    /// swap together, in the order the kernel accepts (see [`limits`]).
    fn set_memory_and_swap(&self, memory: u64, swap: SwapLimit) -> Result<()>;

    /// `--memory-reservation`: the soft limit the kernel reclaims the group
    /// down to when the host runs short.
    fn set_memory_reservation(&self, bytes: u64) -> Result<()>;

    /// `--cpuset-cpus` / `--cpuset-mems`: the CPUs and memory nodes the
    /// group may use; `None` leaves one as it is.
    fn set_cpuset(&self, cpus: Option<&str>, mems: Option<&str>) -> Result<()>;

    /// `--oom-kill-disable`: whether the kernel's OOM killer spares the
    /// group (its processes then wait for memory when over the limit). v1
    /// has the switch (`memory.oom_control`); v2 has none, so asking for it
    /// there is an error, and `false` (the default) changes nothing.
    fn set_oom_kill_disable(&self, disable: bool) -> Result<()>;

    /// The process ids in the group (from `cgroup.procs`).
    fn pids(&self) -> Result<Vec<i32>> {
        let mut all = Vec::new();
        for file in self.procs_files() {
            for pid in read_pids(&file)? {
                if !all.contains(&pid) {
                    all.push(pid);
                }
            }
        }
        Ok(all)
    }

    // ANCHOR: cgroup_apply
    /// Sets every limit that `resources` names.
    fn apply(&self, resources: &Resources) -> Result<()> {
        match (resources.memory, &resources.memory_swap) {
            (Some(bytes), Some(swap)) => self.set_memory_and_swap(bytes, *swap)?,
            (Some(bytes), None) => self.set_memory_limit(bytes)?,
            (None, _) => {}
        }
        if let Some(bytes) = resources.memory_reservation {
            self.set_memory_reservation(bytes)?;
        }
        if resources.oom_kill_disable {
            self.set_oom_kill_disable(true)?;
        }
        if resources.cpuset_cpus.is_some() || resources.cpuset_mems.is_some() {
            self.set_cpuset(
                resources.cpuset_cpus.as_deref(),
                resources.cpuset_mems.as_deref(),
            )?;
        }
        if let Some((quota, period)) = resources.cpu_quota {
            self.set_cpus(quota, period)?;
        }
        if let Some(shares) = resources.cpu_shares {
            self.set_cpu_shares(shares)?;
        }
        if let Some(max) = resources.pids_max {
            self.set_pids_max(max)?;
        }
        Ok(())
    }
    // ANCHOR_END: cgroup_apply

    // ANCHOR: cgroup_freeze_kill
    /// Kills every process of the group with `SIGKILL`.
    fn kill_all(&self) -> Result<()> {
        self.freeze_and_kill()
    }

    /// The way to kill a whole group that works on every kernel: the group
    /// is frozen first, so a fork bomb cannot add processes between reading
    /// the list and sending the signals; the kill lands when it thaws.
    fn freeze_and_kill(&self) -> Result<()> {
        // The usual case after PID 1's exit, when the kernel has already
        // ended its PID namespace: nobody is left to freeze or kill, and
        // nobody can come in, since only the engine moves processes here.
        if self.pids()?.is_empty() {
            return Ok(());
        }
        self.freeze()?;
        for pid in self.pids()? {
            sigkill(pid)?;
        }
        self.thaw()
    }
    // ANCHOR_END: cgroup_freeze_kill

    // ANCHOR: cgroup_remove
    /// Waits until the group has no process (up to `timeout`), then removes
    /// its directories. A missing directory counts as removed.
    fn remove(&self, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let pids = match self.pids() {
                Ok(p) => p,
                Err(CgroupError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            if pids.is_empty() {
                break;
            }
            if start.elapsed() > timeout {
                return Err(CgroupError::NotEmpty {
                    group: self.name(),
                    pids,
                    waited: timeout,
                });
            }
            sleep(Duration::from_millis(10));
        }
        for dir in self.dirs() {
            remove_dir_retrying(&dir, timeout)?;
        }
        Ok(())
    }
    // ANCHOR_END: cgroup_remove
}
/// Sends `SIGKILL` to `pid`; one that exited on its own in the meantime
/// (`ESRCH`) is fine.
fn sigkill(pid: i32) -> Result<()> {
    match nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    ) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(CgroupError::Io {
            op: "kill",
            path: PathBuf::from(format!("/proc/{pid}")),
            source: e.into(),
        }),
    }
}

/// How long freeze/thaw wait for the kernel before giving up.
pub const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests;
