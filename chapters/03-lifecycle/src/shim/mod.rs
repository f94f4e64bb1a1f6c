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

//!
//! The shim's parts: [`args`] (its command line), [`report`] (what it
//! tells the engine), [`hub`] (the container's output, fanned out to the
//! log and the attached clients) and [`process`] (the container's
//! process, built from its config). What `--rm` leaves behind is compat:
//! [`crate::compat::auto_remove`].

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use nix::unistd::{fork, ForkResult};

use crate::attach::Frame;
use crate::cgroup::CgroupRoot;
use crate::compat::auto_remove::remove_after_exit;
use crate::config::RestartTrigger;
use crate::error::{Error, IoContext, Result};
use crate::logs::LogWriter;
use crate::state::{transition, Event};
use crate::store::{Container, ContainerStore};
use crate::time::Timestamp;
use hub::{accept_within, lock, Hub};
use process::{start_process, EarlyHelper};
use report::{close_report_pipe, failed, report};

pub mod args;
pub mod hub;
pub mod process;
pub mod report;

pub use crate::compat::auto_remove::{read_tombstone, sweep_old_tombstones, tombstone};
pub use args::{attach_socket, run_path, ShimArgs, ShimStdio};
pub use process::{add_start_env, container_env, process_spec};
pub use report::{start_exit_code, ShimReport, EXIT_START_FAILED};

/// The hidden first argument that turns the engine's binary into a shim.
pub const SHIM_ARG: &str = "__minidock_shim";

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

/// Whether `path` is still the file `was` (same device and inode).
fn same_file(path: &std::path::Path, was: fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).is_ok_and(|now| (now.dev(), now.ino()) == (was.dev(), was.ino()))
}

/// How the container's process ended.
struct Ended {
    code: i32,
    oom_killed: bool,
}

// ANCHOR: supervise
fn supervise(args: &ShimArgs) -> Result<()> {
    let store = ContainerStore::open(&args.root)?;
    let cgroups = CgroupRoot::detect()?;
    let run = args.run_path();
    minidock_images::create_private_dir(&run).ctx("create", &run)?;
    let socket = attach_socket(&args.run_dir, &args.id);
    match fs::remove_file(&socket) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).ctx("remove stale socket", &socket),
    }
    let listener = UnixListener::bind(&socket).ctx("listen on", &socket)?;
    fs::set_permissions(&socket, fs::Permissions::from_mode(0o600)).ctx("chmod", &socket)?;
    let bound = fs::metadata(&socket).ctx("stat", &socket)?;
    // With --wait-attach the engine connects once it is ready for the
    // process to run; the container's configuration is read only then, so
    // the engine may finish it (the daemon wires the network) while this
    // binary loads.
    let mut early = None;
    let first_client = if args.wait_attach {
        report(&ShimReport::Listening {
            pid: std::process::id() as i32,
        });
        // The wait is the init helper's time to load (chapter 01's start
        // in two halves): it needs to know only the stdio.
        early = args
            .stdio
            .and_then(|stdio| EarlyHelper::start(stdio, &args.id));
        let stdout = io::stdout();
        match accept_within(&listener, stdout.as_fd(), Duration::from_secs(60)) {
            Ok(client) => Some(client),
            Err(e) => {
                // Nobody will attach: leave no socket behind, unless a new
                // shim of this container has already put its own there.
                if same_file(&socket, bound) {
                    fs::remove_dir_all(&run).ok();
                }
                return Err(e);
            }
        }
    } else {
        None
    };
    let container = store.container(&args.id)?;
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
    if let Some(client) = first_client {
        hub.add_client(client);
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
        let ended = run_once(
            args,
            &store,
            &container,
            &cgroups,
            &hub,
            early.take(),
            first,
        );
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
    for client in lock(&hub.clients).drain(..) {
        client.shutdown(std::net::Shutdown::Both).ok();
    }
    if container.host_config.auto_remove {
        remove_after_exit(&store, &args.run_dir, &args.id)?;
    }
    fs::remove_dir_all(&run).ctx("remove", &run)
}
// ANCHOR_END: supervise

// ANCHOR: run_once
/// One run of the container: cgroup, process, output, exit.
fn run_once(
    args: &ShimArgs,
    store: &ContainerStore,
    container: &Container,
    cgroups: &CgroupRoot,
    hub: &Arc<Hub>,
    early: Option<EarlyHelper>,
    first: bool,
) -> Result<Ended> {
    let rootfs = store.dir(&args.id).join("merged");
    let cg = cgroups.create(&args.cgroup_parent, args.id.as_str())?;
    let started = start_process(store, container, &rootfs, cg.as_ref(), hub, early);
    let (mut process, pumps) = match started {
        Ok(p) => p,
        Err(e) => {
            cg.kill_all().ok();
            cg.remove(Duration::from_secs(5)).ok();
            return Err(e);
        }
    };
    let pid = process.container_pid();
    let started = |r: &mut crate::state::StateRecord| {
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
    };
    // Flushed, except for a `--rm` container (see `remove_after_exit`).
    if container.host_config.auto_remove {
        store.update_state_unsynced(&args.id, started)?;
    } else {
        store.update_state(&args.id, started)?;
    }
    if first {
        // The engine is told once; restarts are visible in state.json.
        report(&ShimReport::Started { pid });
        close_report_pipe()?;
    }

    let code = process.wait()?;
    // When PID 1 ends, the kernel kills the rest of its PID namespace. A
    // container in the host's PID namespace (or another container's) has
    // no such end: its other processes are killed here, as Docker's shim
    // does, before the pumps are waited for — one left in the background
    // with the output pipes open would hold the exit unrecorded. Then
    // every copy of the pipes closes and the pumps reach EOF, having read
    // all that was written.
    cg.kill_all().ok();
    for p in pumps {
        p.join().ok();
    }
    lock(&hub.stdin).take();
    lock(&hub.pty_master).take();
    let oom_killed = cg.oom_killed().unwrap_or(false);
    cg.remove(Duration::from_secs(10))?;
    Ok(Ended { code, oom_killed })
}
// ANCHOR_END: run_once
