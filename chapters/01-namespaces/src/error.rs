//! Errors, and what they mean.
//!
//! Container setup is a chain of syscalls, and each one can fail with a bare
//! errno such as `EINVAL`. An errno alone tells a user nothing: `EINVAL` from
//! `pivot_root` means "your rootfs is not a mount point", while `EINVAL` from
//! `mount` means something else entirely. So every failed step is reported as
//! a [`SetupError`] that names the step, the path it worked on, the errno,
//! and — where we know it — what that errno means for *this* step.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::PathBuf;

use nix::errno::Errno;
use serde::{Deserialize, Serialize};

/// Everything that can go wrong when starting or waiting for a container.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec cannot work, found before anything was started.
    #[error("invalid container spec: {0}")]
    InvalidSpec(String),

    /// The root file system directory does not exist or is not a directory.
    #[error("rootfs {path}: {reason} (give the path of an unpacked root file system directory)")]
    Rootfs {
        /// The directory given as the root.
        path: PathBuf,
        /// What is wrong with it (missing, not a directory, …).
        reason: String,
    },

    /// The init helper binary could not be started at all.
    #[error("cannot start the init helper {path}: {source}")]
    StartInit {
        /// The helper binary that was to be run.
        path: PathBuf,
        /// Why `exec` of it failed (not found, not executable, …).
        source: io::Error,
    },

    /// A step inside the init helper failed; the container never ran.
    #[error("container setup failed: {0}")]
    Setup(#[from] SetupError),

    /// The init helper died without saying why (killed, or crashed before it
    /// could report). Its stderr, if inherited, may hold more.
    #[error("the init helper {path} exited ({status}) before the container started")]
    InitDied {
        /// The helper binary that died.
        path: PathBuf,
        /// How it ended, as `wait` told it (`exit status: 1`, `signal: 9`).
        status: String,
    },

    /// The pipes between this process and the init helper failed.
    #[error("talking to the init helper: {what}: {source}")]
    Channel {
        /// What was being done with the pipes (`dup pipe`, `console socket`, …).
        what: &'static str,
        /// The pipe's or socket's error.
        source: io::Error,
    },

    /// Writing the user namespace's id maps failed.
    #[error(
        "writing {path}: {source} (the id range must be unused and this process must be root)"
    )]
    IdMap {
        /// The map file written (`/proc/PID/uid_map` or `gid_map`).
        path: PathBuf,
        /// The kernel's refusal (`EPERM` for an overlapping or unowned range).
        source: io::Error,
    },

    /// Waiting for or signalling the container failed.
    #[error("{what} the container: {source}")]
    Process {
        /// What was being done to the container (`signalling`, `waiting for`).
        what: &'static str,
        /// The system call's error.
        source: io::Error,
    },
}

/// Docker's exit code when the engine failed to start the container
/// (every setup step but the command's own `exec`).
pub const EXIT_SETUP_FAILED: i32 = 125;
/// Docker's exit code when the command was not found (`docker run busybox nosuch`).
pub const EXIT_NOT_FOUND: i32 = 127;
/// Docker's exit code when the command could not be invoked (not executable).
pub const EXIT_CANNOT_INVOKE: i32 = 126;

/// A setup step, named after its syscall or concept. The steps whose
/// failure someone decides on have their own variant: [`Step::Exec`] picks
/// Docker's exit code, the others pick the explanation of an errno. Every
/// other step is a [`Step::Call`], named for the message only.
///
/// `"exec".into()` gives [`Step::Exec`]: a step written by its name is the
/// same step as its variant, so `SetupError::sys("unshare", …)` and
/// `SetupError::sys(Step::Unshare, …)` mean one thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Starting the container's command: finding it in `$PATH`, `execve`.
    Exec,
    /// `pivot_root(2)` into the rootfs.
    PivotRoot,
    /// `chdir(2)`: the working directory, or into the rootfs.
    Chdir,
    /// `unshare(2)`: leaving the host's namespaces.
    Unshare,
    /// `setuid(2)` to the container's user.
    SetUid,
    /// `setgid(2)` to the container's group.
    SetGid,
    /// `ioctl(TIOCSCTTY)`: the terminal becomes the controlling one.
    ControllingTerminal,
    /// A mount or bind mount, as named (`mount proc`, `bind mount`).
    Mount(Cow<'static, str>),
    /// Any other step, as named (`sethostname`, `fork`, `capabilities`).
    Call(Cow<'static, str>),
}

impl Step {
    fn named(name: Cow<'static, str>) -> Step {
        match &*name {
            "exec" => Step::Exec,
            "pivot_root" => Step::PivotRoot,
            "chdir" => Step::Chdir,
            "unshare" => Step::Unshare,
            "setuid" => Step::SetUid,
            "setgid" => Step::SetGid,
            "ioctl TIOCSCTTY" => Step::ControllingTerminal,
            n if n.starts_with("mount") || n.starts_with("bind") => Step::Mount(name),
            _ => Step::Call(name),
        }
    }
}

impl From<&'static str> for Step {
    fn from(name: &'static str) -> Step {
        Step::named(Cow::Borrowed(name))
    }
}

impl From<String> for Step {
    fn from(name: String) -> Step {
        Step::named(Cow::Owned(name))
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Exec => "exec",
            Step::PivotRoot => "pivot_root",
            Step::Chdir => "chdir",
            Step::Unshare => "unshare",
            Step::SetUid => "setuid",
            Step::SetGid => "setgid",
            Step::ControllingTerminal => "ioctl TIOCSCTTY",
            Step::Mount(name) | Step::Call(name) => name,
        })
    }
}

/// One failed setup step, as the init helper reports it across the status
/// pipe. It is plain data (serde), because it crosses a process boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{step}{}: {reason}", path.as_ref().map(|p| format!(" {p}")).unwrap_or_default())]
pub struct SetupError {
    /// The step that failed: `pivot_root`, `mount /proc`, `exec`.
    pub step: Step,
    /// The path the step worked on, when there is one.
    pub path: Option<String>,
    /// The raw errno, when the step failed in a syscall.
    pub errno: Option<i32>,
    /// The whole human explanation: what the errno means here and what to do.
    pub reason: String,
}

impl SetupError {
    /// A failed step without an errno: a check of ours refused to go on.
    pub fn refused(step: impl Into<Step>, path: Option<String>, reason: impl Into<String>) -> Self {
        SetupError {
            step: step.into(),
            path,
            errno: None,
            reason: reason.into(),
        }
    }

    /// A syscall failed: the reason is the errno's meaning for this step,
    /// followed by the errno itself (`EINVAL: Invalid argument`).
    pub fn sys(step: impl Into<Step>, path: Option<String>, errno: Errno) -> Self {
        let step = step.into();
        let reason = match meaning(&step, errno) {
            Some(m) => format!("{m} ({errno:?}: {})", errno.desc()),
            None => format!("{errno:?}: {}", errno.desc()),
        };
        SetupError {
            step,
            path,
            errno: Some(errno as i32),
            reason,
        }
    }

    /// The exit code Docker's convention gives this failure: 127 when the
    /// command was not found, 126 when it was found but could not be
    /// executed, 125 ("the engine failed") for every other step.
    pub fn exit_code(&self) -> i32 {
        match (&self.step, self.errno) {
            (Step::Exec, None | Some(libc::ENOENT)) => EXIT_NOT_FOUND,
            (Step::Exec, Some(_)) => EXIT_CANNOT_INVOKE,
            _ => EXIT_SETUP_FAILED,
        }
    }
}

/// What an errno means for a given step. Only the cases a user can act on
/// are listed; the rest fall back to the errno's own description.
fn meaning(step: &Step, errno: Errno) -> Option<&'static str> {
    Some(match (step, errno) {
        (Step::ControllingTerminal, Errno::ENOTTY) => "stdin is not a terminal (a TTY needs a terminal as stdin)",
        (Step::ControllingTerminal, Errno::EPERM) => {
            "the terminal is already the controlling terminal of another session (open the pty without one, O_NOCTTY)"
        }
        (Step::Exec, Errno::EPERM) => "operation not permitted (no_new_privs or a nosuid mount stops a privilege change?)",
        (_, Errno::EPERM) => {
            "operation not permitted: this needs root (CAP_SYS_ADMIN in the host), run as root"
        }
        (Step::PivotRoot, Errno::EINVAL) => {
            "the rootfs is not a mount point, or is on the same mount as / (it must be bind-mounted onto itself first)"
        }
        (Step::PivotRoot, Errno::EBUSY) => "the rootfs is already the root or is busy",
        (Step::Exec, Errno::ENOENT) => "executable file not found (or its interpreter / ELF loader is missing)",
        (Step::Exec, Errno::EACCES) => "permission denied: the file is not executable or a directory on the path is not searchable",
        (Step::Exec, Errno::ENOEXEC) => "exec format error: not a binary for this machine and no #! line",
        (Step::Chdir, Errno::ENOENT) => "the working directory does not exist in the rootfs",
        (Step::Mount(_), Errno::ENOENT) => "no such file or directory: the source or the mount point is missing",
        (Step::Unshare, Errno::EINVAL) => "this kernel does not support one of the requested namespaces",
        (Step::Unshare, Errno::ENOSPC) => "too many namespaces of this kind exist (see /proc/sys/user/max_*_namespaces)",
        (Step::SetUid | Step::SetGid, Errno::EINVAL) => "the id is not mapped in the user namespace",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pivot_root_einval_explains_the_rootfs_rule() {
        let e = SetupError::sys("pivot_root", Some("/r".into()), Errno::EINVAL);
        let text = e.to_string();
        assert!(
            text.starts_with("pivot_root /r: the rootfs is not a mount point"),
            "{text}"
        );
        assert!(text.contains("EINVAL"), "{text}");
    }

    #[test]
    fn exec_failures_get_dockers_127_and_126() {
        let not_found = SetupError::refused("exec", Some("x".into()), "not found in $PATH");
        assert_eq!(not_found.exit_code(), 127);
        assert_eq!(
            SetupError::sys("exec", None, Errno::ENOENT).exit_code(),
            127
        );
        assert_eq!(
            SetupError::sys("exec", None, Errno::EACCES).exit_code(),
            126
        );
        assert_eq!(
            SetupError::sys("exec", None, Errno::ENOEXEC).exit_code(),
            126
        );
        assert_eq!(
            SetupError::sys("chdir", None, Errno::ENOENT).exit_code(),
            125
        );
        assert!(SetupError::sys("exec", None, Errno::EACCES)
            .to_string()
            .contains("permission denied"));
    }

    #[test]
    fn eperm_says_needs_root_and_unknown_errno_falls_back() {
        assert!(SetupError::sys("unshare", None, Errno::EPERM)
            .to_string()
            .contains("needs root"));
        let e = SetupError::sys("sethostname", None, Errno::EFAULT);
        assert_eq!(
            e.to_string(),
            format!("sethostname: EFAULT: {}", Errno::EFAULT.desc())
        );
    }
}
