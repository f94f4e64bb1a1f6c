//! Containers: what a create asks for (`Config`, `HostConfig`), and prune.

use super::nullable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A container's `Config`: what runs, as whom, where. Sent in the create
/// body (flattened into its top level) and returned in inspect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// The container's hostname (defaults to the first 12 hex of its id).
    pub hostname: Option<String>,
    /// Its domain name.
    pub domainname: Option<String>,
    /// `user`, `user:group`, `uid` or `uid:gid` inside the container.
    pub user: Option<String>,
    /// The client will attach stdin.
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stdin: bool,
    /// The client will attach stdout.
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stdout: bool,
    /// The client will attach stderr.
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stderr: bool,
    /// Give the process a terminal (stdout and stderr merge, no frames).
    #[serde(default, deserialize_with = "nullable")]
    pub tty: bool,
    /// Keep stdin open (`-i`).
    #[serde(default, deserialize_with = "nullable")]
    pub open_stdin: bool,
    /// Close stdin after the first attached client detaches.
    #[serde(default, deserialize_with = "nullable")]
    pub stdin_once: bool,
    /// `KEY=value` pairs, merged over the image's by key.
    pub env: Option<Vec<String>>,
    /// The command; replaces the image's `Cmd`.
    pub cmd: Option<Vec<String>>,
    /// The image name as the client gave it.
    #[serde(default, deserialize_with = "nullable")]
    pub image: String,
    /// The working directory inside the container.
    pub working_dir: Option<String>,
    /// The entrypoint; when set, the image's `Cmd` is dropped too.
    pub entrypoint: Option<Vec<String>>,
    /// User labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// The signal `stop` sends first (default SIGTERM).
    pub stop_signal: Option<String>,
    /// Seconds `stop` waits before SIGKILL (default 10).
    pub stop_timeout: Option<i64>,
    /// `-v /path`: paths that get an anonymous volume (`{"/data": {}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// The health check (`--health-cmd`, the image's `HEALTHCHECK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<crate::compat::health::Healthcheck>,
    /// The fields minidock does not read, kept to refuse those that ask for
    /// something (see `compat::unsupported`).
    #[serde(flatten, skip_serializing)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A restart policy: `no`, `always`, `unless-stopped`, `on-failure` (with a
/// retry limit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    /// `""`/`no`, `always`, `unless-stopped` or `on-failure`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// For `on-failure`: how many restarts at most (0: no limit).
    #[serde(default, deserialize_with = "nullable")]
    pub maximum_retry_count: i64,
}

/// Where a container's output goes: `json-file` (with `max-size`,
/// `max-file`, `compress`) or `none`; docker-py reads the type to decide
/// whether it can read logs back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    /// The driver: `json-file` or `none`.
    #[serde(rename = "Type", default, deserialize_with = "nullable")]
    pub kind: String,
    /// Driver options, as given (`max-size`: `10m`, …).
    #[serde(rename = "Config", default, deserialize_with = "nullable")]
    pub config: BTreeMap<String, String>,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            kind: "json-file".to_string(),
            config: BTreeMap::new(),
        }
    }
}

/// How the host treats a container: mounts, limits, restart, removal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    /// Bind mounts, `/host:/container[:ro]`.
    pub binds: Option<Vec<String>>,
    /// Memory limit in bytes (0: none).
    #[serde(default, deserialize_with = "nullable")]
    pub memory: i64,
    /// CPU quota in units of 1e-9 CPUs (`--cpus 1.5` = 1_500_000_000).
    #[serde(default, deserialize_with = "nullable")]
    pub nano_cpus: i64,
    /// Relative CPU weight (cgroup v1 shares; 0: default).
    #[serde(default, deserialize_with = "nullable")]
    pub cpu_shares: i64,
    /// Process count limit (`None` or ≤ 0: none).
    pub pids_limit: Option<i64>,
    /// Memory plus swap in bytes (0: not set, -1: unlimited swap).
    #[serde(default, deserialize_with = "nullable")]
    pub memory_swap: i64,
    /// Soft memory limit in bytes (0: none).
    #[serde(default, deserialize_with = "nullable")]
    pub memory_reservation: i64,
    /// µs of CPU time per `CpuPeriod` (0: none).
    #[serde(default, deserialize_with = "nullable")]
    pub cpu_quota: i64,
    /// The CFS period in µs (0: the kernel's 100 ms).
    #[serde(default, deserialize_with = "nullable")]
    pub cpu_period: i64,
    /// CPUs the container may run on (`0-2,4`; empty: all).
    #[serde(default, deserialize_with = "nullable")]
    pub cpuset_cpus: String,
    /// Memory nodes it may use (empty: all).
    #[serde(default, deserialize_with = "nullable")]
    pub cpuset_mems: String,
    /// When the daemon restarts the container after it exits.
    pub restart_policy: Option<RestartPolicy>,
    /// Remove the container when it exits (`--rm`); done by the daemon.
    #[serde(default, deserialize_with = "nullable")]
    pub auto_remove: bool,
    /// `none`, `host`, `default`/`bridge` (treated as `none` here: no network
    /// chapter yet).
    pub network_mode: Option<String>,
    /// The logging driver.
    pub log_config: Option<LogConfig>,
    /// Mount the root filesystem read-only.
    #[serde(default, deserialize_with = "nullable")]
    pub readonly_rootfs: bool,
    /// `--security-opt`: `seccomp=unconfined`, `no-new-privileges`.
    pub security_opt: Option<Vec<String>>,
    /// Run a tiny init as PID 1 that reaps orphans and forwards signals.
    pub init: Option<bool>,
    /// `--cap-add`: capabilities on top of Docker's 14 (`ALL`: every one).
    pub cap_add: Option<Vec<String>>,
    /// `--cap-drop`: capabilities taken away (`ALL`: every one).
    pub cap_drop: Option<Vec<String>>,
    /// `--privileged`: every capability and device, no seccomp, no masked paths.
    #[serde(default, deserialize_with = "nullable")]
    pub privileged: bool,
    /// `--pid`: `""` (its own), `host` or `container:NAME`.
    #[serde(default, deserialize_with = "nullable")]
    pub pid_mode: String,
    /// `--ipc`: `""`/`private`/`shareable`, `host` or `container:NAME`.
    #[serde(default, deserialize_with = "nullable")]
    pub ipc_mode: String,
    /// `--uts`: `""` or `host`.
    #[serde(rename = "UTSMode", default, deserialize_with = "nullable")]
    pub uts_mode: String,
    /// `--group-add`: supplementary groups, names or gids.
    pub group_add: Option<Vec<String>>,
    /// `--shm-size`: bytes of `/dev/shm` (0: Docker's 64 MiB).
    #[serde(default, deserialize_with = "nullable")]
    pub shm_size: i64,
    /// `--ulimit`.
    pub ulimits: Option<Vec<Ulimit>>,
    /// `--sysctl`: namespaced kernel parameters.
    pub sysctls: Option<BTreeMap<String, String>>,
    /// `--oom-score-adj`.
    #[serde(default, deserialize_with = "nullable")]
    pub oom_score_adj: i64,
    /// `--oom-kill-disable`: the OOM killer spares the container (cgroup
    /// v1; on v2 dropped with a warning, see `compat::warnings`).
    pub oom_kill_disable: Option<bool>,
    /// Paths hidden from the container (Docker's list when not given).
    pub masked_paths: Option<Vec<String>>,
    /// Paths made read-only (Docker's list when not given).
    pub readonly_paths: Option<Vec<String>>,
    /// `--mount`: the API's `Mount` objects, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<serde_json::Value>>,
    /// `--tmpfs`: container path → mount options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// `--volumes-from`: `container[:ro|:rw]` (`null` when none, as dockerd).
    #[serde(default)]
    pub volumes_from: Option<Vec<String>>,
    /// The fields minidock does not read: kept to refuse those that ask for
    /// something (see `compat::unsupported`), stored with the request and
    /// shown again in inspect (with Docker's defaults for those not sent,
    /// see `compat::host_config`).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// One `--ulimit`: `{"Name": "nofile", "Soft": 1024, "Hard": 2048}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    /// `nofile`, `nproc`, `core`, …
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The soft limit.
    #[serde(default, deserialize_with = "nullable")]
    pub soft: i64,
    /// The hard limit.
    #[serde(default, deserialize_with = "nullable")]
    pub hard: i64,
}

/// The body of `POST /containers/create`: the `Config` fields at the top
/// level, plus `HostConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerCreateBody {
    /// The `Config` part.
    #[serde(flatten)]
    pub config: ContainerConfig,
    /// The `HostConfig` part.
    #[serde(rename = "HostConfig", default, deserialize_with = "nullable")]
    pub host_config: HostConfig,
}

/// The answer to create: the new id, and warnings (see `compat::warnings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerCreateResponse {
    /// The 64-hex id.
    pub id: String,
    /// Things the client should tell the user.
    #[serde(default, deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

/// The answer to `POST /containers/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerPruneResponse {
    /// The ids of the removed containers (`null` when none, as Docker).
    pub containers_deleted: Option<Vec<String>>,
    /// Bytes their writable layers held.
    #[serde(default)]
    pub space_reclaimed: u64,
}
