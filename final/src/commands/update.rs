//! `minidock update`, and the flags it shares with `run`/`create` (the
//! limits, the restart policy) in the create body.

use crate::cli_limits::{LimitOptions, UpdateArgs};
use crate::error::Failure;
use crate::format::{parse_nano_cpus, parse_ram_in_bytes};
use minidock_daemon::compat::update::ContainerUpdateBody;
use minidock_daemon::types::{HostConfig, RestartPolicy};

use super::Context;

/// A memory size flag; `-1` where the flag allows it (swap: unlimited).
fn bytes(flag: &str, text: &str) -> Result<i64, Failure> {
    if text == "-1" {
        return Ok(-1);
    }
    parse_ram_in_bytes(text).map_err(|e| {
        Failure::usage(format!(
            "invalid argument \"{text}\" for \"{flag}\" flag: {e}"
        ))
    })
}

/// The limits of `opts` into a create body's `HostConfig`.
pub fn fill_limits(opts: &LimitOptions, host: &mut HostConfig) -> Result<(), Failure> {
    if let Some(shares) = opts.cpu_shares {
        host.cpu_shares = shares;
    }
    host.cpu_period = opts.cpu_period.unwrap_or(0);
    host.cpu_quota = opts.cpu_quota.unwrap_or(0);
    host.cpuset_cpus = opts.cpuset_cpus.clone().unwrap_or_default();
    host.cpuset_mems = opts.cpuset_mems.clone().unwrap_or_default();
    if let Some(r) = &opts.memory_reservation {
        host.memory_reservation = bytes("--memory-reservation", r)?;
    }
    if let Some(s) = &opts.memory_swap {
        host.memory_swap = bytes("--memory-swap", s)?;
    }
    Ok(())
}

/// `minidock update [OPTIONS] CONTAINER…`: prints each container as named,
/// as `docker update` does.
pub fn update(ctx: &Context, args: UpdateArgs) -> Result<i32, Failure> {
    let mut host = HostConfig::default();
    fill_limits(&args.limits, &mut host)?;
    let body = ContainerUpdateBody {
        memory: match &args.memory {
            Some(m) => Some(bytes("-m, --memory", m)?),
            None => None,
        },
        memory_swap: Some(host.memory_swap),
        memory_reservation: Some(host.memory_reservation),
        nano_cpus: match &args.cpus {
            Some(c) => Some(parse_nano_cpus(c).map_err(Failure::usage)?),
            None => None,
        },
        cpu_shares: args.limits.cpu_shares,
        cpu_quota: args.limits.cpu_quota,
        cpu_period: args.limits.cpu_period,
        cpuset_cpus: args.limits.cpuset_cpus.clone(),
        cpuset_mems: args.limits.cpuset_mems.clone(),
        pids_limit: args.pids_limit,
        restart_policy: match &args.restart {
            Some(r) => Some(restart_policy(r)?),
            None => None,
        },
        other: Default::default(),
    };
    super::for_each(&args.containers, |name| {
        ctx.client.container_update(name, &body)?;
        Ok(Some(name.to_string()))
    })
}

/// `--restart no|always|unless-stopped|on-failure[:N]`, parsed by
/// chapter 03's parser (the daemon's too), so both refuse the same input
/// with the same words.
pub(crate) fn restart_policy(text: &str) -> Result<RestartPolicy, Failure> {
    let policy: minidock_lifecycle::config::RestartPolicy = text
        .parse()
        .map_err(|e: minidock_lifecycle::Error| Failure::usage(e.to_string()))?;
    Ok(RestartPolicy {
        name: policy.name.as_str().to_string(),
        maximum_retry_count: i64::from(policy.maximum_retry_count),
    })
}
