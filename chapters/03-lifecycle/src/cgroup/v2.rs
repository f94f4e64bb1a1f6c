//! cgroup v2: one unified hierarchy.
//!
//! A container's group is one directory, `/sys/fs/cgroup/minidock/<id>`.
//! Controllers are not mounted separately: a parent hands them down to its
//! children by listing them in its `cgroup.subtree_control`, and a
//! controller's files (`memory.max`, `pids.max`) only appear in a child once
//! that is done.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::device_rules::DeviceRule;
use super::error::{CgroupError, Result};
use super::files::{mkdir_all, read_file, read_keyed, read_limit, read_u64, wait_for, write_file};
use super::{limits, shares_to_weight, Cgroup, CgroupStats, CgroupVersion, FREEZE_TIMEOUT};

/// The controllers a container needs from v2.
const WANTED: &[&str] = &["cpu", "memory", "pids"];

/// A container's group on a cgroup v2 host.
#[derive(Debug, Clone)]
pub struct CgroupV2 {
    name: String,
    dir: PathBuf,
    freeze_timeout: Duration,
}

// ANCHOR: v2_create
impl CgroupV2 {
    /// Creates `root/parent/name`, enabling the `cpu`, `memory` and `pids`
    /// controllers (those the root offers) for the children of `root` and
    /// of `parent` on the way down.
    pub fn create(root: &Path, parent: &str, name: &str) -> Result<Self> {
        let available = match read_file(&root.join("cgroup.controllers")) {
            Ok(text) => text,
            Err(CgroupError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                String::new()
            }
            Err(e) => return Err(e),
        };
        let enable: Vec<&str> = WANTED
            .iter()
            .copied()
            .filter(|c| available.split_whitespace().any(|a| a == *c))
            .collect();
        let parent_dir = root.join(parent);
        mkdir_all(&parent_dir)?;
        if !enable.is_empty() {
            for dir in [root, parent_dir.as_path()] {
                enable_controllers(dir, &enable)?;
            }
        }
        let group = CgroupV2::open(root, parent, name);
        mkdir_all(&group.dir)?;
        Ok(group)
    }

    /// The handle for `root/parent/name`, without touching the file system.
    pub fn open(root: &Path, parent: &str, name: &str) -> Self {
        CgroupV2 {
            name: format!("{parent}/{name}"),
            dir: root.join(parent).join(name),
            freeze_timeout: FREEZE_TIMEOUT,
        }
    }
    // ANCHOR_END: v2_create

    /// How long [`Cgroup::freeze`] waits for `frozen 1`.
    pub fn with_freeze_timeout(mut self, timeout: Duration) -> Self {
        self.freeze_timeout = timeout;
        self
    }

    // ANCHOR: v2_files_freeze
    /// The file `file` of the group, or a "missing controller" error when a
    /// controller's file is absent (the parent did not delegate it).
    fn controller_file(&self, controller: &'static str, file: &str) -> Result<PathBuf> {
        let path = self.dir.join(file);
        if path.exists() {
            Ok(path)
        } else {
            Err(CgroupError::MissingController {
                controller,
                group: self.name.clone(),
            })
        }
    }

    fn set_frozen(&self, frozen: bool) -> Result<()> {
        write_file(
            &self.dir.join("cgroup.freeze"),
            if frozen { "1" } else { "0" },
        )?;
        let want = u64::from(frozen);
        let events = self.dir.join("cgroup.events");
        if wait_for(self.freeze_timeout, || {
            Ok(read_keyed(&events, "frozen")? == Some(want))
        })? {
            Ok(())
        } else {
            Err(CgroupError::FreezeTimeout {
                group: self.name.clone(),
                wanted: if frozen { "frozen" } else { "thawed" },
                waited: self.freeze_timeout,
            })
        }
    }
    // ANCHOR_END: v2_files_freeze
}

// ANCHOR: enable_controllers
/// Adds the controllers missing from `dir/cgroup.subtree_control`, in one
/// write of `+a +b` (each write is a change, not a replacement).
pub(super) fn enable_controllers(dir: &Path, controllers: &[&str]) -> Result<()> {
    let file = dir.join("cgroup.subtree_control");
    let current = read_file(&file)?;
    let missing: Vec<String> = controllers
        .iter()
        .filter(|c| !current.split_whitespace().any(|e| e == **c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    write_file(&file, &missing.join(" "))
}
// ANCHOR_END: enable_controllers

/// v2: the `cpuset` controller is handed down from the root to the
/// container's group on first use (most containers never ask for it).
fn enable_cpuset(group_dir: &Path) -> Result<()> {
    let Some(parent) = group_dir.parent() else {
        return Ok(());
    };
    let Some(root) = parent.parent() else {
        return Ok(());
    };
    for dir in [root, parent] {
        enable_controllers(dir, &["cpuset"])?;
    }
    Ok(())
}

fn optional<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(CgroupError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl Cgroup for CgroupV2 {
    fn version(&self) -> CgroupVersion {
        CgroupVersion::V2
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn dirs(&self) -> Vec<PathBuf> {
        vec![self.dir.clone()]
    }

    // ANCHOR: memory_v2
    fn set_memory_limit(&self, bytes: u64) -> Result<()> {
        // exercise 3.5 cgroup-memory-limit: limit the group's memory to `bytes` on cgroup v2.
        // hint: v2 names the file memory.max (v1 called it memory.limit_in_bytes)
        // hint: write_file(&self.controller_file("memory", "memory.max")?, …) with the number in decimal
        write_file(
            &self.controller_file("memory", "memory.max")?,
            &bytes.to_string(),
        )
        // end exercise
    }
    // ANCHOR_END: memory_v2

    // ANCHOR: v2_limits
    fn set_cpus(&self, quota_us: u64, period_us: u64) -> Result<()> {
        // One file, "quota period", where v1 had two.
        write_file(
            &self.controller_file("cpu", "cpu.max")?,
            &format!("{quota_us} {period_us}"),
        )
    }

    fn set_cpu_shares(&self, shares: u64) -> Result<()> {
        write_file(
            &self.controller_file("cpu", "cpu.weight")?,
            &shares_to_weight(shares).to_string(),
        )
    }

    fn set_pids_max(&self, max: u64) -> Result<()> {
        write_file(
            &self.controller_file("pids", "pids.max")?,
            &limits::pids_value(max),
        )
    }

    fn set_memory_and_swap(&self, memory: u64, swap: limits::SwapLimit) -> Result<()> {
        self.controller_file("memory", "memory.max")?;
        limits::v2_memory_and_swap(&self.dir, &self.name, memory, swap)
    }

    fn set_memory_reservation(&self, bytes: u64) -> Result<()> {
        write_file(
            &self.controller_file("memory", "memory.low")?,
            &bytes.to_string(),
        )
    }

    fn set_cpuset(&self, cpus: Option<&str>, mems: Option<&str>) -> Result<()> {
        enable_cpuset(&self.dir)?;
        limits::write_cpuset(&self.dir, &self.name, cpus, mems)
    }

    fn set_oom_kill_disable(&self, disable: bool) -> Result<()> {
        // v2 has no `memory.oom_control`: the OOM killer always acts at
        // `memory.max` (dockerd drops the setting there with a warning).
        if !disable {
            return Ok(());
        }
        Err(CgroupError::Unsupported {
            setting: "--oom-kill-disable",
            version: "v2",
            group: self.name.clone(),
            hint: "cgroup v2 has no switch for the OOM killer; leave the setting out",
        })
    }

    // ANCHOR_END: v2_limits
    fn restrict_devices(&self, rules: &[DeviceRule]) -> Result<()> {
        super::device_program::attach(&self.dir, rules)
    }

    fn freeze(&self) -> Result<()> {
        self.set_frozen(true)
    }

    fn thaw(&self) -> Result<()> {
        self.set_frozen(false)
    }

    fn is_frozen(&self) -> Result<bool> {
        Ok(read_keyed(&self.dir.join("cgroup.events"), "frozen")? == Some(1))
    }

    // ANCHOR: v2_stats_kill
    fn stats(&self) -> Result<CgroupStats> {
        let d = &self.dir;
        Ok(CgroupStats {
            memory_usage: optional(read_u64(&d.join("memory.current")))?.unwrap_or(0),
            memory_max_usage: optional(read_u64(&d.join("memory.peak")))?,
            memory_limit: optional(read_limit(&d.join("memory.max")))?.flatten(),
            cpu_usage_ns: optional(read_keyed(&d.join("cpu.stat"), "usage_usec"))?
                .flatten()
                .unwrap_or(0)
                * 1000,
            pids_current: optional(read_u64(&d.join("pids.current")))?.unwrap_or(0),
            pids_limit: optional(read_limit(&d.join("pids.max")))?.flatten(),
        })
    }

    fn oom_killed(&self) -> Result<bool> {
        // Without the memory controller there is no group OOM to report.
        Ok(
            optional(read_keyed(&self.dir.join("memory.events"), "oom_kill"))?
                .flatten()
                .is_some_and(|n| n > 0),
        )
    }

    /// Since Linux 5.14 one write to `cgroup.kill` kills the whole group
    /// atomically; older kernels fall back to freeze, signal, thaw.
    fn kill_all(&self) -> Result<()> {
        let kill = self.dir.join("cgroup.kill");
        if kill.exists() {
            return write_file(&kill, "1");
        }
        self.freeze_and_kill()
    }
    // ANCHOR_END: v2_stats_kill
}
