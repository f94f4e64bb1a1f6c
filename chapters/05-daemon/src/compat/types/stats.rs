//! What runs in a container and what it uses: `top` and `stats`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
