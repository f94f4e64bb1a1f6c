//! What Docker's clients ask of a container process that the lesson does
//! not walk through: `--ulimit` ([`rlimits`]), `--sysctl` ([`sysctl`]),
//! `--oom-score-adj` ([`oom`]), `--init` ([`tiny_init`]), the host's
//! devices of `--privileged` ([`host_devices`]) and the size or source of
//! `/dev/shm` (`--shm-size`, `--ipc host`).
//!
//! Each is a small step of PID 1's setup, called from [`crate::init`] at
//! the place runc's order gives it.

pub mod host_devices;
pub mod oom;
pub mod rlimits;
pub mod shm;
pub mod sysctl;
pub mod tiny_init;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Every capability this kernel knows and this process may hand on (its
/// bounding set: an engine started without, say, `CAP_SYS_RESOURCE` cannot
/// give it), by name, sorted: what `--privileged` and `--cap-add ALL` get.
pub fn all_capabilities() -> Vec<String> {
    let bounding = caps::read(None, caps::CapSet::Bounding).unwrap_or_default();
    let mut all: Vec<String> = caps::runtime::thread_all_supported()
        .into_iter()
        .filter(|c| bounding.contains(c))
        .map(|c| c.to_string())
        .collect();
    all.sort();
    all
}

/// A capability's canonical name (`net_admin`, `NET_ADMIN` and
/// `CAP_NET_ADMIN` are `CAP_NET_ADMIN`), or `None` for an unknown one.
pub fn canonical_capability(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    full.parse::<caps::Capability>().ok().map(|c| c.to_string())
}

/// Docker's default size of `/dev/shm`: 64 MiB.
pub const DEFAULT_SHM_SIZE: u64 = 64 << 20;

/// The container's `/dev/shm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Shm {
    /// A tmpfs of its own, of this many bytes (`--shm-size`).
    Tmpfs {
        /// The tmpfs's size limit in bytes (`size=` of the mount).
        size: u64,
    },
    /// The host's, bind-mounted (`--ipc host`).
    Bind(PathBuf),
    /// The `/dev/shm` of this host process's mount namespace: another
    /// container's PID 1 (`--ipc container:NAME`, see [`shm`]).
    OfProcess(i32),
}

impl Default for Shm {
    fn default() -> Self {
        Shm::Tmpfs {
            size: DEFAULT_SHM_SIZE,
        }
    }
}

/// Docker's process settings beyond the lesson, all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerProcess {
    /// `--ulimit`: resource limits set in PID 1 (and every `exec`).
    #[serde(default)]
    pub rlimits: Vec<rlimits::Rlimit>,
    /// `--sysctl`: namespaced kernel parameters, written in PID 1 before
    /// `/proc/sys` becomes read-only.
    #[serde(default)]
    pub sysctls: BTreeMap<String, String>,
    /// `--oom-score-adj`.
    #[serde(default)]
    pub oom_score_adj: Option<i32>,
    /// `--init`: PID 1 stays a tiny init that reaps orphans and forwards
    /// signals; the command runs as its child.
    #[serde(default)]
    pub init: bool,
    /// `--privileged`: `/dev` gets every device node of the host's, and
    /// `/sys` is writable.
    #[serde(default)]
    pub host_devices: bool,
    /// `/dev/shm`.
    #[serde(default)]
    pub shm: Shm,
}
