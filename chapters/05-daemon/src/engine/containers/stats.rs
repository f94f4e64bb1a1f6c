//! `docker top` and `docker stats`: the container's processes and what
//! its cgroup counts, with the machine's totals from `/proc` to compare.

use super::RuntimeContainers;
use crate::compat::types::*;
use crate::engine::proc::system_cpu_ns;
use crate::error::{ApiError, ApiResult};
use minidock_lifecycle::proc::total_memory;
use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

/// `GET /containers/{id}/top`: the host's `ps`, its rows kept for the
/// container's processes.
pub(super) fn top(
    service: &RuntimeContainers,
    id: &str,
    ps_args: Option<&str>,
) -> ApiResult<TopResponse> {
    let entry = service.entry(id)?;
    let pids: HashSet<i32> = service
        .inner
        .runtime
        .top(&entry.id)
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
    crate::engine::top::rows_of(&String::from_utf8_lossy(&output.stdout), &pids)
}

/// `GET /containers/{id}/stats?stream=false`: one sample.
pub(super) fn stats(service: &RuntimeContainers, id: &str) -> ApiResult<ContainerStats> {
    let entry = service.entry(id)?;
    let stats = service
        .inner
        .runtime
        .stats(&entry.id)
        .map_err(ApiError::from)?;
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    Ok(ContainerStats {
        name: format!("/{}", entry.container().name),
        id: entry.id.to_string(),
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
        networks: service
            .inner
            .networks
            .as_ref()
            .and_then(|n| n.interface_counters(entry.id.as_str()))
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
