//! The shim: one small supervisor process per container.
//!
//! ```text
//!  engine (CLI, daemon)        shim (one per container)          container
//!  ────────────────────        ────────────────────────          ─────────
//!  start ── spawn ───────────▶ fork; parent exits ──┐
//!        ◀── "Started 4242" ── setsid, subreaper    │
//!  (may exit, crash, restart)  owns stdio pipes ◀───┼── init helper ── PID 1
//!                              json-file log        │   (chapter 01)
//!  attach ── unix socket ────▶ fans output out      │
//!                              waits, records exit ─┘
//!                              in state.json
//! ```
//!
//! The engine's own binary is re-executed with the hidden argument
//! [`SHIM_ARG`]. The shim forks once and the first process exits at once,
//! so the shim is nobody's child the engine must wait for; `setsid` puts
//! it in its own session, away from the engine's terminal and its signals.
//! It is the parent of the container's init helper, so it alone can
//! `wait` for it — which is why it, and not the engine, records the exit
//! status. An engine that crashes or restarts loses nothing: the shim keeps
//! the container, its output and its exit status. This is the job
//! `containerd-shim-runc-v2` does for Docker.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use minidock_namespaces::{BindMount, InitHelper, ProcessSpec, Stdio, User};
use nix::unistd::{fork, ForkResult};
use serde::{Deserialize, Serialize};

use crate::attach::{read_frame, write_frame, Frame};
use crate::cgroup::{Cgroup, CgroupRoot};
use crate::config::{Config, NetworkMode, RestartTrigger};
use crate::error::{io_err, Error, Result};
use crate::id::ContainerId;
use crate::inroot::mkdir_all_in_root;
use crate::logs::{LogWriter, Stream};
use crate::state::{transition, Event};
use crate::store::{Container, ContainerStore};
use crate::time::Timestamp;
use crate::user::{resolve_user, ResolvedUser};

/// The hidden first argument that turns the engine's binary into a shim.
pub const SHIM_ARG: &str = "__minidock_shim";

/// Where the shim finds everything: passed on its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimArgs {
    /// The engine root (`containers/<id>` is below it).
    pub root: PathBuf,
    /// The run directory (`<id>/attach.sock` is below it).
    pub run_dir: PathBuf,
    pub id: ContainerId,
    /// The cgroup parent group, e.g. `minidock`.
    pub cgroup_parent: String,
    /// Wait for one attach client before starting the container, so that
    /// it sees all of the output (`docker run` / `docker start -a`).
    pub wait_attach: bool,
}

impl ShimArgs {
    /// The arguments after [`SHIM_ARG`].
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "--root".into(),
            self.root.clone().into(),
            "--run-dir".into(),
            self.run_dir.clone().into(),
            "--cgroup-parent".into(),
            self.cgroup_parent.clone().into(),
        ];
        if self.wait_attach {
            args.push("--wait-attach".into());
        }
        args.push(self.id.as_str().into());
        args
    }

    /// Parses what [`ShimArgs::to_args`] wrote.
    pub fn parse(args: &[OsString]) -> Result<ShimArgs> {
        let bad = |what: &str| {
            Error::ShimProtocol(format!(
                "{what} (the shim is started by the engine, not by hand)"
            ))
        };
        let (mut root, mut run_dir, mut parent, mut id, mut wait_attach) =
            (None, None, None, None, false);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.to_str() {
                Some("--root") => root = it.next().map(PathBuf::from),
                Some("--run-dir") => run_dir = it.next().map(PathBuf::from),
                Some("--cgroup-parent") => {
                    parent = it.next().and_then(|p| p.to_str()).map(String::from)
                }
                Some("--wait-attach") => wait_attach = true,
                Some(other) if id.is_none() => id = Some(other.parse::<ContainerId>()?),
                _ => return Err(bad("unexpected argument")),
            }
        }
        Ok(ShimArgs {
            root: root.ok_or_else(|| bad("--root missing"))?,
            run_dir: run_dir.ok_or_else(|| bad("--run-dir missing"))?,
            cgroup_parent: parent.ok_or_else(|| bad("--cgroup-parent missing"))?,
            id: id.ok_or_else(|| bad("container id missing"))?,
            wait_attach,
        })
    }

    /// The shim's run directory, see [`run_path`].
    pub fn run_path(&self) -> PathBuf {
        run_path(&self.run_dir, &self.id)
    }
}

/// `RUN_DIR/<short id>`: the shim's socket lives here. The short id keeps
/// the socket's path under the 108 bytes a unix socket address may have.
pub fn run_path(run_dir: &Path, id: &ContainerId) -> PathBuf {
    run_dir.join(id.short())
}

/// The attach socket of a container.
pub fn attach_socket(run_dir: &Path, id: &ContainerId) -> PathBuf {
    run_path(run_dir, id).join("attach.sock")
}

/// What the shim tells the engine on its stdout, one JSON line each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShimReport {
    /// The attach socket is ready (with `--wait-attach`): connect now.
    Listening,
    /// The container runs; PID 1 has this host pid.
    Started { pid: i32 },
    /// The container could not be started: chapter 01's reason, and the
    /// exit code Docker records for it ([`start_exit_code`]).
    Failed { error: String, exit_code: i32 },
}

/// The exit code recorded for a start that failed for a reason other than
/// the command itself (Docker's "unknown").
pub const EXIT_START_FAILED: i32 = 128;

/// Docker's exit code for a failed start: 127 when the command was not
/// found, 126 when it could not be invoked, [`EXIT_START_FAILED`] else.
pub fn start_exit_code(error: &minidock_namespaces::Error) -> i32 {
    use minidock_namespaces::error::{EXIT_CANNOT_INVOKE, EXIT_NOT_FOUND};
    match error {
        minidock_namespaces::Error::Setup(setup) => match setup.exit_code() {
            code @ (EXIT_NOT_FOUND | EXIT_CANNOT_INVOKE) => code,
            _ => EXIT_START_FAILED,
        },
        _ => EXIT_START_FAILED,
    }
}

/// The report for a failed start: the reason alone (the engine adds
/// "cannot start container ID"), and its exit code.
fn failed(error: &Error) -> ShimReport {
    match error {
        Error::Start {
            reason, exit_code, ..
        } => ShimReport::Failed {
            error: reason.clone(),
            exit_code: *exit_code,
        },
        other => ShimReport::Failed {
            error: other.to_string(),
            exit_code: EXIT_START_FAILED,
        },
    }
}

/// Writes a report to stdout, the engine's pipe.
fn report(r: &ShimReport) {
    let mut line = serde_json::to_vec(r).unwrap_or_default();
    line.push(b'\n');
    let mut out = io::stdout().lock();
    // If the engine went away, nobody is left to tell.
    out.write_all(&line).and_then(|()| out.flush()).ok();
}

/// Points stdout at `/dev/null`: the engine reads end-of-file and knows
/// the start is over; later writes go nowhere instead of failing.
fn close_report_pipe() -> Result<()> {
    let null = File::options()
        .write(true)
        .open("/dev/null")
        .map_err(io_err("open", "/dev/null"))?;
    nix::unistd::dup2(null.as_raw_fd(), 1).map_err(|e| Error::Io {
        op: "dup2 /dev/null onto stdout",
        path: "/dev/null".into(),
        source: e.into(),
    })?;
    Ok(())
}

/// Entry point of the shim role. Never returns.
pub fn main() -> ! {
    let args: Vec<OsString> = std::env::args_os().skip(2).collect();
    let args = match ShimArgs::parse(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("minidock-shim: {e}");
            std::process::exit(2)
        }
    };
    // SAFETY: the shim was just exec'd and has started no thread, so the
    // child may run any code after the fork.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => std::process::exit(0),
        Ok(ForkResult::Child) => {}
        Err(e) => {
            report(&ShimReport::Failed {
                error: format!("shim: fork: {e}"),
                exit_code: EXIT_START_FAILED,
            });
            std::process::exit(1)
        }
    }
    let code = match detach().and_then(|()| supervise(&args)) {
        Ok(()) => 0,
        Err(e) => {
            // Read by the engine only while the first start is not over:
            // afterwards the report pipe is /dev/null.
            report(&failed(&e));
            eprintln!("minidock-shim {}: {e}", args.id.short());
            1
        }
    };
    std::process::exit(code)
}

/// A new session (no terminal, no signals from the engine's process
/// group), and "child subreaper": processes orphaned below the shim are
/// re-parented to it rather than to the host's init.
fn detach() -> Result<()> {
    nix::unistd::setsid().map_err(|errno| Error::Sys {
        op: "shim: setsid",
        errno,
    })?;
    nix::sys::prctl::set_child_subreaper(true).map_err(|errno| Error::Sys {
        op: "shim: PR_SET_CHILD_SUBREAPER",
        errno,
    })?;
    Ok(())
}

/// Shared between the shim's threads: attached clients, where stdin
/// goes, the terminal (TTY mode) and the log.
struct Hub {
    clients: Mutex<Vec<UnixStream>>,
    stdin: Mutex<Option<Box<dyn Write + Send>>>,
    pty_master: Mutex<Option<File>>,
    log: Mutex<LogWriter>,
}

impl Hub {
    /// Output of the container: into the log, and to every client.
    fn output(&self, stream: Stream, data: &[u8]) {
        if let Err(e) = self.log.lock().expect("log lock").write(stream, data) {
            eprintln!("minidock-shim: {e}");
        }
        let frame = match stream {
            Stream::Stdout => Frame::Stdout(data.to_vec()),
            Stream::Stderr => Frame::Stderr(data.to_vec()),
        };
        self.broadcast(&frame);
    }

    fn broadcast(&self, frame: &Frame) {
        let mut clients = self.clients.lock().expect("clients lock");
        // A client that cannot keep up or hung up is dropped.
        clients.retain_mut(|c| write_frame(c, frame).is_ok());
    }

    fn add_client(self: &Arc<Self>, client: UnixStream) {
        client.set_write_timeout(Some(Duration::from_secs(10))).ok();
        let Ok(writer) = client.try_clone() else {
            return;
        };
        self.clients.lock().expect("clients lock").push(writer);
        let hub = self.clone();
        thread::spawn(move || hub.serve_client(client));
    }

    /// Reads a client's frames: stdin data, end of stdin, terminal size.
    fn serve_client(&self, mut client: UnixStream) {
        while let Ok(Some(frame)) = read_frame(&mut client) {
            match frame {
                Frame::Stdin(data) => {
                    if let Some(w) = self.stdin.lock().expect("stdin lock").as_mut() {
                        if w.write_all(&data).and_then(|()| w.flush()).is_err() {
                            eprintln!("minidock-shim: the container closed its stdin");
                        }
                    }
                }
                Frame::CloseStdin => {
                    self.stdin.lock().expect("stdin lock").take();
                }
                Frame::Resize { rows, cols } => {
                    if let Some(master) = self.pty_master.lock().expect("pty lock").as_ref() {
                        if let Err(e) = set_window_size(master, rows, cols) {
                            eprintln!("minidock-shim: resize: {e}");
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// `TIOCSWINSZ` on the terminal's master side; the kernel sends SIGWINCH
/// to the container's foreground process group.
fn set_window_size(master: &File, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize struct from the pointer, which
    // is valid for the duration of the call.
    let rc = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Copies one output of the container into the hub until end of file.
fn pump(hub: Arc<Hub>, mut from: File, stream: Stream) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hub.output(stream, &buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // EIO: the last holder of the terminal's slave side closed it.
                Err(_) => break,
            }
        }
        if let Err(e) = hub.log.lock().expect("log lock").flush(stream) {
            eprintln!("minidock-shim: {e}");
        }
    })
}

/// How the container's process ended.
struct Ended {
    code: i32,
    oom_killed: bool,
}

// ANCHOR: supervise
fn supervise(args: &ShimArgs) -> Result<()> {
    let store = ContainerStore::open(&args.root)?;
    let container = store.container(&args.id)?;
    let cgroups = CgroupRoot::detect()?;
    let run = args.run_path();
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&run)
        .map_err(io_err("create", &run))?;
    let socket = attach_socket(&args.run_dir, &args.id);
    match fs::remove_file(&socket) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("remove stale socket", &socket)(e)),
    }
    let listener = UnixListener::bind(&socket).map_err(io_err("listen on", &socket))?;
    fs::set_permissions(&socket, fs::Permissions::from_mode(0o600))
        .map_err(io_err("chmod", &socket))?;
    let log_path = store.dir(&args.id).join(format!("{}-json.log", args.id));
    let hub = Arc::new(Hub {
        clients: Mutex::new(Vec::new()),
        stdin: Mutex::new(None),
        pty_master: Mutex::new(None),
        log: Mutex::new(LogWriter::for_config(
            &log_path,
            &container.host_config.log_config,
        )?),
    });
    if args.wait_attach {
        report(&ShimReport::Listening);
        hub.add_client(accept_within(&listener, Duration::from_secs(60))?);
    }
    {
        let hub = hub.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                hub.add_client(client);
            }
        });
    }

    let mut first = true;
    let mut container = container;
    let ended = loop {
        let ended = run_once(args, &store, &container, &cgroups, &hub, first);
        let ended = match (ended, first) {
            (Ok(e), _) => e,
            (Err(e), true) => {
                // The first start failed: main tells the engine why, on
                // the report pipe, still open. Nothing of the shim stays.
                if let Err(rm) = fs::remove_dir_all(&run) {
                    eprintln!("minidock-shim: remove {}: {rm}", run.display());
                }
                return Err(e);
            }
            (Err(e), false) => {
                // A restart failed: record it as an exit, and stop trying.
                eprintln!("minidock-shim: restart failed: {e}");
                store.update_state(&args.id, |r| {
                    r.error = e.to_string();
                    Ok(())
                })?;
                Ended {
                    code: 255,
                    oom_killed: false,
                }
            }
        };
        first = false;
        // The exit of a `--rm` container is its last state but one: written
        // atomically, not flushed (see `remove_after_exit`).
        let exit = |r: &mut crate::state::StateRecord| {
            r.state = transition(
                args.id.as_str(),
                &r.state,
                Event::Exit {
                    code: ended.code,
                    oom_killed: ended.oom_killed,
                    at: Timestamp::now(),
                },
            )?;
            r.shim_pid = None;
            Ok(r.clone())
        };
        let record = if container.host_config.auto_remove {
            store.update_state_unsynced(&args.id, exit)?
        } else {
            store.update_state(&args.id, exit)?
        };
        // `docker update` may have changed the restart policy or the
        // limits since this run started: the next run reads them afresh.
        if let Ok(now) = store.container(&args.id) {
            container = now;
        }
        let policy = &container.host_config.restart_policy;
        if !policy.decide(
            RestartTrigger::Exited,
            ended.code,
            record.restart_count,
            record.stopped_by_user,
        ) {
            break ended;
        }
        let backoff = Duration::from_millis(100 << record.restart_count.min(4));
        thread::sleep(backoff);
        // A stop or rm during the back-off ends the restarts (the engine
        // marks the container stopped by the user).
        let restart = store.update_state(&args.id, |r| {
            if r.stopped_by_user {
                return Ok(false);
            }
            r.restart_count += 1;
            Ok(true)
        })?;
        if !restart {
            break ended;
        }
    };
    hub.broadcast(&Frame::Exit(ended.code));
    for client in hub.clients.lock().expect("clients lock").drain(..) {
        client.shutdown(std::net::Shutdown::Both).ok();
    }
    if container.host_config.auto_remove {
        remove_after_exit(&store, &args.run_dir, &args.id)?;
    }
    fs::remove_dir_all(&run).map_err(io_err("remove", &run))
}
// ANCHOR_END: supervise

/// `--rm`: the container goes away when its process does. Its final
/// state is left as a tombstone in the run directory first, so a `wait`
/// that did not see the exit can still report the exit code.
///
/// The container leaves everyone's sight with one rename of its directory
/// ([`ContainerStore::detach`]), which the engine's watch sees at once:
/// `run --rm` returns then. Unmounting the overlay comes after: it flushes
/// the upper file system to disk (a `syncfs` of the host's disk, the
/// slowest step of a short run on a busy host), and the files are deleted
/// last. A crash in between leaves a `.removing-<id>` directory that the
/// next engine finishes. The last states are written without `fsync`:
/// after a power cut nobody reads them.
fn remove_after_exit(store: &ContainerStore, run_dir: &Path, id: &ContainerId) -> Result<()> {
    let last = store.state(id)?;
    write_tombstone(run_dir, id, &last)?;
    store.update_state_unsynced(id, |r| {
        r.state = transition(id.as_str(), &r.state, Event::Remove { force: false })?;
        Ok(())
    })?;
    match store.detach(id)? {
        Some(doomed) => crate::store::remove_detached(&doomed),
        None => Ok(()),
    }
}

/// Where the final state of an auto-removed container is kept.
pub fn tombstone(run_dir: &Path, id: &ContainerId) -> PathBuf {
    run_dir.join("removed").join(format!("{id}.json"))
}

/// How long tombstones are kept.
const TOMBSTONE_AGE: Duration = Duration::from_secs(600);

fn write_tombstone(
    run_dir: &Path,
    id: &ContainerId,
    record: &crate::state::StateRecord,
) -> Result<()> {
    let dir = run_dir.join("removed");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io_err("create", &dir))?;
    // Old tombstones nobody asked for are swept on the way — at most once
    // a minute: after many `--rm` runs the directory holds hundreds of
    // them, and looking at each on every exit would slow every one down.
    // A marker file's time says when the last sweep was.
    let marker = dir.join(".swept");
    let swept_lately = fs::metadata(&marker)
        .and_then(|m| m.modified())
        .map(|t| t.elapsed().unwrap_or_default() < SWEEP_INTERVAL)
        .unwrap_or(false);
    if !swept_lately {
        File::create(&marker)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            .map_err(io_err("touch", &marker))?;
        sweep_tombstones(&dir)?;
    }
    // The run directory does not outlive a reboot (it is a tmpfs, as
    // /run is), and a tombstone is read only minutes after: no fsync.
    let path = tombstone(run_dir, id);
    crate::atomic::replace_atomic(&path, &crate::store::json_bytes(&path, record)?)
}

/// How often old tombstones are looked for.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Removes the tombstones (of `run_dir`) older than [`TOMBSTONE_AGE`]: the
/// engine calls it when it starts, so they do not outlive their use when
/// no container exits for a long time.
pub fn sweep_old_tombstones(run_dir: &Path) -> Result<()> {
    let dir = run_dir.join("removed");
    if !dir.exists() {
        return Ok(());
    }
    sweep_tombstones(&dir)
}

/// Removes the tombstones in `dir` older than [`TOMBSTONE_AGE`].
fn sweep_tombstones(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(io_err("read", dir))?.flatten() {
        if entry.file_name() == ".swept" {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .map(|t| t.elapsed().unwrap_or_default() > TOMBSTONE_AGE)
            .unwrap_or(false);
        if old {
            fs::remove_file(entry.path()).ok();
        }
    }
    Ok(())
}

/// The final state of a container removed by `--rm`, if it is recent.
pub fn read_tombstone(run_dir: &Path, id: &ContainerId) -> Option<crate::state::StateRecord> {
    crate::store::read_json(&tombstone(run_dir, id)).ok()
}

/// Waits up to `timeout` for the first attach client. `poll(2)` wakes
/// the shim the moment the client connects: the engine connects right
/// after reading `Listening`, so any sleep here would delay every
/// `docker run`.
fn accept_within(listener: &UnixListener, timeout: Duration) -> Result<UnixStream> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let start = Instant::now();
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(io_err(
                "wait for the first attach client on",
                "attach socket",
            )(io::ErrorKind::TimedOut.into()));
        }
        let wait = PollTimeout::try_from(left.as_millis().max(1)).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, wait) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => break,
            Err(e) => {
                return Err(io_err(
                    "wait for the first attach client on",
                    "attach socket",
                )(e.into()))
            }
        }
    }
    let (client, _) = listener
        .accept()
        .map_err(io_err("accept the first attach client on", "attach socket"))?;
    Ok(client)
}

// ANCHOR: run_once
/// One run of the container: cgroup, process, output, exit.
fn run_once(
    args: &ShimArgs,
    store: &ContainerStore,
    container: &Container,
    cgroups: &CgroupRoot,
    hub: &Arc<Hub>,
    first: bool,
) -> Result<Ended> {
    let rootfs = store.dir(&args.id).join("merged");
    let cg = cgroups.create(&args.cgroup_parent, args.id.as_str())?;
    let started = start_process(store, container, &rootfs, cg.as_ref(), hub);
    let (mut process, pumps) = match started {
        Ok(p) => p,
        Err(e) => {
            cg.kill_all().ok();
            cg.remove(Duration::from_secs(5)).ok();
            return Err(e);
        }
    };
    let pid = process.container_pid();
    store.update_state(&args.id, |r| {
        r.state = transition(
            args.id.as_str(),
            &r.state,
            Event::Start {
                pid,
                at: Timestamp::now(),
            },
        )?;
        r.shim_pid = Some(std::process::id() as i32);
        r.error.clear();
        r.start_exit_code = None;
        Ok(())
    })?;
    if first {
        // The engine is told once; restarts are visible in state.json.
        report(&ShimReport::Started { pid });
        close_report_pipe()?;
    }

    let code = process.wait()?;
    // When PID 1 ends, the kernel kills the rest of its PID namespace, so
    // every copy of the output pipes closes and the pumps reach EOF.
    for p in pumps {
        p.join().ok();
    }
    hub.stdin.lock().expect("stdin lock").take();
    hub.pty_master.lock().expect("pty lock").take();
    let oom_killed = cg.oom_killed().unwrap_or(false);
    cg.kill_all().ok();
    cg.remove(Duration::from_secs(10))?;
    Ok(Ended { code, oom_killed })
}
// ANCHOR_END: run_once

// ANCHOR: start_process
/// Prepares the rootfs and stdio, and starts the container's init through
/// chapter 01, already inside the cgroup.
fn start_process(
    store: &ContainerStore,
    container: &Container,
    rootfs: &Path,
    cg: &dyn Cgroup,
    hub: &Arc<Hub>,
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
    if container.config.tty {
        // PID 1 opens a terminal on the container's own /dev/ptmx, makes
        // it its controlling terminal (chapter 01), so `tty` names it, a
        // shell has job control and ^C from the client is SIGINT; it
        // sends the master side back. The helper's stdio is unused.
        spec.tty = true;
        spec.stdin = Stdio::Null;
        spec.stdout = Stdio::Null;
        spec.stderr = Stdio::Null;
    } else {
        spec.stdin = if container.config.open_stdin {
            Stdio::Piped
        } else {
            Stdio::Null
        };
        spec.stdout = Stdio::Piped;
        spec.stderr = Stdio::Piped;
    }
    // PID 1 writes itself into these files as its first step (chapter 01),
    // so the limits hold before the command runs a single instruction.
    spec.cgroup_procs = cg.procs_files();
    let helper = InitHelper::reexec();
    let mut process = spec.spawn(&helper).map_err(|e| Error::Start {
        id: container.id.short().to_string(),
        reason: e.to_string(),
        exit_code: start_exit_code(&e),
    })?;
    drop(spec);
    let mut pumps = Vec::new();
    // Only the container holds the slave side: reading the master ends
    // (EIO) when the container's side is gone.
    if let Some(master) = process.take_terminal() {
        let reader = master.try_clone().map_err(io_err("dup", "pty master"))?;
        let writer = master.try_clone().map_err(io_err("dup", "pty master"))?;
        *hub.stdin.lock().expect("stdin lock") = Some(Box::new(writer));
        *hub.pty_master.lock().expect("pty lock") = Some(master);
        pumps.push(pump(hub.clone(), reader, Stream::Stdout));
    } else {
        if let Some(stdin) = process.take_stdin() {
            *hub.stdin.lock().expect("stdin lock") = Some(Box::new(stdin));
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
// ANCHOR_END: start_process

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

/// Chapter 01's process description for this container.
pub fn process_spec(container: &Container, rootfs: &Path, user: &ResolvedUser) -> ProcessSpec {
    let c = &container.config;
    let mut spec = ProcessSpec::new(rootfs, c.args());
    spec.env = container_env(c, user);
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
    fn args_round_trip() {
        let a = ShimArgs {
            root: "/var/lib/minidock".into(),
            run_dir: "/run/minidock".into(),
            id: ContainerId::random(),
            cgroup_parent: "minidock".into(),
            wait_attach: true,
        };
        assert_eq!(ShimArgs::parse(&a.to_args()).unwrap(), a);
        let b = ShimArgs {
            wait_attach: false,
            ..a.clone()
        };
        assert_eq!(ShimArgs::parse(&b.to_args()).unwrap(), b);
        assert!(ShimArgs::parse(&["--root".into(), "/x".into()]).is_err());
        assert!(ShimArgs::parse(&["../../etc".into()]).is_err());
    }

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
}
