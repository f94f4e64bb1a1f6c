//! What can go wrong with cgroups, each error naming the file or group and
//! what to do.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

// ANCHOR: cgroup_error
/// What can go wrong with cgroups.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// Reading or writing a cgroup file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`write`, `read`, `create`, …).
        op: &'static str,
        /// The cgroup file or directory.
        path: PathBuf,
        /// The kernel's error (`EINVAL` for a value the controller refuses).
        #[source]
        source: io::Error,
    },
    /// No cgroup file system is mounted where it was looked for.
    #[error("no cgroup file system found in /proc/self/mountinfo (looked for cgroup2 at {base} and for cgroup v1 controller mounts): mount cgroups or run on a host that has them")]
    NotMounted {
        /// Where the cgroup v2 file system was expected.
        base: PathBuf,
    },
    /// A limit needs a controller the host does not offer.
    #[error("cgroup controller {controller:?} is not available for {group}: enable it on the host (v1: mount it; v2: cgroup.subtree_control)")]
    MissingController {
        /// The controller the limit needs (`memory`, `cpu`, `pids`, …).
        controller: &'static str,
        /// The group that was to be limited.
        group: String,
    },
    /// A file had content the kernel would not write.
    #[error("unexpected content in {path}: {content:?}")]
    Parse {
        /// The file read.
        path: PathBuf,
        /// What it held.
        content: String,
    },
    /// The freezer did not reach the wanted state in time.
    #[error("cgroup {group} did not become {wanted} within {waited:?}")]
    FreezeTimeout {
        /// The group being frozen or thawed.
        group: String,
        /// The state waited for (`FROZEN`, `THAWED`).
        wanted: &'static str,
        /// How long it was waited for.
        waited: Duration,
    },
    /// Processes are still in the group after the wait.
    #[error("cgroup {group} still has processes {pids:?} after {waited:?}; it was not removed")]
    NotEmpty {
        /// The group that was to be removed.
        group: String,
        /// The processes still in it.
        pids: Vec<i32>,
        /// How long they were given to leave.
        waited: Duration,
    },
    /// A setting this version of cgroups has no file for.
    #[error("{setting} is not supported on cgroup {version} ({group}): {hint}")]
    Unsupported {
        /// The setting (`--oom-kill-disable`).
        setting: &'static str,
        /// `v1` or `v2`.
        version: &'static str,
        /// The group that was to be set.
        group: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// A group or parent name that would leave its directory.
    #[error("invalid cgroup name {0:?}: use letters, digits, '-', '_' and '.' only")]
    InvalidName(String),
}
// ANCHOR_END: cgroup_error

/// The result of the cgroup module's operations.
pub type Result<T> = std::result::Result<T, CgroupError>;
