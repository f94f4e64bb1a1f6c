//! The operations on containers: what `docker create`, `start`, `stop`,
//! `kill`, `pause`, `unpause`, `restart`, `rm`, `wait`, `logs` and `exec`
//! do (`top` and `stats` are in [`crate::compat::usage`]).
//!
//! A [`Runtime`] holds no container in memory: every operation reads the
//! container's files, checks the state machine, acts (through the shim,
//! the cgroup or a signal) and writes the new state. Any number of
//! runtimes, in any number of processes, may work on one root — and a
//! runtime killed halfway leaves containers another one can pick up.
//!
//! Each operation has its own module, in the order of a container's life:
//! [`create`], [`start`] (handing the container to its shim), [`stop`]
//! (signals, the freezer, restart), [`wait`], [`exec`] and [`remove`].
//! This module holds what they share: the runtime itself, and
//! the view of a state whose shim may have died (`reconcile`).

mod create;
mod exec;
mod remove;
mod start;
mod stop;
mod wait;

use std::fs;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use minidock_images::Store;

use crate::cgroup::{Cgroup, CgroupRoot};
use crate::error::{Error, IoContext, Result};
use crate::id::ContainerId;
use crate::logs::{read_log, LogEntry, LogOptions};
use crate::sealed_binary::{self, SealedBinary};
use crate::shim::{attach_socket, SHIM_ARG};
use crate::state::{transition, Event, StateRecord, TransitionError};
use crate::store::{Container, ContainerStore};
use crate::time::Timestamp;

pub use create::CreateOptions;
pub use exec::ExecOptions;
pub use wait::{ExitStatus, WaitCondition};

/// Where a runtime keeps things, and how it starts helpers.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// `$MINIDOCK_ROOT`: images and containers.
    pub root: PathBuf,
    /// `$MINIDOCK_RUN`: shim sockets.
    pub run_dir: PathBuf,
    /// A binary that calls [`crate::reexec::dispatch`] first thing: the
    /// shim, the init helper and the exec helper are this binary again.
    pub helper_binary: PathBuf,
    /// The cgroup parent group (`minidock`).
    pub cgroup_parent: String,
}

/// How long `stop` waits by default before `SIGKILL` (Docker's 10 s).
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The exit code recorded for a container whose shim died with it: the
/// container's processes die of SIGKILL with their shim (its parent death
/// signal), so this is 128 + 9, as Docker reports after a containerd-shim
/// is killed.
pub const SHIM_LOST_EXIT_CODE: i32 = 137;
/// How long to wait for an exit after `SIGKILL`.
const KILL_WAIT: Duration = Duration::from_secs(10);
/// How long a waiter sleeps before it looks at a container again. A
/// [`DirWatch`] wakes it as soon as the shim records a change, so this only
/// bounds how late it notices what makes no file event (a shim that died).
const POLL: Duration = Duration::from_millis(20);

// ANCHOR: runtime_new
/// The container operations on one engine root.
#[derive(Debug, Clone)]
pub struct Runtime {
    config: RuntimeConfig,
    images: Store,
    containers: ContainerStore,
    cgroups: CgroupRoot,
}

impl Runtime {
    /// Opens the image and container stores under `config.root` and finds
    /// the host's cgroups. Removes what creates interrupted by a crash left
    /// (a directory, a mounted root file system: create makes nothing
    /// else before the container is committed).
    pub fn new(config: RuntimeConfig) -> Result<Runtime> {
        let images = Store::open(&config.root).map_err(image_err)?;
        let containers = ContainerStore::open(&config.root)?;
        containers.remove_incomplete()?;
        minidock_images::create_private_dir(&config.run_dir).ctx("create", &config.run_dir)?;
        Ok(Runtime {
            cgroups: CgroupRoot::detect()?,
            config,
            images,
            containers,
        })
    }
    // ANCHOR_END: runtime_new

    /// The image store.
    pub fn images(&self) -> &Store {
        &self.images
    }

    /// The container store.
    pub fn containers(&self) -> &ContainerStore {
        &self.containers
    }

    /// The runtime's configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The host's cgroups: which version, and what it supports.
    pub fn cgroups(&self) -> &CgroupRoot {
        &self.cgroups
    }

    /// The helper binary as the helpers run it: a sealed copy in memory,
    /// made on first use ([`crate::sealed_binary`]), so no helper's
    /// `/proc/<pid>/exe` is the host's file.
    fn helper(&self) -> Result<std::sync::Arc<SealedBinary>> {
        sealed_binary::sealed(&self.config.helper_binary)
    }

    /// Finds a container by id, name or unique id prefix.
    pub fn resolve(&self, reference: &str) -> Result<ContainerId> {
        self.containers.resolve(reference)
    }

    /// Every container with its (reconciled) state, oldest first.
    pub fn list(&self) -> Result<Vec<(Container, StateRecord)>> {
        let mut all = self.containers.list()?;
        for (c, record) in &mut all {
            *record = self.reconcile(&c.id)?;
        }
        Ok(all)
    }

    /// The container and its (reconciled) state.
    pub fn inspect(&self, id: &ContainerId) -> Result<(Container, StateRecord)> {
        Ok((self.containers.container(id)?, self.reconcile(id)?))
    }

    /// The cgroup of a container.
    pub fn cgroup(&self, id: &ContainerId) -> Result<Box<dyn Cgroup>> {
        Ok(self.cgroups.open(&self.config.cgroup_parent, id.as_str())?)
    }

    /// The container directory.
    pub fn container_dir(&self, id: &ContainerId) -> PathBuf {
        self.containers.dir(id)
    }

    /// The json-file log of a container.
    pub fn log_path(&self, id: &ContainerId) -> PathBuf {
        self.containers.dir(id).join(format!("{id}-json.log"))
    }

    // ANCHOR: runtime_attach
    /// Attaches to a running container's shim: output from now on, stdin,
    /// resize. See [`crate::attach`].
    pub fn attach(&self, id: &ContainerId) -> Result<UnixStream> {
        let record = self.reconcile(id)?;
        if !record.state.is_alive() {
            return Err(TransitionError::NotRunning {
                op: "attach to",
                id: id.to_string(),
            }
            .into());
        }
        let socket = attach_socket(&self.config.run_dir, id);
        UnixStream::connect(&socket).ctx("attach to", &socket)
    }
    // ANCHOR_END: runtime_attach

    /// `docker rename`: checks the new name against Docker's rule and gives
    /// it to the container (see [`ContainerStore::rename`]).
    pub fn rename(&self, id: &ContainerId, new: &str) -> Result<()> {
        let new = crate::id::validate_name(new)?;
        self.containers.rename(id, &new)
    }

    /// `docker logs`: hands every wanted entry to `sink`; with
    /// `options.follow`, until the container stops running.
    pub fn logs(
        &self,
        id: &ContainerId,
        options: &LogOptions,
        sink: impl FnMut(&LogEntry) -> std::io::Result<()>,
    ) -> Result<()> {
        let path = self.log_path(id);
        read_log(
            &path,
            options,
            || {
                self.reconcile(id)
                    .map(|r| r.state.is_alive())
                    .unwrap_or(false)
            },
            sink,
        )
    }

    // ANCHOR: reconcile
    /// The state as recorded, corrected when its shim died with the
    /// container gone (killed with the machine, say): then nobody else will
    /// ever record the exit, so it is recorded here, as Docker does on a
    /// daemon restart.
    pub(crate) fn reconcile(&self, id: &ContainerId) -> Result<StateRecord> {
        let record = self.containers.state(id)?;
        let Some(pid) = record.state.pid() else {
            return Ok(record);
        };
        if record.shim_pid.is_some_and(|s| shim_alive(s, id)) || crate::proc::alive(pid) {
            return Ok(record);
        }
        self.containers.update_state(id, |r| {
            if r.state.is_alive() {
                r.state = transition(
                    id.as_str(),
                    &r.state,
                    Event::Exit {
                        code: SHIM_LOST_EXIT_CODE,
                        oom_killed: false,
                        at: Timestamp::now(),
                    },
                )?;
                r.shim_pid = None;
                r.error = "the container's shim died; its exit status is unknown".into();
            }
            Ok(r.clone())
        })
    }
    // ANCHOR_END: reconcile

    /// The container's shim went away without reporting an exit (killed,
    /// or the OOM killer chose it): nobody is left to reap or report the
    /// container's processes. If the shim is really gone and the record
    /// still says running, what is left of the container is killed
    /// through its cgroup and the exit recorded (as containerd does when a
    /// shim disconnects), so that `wait`, `inspect` and the record agree:
    /// the process may still be dying of a SIGKILL the kernel has not yet
    /// delivered on a busy machine.
    pub fn shim_lost(&self, id: &ContainerId) -> Result<StateRecord> {
        let record = self.reconcile(id)?;
        let shim_gone = !record.shim_pid.is_some_and(|s| shim_alive(s, id));
        if record.state.is_alive() && shim_gone {
            match self.cgroup(id)?.kill_all() {
                Ok(()) => {}
                // gone meanwhile: nothing left to kill
                Err(crate::cgroup::CgroupError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound
                        || source.raw_os_error() == Some(nix::errno::Errno::ENODEV as i32) => {}
                Err(e) => return Err(e.into()),
            }
            self.wait_exited(id, KILL_WAIT)?;
        }
        self.reconcile(id)
    }
}

pub(crate) fn image_err(e: minidock_images::Error) -> Error {
    Error::Image(e)
}
// ANCHOR: shim_alive

/// Whether `pid` is alive and is the shim of container `id` (a recycled
/// pid of some other program does not count).
fn shim_alive(pid: i32, id: &ContainerId) -> bool {
    crate::proc::alive(pid) && is_shim_of(pid, id)
}

fn is_shim_of(pid: i32, id: &ContainerId) -> bool {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| {
            let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
            args.get(1) == Some(&SHIM_ARG.as_bytes()) && args.contains(&id.as_str().as_bytes())
        })
        .unwrap_or(false)
}

/// A running shim of container `id`, found by scanning `/proc`: between
/// its start and its first state write, a shim is in no state file yet.
fn shim_process_of(id: &ContainerId) -> Option<i32> {
    fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| crate::proc::alive(*pid) && is_shim_of(*pid, id))
}
// ANCHOR_END: shim_alive

/// The default state directory (like `/var/lib/docker`).
pub const DEFAULT_ROOT: &str = "/var/lib/minidock";
/// The default runtime directory (sockets, shim state).
pub const DEFAULT_RUN: &str = "/run/minidock";
/// The cgroup under which every container's cgroup is made, unless
/// `--cgroup-parent` says otherwise.
pub const DEFAULT_CGROUP_PARENT: &str = "minidock";

/// The default paths of a runtime for `helper_binary`, honouring
/// `MINIDOCK_ROOT` and `MINIDOCK_RUN`.
pub fn default_config(helper_binary: &Path) -> RuntimeConfig {
    RuntimeConfig {
        root: std::env::var_os("MINIDOCK_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| DEFAULT_ROOT.into()),
        run_dir: std::env::var_os("MINIDOCK_RUN")
            .map(PathBuf::from)
            .unwrap_or_else(|| DEFAULT_RUN.into()),
        helper_binary: helper_binary.into(),
        cgroup_parent: DEFAULT_CGROUP_PARENT.into(),
    }
}
