//! Between chapter 03's container model and the API's JSON shapes.

use crate::compat::types::{
    ContainerConfig, ContainerCreateBody, ContainerInspect, ContainerState, ContainerSummary,
    GraphDriverData, HostConfig, MountPoint, NetworkSettings, Port, RestartPolicy,
    SummaryHostConfig,
};
use crate::error::ApiError;
use crate::time::{rfc3339, status_text, system_time, ZERO_TIME};
use minidock_lifecycle::compat::process::{NamespaceMode, ProcessOptions, Ulimit};
use minidock_lifecycle::config::{
    Bind, HostConfig as RtHostConfig, NetworkMode, RestartName, UserConfig,
};
use minidock_lifecycle::state::{State, StateRecord};
use minidock_lifecycle::store::Container;
use minidock_lifecycle::time::Timestamp;
use std::time::SystemTime;

/// The request's `Config` and `HostConfig` as chapter 03's options.
/// `networked`: a network service is plugged in, and takes the network
/// settings (modes other than `host` and `none`, ports, DNS). `volumes`: a
/// volume service is plugged in, and `Binds`, `Mounts`, `Tmpfs`,
/// `VolumesFrom` and `Config.Volumes` are left to it; without, binds of
/// host paths are all there is.
pub fn create_options(
    body: &ContainerCreateBody,
    networked: bool,
    volumes: bool,
) -> Result<(UserConfig, RtHostConfig), ApiError> {
    let c = &body.config;
    let bad = |m: String| ApiError::BadParameter(m);
    let user = UserConfig {
        entrypoint: c.entrypoint.clone(),
        cmd: c.cmd.clone(),
        env: c.env.clone().unwrap_or_default(),
        working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
        user: c.user.clone().filter(|u| !u.is_empty()),
        hostname: c.hostname.clone().filter(|h| !h.is_empty()),
        stop_signal: c.stop_signal.clone().filter(|s| !s.is_empty()),
        stop_timeout: match c.stop_timeout {
            None => None,
            Some(t) => Some(u32::try_from(t).map_err(|_| bad(format!("invalid StopTimeout {t}")))?),
        },
        labels: c.labels.clone().unwrap_or_default(),
        tty: c.tty,
        open_stdin: c.open_stdin,
    };
    let h = &body.host_config;
    super::unsupported::refuse_unsupported(&c.other, &h.other, networked)?;
    if !volumes {
        super::unsupported::refuse_volumes(body)?;
    }
    let positive = |name: &str, v: i64| {
        u64::try_from(v).map_err(|_| bad(format!("invalid {name} {v}: must not be negative")))
    };
    let binds = h
        .binds
        .iter()
        .flatten()
        .filter(|_| !volumes)
        .map(|b| b.parse::<Bind>().map_err(|e| bad(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let restart_policy: minidock_lifecycle::config::RestartPolicy = match &h.restart_policy {
        None => Default::default(),
        Some(p) => {
            let spec = match (p.name.as_str(), p.maximum_retry_count) {
                ("on-failure", n) if n > 0 => format!("on-failure:{n}"),
                (name, _) => name.to_string(),
            };
            spec.parse()
                .map_err(|e: minidock_lifecycle::Error| bad(e.to_string()))?
        }
    };
    if h.auto_remove && restart_policy.name != RestartName::No {
        return Err(bad(
            "can't create 'AutoRemove' container with restart policy".to_string(),
        ));
    }
    let network_mode = match h.network_mode.as_deref() {
        None | Some("") | Some("default") | Some("bridge") => NetworkMode::None,
        // Another container's namespace, joined at start (the engine
        // finds it), or a network of the network service.
        Some(mode) if mode.starts_with("container:") => NetworkMode::None,
        Some(mode) if networked && mode != "host" && mode != "none" => NetworkMode::None,
        Some(mode) => mode
            .parse()
            .map_err(|e: minidock_lifecycle::Error| bad(e.to_string()))?,
    };
    let process = process_options(h)?;
    let security_opt = h.security_opt.clone().unwrap_or_default();
    for option in &security_opt {
        minidock_lifecycle::config::parse_security_opt(option).map_err(bad)?;
    }
    let host = RtHostConfig {
        memory: positive("Memory", h.memory)?,
        nano_cpus: positive("NanoCpus", h.nano_cpus)?,
        cpu_shares: positive("CpuShares", h.cpu_shares)?,
        pids_limit: h.pids_limit.filter(|p| *p > 0).map(|p| p as u64),
        memory_swap: h.memory_swap,
        memory_reservation: positive("MemoryReservation", h.memory_reservation)?,
        cpu_quota: positive("CpuQuota", h.cpu_quota)?,
        cpu_period: positive("CpuPeriod", h.cpu_period)?,
        cpuset_cpus: h.cpuset_cpus.clone(),
        cpuset_mems: h.cpuset_mems.clone(),
        oom_kill_disable: h.oom_kill_disable == Some(true),
        binds,
        tmpfs: Vec::new(),
        restart_policy,
        auto_remove: h.auto_remove,
        network_mode,
        readonly_rootfs: h.readonly_rootfs,
        security_opt,
        process,
        log_config: crate::compat::log_config::from_request(h.log_config.as_ref())?,
        ..RtHostConfig::default()
    };
    Ok((user, host))
}

/// `--cap-add`, `--privileged`, `--pid`, `--ulimit`, … as chapter 03's
/// [`ProcessOptions`], each field checked and named when refused.
fn process_options(h: &HostConfig) -> Result<ProcessOptions, ApiError> {
    let bad = |m: String| ApiError::BadParameter(m);
    let mode = |field: &str, value: &str| {
        value
            .parse::<NamespaceMode>()
            .map_err(|e| bad(format!("HostConfig.{field}: {e}")))
    };
    let process = ProcessOptions {
        cap_add: h.cap_add.clone().unwrap_or_default(),
        cap_drop: h.cap_drop.clone().unwrap_or_default(),
        privileged: h.privileged,
        pid_mode: mode("PidMode", &h.pid_mode)?,
        ipc_mode: mode("IpcMode", &h.ipc_mode)?,
        uts_mode: mode("UTSMode", &h.uts_mode)?,
        group_add: h.group_add.clone().unwrap_or_default(),
        shm_size: u64::try_from(h.shm_size).map_err(|_| {
            bad(format!(
                "HostConfig.ShmSize {}: must not be negative",
                h.shm_size
            ))
        })?,
        ulimits: h
            .ulimits
            .iter()
            .flatten()
            .map(|u| Ulimit {
                name: u.name.clone(),
                soft: u.soft,
                hard: u.hard,
            })
            .collect(),
        sysctls: h.sysctls.clone().unwrap_or_default(),
        oom_score_adj: i32::try_from(h.oom_score_adj).map_err(|_| {
            bad(format!(
                "HostConfig.OomScoreAdj {}: must be between -1000 and 1000",
                h.oom_score_adj
            ))
        })?,
        init: h.init == Some(true),
        masked_paths: h.masked_paths.clone(),
        readonly_paths: h.readonly_paths.clone(),
    };
    let host_network = h.network_mode.as_deref() == Some("host");
    process
        .validate(host_network)
        .map_err(|e| bad(format!("HostConfig: {e}")))?;
    Ok(process)
}

fn restart_name(name: RestartName) -> &'static str {
    match name {
        RestartName::No => "no",
        RestartName::Always => "always",
        RestartName::UnlessStopped => "unless-stopped",
        RestartName::OnFailure => "on-failure",
    }
}

/// The `HostConfig` of inspect: what the client sent when we have it,
/// completed with what the runtime stored.
pub fn host_config(container: &Container, request: Option<&ContainerCreateBody>) -> HostConfig {
    let h = &container.host_config;
    let mut out = request.map(|r| r.host_config.clone()).unwrap_or_default();
    out.binds = Some(h.binds.iter().map(|b| b.to_string()).collect());
    out.memory = h.memory as i64;
    out.nano_cpus = h.nano_cpus as i64;
    out.cpu_shares = h.cpu_shares as i64;
    out.pids_limit = h.pids_limit.map(|p| p as i64);
    out.memory_swap = h.memory_swap;
    out.memory_reservation = h.memory_reservation as i64;
    out.cpu_quota = h.cpu_quota as i64;
    out.cpu_period = h.cpu_period as i64;
    out.cpuset_cpus = h.cpuset_cpus.clone();
    out.cpuset_mems = h.cpuset_mems.clone();
    out.oom_kill_disable = Some(h.oom_kill_disable);
    out.readonly_rootfs = h.readonly_rootfs;
    out.security_opt = (!h.security_opt.is_empty()).then(|| h.security_opt.clone());
    out.restart_policy = Some(RestartPolicy {
        name: restart_name(h.restart_policy.name).to_string(),
        maximum_retry_count: i64::from(h.restart_policy.maximum_retry_count),
    });
    out.auto_remove = h.auto_remove;
    let asked = out.network_mode.clone().filter(|m| !m.is_empty());
    out.network_mode = asked.or_else(|| {
        Some(
            match h.network_mode {
                NetworkMode::None => "none",
                NetworkMode::Host => "host",
            }
            .to_string(),
        )
    });
    out.log_config = Some(crate::compat::log_config::shown(&h.log_config));
    show_process_options(&mut out, &h.process);
    crate::compat::host_config::complete(&mut out);
    out
}

/// The process settings in inspect: what the container runs with, and
/// Docker's defaults (`IpcMode: private`, `ShmSize: 67108864`, the masked
/// and read-only paths in force) where nothing was asked.
fn show_process_options(out: &mut HostConfig, p: &ProcessOptions) {
    let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    out.cap_add = list(&p.cap_add);
    out.cap_drop = list(&p.cap_drop);
    out.privileged = p.privileged;
    // A mode as the client wrote it (`container:web`), else the runtime's.
    let shown = |asked: &String, mode: &NamespaceMode, default: &str| {
        if !asked.is_empty() {
            asked.clone()
        } else if *mode == NamespaceMode::Private {
            default.to_string()
        } else {
            mode.to_string()
        }
    };
    out.pid_mode = shown(&out.pid_mode, &p.pid_mode, "");
    out.ipc_mode = shown(&out.ipc_mode, &p.ipc_mode, "private");
    out.uts_mode = shown(&out.uts_mode, &p.uts_mode, "");
    out.group_add = list(&p.group_add);
    out.shm_size = p.shm_bytes() as i64;
    out.ulimits = (!p.ulimits.is_empty()).then(|| {
        p.ulimits
            .iter()
            .map(|u| crate::compat::types::Ulimit {
                name: u.name.clone(),
                soft: u.soft,
                hard: u.hard,
            })
            .collect()
    });
    out.sysctls = (!p.sysctls.is_empty()).then(|| p.sysctls.clone());
    out.oom_score_adj = i64::from(p.oom_score_adj);
    out.init = p.init.then_some(true).or(out.init);
    let paths = |given: &Option<Vec<String>>, defaults: &[&str]| {
        Some(match given {
            _ if p.privileged => Vec::new(),
            Some(paths) => paths.clone(),
            None => defaults.iter().map(|d| d.to_string()).collect(),
        })
    };
    out.masked_paths = paths(
        &p.masked_paths,
        minidock_lifecycle::compat::process::DEFAULT_MASKED_PATHS,
    );
    out.readonly_paths = paths(
        &p.readonly_paths,
        minidock_lifecycle::compat::process::DEFAULT_READONLY_PATHS,
    );
}

/// The effective `Config` of inspect.
pub fn config(container: &Container, request: Option<&ContainerCreateBody>) -> ContainerConfig {
    let c = &container.config;
    let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    let asked = request.map(|r| r.config.clone()).unwrap_or_default();
    ContainerConfig {
        hostname: Some(c.hostname.clone()),
        domainname: Some(String::new()),
        user: Some(c.user.clone()),
        attach_stdin: asked.attach_stdin,
        attach_stdout: asked.attach_stdout,
        attach_stderr: asked.attach_stderr,
        tty: c.tty,
        open_stdin: c.open_stdin,
        stdin_once: asked.stdin_once,
        env: Some(c.env.clone()),
        cmd: non_empty(&c.cmd),
        image: c.image.clone(),
        working_dir: Some(c.working_dir.clone()),
        entrypoint: non_empty(&c.entrypoint),
        labels: Some(c.labels.clone()),
        stop_signal: Some(c.stop_signal.clone()),
        stop_timeout: c.stop_timeout.map(i64::from),
        volumes: asked.volumes.clone(),
        healthcheck: asked.healthcheck.clone(),
        other: Default::default(),
    }
}

/// `Mounts` of inspect and lists.
pub fn mounts(container: &Container) -> Vec<MountPoint> {
    container
        .host_config
        .binds
        .iter()
        .map(|b| MountPoint {
            kind: "bind".to_string(),
            name: None,
            driver: None,
            source: b.source.display().to_string(),
            destination: b.destination.display().to_string(),
            mode: if b.read_only { "ro" } else { "" }.to_string(),
            rw: !b.read_only,
            propagation: b.propagation.to_string(),
        })
        .collect()
}

/// `State` of inspect.
pub fn state(record: &StateRecord) -> ContainerState {
    let (started, finished, code, oom) = match &record.state {
        State::Running { started_at, .. } | State::Paused { started_at, .. } => {
            (Some(started_at), None, 0, false)
        }
        State::Exited {
            code,
            oom_killed,
            started_at,
            finished_at,
        } => (Some(started_at), Some(finished_at), *code, *oom_killed),
        // A failed start leaves the container created with Docker's code for
        // why (127 not found, 126 cannot invoke), which inspect shows.
        State::Created | State::Removed => (None, None, record.exit_code(), false),
    };
    let time = |t: Option<&Timestamp>| {
        t.map(|t| rfc3339(system_time(t)))
            .unwrap_or_else(|| ZERO_TIME.to_string())
    };
    ContainerState {
        status: record.state.name().to_string(),
        running: record.state.is_alive(),
        paused: matches!(record.state, State::Paused { .. }),
        restarting: false,
        oom_killed: oom,
        dead: false,
        pid: i64::from(record.state.pid().unwrap_or(0)),
        exit_code: i64::from(code),
        error: record.error.clone(),
        started_at: time(started),
        finished_at: time(finished),
        health: None,
    }
}

/// An entry of `docker ps`.
pub fn summary(container: &Container, record: &StateRecord, now: SystemTime) -> ContainerSummary {
    let command = container.config.args().join(" ");
    ContainerSummary {
        id: container.id.to_string(),
        names: vec![format!("/{}", container.name)],
        image: container.config.image.clone(),
        image_id: container.image_id.clone(),
        command,
        created: crate::time::unix_seconds(system_time(&container.created)),
        ports: Vec::new(),
        labels: container.config.labels.clone(),
        state: record.state.name().to_string(),
        status: status_text(&record.state, now),
        host_config: SummaryHostConfig {
            network_mode: match container.host_config.network_mode {
                NetworkMode::None => "none",
                NetworkMode::Host => "host",
            }
            .to_string(),
        },
        mounts: mounts(container),
        size_rw: None,
    }
}

/// The `Ports` of `docker ps`, from inspect's `NetworkSettings.Ports`.
pub fn ports(settings: &NetworkSettings) -> Vec<Port> {
    let mut out = Vec::new();
    for (key, bindings) in &settings.ports {
        let (port, kind) = key.split_once('/').unwrap_or((key, "tcp"));
        let Ok(private_port) = port.parse::<u16>() else {
            continue;
        };
        let bindings = bindings.as_array().cloned().unwrap_or_default();
        if bindings.is_empty() {
            out.push(Port {
                private_port,
                kind: kind.to_string(),
                ..Port::default()
            });
        }
        for b in bindings {
            out.push(Port {
                ip: b["HostIp"].as_str().map(str::to_string),
                private_port,
                public_port: b["HostPort"].as_str().and_then(|p| p.parse().ok()),
                kind: kind.to_string(),
            });
        }
    }
    out
}

/// `docker inspect` of a container.
pub fn inspect(
    container: &Container,
    record: &StateRecord,
    request: Option<&ContainerCreateBody>,
    log_path: String,
    exec_ids: Vec<String>,
) -> ContainerInspect {
    let args = container.config.args();
    ContainerInspect {
        id: container.id.to_string(),
        created: rfc3339(system_time(&container.created)),
        path: args.first().cloned().unwrap_or_default(),
        args: args.iter().skip(1).cloned().collect(),
        state: state(record),
        image: container.image_id.clone(),
        log_path,
        name: format!("/{}", container.name),
        restart_count: i64::from(record.restart_count),
        driver: "overlay".to_string(),
        graph_driver: GraphDriverData::default(),
        platform: "linux".to_string(),
        exec_ids: (!exec_ids.is_empty()).then_some(exec_ids),
        host_config: host_config(container, request),
        mounts: mounts(container),
        config: config(container, request),
        network_settings: NetworkSettings::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_bodies_map_to_runtime_options() {
        let body: ContainerCreateBody = serde_json::from_str(
            r#"{"Image":"busybox","Cmd":["sh"],"Env":["A=1"],"Tty":true,"OpenStdin":true,
                "HostConfig":{"Memory":67108864,"NanoCpus":1500000000,"PidsLimit":64,
                "RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"NetworkMode":"host",
                "Binds":["/tmp:/data:ro"]}}"#,
        )
        .unwrap();
        let (user, host) = create_options(&body, false, false).unwrap();
        assert_eq!(user.cmd, Some(vec!["sh".to_string()]));
        assert!(user.tty && user.open_stdin);
        assert_eq!(host.memory, 64 << 20);
        assert_eq!(host.pids_limit, Some(64));
        assert_eq!(host.restart_policy.name, RestartName::OnFailure);
        assert_eq!(host.restart_policy.maximum_retry_count, 3);
        assert_eq!(host.network_mode, NetworkMode::Host);
        assert!(host.binds[0].read_only);
        let mut bad = body.clone();
        bad.host_config.memory = -1;
        assert!(matches!(
            create_options(&bad, false, false),
            Err(ApiError::BadParameter(_))
        ));
        bad = body.clone();
        bad.host_config.auto_remove = true;
        assert!(matches!(
            create_options(&bad, false, false),
            Err(ApiError::BadParameter(_))
        ));
        bad = body;
        bad.host_config.network_mode = Some("overlay".into());
        assert!(matches!(
            create_options(&bad, false, false),
            Err(ApiError::BadParameter(_))
        ));
    }
}
