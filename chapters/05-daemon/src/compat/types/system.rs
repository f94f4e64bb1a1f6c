//! The daemon itself: version, info, events.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `Platform` of `/version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Platform {
    /// Shown by `docker version` as the server's name.
    pub name: String,
}

/// A component of `/version` (the engine, here the only one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComponentVersion {
    /// `Engine`.
    pub name: String,
    /// The engine's version.
    pub version: String,
    /// `ApiVersion`, `MinAPIVersion`, `Os`, `Arch`, … as strings.
    pub details: BTreeMap<String, String>,
}

/// `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SystemVersion {
    /// The product.
    pub platform: Platform,
    /// Its parts.
    pub components: Vec<ComponentVersion>,
    /// The engine's version.
    pub version: String,
    /// The API version it speaks (`1.44`).
    pub api_version: String,
    /// The oldest API version it accepts.
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: String,
    /// The source revision (unknown: empty).
    pub git_commit: String,
    /// Docker reports its Go version here; minidock its Rust edition.
    pub go_version: String,
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`, …
    pub arch: String,
    /// `uname -r`.
    pub kernel_version: String,
    /// Never.
    pub experimental: bool,
    /// When it was built (unknown: empty).
    pub build_time: String,
}

/// Swarm state in `/info`: always inactive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SwarmInfo {
    /// `inactive`.
    pub local_node_state: String,
}

/// `RegistryConfig` of `/info`: what `docker info` prints as `Insecure
/// Registries` and `Registry Mirrors`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegistryConfig {
    /// Ranges reached over plain HTTP: the loopback's.
    #[serde(rename = "InsecureRegistryCIDRs", default)]
    pub insecure_registry_cidrs: Vec<String>,
    /// Per registry: Docker Hub's (with its mirrors) and each insecure one.
    #[serde(default)]
    pub index_configs: std::collections::BTreeMap<String, IndexInfo>,
    /// Docker Hub's mirrors, in the order they are tried.
    #[serde(default)]
    pub mirrors: Vec<String>,
}

/// One registry in [`RegistryConfig::index_configs`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexInfo {
    /// `docker.io`, `HOST:PORT`.
    pub name: String,
    /// Its mirrors.
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// Reached over HTTPS.
    pub secure: bool,
    /// Docker Hub.
    pub official: bool,
}

/// A version of a helper program in `/info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// The version or commit.
    #[serde(rename = "ID")]
    pub id: String,
}

/// `GET /info`: what `docker info` prints under `Server:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SystemInfo {
    /// A stable id of this daemon.
    #[serde(rename = "ID")]
    pub id: String,
    /// All containers.
    pub containers: i64,
    /// Running ones (not paused).
    pub containers_running: i64,
    /// Paused ones.
    pub containers_paused: i64,
    /// Stopped ones.
    pub containers_stopped: i64,
    /// Images.
    pub images: i64,
    /// The storage driver: `overlay`.
    pub driver: String,
    /// Details of the storage driver.
    pub driver_status: Vec<[String; 2]>,
    /// The state directory.
    pub docker_root_dir: String,
    /// Memory limits work.
    pub memory_limit: bool,
    /// Swap limits work.
    pub swap_limit: bool,
    /// CFS quota works.
    pub cpu_cfs_quota: bool,
    /// CPU shares work.
    #[serde(rename = "CPUShares")]
    pub cpu_shares: bool,
    /// Pids limit works.
    pub pids_limit: bool,
    /// `--debug`.
    pub debug: bool,
    /// Open file descriptors of the daemon.
    #[serde(rename = "NFd")]
    pub n_fd: i64,
    /// Tasks of the daemon's async runtime (approximate).
    pub n_goroutines: i64,
    /// Now, RFC 3339.
    pub system_time: String,
    /// `json-file`.
    pub logging_driver: String,
    /// `cgroupfs`.
    pub cgroup_driver: String,
    /// `1` or `2`.
    pub cgroup_version: String,
    /// Listeners of `/events`.
    pub n_events_listener: i64,
    /// `uname -r`.
    pub kernel_version: String,
    /// From /etc/os-release.
    pub operating_system: String,
    /// `linux`.
    #[serde(rename = "OSType")]
    pub os_type: String,
    /// `x86_64`, `aarch64` (as `uname -m`).
    pub architecture: String,
    /// CPUs.
    #[serde(rename = "NCPU")]
    pub ncpu: i64,
    /// Bytes of RAM.
    pub mem_total: i64,
    /// The host name.
    pub name: String,
    /// Labels of the daemon.
    pub labels: Vec<String>,
    /// How the daemon reaches registries: the insecure ones, the mirrors.
    #[serde(default)]
    pub registry_config: RegistryConfig,
    /// Never.
    pub experimental_build: bool,
    /// The engine version.
    pub server_version: String,
    /// The runtime containers use.
    pub default_runtime: String,
    /// Swarm: inactive.
    pub swarm: SwarmInfo,
    /// Containers survive a daemon restart (the shim keeps them).
    pub live_restore_enabled: bool,
    /// `no-new-privileges`, `seccomp`… as `name=…` strings.
    pub security_options: Vec<String>,
    /// Warnings `docker info` prints at the end.
    pub warnings: Vec<String>,
    /// containerd's commit: not used.
    pub containerd_commit: Commit,
    /// runc's commit: minidock runs containers itself.
    pub runc_commit: Commit,
    /// The init binary's commit.
    pub init_commit: Commit,
}

/// `Actor` of an event: what it happened to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventActor {
    /// Container id, image id or name.
    #[serde(rename = "ID")]
    pub id: String,
    /// `name`, `image`, `exitCode`, labels…
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// One object of `GET /events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `container` or `image`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// `create`, `start`, `die`, `destroy`, `pull`, `tag`, …
    #[serde(rename = "Action")]
    pub action: String,
    /// What it happened to.
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    /// `local`.
    #[serde(default)]
    pub scope: String,
    /// Unix seconds.
    #[serde(default)]
    pub time: i64,
    /// Unix nanoseconds.
    #[serde(rename = "timeNano", default)]
    pub time_nano: i64,
    /// The action again, in the form older clients read (docker-compose
    /// v1): Docker still sends `status`, `id` and `from` for container and
    /// image events.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// The actor's id, for older clients.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// A container's image, for older clients.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
}
