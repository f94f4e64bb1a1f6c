//! The operations on containers: what `docker create`, `start`, `stop`,
//! `kill`, `pause`, `unpause`, `restart`, `rm`, `wait`, `logs`, `exec`,
//! `top` and `stats` do.
//!
//! A [`Runtime`] holds no container in memory: every operation reads the
//! container's files, checks the state machine, acts (through the shim,
//! the cgroup or a signal) and writes the new state. Any number of
//! runtimes, in any number of processes, may work on one root — and a
//! runtime killed halfway leaves containers another one can pick up.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use minidock_images::{Image, Rootfs, Store};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::cgroup::{Cgroup, CgroupError, CgroupRoot, CgroupStats};
use crate::config::{merge, HostConfig, ImageConfig, UserConfig};
use crate::error::{io_err, Error, Result};
use crate::exec::{self, ExecProcess, ExecSpec};
use crate::id::{random_name, validate_name, ContainerId};
use crate::logs::{read_log, LogEntry, LogOptions};
use crate::notify::DirWatch;
use crate::sealed_binary::{self, SealedBinary};
use crate::shim::{self, attach_socket, ShimArgs, ShimReport, SHIM_ARG};
use crate::signal::{parse_signal, stop_escalating, StopOutcome};
use crate::state::{transition, Event, State, StateRecord, TransitionError};
use crate::store::{Container, ContainerStore};
use crate::time::Timestamp;
use crate::user::resolve_user;

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

/// What `docker create` is given.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Image name or id.
    pub image: String,
    /// `--name`; a random `adjective_noun` when not given.
    pub name: Option<String>,
    pub config: UserConfig,
    pub host_config: HostConfig,
}

/// What `docker exec` is given.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub args: Vec<String>,
    /// `-e KEY=VALUE`, added to the container's environment.
    pub env: Vec<String>,
    /// `-u`; the container's user when not given.
    pub user: Option<String>,
    /// `-w`; the container's working directory when not given.
    pub working_dir: Option<String>,
    pub tty: bool,
    /// `-i`: keep stdin open (piped).
    pub stdin: bool,
}

/// The conditions of `docker wait --condition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    /// Returns at once for a container that does not run.
    NotRunning,
    /// Waits for the next exit, even if the container is not running now.
    NextExit,
    /// Waits until the container is removed.
    Removed,
}

/// What `wait` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus {
    pub code: i32,
    pub oom_killed: bool,
}

/// One process of `docker top`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopProcess {
    /// Host pid.
    pub pid: i32,
    /// Its command line, arguments separated by spaces.
    pub cmd: String,
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
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&config.run_dir)
            .map_err(io_err("create", &config.run_dir))?;
        Ok(Runtime {
            cgroups: CgroupRoot::detect()?,
            config,
            images,
            containers,
        })
    }

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

    // ANCHOR: create
    /// `docker create`: a container directory, its merged configuration,
    /// its overlay root file system, state Created.
    pub fn create(&self, options: CreateOptions) -> Result<ContainerId> {
        let image = self.images.resolve(&options.image).map_err(image_err)?;
        let image_config = image
            .config
            .config()
            .as_ref()
            .map(ImageConfig::from)
            .unwrap_or_default();
        options.host_config.validate()?;
        let id = ContainerId::random();
        let config = merge(&options.image, &image_config, options.config, id.short())?;
        let generated = options.name.is_none();
        let name = match options.name {
            Some(n) => validate_name(&n)?,
            None => self.unused_name()?,
        };
        let mut container = Container {
            id: id.clone(),
            name,
            created: Timestamp::now(),
            image_id: image.id.to_string(),
            config,
            host_config: options.host_config,
        };
        // The overlay is mounted before the container is committed (its
        // config.json written), under the store's lock: an engine that dies
        // in between leaves remains that the next one removes, never a
        // container that is listed half-made.
        let mut tries = 0;
        loop {
            let created = self.containers.create_with(&container, |dir| {
                Rootfs::mount(&self.images, &image, dir).map_err(image_err)?;
                Ok(())
            });
            match created {
                // A concurrent create took the generated name after we
                // picked it: pick another, as Docker does.
                Err(Error::NameInUse { .. }) if generated && tries < 10 => {
                    tries += 1;
                    container.name = self.unused_name()?;
                }
                other => break other.map(|()| id),
            }
        }
    }
    // ANCHOR_END: create

    fn unused_name(&self) -> Result<String> {
        let taken: Vec<String> = self
            .containers
            .list()?
            .into_iter()
            .map(|(c, _)| c.name)
            .collect();
        for _ in 0..100 {
            let name = random_name();
            if !taken.contains(&name) {
                return Ok(name);
            }
        }
        Ok(format!("{}_{}", random_name(), rand::random::<u16>()))
    }

    fn image_of(&self, container: &Container) -> Result<Image> {
        self.images.resolve(&container.image_id).map_err(image_err)
    }

    /// Mounts the overlay (again): a no-op when it is mounted.
    fn mount_rootfs(&self, container: &Container) -> Result<()> {
        let image = self.image_of(container)?;
        Rootfs::mount(&self.images, &image, &self.containers.dir(&container.id))
            .map_err(image_err)?;
        Ok(())
    }

    // ANCHOR: start
    /// `docker start`: hands the container to a new shim and returns once
    /// its process runs (or failed to start).
    pub fn start(&self, id: &ContainerId) -> Result<()> {
        self.start_shim(id, false).map(|_| ())
    }

    /// `docker start -a`: like [`Runtime::start`], but attached before the
    /// process starts, so the returned stream sees all of its output.
    pub fn start_attached(&self, id: &ContainerId) -> Result<UnixStream> {
        self.start_shim(id, true)?.ok_or_else(|| {
            Error::ShimProtocol(format!("the shim of {id} offered no attach socket"))
        })
    }

    /// The helper binary as the helpers run it: a sealed copy in memory,
    /// made on first use ([`crate::sealed_binary`]), so no helper's
    /// `/proc/<pid>/exe` is the host's file.
    fn helper(&self) -> Result<std::sync::Arc<SealedBinary>> {
        sealed_binary::sealed(&self.config.helper_binary)
    }

    fn start_shim(&self, id: &ContainerId, attach: bool) -> Result<Option<UnixStream>> {
        let container = self.containers.container(id)?;
        let record = self.reconcile(id)?;
        // Only a check: the shim records the real transition with the pid.
        transition(
            id.as_str(),
            &record.state,
            Event::Start {
                pid: 0,
                at: Timestamp::now(),
            },
        )?;
        if record.shim_pid.is_some_and(|p| shim_alive(p, id)) {
            return Err(Error::ShimRunning {
                id: id.to_string(),
                pid: record.shim_pid.unwrap_or_default(),
            });
        }
        self.containers.update_state(id, |r| {
            r.stopped_by_user = false;
            Ok(())
        })?;
        self.mount_rootfs(&container)?;
        let args = ShimArgs {
            root: self.config.root.clone(),
            run_dir: self.config.run_dir.clone(),
            id: id.clone(),
            cgroup_parent: self.config.cgroup_parent.clone(),
            wait_attach: attach,
        };
        let shim_log = self.containers.dir(id).join("shim.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&shim_log)
            .map_err(io_err("open", &shim_log))?;
        // What this shim writes to its log starts here.
        let log_start = log.metadata().map_err(io_err("stat", &shim_log))?.len();
        let helper = self.helper()?;
        let mut child = Command::new(helper.path())
            .arg0(&self.config.helper_binary)
            .arg(SHIM_ARG)
            .args(args.to_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(io_err("start the shim", &self.config.helper_binary))?;
        let reports = child.stdout.take().expect("stdout is piped");
        // The first shim process forks the real one and exits at once.
        let status = child
            .wait()
            .map_err(io_err("wait for the shim", &self.config.helper_binary))?;
        if !status.success() {
            return Err(Error::ShimDied {
                id: id.to_string(),
                status: status.to_string(),
                tail: log_tail(&shim_log, log_start),
                log: shim_log,
            });
        }
        let mut attached = None;
        for line in BufReader::new(reports).lines() {
            let line = line.map_err(io_err("read shim report", &shim_log))?;
            let report: ShimReport = serde_json::from_str(&line)
                .map_err(|e| Error::ShimProtocol(format!("bad report {line:?}: {e}")))?;
            match report {
                ShimReport::Listening => {
                    let socket = attach_socket(&self.config.run_dir, id);
                    attached =
                        Some(UnixStream::connect(&socket).map_err(io_err("attach to", &socket))?);
                }
                ShimReport::Started { .. } => return Ok(attached),
                ShimReport::Failed { error, exit_code } => {
                    // Docker's way: the container stays as it was
                    // (created), with the error and its exit code.
                    self.containers.update_state(id, |r| {
                        r.error = error.clone();
                        r.start_exit_code = Some(exit_code);
                        Ok(())
                    })?;
                    return Err(Error::Start {
                        id: id.short().to_string(),
                        reason: error,
                        exit_code,
                    });
                }
            }
        }
        // The shim died without a word (killed, crashed): its log is all
        // there is to go on.
        Err(Error::ShimDied {
            id: id.to_string(),
            status: "without a word".into(),
            tail: log_tail(&shim_log, log_start),
            log: shim_log,
        })
    }
    // ANCHOR_END: start

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
        UnixStream::connect(&socket).map_err(io_err("attach to", &socket))
    }

    /// `docker rename`: checks the new name against Docker's rule and gives
    /// it to the container (see [`ContainerStore::rename`]).
    pub fn rename(&self, id: &ContainerId, new: &str) -> Result<()> {
        let new = crate::id::validate_name(new)?;
        self.containers.rename(id, &new)
    }

    /// `docker stop` with the container's own stop signal: see
    /// [`Runtime::stop_with_signal`].
    pub fn stop(&self, id: &ContainerId, timeout: Option<Duration>) -> Result<Option<StopOutcome>> {
        self.stop_with_signal(id, timeout, None)
    }

    // ANCHOR: stop
    /// `docker stop [-s SIGNAL]`: the stop signal (`signal`, else the
    /// container's `--stop-signal`, else SIGTERM), then `SIGKILL` after
    /// `timeout` (the container's `--stop-timeout`, else 10 s). `Ok(None)`
    /// when it was not running (Docker answers 304 Not Modified).
    pub fn stop_with_signal(
        &self,
        id: &ContainerId,
        timeout: Option<Duration>,
        signal: Option<Signal>,
    ) -> Result<Option<StopOutcome>> {
        let container = self.containers.container(id)?;
        let record = self.reconcile(id)?;
        match transition(id.as_str(), &record.state, Event::Stop) {
            Ok(_) => {}
            Err(TransitionError::AlreadyStopped { .. }) => {
                // Between two runs of a restart policy (its shim waits out
                // the back-off): the stop ends the restarts.
                if self.shim_waits_to_restart(id, &record) {
                    self.mark_stopped_by_user(id)?;
                    self.wait_for_shim_exit(id, KILL_WAIT)?;
                }
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        self.mark_stopped_by_user(id)?;
        let signal = match signal {
            Some(signal) => signal,
            None => parse_signal(&container.config.stop_signal)?,
        };
        let timeout = timeout
            .or(container
                .config
                .stop_timeout
                .map(|s| Duration::from_secs(s.into())))
            .unwrap_or(DEFAULT_STOP_TIMEOUT);
        stop_escalating(
            signal,
            timeout,
            KILL_WAIT,
            |s| self.signal(id, s),
            |d| self.wait_exited(id, d),
        )
        .map(Some)
    }
    // ANCHOR_END: stop

    /// `docker kill`: sends `signal` (SIGKILL by default in Docker).
    pub fn kill(&self, id: &ContainerId, signal: Signal) -> Result<()> {
        let record = self.reconcile(id)?;
        transition(id.as_str(), &record.state, Event::Kill)?;
        self.mark_stopped_by_user(id)?;
        self.signal(id, signal)
    }

    fn mark_stopped_by_user(&self, id: &ContainerId) -> Result<()> {
        self.containers.update_state(id, |r| {
            r.stopped_by_user = true;
            Ok(())
        })
    }

    /// Sends `signal` to the container's PID 1. A paused container is
    /// thawed afterwards, or the signal would wait with it.
    fn signal(&self, id: &ContainerId, signal: Signal) -> Result<()> {
        let record = self.containers.state(id)?;
        let Some(pid) = record.state.pid() else {
            return Ok(()); // exited in the meantime
        };
        match nix::sys::signal::kill(Pid::from_raw(pid), signal) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => {
                return Err(Error::Io {
                    op: "signal",
                    path: format!("/proc/{pid}").into(),
                    source: e.into(),
                })
            }
        }
        if matches!(record.state, State::Paused { .. }) {
            match self.unpause(id) {
                Ok(()) | Err(Error::Transition(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Polls until the container is not running, up to `timeout`.
    fn wait_exited(&self, id: &ContainerId, timeout: Duration) -> Result<bool> {
        let start = Instant::now();
        let watch = DirWatch::new(&self.containers.dir(id));
        loop {
            if !self.reconcile(id)?.state.is_alive() {
                return Ok(true);
            }
            if start.elapsed() >= timeout {
                return Ok(false);
            }
            watch.wait(POLL.min(timeout.saturating_sub(start.elapsed())));
        }
    }

    /// The state as recorded, corrected when its shim died with the
    /// container gone (killed with the machine, say): then nobody else will
    /// ever record the exit, so it is recorded here, as Docker does on a
    /// daemon restart.
    fn reconcile(&self, id: &ContainerId) -> Result<StateRecord> {
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

    // ANCHOR: pause
    /// `docker pause`: freezes every process of the container.
    pub fn pause(&self, id: &ContainerId) -> Result<()> {
        let cg = self.cgroup(id)?;
        self.containers.update_state(id, |r| {
            let next = transition(id.as_str(), &r.state, Event::Pause)?;
            cg.freeze()?;
            r.state = next;
            Ok(())
        })
    }

    /// `docker unpause`: thaws them.
    pub fn unpause(&self, id: &ContainerId) -> Result<()> {
        let cg = self.cgroup(id)?;
        self.containers.update_state(id, |r| {
            let next = transition(id.as_str(), &r.state, Event::Unpause)?;
            cg.thaw()?;
            r.state = next;
            Ok(())
        })
    }
    // ANCHOR_END: pause

    /// `docker restart`: stop (when running), then start.
    pub fn restart(&self, id: &ContainerId, timeout: Option<Duration>) -> Result<()> {
        let record = self.reconcile(id)?;
        transition(id.as_str(), &record.state, Event::Restart)?;
        if record.state.is_alive() {
            self.stop(id, timeout)?;
        }
        self.wait_for_shim_exit(id, KILL_WAIT)?;
        self.start(id)
    }

    // ANCHOR: remove
    /// `docker rm [-f]`: kills a running container only with `force`, then
    /// unmounts its rootfs, removes its cgroup, its run directory and its
    /// directory. Nothing of it is left.
    pub fn remove(&self, id: &ContainerId, force: bool) -> Result<()> {
        let mut record = self.reconcile(id)?;
        transition(id.as_str(), &record.state, Event::Remove { force })?;
        if self.shim_waits_to_restart(id, &record) {
            // A restart policy between two runs: the removal ends it. The
            // shim may have started the next run just before: look again.
            self.mark_stopped_by_user(id)?;
            record = self.reconcile(id)?;
            transition(id.as_str(), &record.state, Event::Remove { force })?;
        }
        if record.state.is_alive() {
            self.mark_stopped_by_user(id)?;
            match self.cgroup(id)?.kill_all() {
                Ok(()) => {}
                // it exited meanwhile, and its shim removed the cgroup:
                // ENOENT, or ENODEV from a file of a group being torn down
                Err(CgroupError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound
                        || source.raw_os_error() == Some(nix::errno::Errno::ENODEV as i32) => {}
                Err(e) => return Err(e.into()),
            }
            if !self.wait_exited(id, KILL_WAIT)? {
                return Err(Error::NotKilled {
                    what: format!("container {}", id.short()),
                    waited: KILL_WAIT,
                });
            }
        }
        self.wait_for_shim_exit(id, KILL_WAIT)?;
        let dir = self.containers.dir(id);
        minidock_images::unmount_rootfs(&dir).map_err(image_err)?;
        self.cgroup(id)?.remove(KILL_WAIT)?;
        let run = shim::run_path(&self.config.run_dir, id);
        match fs::remove_dir_all(&run) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("remove", &run)(e)),
        }
        self.containers.remove(id)
    }
    // ANCHOR_END: remove

    /// Whether the container is between two runs of its restart policy:
    /// not running, but its shim is alive (waiting out the back-off).
    fn shim_waits_to_restart(&self, id: &ContainerId, record: &StateRecord) -> bool {
        !record.state.is_alive()
            && (record.shim_pid.is_some_and(|p| shim_alive(p, id)) || shim_process_of(id).is_some())
    }

    /// Waits until the container's shim is gone (it records the exit, then
    /// cleans up and exits).
    fn wait_for_shim_exit(&self, id: &ContainerId, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let record = match self.containers.state(id) {
                Ok(r) => r,
                Err(Error::NoSuchContainer(_)) => return Ok(()),
                Err(e) => return Err(e),
            };
            let shim_running =
                record.shim_pid.is_some_and(|p| shim_alive(p, id)) || shim_process_of(id).is_some();
            if !shim_running {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(Error::ShimDidNotExit {
                    id: id.short().to_string(),
                });
            }
            sleep(POLL);
        }
    }

    /// `docker wait`: blocks until `condition`, returns the exit status.
    pub fn wait(&self, id: &ContainerId, condition: WaitCondition) -> Result<ExitStatus> {
        let exited = |s: &State| match s {
            State::Exited {
                code,
                oom_killed,
                finished_at,
                ..
            } => Some((
                ExitStatus {
                    code: *code,
                    oom_killed: *oom_killed,
                },
                *finished_at,
            )),
            _ => None,
        };
        let gone = |last: Option<ExitStatus>| -> ExitStatus {
            // removed: by `--rm` (its tombstone has the status) or by `rm`
            shim::read_tombstone(&self.config.run_dir, id)
                .and_then(|r| exited(&r.state).map(|(s, _)| s))
                .or(last)
                .unwrap_or(ExitStatus {
                    code: 0,
                    oom_killed: false,
                })
        };
        // Watched before the first look: no change can slip in between.
        let watch = DirWatch::new(&self.containers.dir(id));
        let first = match self.reconcile(id) {
            Ok(r) => r,
            Err(Error::NoSuchContainer(_))
                if shim::read_tombstone(&self.config.run_dir, id).is_some() =>
            {
                return Ok(gone(None));
            }
            Err(e) => return Err(e),
        };
        let before = exited(&first.state).map(|(_, at)| at);
        let mut last = exited(&first.state).map(|(s, _)| s);
        loop {
            let record = match self.reconcile(id) {
                Ok(r) => r,
                Err(Error::NoSuchContainer(_)) => return Ok(gone(last)),
                Err(e) => return Err(e),
            };
            match exited(&record.state) {
                Some((status, at)) => {
                    last = Some(status);
                    match condition {
                        WaitCondition::NotRunning => return Ok(status),
                        WaitCondition::NextExit if Some(at) != before => return Ok(status),
                        _ => {}
                    }
                }
                None if condition == WaitCondition::NotRunning
                    && record.state == State::Created =>
                {
                    return Ok(ExitStatus {
                        code: 0,
                        oom_killed: false,
                    });
                }
                None => {}
            }
            watch.wait(POLL);
        }
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

    // ANCHOR: exec
    /// `docker exec`: starts a process in the running container's
    /// namespaces and cgroup, as its user unless `options.user` says
    /// otherwise, with its environment plus `options.env`.
    pub fn exec(&self, id: &ContainerId, options: ExecOptions) -> Result<ExecProcess> {
        let container = self.containers.container(id)?;
        let record = self.reconcile(id)?;
        let pid = match record.state {
            State::Running { pid, .. } => pid,
            State::Paused { .. } => {
                return Err(Error::Paused {
                    op: "exec",
                    id: id.to_string(),
                })
            }
            _ => {
                return Err(TransitionError::NotRunning {
                    op: "exec in",
                    id: id.to_string(),
                }
                .into())
            }
        };
        if options.args.is_empty() {
            return Err(Error::ExecEmpty);
        }
        let rootfs = self.containers.dir(id).join("merged");
        let user_spec = options.user.as_deref().unwrap_or(&container.config.user);
        let mut user = resolve_user(&rootfs, user_spec)?;
        let groups = container.host_config.process.group_ids(&rootfs)?;
        user.additional_gids.extend(groups);
        let mut env = shim::container_env(&container.config, &user);
        for entry in &options.env {
            crate::env::set(&mut env, entry);
        }
        let cwd = options
            .working_dir
            .or_else(|| Some(container.config.working_dir.clone()).filter(|w| !w.is_empty()))
            .unwrap_or_else(|| "/".into());
        let spec = ExecSpec {
            pid,
            cgroup_procs: self.cgroup(id)?.procs_files(),
            args: options.args,
            env,
            cwd: cwd.into(),
            user: minidock_namespaces::User {
                uid: user.uid,
                gid: user.gid,
                additional_gids: user.additional_gids,
            },
            capabilities: container.host_config.process.capabilities()?,
            seccomp: container.host_config.seccomp(),
            no_new_privileges: container.host_config.no_new_privileges(),
            tty: options.tty,
            rlimits: container.host_config.process.rlimits(),
        };
        exec::spawn(&*self.helper()?, &spec, options.stdin)
    }
    // ANCHOR_END: exec

    /// `docker top`: the processes in the container's cgroup, without the
    /// engine's own helpers (an exec helper waits there for its process).
    pub fn top(&self, id: &ContainerId) -> Result<Vec<TopProcess>> {
        let record = self.reconcile(id)?;
        if !record.state.is_alive() {
            return Err(TransitionError::NotRunning {
                op: "list the processes of",
                id: id.to_string(),
            }
            .into());
        }
        let mut pids = self.cgroup(id)?.pids()?;
        pids.sort_unstable();
        Ok(pids
            .into_iter()
            .filter_map(|pid| {
                let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
                let role = raw.split(|b| *b == 0).nth(1).unwrap_or_default();
                if crate::reexec::is_helper_role(role) {
                    return None;
                }
                let cmd = raw
                    .split(|b| *b == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ");
                Some(TopProcess { pid, cmd })
            })
            .collect())
    }

    /// `docker stats` (one sample): the cgroup's counters.
    pub fn stats(&self, id: &ContainerId) -> Result<CgroupStats> {
        let record = self.reconcile(id)?;
        if !record.state.is_alive() {
            return Err(TransitionError::NotRunning {
                op: "read the stats of",
                id: id.to_string(),
            }
            .into());
        }
        Ok(self.cgroup(id)?.stats()?)
    }
}

fn image_err(e: minidock_images::Error) -> Error {
    Error::Image(e)
}

/// How many lines of a shim's log go into an error message.
const LOG_TAIL_LINES: usize = 5;

/// The last lines the shim wrote to `log` from byte `from` on, joined
/// with `" | "`, for an error message.
fn log_tail(log: &Path, from: u64) -> String {
    let text = match fs::read(log) {
        Ok(bytes) => {
            let start = usize::try_from(from).unwrap_or(usize::MAX).min(bytes.len());
            String::from_utf8_lossy(&bytes[start..]).into_owned()
        }
        Err(e) => return format!("its log is unreadable ({e})"),
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return "it left no message".into();
    }
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join(" | ")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_keeps_the_last_lines_this_shim_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("shim.log");
        let old = "an earlier shim's line\n";
        let new: Vec<String> = (1..=7).map(|i| format!("line {i}")).collect();
        fs::write(&log, format!("{old}{}\n\n", new.join("\n"))).unwrap();
        assert_eq!(
            log_tail(&log, old.len() as u64),
            "line 3 | line 4 | line 5 | line 6 | line 7"
        );
        assert_eq!(log_tail(&log, 1 << 40), "it left no message");
        assert!(log_tail(&dir.path().join("none"), 0).contains("unreadable"));
    }
}
