//! Containers: create, inspect, list, wait, top, stats, exec.

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
    /// The fields minidock does not read, kept to refuse those that ask for
    /// something (see `engine::unsupported`).
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

/// Where a container's output goes. Only `json-file` exists here; docker-py
/// reads the type to decide whether it can read logs back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    /// Always `json-file`.
    #[serde(rename = "Type", default, deserialize_with = "nullable")]
    pub kind: String,
    /// Driver options (none are used).
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
    /// something (see `engine::unsupported`), stored with the request and
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

/// The answer to create: the new id, and warnings (always empty here).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerCreateResponse {
    /// The 64-hex id.
    pub id: String,
    /// Things the client should tell the user.
    #[serde(default, deserialize_with = "nullable")]
    pub warnings: Vec<String>,
}

/// `State` of inspect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    pub status: String,
    /// The process runs (also when paused).
    pub running: bool,
    /// Its cgroup is frozen.
    pub paused: bool,
    /// The daemon is about to restart it.
    pub restarting: bool,
    /// The kernel's OOM killer ended it.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// It could not be cleaned up.
    pub dead: bool,
    /// Its main process on the host (0 when not running).
    pub pid: i64,
    /// The status of its last exit.
    pub exit_code: i64,
    /// Why it failed to start or exit cleanly.
    pub error: String,
    /// RFC 3339 time of the last start (Go's zero time if never).
    pub started_at: String,
    /// RFC 3339 time of the last exit (Go's zero time if never).
    pub finished_at: String,
}

/// A mount of inspect's `Mounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    /// `bind`, `volume` or `tmpfs`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The volume's name (volumes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The host path (empty for tmpfs).
    pub source: String,
    /// The path in the container.
    pub destination: String,
    /// `ro`, `rw` or `""`, as given.
    pub mode: String,
    /// Writable.
    #[serde(rename = "RW")]
    pub rw: bool,
    /// Mount propagation (`rprivate`).
    pub propagation: String,
    /// The volume's driver (volumes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
}

/// `NetworkSettings`: filled by the network service when the daemon has
/// one (chapter 06), empty otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// The bridge of the default network, when the container is on it.
    #[serde(default)]
    pub bridge: String,
    /// The path of the container's network namespace.
    #[serde(default)]
    pub sandbox_key: String,
    /// The address on the default network (legacy field).
    #[serde(rename = "IPAddress", default)]
    pub ip_address: String,
    /// Its prefix length.
    #[serde(rename = "IPPrefixLen", default)]
    pub ip_prefix_len: u8,
    /// The default network's gateway.
    #[serde(default)]
    pub gateway: String,
    /// The MAC address on the default network.
    #[serde(default)]
    pub mac_address: String,
    /// `"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]`, or `null`
    /// for an exposed port that is not published.
    #[serde(default)]
    pub ports: BTreeMap<String, serde_json::Value>,
    /// Network name → the container's endpoint there.
    #[serde(default)]
    pub networks: BTreeMap<String, serde_json::Value>,
}

/// `GET /containers/{id}/json`. The docker CLI needs `Config`, `State` and
/// `HostConfig` to be present (it reads `Config.Tty` before logs and attach).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    /// The 64-hex id.
    pub id: String,
    /// RFC 3339 creation time.
    pub created: String,
    /// The program (entrypoint or command, first word).
    pub path: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The state.
    pub state: ContainerState,
    /// The image id, `sha256:…`.
    pub image: String,
    /// The log file on the host.
    pub log_path: String,
    /// `/name`, with Docker's leading slash.
    pub name: String,
    /// How often the daemon restarted it by policy.
    pub restart_count: i64,
    /// The storage driver.
    pub driver: String,
    /// `linux`.
    pub platform: String,
    /// Ids of its exec instances.
    pub exec_ids: Option<Vec<String>>,
    /// Host side settings, as created.
    pub host_config: HostConfig,
    /// Bind mounts.
    pub mounts: Vec<MountPoint>,
    /// The effective config (image defaults merged with the request).
    pub config: ContainerConfig,
    /// Networking.
    pub network_settings: NetworkSettings,
}

/// A published (or exposed) port in lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Port {
    /// The host address it is published on.
    #[serde(rename = "IP", default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Container port.
    pub private_port: u16,
    /// Host port.
    pub public_port: Option<u16>,
    /// `tcp` or `udp`.
    #[serde(rename = "Type")]
    pub kind: String,
}

/// `HostConfig` in list entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHostConfig {
    /// The network mode.
    #[serde(default)]
    pub network_mode: String,
}

/// An entry of `GET /containers/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    /// The 64-hex id.
    pub id: String,
    /// `["/name"]`.
    pub names: Vec<String>,
    /// The image as the user named it.
    pub image: String,
    /// The image id.
    #[serde(rename = "ImageID")]
    pub image_id: String,
    /// The command line, joined with spaces.
    pub command: String,
    /// Unix seconds of creation.
    pub created: i64,
    /// Published ports.
    pub ports: Vec<Port>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, `paused`, `exited`, …
    pub state: String,
    /// `Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created`, `Up 2 seconds (Paused)`.
    pub status: String,
    /// The network mode.
    pub host_config: SummaryHostConfig,
    /// Bind mounts.
    pub mounts: Vec<MountPoint>,
    /// Bytes written to the container's layer, with `?size=1`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size_rw: Option<i64>,
}

/// The error of a wait response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitError {
    /// What went wrong.
    pub message: String,
}

/// The body of `POST /containers/{id}/wait`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitResponse {
    /// The exit status.
    pub status_code: i64,
    /// `null` unless the wait itself failed.
    pub error: Option<WaitError>,
}

impl WaitResponse {
    /// A response for `code`, with an error when there is a message.
    pub fn new(code: i64, error: Option<String>) -> WaitResponse {
        WaitResponse {
            status_code: code,
            error: error
                .filter(|m| !m.is_empty())
                .map(|message| WaitError { message }),
        }
    }
}

/// `GET /containers/{id}/top`: a table like `ps` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopResponse {
    /// Column titles.
    pub titles: Vec<String>,
    /// One row per process.
    pub processes: Vec<Vec<String>>,
}

/// CPU counters of a stats sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuUsage {
    /// Nanoseconds of CPU used by the container.
    pub total_usage: u64,
    /// Of which in the kernel.
    pub usage_in_kernelmode: u64,
    /// Of which in user space.
    pub usage_in_usermode: u64,
}

/// CPU part of a stats sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuStats {
    /// The container's usage.
    pub cpu_usage: CpuUsage,
    /// Nanoseconds of CPU used by the whole system (for the percentage).
    #[serde(default)]
    pub system_cpu_usage: u64,
    /// CPUs online.
    #[serde(default)]
    pub online_cpus: u32,
}

/// Memory part of a stats sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStats {
    /// Bytes in use.
    #[serde(default)]
    pub usage: u64,
    /// The limit (the host's memory when unlimited).
    #[serde(default)]
    pub limit: u64,
    /// Raw counters of the cgroup's memory.stat.
    #[serde(default)]
    pub stats: BTreeMap<String, u64>,
}

/// Pids part of a stats sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidsStats {
    /// Processes in the container.
    #[serde(default)]
    pub current: u64,
    /// The limit, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub limit: Option<u64>,
}

/// `GET /containers/{id}/stats`: one sample (with `stream=false`) or one
/// per second.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerStats {
    /// `/name`.
    pub name: String,
    /// The id.
    pub id: String,
    /// When this sample was read (RFC 3339).
    pub read: String,
    /// When the previous one was (Go's zero time for the first).
    pub preread: String,
    /// Processes.
    pub pids_stats: PidsStats,
    /// CPU now.
    pub cpu_stats: CpuStats,
    /// CPU at the previous sample.
    pub precpu_stats: CpuStats,
    /// Memory.
    pub memory_stats: MemoryStats,
    /// Block I/O (empty here).
    #[serde(default)]
    pub blkio_stats: BTreeMap<String, serde_json::Value>,
    /// Interface name → `{"rx_bytes": …, "tx_bytes": …}`, when the
    /// container has interfaces of its own (a network service wired it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networks: Option<BTreeMap<String, serde_json::Value>>,
}

/// The body of `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecConfig {
    /// Attach stdin on start.
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stdin: bool,
    /// Attach stdout on start.
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stdout: bool,
    /// Attach stderr on start.
    #[serde(default, deserialize_with = "nullable")]
    pub attach_stderr: bool,
    /// Give the process a terminal.
    #[serde(default, deserialize_with = "nullable")]
    pub tty: bool,
    /// Extra `KEY=value` pairs.
    pub env: Option<Vec<String>>,
    /// The command (required).
    #[serde(default, deserialize_with = "nullable")]
    pub cmd: Vec<String>,
    /// The user to run as.
    pub user: Option<String>,
    /// The working directory.
    pub working_dir: Option<String>,
    /// Run with all capabilities (refused here).
    #[serde(default, deserialize_with = "nullable")]
    pub privileged: bool,
    /// The keys that detach from the exec's terminal (Docker's notation,
    /// see [`crate::detach`]); the default sequence when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detach_keys: Option<String>,
}

/// The answer to exec create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdResponse {
    /// The new id.
    pub id: String,
}

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecStartConfig {
    /// Start and return at once, without streams.
    #[serde(default, deserialize_with = "nullable")]
    pub detach: bool,
    /// Must match the exec's `Tty`.
    #[serde(default, deserialize_with = "nullable")]
    pub tty: bool,
}

/// `ProcessConfig` of exec inspect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecProcessConfig {
    /// The program.
    pub entrypoint: String,
    /// Its arguments.
    pub arguments: Vec<String>,
    /// With a terminal.
    pub tty: bool,
    /// Privileged.
    pub privileged: bool,
    /// The user.
    pub user: String,
}

/// `GET /exec/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecInspect {
    /// The exec id.
    #[serde(rename = "ID")]
    pub id: String,
    /// The container it runs in.
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    /// Still running.
    pub running: bool,
    /// `null` until it exits.
    pub exit_code: Option<i64>,
    /// Its pid on the host (0 when not running).
    pub pid: i64,
    /// Stdin attached.
    pub open_stdin: bool,
    /// Stdout attached.
    pub open_stdout: bool,
    /// Stderr attached.
    pub open_stderr: bool,
    /// What runs.
    pub process_config: ExecProcessConfig,
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

/// `X-Docker-Container-Path-Stat` of `HEAD`/`GET /containers/{id}/archive`
/// (base64 of this JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerPathStat {
    /// The last component of the path.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Go's `os.FileMode` (`1<<31` marks a directory, `1<<27` a symlink).
    pub mode: u32,
    /// Modification time, RFC 3339.
    pub mtime: String,
    /// The target, for a symlink.
    #[serde(rename = "linkTarget", default)]
    pub link_target: String,
}

impl ContainerPathStat {
    /// Whether the path is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & (1 << 31) != 0
    }
}

/// One entry of `GET /containers/{id}/changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerChange {
    /// The path inside the container.
    pub path: String,
    /// 0 modified, 1 added, 2 deleted.
    pub kind: u8,
}
