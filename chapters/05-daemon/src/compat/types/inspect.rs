//! Containers as inspect, `ps` and `wait` show them.

use super::{ContainerConfig, HostConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// The health check's status and last results, for a container that
    /// has a check and has started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<crate::compat::health::Health>,
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

/// `GraphDriver` of inspect: the storage driver and where the container's
/// file system lives on the host, as Docker shows it for overlay2, so a
/// reader (or the dashboard) can find the layers and the upper directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriverData {
    /// `overlay`.
    #[serde(default)]
    pub name: String,
    /// `LowerDir` (the image's layers, top first, joined with `:`),
    /// `UpperDir`, `WorkDir`, `MergedDir`.
    #[serde(default, deserialize_with = "super::nullable")]
    pub data: BTreeMap<String, String>,
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
    /// The storage driver's directories.
    #[serde(default)]
    pub graph_driver: GraphDriverData,
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
