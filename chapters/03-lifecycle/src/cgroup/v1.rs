//! cgroup v1: one hierarchy per controller.
//!
//! A container's group is a directory with the same relative path in each
//! controller's hierarchy: `/sys/fs/cgroup/memory/minidock/<id>`,
//! `/sys/fs/cgroup/pids/minidock/<id>`, … and a process must be written into
//! the `cgroup.procs` file of every one of them.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::device_rules::DeviceRule;
use super::error::{CgroupError, Result};
use super::files::{mkdir_all, read_file, read_keyed, read_limit, read_u64, wait_for, write_file};
use super::{limits, Cgroup, CgroupStats, CgroupVersion, FREEZE_TIMEOUT};

/// The v1 controllers the engine uses (the others are left alone).
pub const V1_USED: &[&str] = &[
    "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids",
];

/// A container's group on a cgroup v1 host.
#[derive(Debug, Clone)]
pub struct CgroupV1 {
    name: String,
    /// Controller → the group's directory in that controller's hierarchy.
    /// Co-mounted controllers (`cpu,cpuacct`) share one directory.
    dirs: BTreeMap<String, PathBuf>,
    freeze_timeout: Duration,
}

/// Memory limits at or above this are the kernel's "unlimited"
/// (`PAGE_COUNTER_MAX` × page size, 9223372036854771712 on x86-64).
const V1_UNLIMITED: u64 = 1 << 62;

// ANCHOR: v1_create
impl CgroupV1 {
    /// Creates `parent/name` in every hierarchy of a controller the engine
    /// uses (see [`V1_USED`]) that the host mounts.
    pub fn create(mounts: &BTreeMap<String, PathBuf>, parent: &str, name: &str) -> Result<Self> {
        let group = CgroupV1::open(mounts, parent, name);
        for dir in group.dirs.values() {
            mkdir_all(dir)?;
        }
        if let Some(mount) = mounts.get("cpuset") {
            limits::v1_cpuset_init(mount, parent, name)?;
        }
        Ok(group)
    }

    /// The handle for `parent/name`, without touching the file system.
    pub fn open(mounts: &BTreeMap<String, PathBuf>, parent: &str, name: &str) -> Self {
        let dirs = V1_USED
            .iter()
            .filter_map(|c| {
                mounts
                    .get(*c)
                    .map(|m| (c.to_string(), m.join(parent).join(name)))
            })
            .collect();
        CgroupV1 {
            name: format!("{parent}/{name}"),
            dirs,
            freeze_timeout: FREEZE_TIMEOUT,
        }
    }
    // ANCHOR_END: v1_create

    /// How long [`Cgroup::freeze`] waits for `FROZEN`.
    pub fn with_freeze_timeout(mut self, timeout: Duration) -> Self {
        self.freeze_timeout = timeout;
        self
    }

    // ANCHOR: v1_dir
    /// The group's directory for `controller`, or an error naming it.
    fn dir(&self, controller: &'static str) -> Result<&Path> {
        self.dirs
            .get(controller)
            .map(PathBuf::as_path)
            .ok_or_else(|| CgroupError::MissingController {
                controller,
                group: self.name.clone(),
            })
    }

    /// Whether the group's OOM killer is switched off (`--oom-kill-disable`).
    fn oom_kill_disabled(&self) -> Result<bool> {
        let Ok(dir) = self.dir("memory") else {
            return Ok(false);
        };
        let file = dir.join("memory.oom_control");
        Ok(optional(read_keyed(&file, "oom_kill_disable"))?.flatten() == Some(1))
    }

    fn freezer_state(&self) -> Result<String> {
        Ok(read_file(&self.dir("freezer")?.join("freezer.state"))?
            .trim()
            .to_string())
    }
}

/// `Ok(None)` for a file that does not exist (a controller that is absent).
fn optional<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(CgroupError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(CgroupError::MissingController { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
// ANCHOR_END: v1_dir

impl Cgroup for CgroupV1 {
    fn version(&self) -> CgroupVersion {
        CgroupVersion::V1
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self.dirs.values().cloned().collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    // ANCHOR: v1_join
    /// The `tasks` files, not `cgroup.procs`. Writing a process into
    /// `cgroup.procs` moves all its threads, so the kernel first stops every
    /// fork and exit on the machine: it takes a system-wide lock
    /// (`cgroup_threadgroup_rwsem`) for writing, which waits out an RCU grace
    /// period: 2 to 15 ms for the first such write after a quiet moment,
    /// measured on an idle machine. `tasks` moves one thread, and a thread that
    /// moves itself needs no such lock. The container's PID 1 has a single
    /// thread when it joins (so has an exec's process), so the two mean the
    /// same for it. v2 has no such file outside its "threaded" mode.
    fn join_files(&self) -> Vec<PathBuf> {
        self.dirs().into_iter().map(|d| d.join("tasks")).collect()
    }
    // ANCHOR_END: v1_join

    // ANCHOR: v1_limits
    fn set_memory_limit(&self, bytes: u64) -> Result<()> {
        write_file(
            &self.dir("memory")?.join("memory.limit_in_bytes"),
            &bytes.to_string(),
        )
    }

    fn set_cpus(&self, quota_us: u64, period_us: u64) -> Result<()> {
        let dir = self.dir("cpu")?;
        // The period first: the kernel checks the quota against it.
        write_file(&dir.join("cpu.cfs_period_us"), &period_us.to_string())?;
        write_file(&dir.join("cpu.cfs_quota_us"), &quota_us.to_string())
    }

    fn set_cpu_shares(&self, shares: u64) -> Result<()> {
        write_file(&self.dir("cpu")?.join("cpu.shares"), &shares.to_string())
    }

    fn set_pids_max(&self, max: u64) -> Result<()> {
        write_file(
            &self.dir("pids")?.join("pids.max"),
            &limits::pids_value(max),
        )
    }
    // ANCHOR_END: v1_limits

    fn set_memory_and_swap(&self, memory: u64, swap: limits::SwapLimit) -> Result<()> {
        limits::v1_memory_and_swap(self.dir("memory")?, &self.name, memory, swap)
    }

    fn set_memory_reservation(&self, bytes: u64) -> Result<()> {
        write_file(
            &self.dir("memory")?.join("memory.soft_limit_in_bytes"),
            &bytes.to_string(),
        )
    }

    fn set_cpuset(&self, cpus: Option<&str>, mems: Option<&str>) -> Result<()> {
        limits::write_cpuset(self.dir("cpuset")?, &self.name, cpus, mems)
    }

    // ANCHOR: oom_kill_disable_v1
    fn set_oom_kill_disable(&self, disable: bool) -> Result<()> {
        // The file reads `oom_kill_disable N`, `under_oom N`, `oom_kill N`;
        // a write of 0 or 1 sets the first.
        write_file(
            &self.dir("memory")?.join("memory.oom_control"),
            if disable { "1" } else { "0" },
        )
    }

    /// Freezes, then kills ([`Cgroup::freeze_and_kill`]), except when the
    /// group's OOM killer is off: then a process over the limit waits for
    /// memory in a sleep the freezer does not interrupt, and the group
    /// would stay `FREEZING`. Such a group is killed unfrozen, pass after
    /// pass until no process is left unsignalled: a process with `SIGKILL`
    /// pending cannot fork, so the passes end.
    fn kill_all(&self) -> Result<()> {
        if !self.oom_kill_disabled()? {
            return self.freeze_and_kill();
        }
        let mut signalled = Vec::new();
        loop {
            let fresh: Vec<i32> = self
                .pids()?
                .into_iter()
                .filter(|p| !signalled.contains(p))
                .collect();
            if fresh.is_empty() {
                return Ok(());
            }
            for pid in fresh {
                super::sigkill(pid)?;
                signalled.push(pid);
            }
        }
    }
    // ANCHOR_END: oom_kill_disable_v1

    fn restrict_devices(&self, rules: &[DeviceRule]) -> Result<()> {
        // Deny all first, then allow rule by rule: a group starts with its
        // parent's list, which on most hosts is "everything".
        let dir = self.dir("devices")?;
        write_file(&dir.join("devices.deny"), "a")?;
        for rule in rules {
            write_file(&dir.join("devices.allow"), &rule.to_string())?;
        }
        Ok(())
    }

    // ANCHOR: freeze_v1
    fn freeze(&self) -> Result<()> {
        // exercise 3.6 freeze: freeze the v1 group and wait until the kernel says it is frozen.
        // hint: write "FROZEN" into freezer.state in the freezer hierarchy (self.dir("freezer"))
        // hint: the state reads "FREEZING" until every task stopped: poll with wait_for until it reads "FROZEN", and write again now and then
        let state_file = self.dir("freezer")?.join("freezer.state");
        let frozen = wait_for(self.freeze_timeout, || {
            // Writing again is harmless and unsticks a freeze that raced
            // with a fork, as runc does.
            write_file(&state_file, "FROZEN")?;
            let done = wait_for(Duration::from_millis(50), || {
                Ok(self.freezer_state()? == "FROZEN")
            })?;
            Ok(done)
        })?;
        if frozen {
            Ok(())
        } else {
            Err(CgroupError::FreezeTimeout {
                group: self.name.clone(),
                wanted: "FROZEN",
                waited: self.freeze_timeout,
            })
        }
        // end exercise
    }
    // ANCHOR_END: freeze_v1

    fn thaw(&self) -> Result<()> {
        let state_file = self.dir("freezer")?.join("freezer.state");
        write_file(&state_file, "THAWED")?;
        if wait_for(
            self.freeze_timeout,
            || Ok(self.freezer_state()? == "THAWED"),
        )? {
            Ok(())
        } else {
            Err(CgroupError::FreezeTimeout {
                group: self.name.clone(),
                wanted: "THAWED",
                waited: self.freeze_timeout,
            })
        }
    }

    fn is_frozen(&self) -> Result<bool> {
        Ok(self.freezer_state()? != "THAWED")
    }

    // ANCHOR: v1_stats
    fn stats(&self) -> Result<CgroupStats> {
        let mem = self.dir("memory").ok();
        let read_mem = |file: &str| match mem {
            Some(d) => optional(read_u64(&d.join(file))),
            None => Ok(None),
        };
        let pids_dir = self.dir("pids").ok();
        Ok(CgroupStats {
            memory_usage: read_mem("memory.usage_in_bytes")?.unwrap_or(0),
            memory_max_usage: read_mem("memory.max_usage_in_bytes")?,
            memory_limit: read_mem("memory.limit_in_bytes")?.filter(|l| *l < V1_UNLIMITED),
            cpu_usage_ns: optional(read_u64(&self.dir("cpuacct")?.join("cpuacct.usage")))?
                .unwrap_or(0),
            pids_current: match pids_dir {
                Some(d) => optional(read_u64(&d.join("pids.current")))?.unwrap_or(0),
                None => 0,
            },
            pids_limit: match pids_dir {
                Some(d) => optional(read_limit(&d.join("pids.max")))?.flatten(),
                None => None,
            },
        })
    }
    // ANCHOR_END: v1_stats

    // ANCHOR: oom_v1
    fn oom_killed(&self) -> Result<bool> {
        let Ok(dir) = self.dir("memory") else {
            return Ok(false);
        };
        let file = dir.join("memory.oom_control");
        // `oom_kill N` counts kills since Linux 4.13; older kernels only
        // have `under_oom`, which is 1 while the group is out of memory
        // (and kills nobody when the killer is off).
        if let Some(kills) = read_keyed(&file, "oom_kill")? {
            return Ok(kills > 0);
        }
        Ok(read_keyed(&file, "under_oom")? == Some(1)
            && read_keyed(&file, "oom_kill_disable")? != Some(1))
    }
    // ANCHOR_END: oom_v1
}
