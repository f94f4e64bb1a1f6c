//! `exec`: run one more process inside a running container.
//!
//! The new process must end up where the container's processes are: in
//! its mount, PID, network, IPC and UTS namespaces, in its cgroups, as its
//! user, with its capabilities. `setns(2)` joins an existing namespace
//! through a file in `/proc/<pid>/ns/`. Two details decide the order:
//!
//! - joining a PID namespace affects only *children*, so the helper joins
//!   everything and then forks; the child is the process that runs;
//! - after joining the mount namespace, the host's `/proc/<pid>` and
//!   `/sys/fs/cgroup` are out of reach, so every namespace file and cgroup
//!   file is opened first; the child writes itself into the cgroup.
//!
//! All this happens in a fresh, single-threaded helper (the engine's
//! binary re-executed with [`EXEC_ARG`]), never after `fork` in a threaded
//! engine. `runc exec` and `nsenter` work the same way.

use std::convert::Infallible;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};

use minidock_namespaces::{terminal, SetupError, User};
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::Signal;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::sealed_binary::SealedBinary;

/// The hidden first argument of the exec helper role.
pub const EXEC_ARG: &str = "__minidock_exec";

// ANCHOR: exec_spec
/// What the exec helper needs, passed to it as one JSON argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecSpec {
    /// Host pid of a process of the container (its PID 1).
    pub pid: i32,
    /// The container's `cgroup.procs` files.
    pub cgroup_procs: Vec<PathBuf>,
    /// The command and its arguments.
    pub args: Vec<String>,
    /// The whole environment, `KEY=value` each.
    pub env: Vec<String>,
    /// Working directory inside the container.
    pub cwd: PathBuf,
    /// Who the process runs as.
    pub user: User,
    /// Capabilities the process keeps.
    pub capabilities: Vec<String>,
    /// Install chapter 01's seccomp filter, as the container's PID 1 did.
    pub seccomp: bool,
    /// Set `no_new_privs`, as the container's PID 1 did.
    pub no_new_privileges: bool,
    /// Whether the process gets a terminal of the container's own, as its
    /// stdio and controlling terminal.
    pub tty: bool,
    /// The container's `--ulimit`s, which its every process has.
    #[serde(default)]
    pub rlimits: Vec<minidock_namespaces::compat::rlimits::Rlimit>,
}
// ANCHOR_END: exec_spec

/// The namespaces an exec joins, in the order they are joined (mount
/// last: it changes the root directory).
const NAMESPACES: &[(&str, CloneFlags)] = &[
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// A process started by `exec`: the exec helper, our child, which exits
/// with the process's Docker-style code.
#[derive(Debug)]
pub struct ExecProcess {
    child: Child,
    /// The master side of the terminal, in TTY mode.
    pub pty: Option<File>,
}

impl ExecProcess {
    /// The write end of the process's stdin, when it has a pipe; `None` once taken.
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }
    /// The read end of the process's stdout, when it has a pipe; `None` once taken.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }
    /// The read end of the process's stderr, when it has a pipe; `None` once taken.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// Kills the process: `SIGKILL` to the helper, which takes the process
    /// with it (its `PR_SET_PDEATHSIG`).
    pub fn kill(&mut self) -> Result<()> {
        self.child.kill().ctx("kill", "exec helper")
    }

    /// The helper's pid (the process in the container is its child).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits; returns the exit code (128 + N for signal N).
    pub fn wait(&mut self) -> Result<i32> {
        let status = self.child.wait().ctx("wait for", "exec helper")?;
        Ok(status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(255))
    }

    /// Collects piped stdout and stderr to the end, then waits.
    pub fn wait_with_output(self) -> Result<(i32, Vec<u8>, Vec<u8>)> {
        let out = self
            .child
            .wait_with_output()
            .ctx("wait for", "exec helper")?;
        let status = out.status;
        let code = status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(255);
        Ok((code, out.stdout, out.stderr))
    }
}

// ANCHOR: exec_spawn_pipes
/// Starts the exec helper `helper` for `spec`. Without a TTY, stdout and
/// stderr are piped and stdin is piped when `stdin` is set (else
/// `/dev/null`). With a TTY the process opens a terminal on the
/// container's own `/dev/ptmx` (chapter 01's console socket, as for the
/// container's first process) and [`ExecProcess::pty`] is its master;
/// this returns once it came, or with the helper's error.
///
/// The helper runs from `binary`, the engine's sealed copy
/// ([`crate::sealed_binary`]), under its original name.
pub fn spawn(binary: &SealedBinary, spec: &ExecSpec, stdin: bool) -> Result<ExecProcess> {
    let json = serde_json::to_string(spec).map_err(|source| Error::Encode {
        what: "the exec spec",
        source,
    })?;
    let helper = binary.source();
    let mut command = Command::new(binary.path());
    command.arg0(helper).arg(EXEC_ARG).arg(json);
    if !spec.tty {
        let child = command
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ctx("start exec helper", helper)?;
        return Ok(ExecProcess { child, pty: None });
    }
    // ANCHOR_END: exec_spawn_pipes
    // ANCHOR: exec_spawn_tty
    let (ours, theirs) = terminal::console_socketpair().ctx("create", "console socket")?;
    let theirs_fd = theirs.as_raw_fd();
    command
        .env(CONSOLE_ENV, theirs_fd.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // Until the terminal exists, errors go here.
        .stderr(Stdio::piped());
    // SAFETY: runs in the forked child before exec; fcntl is
    // async-signal-safe. Only this socket end crosses into the helper.
    unsafe {
        command.pre_exec(move || {
            if libc::fcntl(theirs_fd, libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().ctx("start exec helper", helper)?;
    drop(theirs);
    match terminal::receive_master(ours.as_fd()) {
        Ok(master) => {
            // Later messages of the helper have nobody to read them.
            child.stderr.take();
            Ok(ExecProcess {
                child,
                pty: Some(File::from(master)),
            })
        }
        Err(e) => {
            let mut why = String::new();
            if let Some(mut err) = child.stderr.take() {
                err.read_to_string(&mut why).ok();
            }
            child.kill().ok();
            child.wait().ok();
            let why = why.trim();
            Err(Error::ExecFailed {
                reason: if why.is_empty() {
                    e.to_string()
                } else {
                    why.to_string()
                },
            })
        }
    }
}
// ANCHOR_END: exec_spawn_tty

/// Environment variable naming the exec helper's end of the console
/// socket, set only with a TTY.
const CONSOLE_ENV: &str = "_MINIDOCK_EXEC_CONSOLE";

/// The exec helper's end of the console socket, when it has one.
fn console_socket() -> std::result::Result<Option<OwnedFd>, SetupError> {
    let Some(fd) = std::env::var(CONSOLE_ENV)
        .ok()
        .and_then(|v| v.parse::<RawFd>().ok())
    else {
        return Ok(None);
    };
    minidock_namespaces::terminal::adopt_console_socket(fd).map(Some)
}

// ANCHOR: exec_main
/// Entry point of the exec helper role. Never returns.
pub fn main() -> ! {
    let spec: ExecSpec = match std::env::args()
        .nth(2)
        .ok_or_else(|| "missing spec argument".to_string())
        .and_then(|j| serde_json::from_str(&j).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("minidock exec: {e} (the exec helper is started by the engine)");
            std::process::exit(125)
        }
    };
    match helper(&spec) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("minidock exec: {e}");
            std::process::exit(125)
        }
    }
}
// ANCHOR_END: exec_main

// ANCHOR: join
fn helper(spec: &ExecSpec) -> std::result::Result<i32, SetupError> {
    // Before joining anything: the child forked below is visible in the
    // container until its execve, and must not be readable or traceable
    // from there (chapter 01's `dumpable`).
    minidock_namespaces::dumpable::make_not_dumpable()?;
    let console = console_socket()?;
    if spec.tty && console.is_none() {
        return Err(SetupError::refused(
            "console socket",
            None,
            format!("{CONSOLE_ENV} is not set: a TTY needs the engine's console socket"),
        ));
    }
    let mut joined = Vec::new();
    for (name, flag) in NAMESPACES {
        let path = format!("/proc/{}/ns/{name}", spec.pid);
        let file = File::open(&path).map_err(|e| {
            SetupError::refused(
                "open namespace",
                Some(path.clone()),
                format!("{e}: is the container running?"),
            )
        })?;
        joined.push((file, *flag, path));
    }
    // Opened now, written by the child: the host's cgroup file system is out
    // of reach after setns(mnt), and only the child belongs in the group.
    let mut cgroup_procs = Vec::new();
    for path in &spec.cgroup_procs {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| {
                SetupError::refused(
                    "open cgroup",
                    Some(path.display().to_string()),
                    e.to_string(),
                )
            })?;
        cgroup_procs.push((file, path.display().to_string()));
    }
    for (file, flag, path) in &joined {
        setns(file, *flag).map_err(|e| SetupError::sys("setns", Some(path.clone()), e))?;
    }
    // SAFETY: the helper was just exec'd and has no other thread.
    match unsafe { fork() }.map_err(|e| SetupError::sys("fork", None, e))? {
        ForkResult::Child => {
            let failed = match exec_in_container(spec, cgroup_procs, console) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            eprintln!("minidock exec: {failed}");
            std::process::exit(failed.exit_code())
        }
        ForkResult::Parent { child } => {
            // Only the child may hold the console socket, so the engine
            // sees end-of-file if it fails before sending the terminal.
            drop(console);
            minidock_namespaces::supervise::forward_signals_to(child)?;
            loop {
                match waitpid(child, None) {
                    Ok(status) => {
                        if let Some(code) = minidock_namespaces::supervise::exit_code(status) {
                            return Ok(code);
                        }
                    }
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(SetupError::sys("waitpid", None, e)),
                }
            }
        }
    }
}
// ANCHOR_END: join

/// In the child, now inside the container's PID namespace: become the
/// container's user with its capabilities, then exec.
fn exec_in_container(
    spec: &ExecSpec,
    cgroup_procs: Vec<(File, String)>,
    console: Option<OwnedFd>,
) -> std::result::Result<Infallible, SetupError> {
    for (mut file, path) in cgroup_procs {
        // `0` is "the writing process": the child joins, its parent stays out.
        file.write_all(b"0")
            .map_err(|e| SetupError::refused("join cgroup", Some(path), e.to_string()))?;
    }
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
        .map_err(|e| SetupError::sys("prctl PR_SET_PDEATHSIG", None, e))?;
    if let Some(socket) = console {
        // setns(mnt) made the container's root ours: /dev/ptmx is its own.
        terminal::set_up_console(socket, false)?;
    }
    if spec.no_new_privileges {
        minidock_namespaces::init::set_no_new_privs()?;
    }
    minidock_namespaces::compat::rlimits::apply(&spec.rlimits)?;
    minidock_namespaces::init::become_command(
        &spec.cwd,
        &spec.capabilities,
        spec.seccomp,
        &spec.user,
        &spec.args,
        &spec.env,
        false,
    )
}
