//! `docker update`: new limits for a container that exists, written into
//! its running cgroup at once and kept in its `config.json` for every later
//! start. The limits themselves, and Docker's rules for the ones that go
//! together, are the host config's ([`crate::config::HostConfig`]).

use crate::config::{HostConfig, RestartName, RestartPolicy};
use crate::error::{Error, Result};
use crate::id::ContainerId;
use crate::runtime::Runtime;
use crate::store::Container;
// ANCHOR: limits_update

/// What `docker update` changes; `None` (or 0 in the API) leaves a setting
/// as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitsUpdate {
    /// `--memory`: the hard memory limit, in bytes.
    pub memory: Option<u64>,
    /// Memory plus swap; -1 = unlimited swap.
    pub memory_swap: Option<i64>,
    /// `--memory-reservation`: the soft limit the kernel reclaims down to under pressure.
    pub memory_reservation: Option<u64>,
    /// `--cpus`, in billionths of a CPU.
    pub nano_cpus: Option<u64>,
    /// `--cpu-shares`: the weight against other groups when CPUs are busy.
    pub cpu_shares: Option<u64>,
    /// `--cpu-quota`: microseconds of CPU per period.
    pub cpu_quota: Option<u64>,
    /// `--cpu-period`: the period of the quota, in microseconds.
    pub cpu_period: Option<u64>,
    /// `--cpuset-cpus`: the CPUs the container may run on (`0-2,4`).
    pub cpuset_cpus: Option<String>,
    /// `--cpuset-mems`: the memory nodes it may use.
    pub cpuset_mems: Option<String>,
    /// A number ≤ 0 lifts the limit.
    pub pids_limit: Option<i64>,
    /// `--restart`: a new restart policy, read by the shim at the next exit.
    pub restart_policy: Option<RestartPolicy>,
}

impl LimitsUpdate {
    /// The host config after the update, checked by Docker's rules.
    pub fn merged(&self, old: &HostConfig) -> Result<HostConfig> {
        let mut h = old.clone();
        let set = |target: &mut u64, v: Option<u64>| {
            if let Some(v) = v {
                *target = v;
            }
        };
        set(&mut h.memory, self.memory);
        set(&mut h.memory_reservation, self.memory_reservation);
        set(&mut h.cpu_shares, self.cpu_shares);
        // `--cpus` and `--cpu-quota/--cpu-period` are two spellings of one
        // limit: setting one replaces the other, as in Docker.
        if let Some(n) = self.nano_cpus {
            h.nano_cpus = n;
            h.cpu_quota = 0;
            h.cpu_period = 0;
        }
        // ANCHOR_END: limits_update
        // ANCHOR: limits_merge
        if self.cpu_quota.is_some() || self.cpu_period.is_some() {
            if self.nano_cpus.is_some() {
                return Err(Error::InvalidHostConfig(
                    "Conflicting options: Nano CPUs and CPU Quota cannot both be set".into(),
                ));
            }
            h.nano_cpus = 0;
            set(&mut h.cpu_quota, self.cpu_quota);
            set(&mut h.cpu_period, self.cpu_period);
        }
        if let Some(swap) = self.memory_swap {
            h.memory_swap = swap;
        }
        if let Some(cpus) = &self.cpuset_cpus {
            h.cpuset_cpus = cpus.clone();
        }
        if let Some(mems) = &self.cpuset_mems {
            h.cpuset_mems = mems.clone();
        }
        if let Some(pids) = self.pids_limit {
            h.pids_limit = u64::try_from(pids).ok().filter(|p| *p > 0);
        }
        if let Some(policy) = &self.restart_policy {
            if h.auto_remove && policy.name != RestartName::No {
                return Err(Error::InvalidHostConfig(
                    "Restart policy cannot be updated because AutoRemove is enabled for the container"
                        .into(),
                ));
            }
            h.restart_policy = policy.clone();
        }
        h.validate()?;
        Ok(h)
    }
}
// ANCHOR_END: limits_merge

// ANCHOR: update
impl Runtime {
    /// `docker update`: merges `update` into the container's host config;
    /// when the container runs (or is paused), writes the new limits into
    /// its cgroup first, so a limit the kernel refuses changes nothing.
    /// Then the new config is stored: the shim reads it at every (re)start.
    pub fn update(&self, id: &ContainerId, update: &LimitsUpdate) -> Result<Container> {
        let container = self.containers().container(id)?;
        let new = update.merged(&container.host_config)?;
        if self.containers().state(id)?.state.is_alive() {
            let cg = self.cgroup(id)?;
            cg.apply(&new.resources())?;
            if new.pids_limit.is_none() && container.host_config.pids_limit.is_some() {
                cg.set_pids_max(u64::MAX)?;
            }
        }
        self.containers().update(id, |c| c.host_config = new)?;
        self.containers().container(id)
    }
}
// ANCHOR_END: update
