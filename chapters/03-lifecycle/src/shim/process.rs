//! From a stored container to a running process: its cgroup limits, its
//! user, its stdio wired to the hub, and chapter 01's [`ProcessSpec`]
//! built from the container's config (`exec` builds its environment the
//! same way).

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use minidock_namespaces::{BindMount, InitHelper, ProcessSpec, Stdio, User, WaitingHelper};

use super::args::ShimStdio;
use super::hub::{lock, pump, Hub};
use super::report::start_exit_code;
use crate::cgroup::Cgroup;
use crate::config::{Config, NetworkMode};
use crate::error::{Error, IoContext, Result};
use crate::id::ContainerId;
use crate::inroot::mkdir_all_in_root;
use crate::logs::Stream;
use crate::store::{Container, ContainerStore};
use crate::user::{resolve_user, ResolvedUser};

// ANCHOR: start_process
/// Prepares the rootfs and stdio, and starts the container's init through
/// chapter 01, already inside the cgroup.
pub(super) fn start_process(
    store: &ContainerStore,
    container: &Container,
    rootfs: &Path,
    cg: &dyn Cgroup,
    hub: &Arc<Hub>,
    early: Option<EarlyHelper>,
) -> Result<(minidock_namespaces::Container, Vec<JoinHandle<()>>)> {
    let extra = &container.host_config.process;
    cg.apply(&container.host_config.resources())?;
    if !extra.privileged {
        // A privileged container may open every device (Docker lifts the
        // device cgroup for it).
        cg.restrict_devices(crate::cgroup::DEFAULT_DEVICE_RULES)?;
    }
    let mut user = resolve_user(rootfs, &container.config.user)?;
    user.additional_gids.extend(extra.group_ids(rootfs)?);
    if !container.config.working_dir.is_empty() {
        mkdir_all_in_root(rootfs, Path::new(&container.config.working_dir))?;
    }
    let mut spec = process_spec(container, rootfs, &user);
    extra.apply(&mut spec, &|id| store.running_pid(id))?;
    let stdio = ShimStdio::of(&container.config);
    set_stdio(&mut spec, stdio);
    // PID 1 writes itself into these files as its first step (chapter 01),
    // so the limits hold before the command runs a single instruction.
    spec.cgroup_procs = cg.join_files();
    let started = match early {
        // Loaded while the shim waited for the engine (see `supervise`).
        Some(early) if early.stdio == stdio => early.helper.spawn(&spec),
        _ => spec.spawn(&init_helper(&container.id)),
    };
    let mut process = started.map_err(|e| Error::Start {
        id: container.id.short().to_string(),
        reason: e.to_string(),
        exit_code: start_exit_code(&e),
    })?;
    drop(spec);
    let mut pumps = Vec::new();
    // Only the container holds the slave side: reading the master ends
    // (EIO) when the container's side is gone.
    if let Some(master) = process.take_terminal() {
        let reader = master.try_clone().ctx("dup", "pty master")?;
        let writer = master.try_clone().ctx("dup", "pty master")?;
        *lock(&hub.stdin) = Some(Box::new(writer));
        *lock(&hub.pty_master) = Some(master);
        pumps.push(pump(hub.clone(), reader, Stream::Stdout));
    } else {
        if let Some(stdin) = process.take_stdin() {
            *lock(&hub.stdin) = Some(Box::new(stdin));
        }
        if let Some(out) = process.take_stdout() {
            pumps.push(pump(
                hub.clone(),
                File::from(OwnedFd::from(out)),
                Stream::Stdout,
            ));
        }
        if let Some(err) = process.take_stderr() {
            pumps.push(pump(
                hub.clone(),
                File::from(OwnedFd::from(err)),
                Stream::Stderr,
            ));
        }
    }
    Ok((process, pumps))
}

/// The container's stdio in its spec.
fn set_stdio(spec: &mut ProcessSpec, stdio: ShimStdio) {
    match stdio {
        ShimStdio::Tty => {
            // PID 1 opens a terminal on the container's own /dev/ptmx, makes
            // it its controlling terminal (chapter 01), so `tty` names it, a
            // shell has job control and ^C from the client is SIGINT; it
            // sends the master side back. The helper's stdio is unused.
            spec.tty = true;
            spec.stdin = Stdio::Null;
            spec.stdout = Stdio::Null;
            spec.stderr = Stdio::Null;
        }
        ShimStdio::Pipes { stdin } => {
            spec.stdin = if stdin { Stdio::Piped } else { Stdio::Null };
            spec.stdout = Stdio::Piped;
            spec.stderr = Stdio::Piped;
        }
    }
}
// ANCHOR_END: start_process

/// Chapter 01's init helper: this binary again, with the container's short
/// id after the role's argument, for `ps` to show whose helper it is.
fn init_helper(id: &ContainerId) -> InitHelper {
    InitHelper::reexec().arg(id.short())
}

// ANCHOR: early_helper
/// An init helper started before the container's configuration is read
/// (chapter 01's [`InitHelper::start`]): it loads while the engine wires
/// the network, and gets its spec once the shim has read the configuration.
pub(super) struct EarlyHelper {
    stdio: ShimStdio,
    helper: WaitingHelper,
}

impl EarlyHelper {
    /// `None` if it could not start: the start then spawns a helper the
    /// usual way, and that one's error tells why.
    pub(super) fn start(stdio: ShimStdio, id: &ContainerId) -> Option<EarlyHelper> {
        // Only the stdio of this spec is read.
        let mut spec = ProcessSpec::new("/", ["unused"]);
        set_stdio(&mut spec, stdio);
        let helper = init_helper(id).start(&spec).ok()?;
        Some(EarlyHelper { stdio, helper })
    }
}
// ANCHOR_END: early_helper

/// The environment a container's process gets, as Docker builds it: a
/// default `PATH` and `HOSTNAME`, `TERM=xterm` with a TTY, then the
/// configured variables (which win), and `HOME` from `/etc/passwd` when
/// nothing set it.
pub fn container_env(config: &Config, user: &ResolvedUser) -> Vec<String> {
    let mut env = vec![
        format!("PATH={}", minidock_namespaces::spec::DEFAULT_PATH),
        format!("HOSTNAME={}", config.hostname),
    ];
    if config.tty {
        env.push("TERM=xterm".into());
    }
    for entry in &config.env {
        crate::env::set(&mut env, entry);
    }
    if !crate::env::has(&env, "HOME") {
        env.push(format!("HOME={}", user.home));
    }
    env
}

/// Adds the variables the engine computed at the start (see
/// `HostConfig::start_env`) that the environment does not set already.
pub fn add_start_env(env: &mut Vec<String>, start_env: &[String]) {
    for entry in start_env {
        let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k);
        if !crate::env::has(env, key) {
            env.push(entry.clone());
        }
    }
}

/// Chapter 01's process description for this container.
pub fn process_spec(container: &Container, rootfs: &Path, user: &ResolvedUser) -> ProcessSpec {
    let c = &container.config;
    let mut spec = ProcessSpec::new(rootfs, c.args());
    spec.env = container_env(c, user);
    add_start_env(&mut spec.env, &container.host_config.start_env);
    spec.cwd = if c.working_dir.is_empty() {
        PathBuf::from("/")
    } else {
        PathBuf::from(&c.working_dir)
    };
    spec.user = User {
        uid: user.uid,
        gid: user.gid,
        additional_gids: user.additional_gids.clone(),
    };
    spec.hostname = c.hostname.clone();
    spec.readonly_rootfs = container.host_config.readonly_rootfs;
    spec.seccomp = container.host_config.seccomp();
    spec.no_new_privileges = container.host_config.no_new_privileges();
    spec.namespaces.net = container.host_config.network_mode == NetworkMode::None;
    spec.namespaces.net_path = container.host_config.netns.clone();
    spec.mounts = container
        .host_config
        .binds
        .iter()
        .chain(&container.host_config.etc_files)
        .map(|b| BindMount {
            source: b.source.clone(),
            destination: b.destination.clone(),
            read_only: b.read_only,
            propagation: b.propagation,
        })
        .collect();
    spec.tmpfs = container.host_config.tmpfs.clone();
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_follows_dockers_rules() {
        let user = ResolvedUser {
            uid: 0,
            gid: 0,
            additional_gids: vec![],
            home: "/root".into(),
        };
        let config = Config {
            hostname: "abc".into(),
            env: vec!["PATH=/only".into(), "A=1".into()],
            tty: true,
            ..Default::default()
        };
        assert_eq!(
            container_env(&config, &user),
            vec![
                "HOSTNAME=abc",
                "TERM=xterm",
                "PATH=/only",
                "A=1",
                "HOME=/root"
            ]
        );
        let config = Config {
            hostname: "h".into(),
            env: vec!["HOME=/x".into()],
            ..Default::default()
        };
        let env = container_env(&config, &user);
        assert!(env[0].starts_with("PATH=/usr/local/sbin"));
        assert_eq!(env.iter().filter(|e| e.starts_with("HOME=")).count(), 1);
        assert!(env.contains(&"HOME=/x".to_string()));
    }

    #[test]
    fn start_variables_come_under_the_configured_ones() {
        let mut env = vec!["PATH=/bin".to_string(), "DB_PORT=mine".to_string()];
        add_start_env(
            &mut env,
            &["DB_PORT=tcp://x:1".into(), "DB_NAME=/a/db".into()],
        );
        assert_eq!(env, ["PATH=/bin", "DB_PORT=mine", "DB_NAME=/a/db"]);
    }
}
