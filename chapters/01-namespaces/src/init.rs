//! The init helper: the process that becomes the container.
//!
//! The engine does not set up the container itself. It starts this helper
//! as a *new program* (`minidock-init`, or its own binary re-executed with
//! a hidden argument) and sends it the spec over a pipe. Why the detour?
//! The engine is multi-threaded (a test harness, an async daemon), and
//! after `fork` in a multi-threaded process only async-signal-safe calls
//! are allowed until `exec`: no allocation, no locks, no JSON, no error
//! strings. A freshly exec'd helper is single-threaded, so it may do
//! everything in plain Rust. runc and youki work the same way.
//!
//! The helper:
//! 1. reads the spec from the spec pipe and makes itself not dumpable
//!    ([`crate::dumpable`]);
//! 2. `unshare`s the namespaces (and, with a user namespace, waits until
//!    the engine has written its id maps);
//! 3. forks: the child is PID 1 of the new PID namespace and sets up the
//!    container, then `execve`s the command;
//! 4. the helper stays outside as PID 1's parent: reports its host PID,
//!    forwards signals to it, waits, and exits with its status.

use std::convert::Infallible;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::sys::signal::Signal;
use nix::unistd::{getpid, getppid, ForkResult};

use crate::capabilities;
use crate::channel::{self, Report};
use crate::dumpable;
use crate::error::SetupError;
use crate::exec;
use crate::fds;
use crate::masks;
use crate::namespaces;
use crate::network;
use crate::rootfs;
use crate::spec::{ProcessSpec, User};
use crate::supervise::{forward_signals_to, wait_for};
use crate::terminal;
use crate::user;

/// Exit code of the helper when it fails before the command runs
/// (Docker uses 125 for "the engine failed").
pub use crate::error::EXIT_SETUP_FAILED;

/// Entry point of the init helper. Call it first thing in `main` of the
/// helper binary (or of an engine re-executed with its hidden argument),
/// before any thread is started. Never returns.
pub fn main() -> ! {
    std::panic::set_hook(Box::new(|info| {
        // A panic (an exercise's `todo!()`, a bug) must fail the start
        // with its message, not leave the engine waiting or guessing.
        let failed = SetupError::refused("init helper panicked", None, info.to_string());
        if !channel::report(&Report::Failed(failed)) {
            eprintln!("minidock-init: {info}");
        }
    }));
    let code = match helper() {
        Ok(code) => code,
        Err(e) => {
            if !channel::report(&Report::Failed(e.clone())) {
                eprintln!("minidock-init: {e}");
            }
            EXIT_SETUP_FAILED
        }
    };
    std::process::exit(code)
}

// ANCHOR: helper
fn helper() -> Result<i32, SetupError> {
    let (spec_fd, status_fd) = std::env::var(channel::PIPES_ENV)
        .ok()
        .and_then(|v| channel::parse_pipes(&v))
        .ok_or_else(|| {
            SetupError::refused(
                "init helper",
                None,
                format!(
                    "{} is not set: this program is started by minidock, not by hand",
                    channel::PIPES_ENV
                ),
            )
        })?;
    channel::set_status_fd(status_fd);
    ensure_single_threaded()?;
    // Before any namespace of the container exists: from here until the
    // command's execve nobody may open our /proc files or ptrace us; the
    // fork below hands this on to PID 1.
    dumpable::make_not_dumpable()?;
    let mut spec_pipe = BufReader::new(take_fd(spec_fd));
    let spec = read_spec(&mut spec_pipe)?;
    let console = console_socket(&spec)?;

    let host_namespaces = namespaces::current_ids()?;
    if let crate::compat::Shm::OfProcess(pid) = spec.docker.shm {
        // Before our own mount namespace exists (see compat::shm).
        crate::compat::shm::clone_shm_of(pid)?;
    }
    namespaces::join_namespaces(&spec.namespaces)?;
    namespaces::unshare_namespaces(&spec.namespaces)?;
    namespaces::verify_unshared(&host_namespaces, &spec.namespaces)?;
    if spec.namespaces.user.is_some() {
        // The id maps are written from outside, by the engine, which is
        // root in the parent user namespace; we wait for its go byte.
        channel::report(&Report::UserNamespaceCreated {
            pid: getpid().as_raw(),
        });
        let mut go = [0u8; 1];
        spec_pipe.read_exact(&mut go).map_err(|e| {
            SetupError::refused(
                "user namespace",
                None,
                format!("no go from the engine: {e}"),
            )
        })?;
        // Until now we were host root, which has no id in the new
        // namespace: files we create would have no owner. Become its root.
        user::become_namespace_root()?;
    }
    drop(spec_pipe);

    match fork_pid1()? {
        ForkResult::Child => {
            let failed = match container_init(&spec, console) {
                Ok(never) => match never {},
                Err(failed) => failed,
            };
            channel::report(&Report::Failed(failed.clone()));
            std::process::exit(failed.exit_code())
        }
        ForkResult::Parent { child } => {
            // Only PID 1 may hold the console socket: the engine learns
            // that the terminal will never come when PID 1's copy closes.
            drop(console);
            // Before the engine hears of the start: a signal it sends as
            // soon as `spawn` returned must find the handler in place, not
            // the default action that would kill the helper.
            forward_signals_to(child)?;
            channel::report(&Report::ContainerStarted {
                pid: child.as_raw(),
            });
            channel::close_status_fd();
            fds::close_above_stdio()?;
            wait_for(child)
        }
    }
}
// ANCHOR_END: helper

/// `fork` is only sound here because this process has one thread; check
/// it rather than trust it (an engine that calls [`main`] after starting a
/// thread would otherwise fail in rare, baffling ways).
fn ensure_single_threaded() -> Result<(), SetupError> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| {
        SetupError::refused("read", Some("/proc/self/status".into()), e.to_string())
    })?;
    let threads = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .map(|n| n.trim().to_string());
    if threads.as_deref() != Some("1") {
        return Err(SetupError::refused(
            "init helper",
            None,
            "must run single-threaded: call init::main() before starting any thread",
        ));
    }
    Ok(())
}

/// The helper's end of the console socket, which a spec with a TTY
/// needs ([`terminal::set_up_console`]); `None` without a TTY.
fn console_socket(spec: &ProcessSpec) -> Result<Option<OwnedFd>, SetupError> {
    if !spec.tty {
        return Ok(None);
    }
    let fd: RawFd = std::env::var(terminal::CONSOLE_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            SetupError::refused(
                "console socket",
                None,
                format!(
                    "{} is not set: a TTY needs the engine's console socket",
                    terminal::CONSOLE_ENV
                ),
            )
        })?;
    terminal::adopt_console_socket(fd).map(Some)
}

fn take_fd(fd: RawFd) -> File {
    // SAFETY: the engine passed this descriptor for us alone; nothing else
    // in this process owns it.
    unsafe { File::from_raw_fd(fd) }
}

fn read_spec(pipe: &mut impl BufRead) -> Result<ProcessSpec, SetupError> {
    let mut line = String::new();
    pipe.read_line(&mut line)
        .map_err(|e| SetupError::refused("read spec", None, e.to_string()))?;
    serde_json::from_str(&line).map_err(|e| SetupError::refused("read spec", None, e.to_string()))
}

// ANCHOR: fork
/// Forks the container's first process. After `unshare(CLONE_NEWPID)` the
/// caller is still in the host's PID namespace; its first child is born
/// in the new one, as PID 1 — with PID 1's duties: it reaps orphans, and
/// the kernel delivers it only signals it has a handler for. When PID 1
/// exits, the kernel kills everything else in the namespace.
pub fn fork_pid1() -> Result<ForkResult, SetupError> {
    // exercise 1.2 pid1-fork: fork, so that the child is born as PID 1 of the new PID namespace.
    // hint: a new PID namespace is for children: the process that unshared stays where it was, and its first child is PID 1 of the new namespace
    // hint: the call that makes a child copies the caller; nix has it in `unistd`, and it is `unsafe` (after it, the child of a multi-threaded parent may only make async-signal-safe calls)
    // hint: its result says which side of the fork you are on (a ForkResult): hand it back as it is, the caller sorts the helper from PID 1; its Errno becomes this crate's error naming the call; the SAFETY comment `start` left in the exercise is the obligation `unsafe` asks you to state
    // SAFETY: the helper is single-threaded (ensure_single_threaded), so
    // the child may run any code after the fork.
    let result = unsafe { nix::unistd::fork() }.map_err(|e| SetupError::sys("fork", None, e))?;
    Ok(result)
    // end exercise
}
// ANCHOR_END: fork

// ANCHOR: container_init
/// PID 1 before `execve`: every step, in runc's order. Returns only on
/// failure; on success the process *is* the command.
fn container_init(spec: &ProcessSpec, console: Option<OwnedFd>) -> Result<Infallible, SetupError> {
    join_cgroups(&spec.cgroup_procs)?;
    die_with_helper()?;
    if let Some(score) = spec.docker.oom_score_adj {
        crate::compat::oom::apply(score)?;
    }
    if spec.no_new_privileges {
        set_no_new_privs()?;
    }
    if spec.namespaces.net || spec.namespaces.net_path.is_some() {
        network::bring_up_loopback()?;
    }
    if spec.namespaces.makes("uts") {
        namespaces::set_hostname(&spec.hostname)?;
    }
    rootfs::enter(spec)?;
    // The container's own /proc is mounted, /proc/sys not yet read-only.
    crate::compat::sysctl::apply(&spec.docker.sysctls)?;
    masks::mask_paths(&spec.masked_paths)?;
    masks::readonly_paths(&spec.readonly_paths)?;
    if let Some(socket) = console {
        // After pivot_root: /dev/ptmx is the container's own.
        terminal::set_up_console(socket, true)?;
    }
    crate::compat::rlimits::apply(&spec.docker.rlimits)?;
    become_command(
        &spec.cwd,
        &spec.capabilities,
        spec.seccomp,
        &spec.user,
        &spec.args,
        &spec.env,
        spec.docker.init,
    )
}

/// The last steps of every process that enters a container, PID 1 here and a
/// process joining a running one (`exec`, chapter 03), in runc's order: the
/// working directory; the capability bounding set, which needs CAP_SETPCAP
/// and so goes before the user changes; the seccomp filter, which needs
/// CAP_SYS_ADMIN (without `no_new_privs`) and so goes before them too; the
/// user; the program, looked up in the container's own `PATH`; the
/// descriptors; the remaining capabilities; the signal dispositions;
/// `execve`. With `init` (`docker run --init`), the process first splits in
/// two and stays as the command's init ([`crate::compat::tiny_init`]).
/// Returns only on failure.
pub fn become_command(
    cwd: &Path,
    capability_names: &[String],
    seccomp: bool,
    user: &User,
    args: &[String],
    env: &[String],
    init: bool,
) -> Result<Infallible, SetupError> {
    nix::unistd::chdir(cwd)
        .map_err(|e| SetupError::sys("chdir", Some(cwd.display().to_string()), e))?;
    let keep = capabilities::parse(capability_names)
        .map_err(|e| SetupError::refused("capabilities", None, e))?;
    capabilities::drop_bounding_set(&keep)?;
    if seccomp {
        crate::seccomp::install()?;
    }
    user::switch_user(user)?;
    let program = exec::find_executable(&args[0], crate::spec::path_in(env))?;
    fds::close_on_exec_above_stdio()?;
    capabilities::apply(&keep, user.uid == 0)?;
    exec::reset_signals()?;
    if init {
        crate::compat::tiny_init::become_init_of_command()?;
    }
    crate::failpoint::hit("before-execve");
    exec::exec(&program, args, env)
}
// ANCHOR_END: container_init

/// Moves PID 1 into the engine's cgroups before anything else happens:
/// writing `0` to a `cgroup.procs` (or v1 `tasks`) file moves the writer. The
/// helper stays where it is; only the container is limited and counted.
fn join_cgroups(procs_files: &[std::path::PathBuf]) -> Result<(), SetupError> {
    use std::io::Write;
    for file in procs_files {
        std::fs::OpenOptions::new()
            .write(true)
            .open(file)
            .and_then(|mut f| f.write_all(b"0"))
            .map_err(|e| {
                SetupError::refused(
                    "join cgroup",
                    Some(file.display().to_string()),
                    format!("{e}: the container would run without its limits"),
                )
            })?;
    }
    Ok(())
}

/// `PR_SET_PDEATHSIG`: if the helper dies (killed with SIGKILL, say), the
/// kernel sends PID 1 SIGKILL, which ends the whole PID namespace. Without
/// it a dead helper would leave a container nobody can wait for. (The
/// kernel clears this setting when an `execve` raises privileges — a
/// setuid binary, file capabilities — so the engine kills PID 1 directly,
/// see `Container::kill`, and does not rely on it alone.)
fn die_with_helper() -> Result<(), SetupError> {
    let helper = getppid();
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
        .map_err(|e| SetupError::sys("prctl PR_SET_PDEATHSIG", None, e))?;
    // In a new PID namespace our parent is outside it and reads as 0.
    if getppid() != helper {
        return Err(SetupError::refused(
            "init helper",
            None,
            "the helper died during setup",
        ));
    }
    Ok(())
}

/// `PR_SET_NO_NEW_PRIVS`: from now on `execve` never grants privileges —
/// setuid-root binaries and file capabilities stop working. It is
/// inherited by every child and can never be unset.
pub fn set_no_new_privs() -> Result<(), SetupError> {
    nix::sys::prctl::set_no_new_privs()
        .map_err(|e| SetupError::sys("prctl PR_SET_NO_NEW_PRIVS", None, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::ForkResult;

    /// Exercise 1.2 on its own: a thread unshares a PID namespace, and the child that
    /// fork_pid1 makes is PID 1 there (it says so with its exit code: the child of a
    /// multi-threaded parent only calls getpid and _exit).
    #[test]
    fn fork_pid1_makes_pid_1_of_the_new_namespace() {
        minidock_testkit::require_root();
        let status = std::thread::spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWPID)
                .expect("unshare(CLONE_NEWPID)");
            match fork_pid1().expect("fork_pid1") {
                ForkResult::Child => {
                    let code = if nix::unistd::getpid().as_raw() == 1 {
                        0
                    } else {
                        7
                    };
                    // SAFETY: _exit is async-signal-safe; the child touches nothing else.
                    unsafe { libc::_exit(code) }
                }
                ForkResult::Parent { child } => waitpid(child, None).expect("waitpid"),
            }
        })
        .join()
        .expect("the thread in the new PID namespace");
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "exercise 1.2 pid1-fork: the child of fork_pid1 was not PID 1 of the new namespace ({status:?})"
        );
    }
}
