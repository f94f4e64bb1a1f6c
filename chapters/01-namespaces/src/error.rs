//! Errors, and what they mean.
//!
//! Container setup is a chain of syscalls, and each one can fail with a bare
//! errno such as `EINVAL`. An errno alone tells a user nothing: `EINVAL` from
//! `pivot_root` means "your rootfs is not a mount point", while `EINVAL` from
//! `mount` means something else entirely. So every failed step is reported as
//! a [`SetupError`] that names the step, the path it worked on, the errno,
//! and — where we know it — what that errno means for *this* step.

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
    Rootfs { path: PathBuf, reason: String },

    /// The init helper binary could not be started at all.
    #[error("cannot start the init helper {path}: {source}")]
    StartInit { path: PathBuf, source: io::Error },

    /// A step inside the init helper failed; the container never ran.
    #[error("container setup failed: {0}")]
    Setup(#[from] SetupError),

    /// The init helper died without saying why (killed, or crashed before it
    /// could report). Its stderr, if inherited, may hold more.
    #[error("the init helper {path} exited ({status}) before the container started")]
    InitDied { path: PathBuf, status: String },

    /// The pipes between this process and the init helper failed.
    #[error("talking to the init helper: {what}: {source}")]
    Channel {
        what: &'static str,
        source: io::Error,
    },

    /// Writing the user namespace's id maps failed.
    #[error(
        "writing {path}: {source} (the id range must be unused and this process must be root)"
    )]
    IdMap { path: PathBuf, source: io::Error },

    /// Waiting for or signalling the container failed.
    #[error("{what} the container: {source}")]
    Process {
        what: &'static str,
        source: io::Error,
    },
}

/// One failed setup step, as the init helper reports it across the status
/// pipe. It is plain data (serde), because it crosses a process boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{step}{}: {reason}", path.as_ref().map(|p| format!(" {p}")).unwrap_or_default())]
pub struct SetupError {
    /// The step, named after its syscall or concept: `pivot_root`, `mount /proc`, `exec`.
    pub step: String,
    /// The path the step worked on, when there is one.
    pub path: Option<String>,
    /// The raw errno, when the step failed in a syscall.
    pub errno: Option<i32>,
    /// The whole human explanation: what the errno means here and what to do.
    pub reason: String,
}

impl SetupError {
    /// A failed step without an errno: a check of ours refused to go on.
    pub fn refused(
        step: impl Into<String>,
        path: Option<String>,
        reason: impl Into<String>,
    ) -> Self {
        SetupError {
            step: step.into(),
            path,
            errno: None,
            reason: reason.into(),
        }
    }

    /// A syscall failed: the reason is the errno's meaning for this step,
    /// followed by the errno itself (`EINVAL: Invalid argument`).
    pub fn sys(step: impl Into<String>, path: Option<String>, errno: Errno) -> Self {
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
}

/// Docker's exit code when the command was not found (`docker run busybox nosuch`).
pub const EXIT_NOT_FOUND: i32 = 127;
/// Docker's exit code when the command could not be invoked (not executable).
pub const EXIT_CANNOT_INVOKE: i32 = 126;

impl SetupError {
    /// The exit code Docker's convention gives this failure: 127 when the
    /// command was not found, 126 when it was found but could not be
    /// executed, 125 ("the engine failed") for every other step.
    pub fn exit_code(&self) -> i32 {
        match (self.step.as_str(), self.errno) {
            ("exec", None | Some(libc::ENOENT)) => EXIT_NOT_FOUND,
            ("exec", Some(_)) => EXIT_CANNOT_INVOKE,
            _ => crate::init::EXIT_SETUP_FAILED,
        }
    }
}

/// What an errno means for a given step. Only the cases a user can act on
/// are listed; the rest fall back to the errno's own description.
fn meaning(step: &str, errno: Errno) -> Option<&'static str> {
    Some(match (step, errno) {
        ("ioctl TIOCSCTTY", Errno::ENOTTY) => "stdin is not a terminal (a TTY needs a terminal as stdin)",
        ("ioctl TIOCSCTTY", Errno::EPERM) => {
            "the terminal is already the controlling terminal of another session (open the pty without one, O_NOCTTY)"
        }
        (_, Errno::EPERM) if step != "exec" => {
            "operation not permitted: this needs root (CAP_SYS_ADMIN in the host), run as root"
        }
        ("pivot_root", Errno::EINVAL) => {
            "the rootfs is not a mount point, or is on the same mount as / (it must be bind-mounted onto itself first)"
        }
        ("pivot_root", Errno::EBUSY) => "the rootfs is already the root or is busy",
        ("exec", Errno::ENOENT) => "executable file not found (or its interpreter / ELF loader is missing)",
        ("exec", Errno::EACCES) => "permission denied: the file is not executable or a directory on the path is not searchable",
        ("exec", Errno::ENOEXEC) => "exec format error: not a binary for this machine and no #! line",
        ("exec", Errno::EPERM) => "operation not permitted (no_new_privs or a nosuid mount stops a privilege change?)",
        ("chdir", Errno::ENOENT) => "the working directory does not exist in the rootfs",
        (s, Errno::ENOENT) if s.starts_with("mount") || s.starts_with("bind") => {
            "no such file or directory: the source or the mount point is missing"
        }
        ("unshare", Errno::EINVAL) => "this kernel does not support one of the requested namespaces",
        ("unshare", Errno::ENOSPC) => "too many namespaces of this kind exist (see /proc/sys/user/max_*_namespaces)",
        ("setuid" | "setgid", Errno::EINVAL) => "the id is not mapped in the user namespace",
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
