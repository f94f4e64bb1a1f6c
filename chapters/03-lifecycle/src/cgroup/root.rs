//! Where the host's cgroups are: v1 or v2, found in the mount table, and
//! the starting point from which container groups are created.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{CgroupError, Result};
use super::files::remove_dir_retrying;
use super::mountinfo::parse_mountinfo;
use super::v1::CgroupV1;
use super::v2::CgroupV2;
use super::{Cgroup, CgroupVersion};
// ANCHOR: cgroup_detect

/// Where the cgroup file system is, and which version: the starting point
/// from which container groups are created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupRoot {
    /// One mount per controller (or per set of co-mounted controllers):
    /// controller name → mount point.
    V1 {
        /// Controller name (`memory`, `cpu,cpuacct`, …) → its mount point.
        mounts: BTreeMap<String, PathBuf>,
    },
    /// The unified hierarchy at this path.
    V2 {
        /// The mount point of the `cgroup2` file system (or the part of it this engine may use).
        path: PathBuf,
    },
}

/// Where hosts mount cgroups.
pub const DEFAULT_BASE: &str = "/sys/fs/cgroup";

impl CgroupRoot {
    /// Finds the host's cgroups in `/proc/self/mountinfo`.
    pub fn detect() -> Result<CgroupRoot> {
        let path = Path::new("/proc/self/mountinfo");
        let text = fs::read_to_string(path).map_err(|source| CgroupError::Io {
            op: "read",
            path: path.into(),
            source,
        })?;
        CgroupRoot::from_mountinfo(&text, Path::new(DEFAULT_BASE))
    }

    // ANCHOR_END: cgroup_detect
    // ANCHOR: cgroup_mountinfo
    /// Decides the version from mount table text:
    /// - `cgroup2` mounted at `base` → v2 (the unified host of today);
    /// - `cgroup` (v1) mounts with controllers → v1, even when a nearly
    ///   empty cgroup2 sits at `base/unified` (the "hybrid" layout of
    ///   systemd before v2 became the default: controllers live in v1);
    /// - only a cgroup2 mount elsewhere → v2 there.
    pub fn from_mountinfo(text: &str, base: &Path) -> Result<CgroupRoot> {
        let mounts = parse_mountinfo(text);
        if let Some(m) = mounts
            .iter()
            .find(|m| m.fs_type == "cgroup2" && m.mount_point == base)
        {
            return Ok(CgroupRoot::V2 {
                path: m.mount_point.clone(),
            });
        }
        let mut v1 = BTreeMap::new();
        for m in mounts.iter().filter(|m| m.fs_type == "cgroup") {
            for opt in m.super_options.split(',') {
                if V1_CONTROLLERS.contains(&opt) {
                    v1.entry(opt.to_string())
                        .or_insert_with(|| m.mount_point.clone());
                }
            }
        }
        if !v1.is_empty() {
            return Ok(CgroupRoot::V1 { mounts: v1 });
        }
        if let Some(m) = mounts.iter().find(|m| m.fs_type == "cgroup2") {
            return Ok(CgroupRoot::V2 {
                path: m.mount_point.clone(),
            });
        }
        Err(CgroupError::NotMounted { base: base.into() })
    }
    // ANCHOR_END: cgroup_mountinfo

    // ANCHOR: cgroup_create_open
    /// v1 or v2.
    pub fn version(&self) -> CgroupVersion {
        match self {
            CgroupRoot::V1 { .. } => CgroupVersion::V1,
            CgroupRoot::V2 { .. } => CgroupVersion::V2,
        }
    }

    /// Creates (or re-uses) the group `parent/name`, e.g.
    /// `minidock/<container id>`, with the controllers a container needs.
    pub fn create(&self, parent: &str, name: &str) -> Result<Box<dyn Cgroup>> {
        check_name(parent)?;
        check_name(name)?;
        Ok(match self {
            CgroupRoot::V1 { mounts } => Box::new(CgroupV1::create(mounts, parent, name)?),
            CgroupRoot::V2 { path } => Box::new(CgroupV2::create(path, parent, name)?),
        })
    }

    /// A handle on an existing group, without creating anything: for
    /// stopping or removing a container after the engine restarted.
    pub fn open(&self, parent: &str, name: &str) -> Result<Box<dyn Cgroup>> {
        check_name(parent)?;
        check_name(name)?;
        Ok(match self {
            CgroupRoot::V1 { mounts } => Box::new(CgroupV1::open(mounts, parent, name)),
            CgroupRoot::V2 { path } => Box::new(CgroupV2::open(path, parent, name)),
        })
    }
}
// ANCHOR_END: cgroup_create_open

impl CgroupRoot {
    /// Whether containers can have their OOM killer switched off
    /// (`--oom-kill-disable`): on v1 when the memory hierarchy has
    /// `memory.oom_control`, as dockerd checks; never on v2, which has no
    /// such switch.
    pub fn supports_oom_kill_disable(&self) -> bool {
        match self {
            CgroupRoot::V1 { mounts } => mounts
                .get("memory")
                .is_some_and(|m| m.join("memory.oom_control").exists()),
            CgroupRoot::V2 { .. } => false,
        }
    }

    /// Removes the (empty) parent group `parent` in every hierarchy: for
    /// tests and uninstalling; the engine keeps its parent group.
    pub fn remove_parent(&self, parent: &str) -> Result<()> {
        check_name(parent)?;
        let dirs: Vec<PathBuf> = match self {
            CgroupRoot::V1 { mounts } => {
                let mut d: Vec<PathBuf> = mounts.values().map(|m| m.join(parent)).collect();
                d.sort();
                d.dedup();
                d
            }
            CgroupRoot::V2 { path } => vec![path.join(parent)],
        };
        for dir in dirs {
            remove_dir_retrying(&dir, Duration::from_secs(5))?;
        }
        Ok(())
    }
}

/// Every v1 controller name the kernel knows; anything else in a mount's
/// options (`rw`, `name=systemd`, `clone_children`) is not a controller.
const V1_CONTROLLERS: &[&str] = &[
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "misc",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
];

/// Group names become directory names: no `/`, no `..`, nothing hidden.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CgroupError::InvalidName(name.to_string()))
    }
}
