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
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// No cgroup file system is mounted where it was looked for.
    #[error("no cgroup file system found in /proc/self/mountinfo (looked for cgroup2 at {base} and for cgroup v1 controller mounts): mount cgroups or run on a host that has them")]
    NotMounted { base: PathBuf },
    /// A limit needs a controller the host does not offer.
    #[error("cgroup controller {controller:?} is not available for {group}: enable it on the host (v1: mount it; v2: cgroup.subtree_control)")]
    MissingController {
        controller: &'static str,
        group: String,
    },
    /// A file had content the kernel would not write.
    #[error("unexpected content in {path}: {content:?}")]
    Parse { path: PathBuf, content: String },
    /// The freezer did not reach the wanted state in time.
    #[error("cgroup {group} did not become {wanted} within {waited:?}")]
    FreezeTimeout {
        group: String,
        wanted: &'static str,
        waited: Duration,
    },
    /// Processes are still in the group after the wait.
    #[error("cgroup {group} still has processes {pids:?} after {waited:?}; it was not removed")]
    NotEmpty {
        group: String,
        pids: Vec<i32>,
        waited: Duration,
    },
    /// A group or parent name that would leave its directory.
    #[error("invalid cgroup name {0:?}: use letters, digits, '-', '_' and '.' only")]
    InvalidName(String),
}
// ANCHOR_END: cgroup_error

pub type Result<T> = std::result::Result<T, CgroupError>;
