//! `docker top` and `docker stats`: the container's processes and what
//! its cgroup counts, with the machine's totals from `/proc` to compare.
//! The container service finds the container and hands its id here.

use crate::compat::types::*;
use crate::engine::proc::system_cpu_ns;
use crate::error::{ApiError, ApiResult};
use crate::networks::NetworkService;
use minidock_lifecycle::proc::total_memory;
use minidock_lifecycle::{ContainerId, Runtime};
use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

/// `GET /containers/{id}/top`: the host's `ps`, its rows kept for the
/// container's processes.
pub(crate) fn top(
    runtime: &Runtime,
    id: &ContainerId,
    ps_args: Option<&str>,
) -> ApiResult<TopResponse> {
    let pids: HashSet<i32> = runtime
        .top(id)
        .map_err(ApiError::from)?
        .into_iter()
        .map(|p| p.pid)
        .collect();
    // As Docker: the host's `ps` with the client's arguments (default
    // `-ef`), its rows kept for the container's processes.
    let args = ps_args.filter(|a| !a.trim().is_empty()).unwrap_or("-ef");
    let output = std::process::Command::new("ps")
        .args(args.split_whitespace())
        .output()
        .map_err(|e| {
            ApiError::Internal(format!(
                "top runs the host's ps, which failed to start ({e}): install it (Debian: apt-get install procps)"
            ))
        })?;
    if !output.status.success() {
        return Err(ApiError::BadParameter(format!(
            "ps {args} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    crate::compat::top::rows_of(&String::from_utf8_lossy(&output.stdout), &pids)
}

/// `GET /containers/{id}/stats?stream=false`: one sample.
pub(crate) fn stats(
    runtime: &Runtime,
    networks: Option<&dyn NetworkService>,
    id: &ContainerId,
    name: &str,
) -> ApiResult<ContainerStats> {
    let stats = runtime.stats(id).map_err(ApiError::from)?;
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    Ok(ContainerStats {
        name: format!("/{name}"),
        id: id.to_string(),
        read: crate::time::rfc3339(SystemTime::now()),
        preread: crate::time::ZERO_TIME.to_string(),
        pids_stats: PidsStats {
            current: stats.pids_current,
            limit: stats.pids_limit,
        },
        cpu_stats: CpuStats {
            cpu_usage: CpuUsage {
                total_usage: stats.cpu_usage_ns,
                ..CpuUsage::default()
            },
            system_cpu_usage: system_cpu_ns(),
            online_cpus: cpus,
        },
        precpu_stats: CpuStats::default(),
        memory_stats: MemoryStats {
            usage: stats.memory_usage,
            limit: stats.memory_limit.unwrap_or_else(total_memory),
            stats: BTreeMap::new(),
        },
        blkio_stats: BTreeMap::new(),
        networks: networks
            .and_then(|n| n.interface_counters(id.as_str()))
            .map(|counters| {
                counters
                    .into_iter()
                    .map(|(name, rx, tx)| {
                        (name, serde_json::json!({"rx_bytes": rx, "tx_bytes": tx}))
                    })
                    .collect()
            }),
    })
}
