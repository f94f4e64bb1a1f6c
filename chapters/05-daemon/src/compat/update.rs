//! `POST /containers/{id}/update`: `docker update` changes the limits and
//! the restart policy of a container that exists, running or not.
//!
//! The body is the `Resources` part of a `HostConfig` plus `RestartPolicy`.
//! A field left out, or 0, changes nothing (Docker's rule), so a client
//! that sends every field with zeroes updates only what it named. Chapter
//! 03's [`Runtime::update`](minidock_lifecycle::Runtime::update) writes the
//! cgroup and stores the result.

use crate::compat::types::RestartPolicy;
use crate::error::ApiError;
use minidock_lifecycle::limits::LimitsUpdate;
use serde::{Deserialize, Serialize};

/// The body of `POST /containers/{id}/update`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerUpdateBody {
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// Memory plus swap in bytes; -1 = unlimited swap.
    pub memory_swap: Option<i64>,
    /// Soft memory limit in bytes.
    pub memory_reservation: Option<i64>,
    /// CPUs × 10⁹.
    pub nano_cpus: Option<i64>,
    /// Relative CPU weight.
    pub cpu_shares: Option<i64>,
    /// µs of CPU time per period.
    pub cpu_quota: Option<i64>,
    /// The period in µs.
    pub cpu_period: Option<i64>,
    /// CPUs the container may use (`0-2`).
    pub cpuset_cpus: Option<String>,
    /// Memory nodes it may use.
    pub cpuset_mems: Option<String>,
    /// Most processes; -1 = unlimited.
    pub pids_limit: Option<i64>,
    /// The new restart policy.
    pub restart_policy: Option<RestartPolicy>,
    /// Fields this daemon does not update (`BlkioWeight`, `KernelMemory`…),
    /// refused when they ask for something.
    #[serde(flatten, skip_serializing)]
    pub other: std::collections::BTreeMap<String, serde_json::Value>,
}

/// The answer: warnings for the user (none here).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerUpdateResponse {
    /// Things the client should tell the user.
    #[serde(default, deserialize_with = "crate::compat::types::nullable")]
    pub warnings: Vec<String>,
}

/// Fields of an update body that mean "no change" at their zero value and
/// that minidock cannot change.
const NOT_UPDATED: &[&str] = &[
    "BlkioWeight",
    "CpuRealtimePeriod",
    "CpuRealtimeRuntime",
    "KernelMemory",
    "KernelMemoryTCP",
    "MemorySwappiness",
    "OomKillDisable",
    "CpuCount",
    "CpuPercent",
    "IOMaximumIOps",
    "IOMaximumBandwidth",
];

// ANCHOR: limits_update
/// The body as chapter 03's update: zero means "leave as it is", negative
/// numbers are refused except where Docker gives them a meaning (-1 for
/// `MemorySwap` and `PidsLimit`).
pub fn limits_update(body: &ContainerUpdateBody) -> Result<LimitsUpdate, ApiError> {
    for name in NOT_UPDATED {
        let asks = match body.other.get(*name) {
            None | Some(serde_json::Value::Null) => false,
            Some(v) => v.as_f64() != Some(0.0) && v.as_bool() != Some(false),
        };
        if asks && *name == "OomKillDisable" {
            // `docker update` has no flag for it, and dockerd keeps it as
            // created: say so rather than answer 200 and change nothing.
            return Err(ApiError::BadParameter(
                "OomKillDisable cannot be updated: the OOM killer is switched off when the \
                 container is created (run/create --oom-kill-disable)"
                    .to_string(),
            ));
        }
        if asks {
            return Err(ApiError::BadParameter(format!(
                "{name} cannot be updated by minidock: it updates Memory, MemorySwap, \
                 MemoryReservation, NanoCpus, CpuShares, CpuQuota, CpuPeriod, CpusetCpus, \
                 CpusetMems, PidsLimit and RestartPolicy"
            )));
        }
    }
    let positive = |name: &str, v: Option<i64>| -> Result<Option<u64>, ApiError> {
        match v {
            None | Some(0) => Ok(None),
            Some(n) if n > 0 => Ok(Some(n as u64)),
            Some(n) => Err(ApiError::BadParameter(format!(
                "invalid {name} {n}: must not be negative"
            ))),
        }
    };
    let restart_policy =
        match &body.restart_policy {
            Some(p) if !p.name.is_empty() => {
                let spec = match (p.name.as_str(), p.maximum_retry_count) {
                    ("on-failure", n) if n > 0 => format!("on-failure:{n}"),
                    (name, _) => name.to_string(),
                };
                Some(spec.parse().map_err(|e: minidock_lifecycle::Error| {
                    ApiError::BadParameter(e.to_string())
                })?)
            }
            _ => None,
        };
    Ok(LimitsUpdate {
        memory: positive("Memory", body.memory)?,
        memory_swap: body.memory_swap.filter(|s| *s != 0),
        memory_reservation: positive("MemoryReservation", body.memory_reservation)?,
        nano_cpus: positive("NanoCpus", body.nano_cpus)?,
        cpu_shares: positive("CpuShares", body.cpu_shares)?,
        cpu_quota: positive("CpuQuota", body.cpu_quota)?,
        cpu_period: positive("CpuPeriod", body.cpu_period)?,
        cpuset_cpus: body.cpuset_cpus.clone().filter(|s| !s.is_empty()),
        cpuset_mems: body.cpuset_mems.clone().filter(|s| !s.is_empty()),
        pids_limit: body.pids_limit.filter(|p| *p != 0),
        restart_policy,
    })
}
// ANCHOR_END: limits_update

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<LimitsUpdate, ApiError> {
        limits_update(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn zero_fields_change_nothing_and_named_ones_do() {
        // What `docker update --memory 64m --pids-limit 50 c` sends: every
        // resource field, zero unless given.
        let u = parse(
            r#"{"Memory":67108864,"MemorySwap":0,"NanoCpus":0,"CpuShares":0,"CpuQuota":0,
                "CpusetCpus":"","PidsLimit":50,"BlkioWeight":0,"KernelMemory":0,
                "RestartPolicy":{"Name":"","MaximumRetryCount":0}}"#,
        )
        .unwrap();
        assert_eq!(
            u,
            LimitsUpdate {
                memory: Some(64 << 20),
                pids_limit: Some(50),
                ..LimitsUpdate::default()
            }
        );
        let u = parse(r#"{"MemorySwap":-1,"PidsLimit":-1,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":2}}"#)
            .unwrap();
        assert_eq!(u.memory_swap, Some(-1));
        assert_eq!(u.pids_limit, Some(-1));
        assert_eq!(u.restart_policy.unwrap().maximum_retry_count, 2);
    }

    #[test]
    fn what_cannot_be_updated_is_refused_by_name() {
        let err = parse(r#"{"BlkioWeight":300}"#).unwrap_err();
        assert!(err.to_string().starts_with("BlkioWeight cannot"), "{err}");
        let err = parse(r#"{"OomKillDisable":true}"#).unwrap_err();
        assert!(err.to_string().contains("--oom-kill-disable"), "{err}");
        parse(r#"{"OomKillDisable":false,"Memory":0}"#).unwrap();
        assert!(parse(r#"{"Memory":-5}"#).is_err());
        assert!(parse(r#"{"RestartPolicy":{"Name":"sometimes"}}"#).is_err());
    }
}
