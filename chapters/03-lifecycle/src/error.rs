//! One error type for the chapter.
//!
//! Every variant says what failed, on which container or path, and where it
//! helps what to do. The daemon of chapter 05 maps some of them to HTTP:
//! [`Error::NoSuchContainer`] is a 404, [`Error::NameInUse`] and
//! [`Error::Transition`] are 409s.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::cgroup::CgroupError;
use crate::state::TransitionError;

// ANCHOR: error
/// Everything that can go wrong managing containers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`create`, `rename`, `open`, …).
        op: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: io::Error,
    },

    /// A file of the container store could not be parsed.
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// The file (`config.json`, `state.json`, …).
        path: PathBuf,
        /// What the JSON parser said.
        reason: String,
    },

    /// Not 64 lowercase hex digits.
    #[error("invalid container id {0:?}: expected 64 lowercase hex digits")]
    InvalidId(String),

    /// A name Docker would refuse.
    #[error("invalid container name {0:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-]+ are allowed")]
    InvalidName(String),

    /// `rename` to the name the container already has.
    #[error("Renaming a container with the same name as its current name ({0})")]
    SameName(String),

    /// The name belongs to another container.
    #[error("conflict: the container name {name:?} is already in use by container {id}: remove or rename that container")]
    NameInUse {
        /// The name asked for.
        name: String,
        /// The container that has it.
        id: String,
    },

    /// Nothing matches the id, short id or name.
    #[error("no such container: {0}")]
    NoSuchContainer(String),

    /// A short id that matches more than one container.
    #[error("multiple containers match {0:?}: give more of the id")]
    Ambiguous(String),

    /// The merged configuration has nothing to run.
    #[error("no command specified: image {image} has no Cmd or Entrypoint; give a command")]
    NoCommand {
        /// The image, as the user named it.
        image: String,
    },

    /// A `-v` specification that cannot be used.
    #[error("invalid bind {spec:?}: {reason}")]
    InvalidBind {
        /// The `-v` text as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A limit or policy out of range.
    #[error("invalid host config: {0}")]
    InvalidHostConfig(String),

    /// A restart policy that does not parse; `reason` says what is wrong.
    #[error("invalid restart policy format: {reason}: {policy}")]
    InvalidRestartPolicy {
        /// The policy as given (`on-failure:x`).
        policy: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// `--user` could not be resolved in the container.
    #[error("{0}")]
    User(String),

    /// The operation is not allowed in the container's state.
    #[error(transparent)]
    Transition(#[from] TransitionError),

    /// A cgroup operation failed.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),

    /// A signal name or number that does not exist.
    #[error("invalid signal {0:?}: use a name like SIGTERM or TERM, or a number")]
    InvalidSignal(String),

    /// The time given for logs `--since`/`--until`.
    #[error(transparent)]
    Time(#[from] crate::time::TimeParseError),

    /// The image store (chapter 02) failed: no such image, a layer missing,
    /// the overlay mount.
    #[error(transparent)]
    Image(#[from] minidock_images::Error),

    /// The container's process could not be started. `reason` is chapter
    /// 01's, word for word (`exec nosuch: executable file not found in
    /// $PATH`, `… permission denied …`): Docker's CLI picks its exit code
    /// (127, 126) by reading this text. `exit_code` is the one recorded in
    /// the container's state, see
    /// [`crate::state::StateRecord::exit_code`].
    #[error("cannot start container {id}: {reason}")]
    Start {
        /// The container's short id.
        id: String,
        /// Chapter 01's reason, word for word.
        reason: String,
        /// The exit code recorded: 127, 126, or 128 for any other failure.
        exit_code: i32,
    },

    /// The operation needs the container's process to run, and it is
    /// frozen (`docker pause`). Docker answers 409.
    #[error("container {id} is paused, unpause the container before {op}")]
    Paused {
        /// What was asked (`exec`, …), in Docker's words.
        op: &'static str,
        /// The container.
        id: String,
    },

    /// `exec` without a command to run.
    #[error("no exec command specified: give the command to run in the container")]
    ExecEmpty,

    /// The exec helper failed before its process ran (with a terminal, it
    /// reports on its stderr): `reason` is its own words.
    #[error("exec with a terminal: {reason}")]
    ExecFailed {
        /// The helper's own message.
        reason: String,
    },

    /// A working directory with `..`: it could leave the container's root.
    #[error("working directory {0} must not contain '..'")]
    InvalidWorkingDir(PathBuf),

    /// The container's process survived `SIGKILL` for `waited`: it is
    /// stuck in the kernel (a hung mount, a frozen cgroup).
    #[error("{what} did not exit within {waited:?} after SIGKILL")]
    NotKilled {
        /// The process (`container ID`, `the container`).
        what: String,
        /// How long it was given after SIGKILL.
        waited: Duration,
    },

    /// `start` while the shim of the previous run still lives (it is
    /// between two runs of a restart policy, or stuck).
    #[error("cannot start container {id}: its shim (pid {pid}) is still running")]
    ShimRunning {
        /// The container.
        id: String,
        /// The shim's host pid.
        pid: i32,
    },

    /// The shim ended before it reported the container's start: killed,
    /// crashed, or refused its arguments. Its log has the rest.
    #[error("the shim of container {id} exited before starting it ({status}): {tail}; see {}", log.display())]
    ShimDied {
        /// The container.
        id: String,
        /// How it ended, as the OS says (`exit status: 1`), or "without a word".
        status: String,
        /// The last lines of its log.
        tail: String,
        /// The shim's log file (`shim.log` in the container's directory).
        log: PathBuf,
    },

    /// The shim still runs after the container was stopped for good.
    #[error("the shim of container {id} did not exit")]
    ShimDidNotExit {
        /// The container.
        id: String,
    },

    /// The shim and the engine do not understand each other (a report that
    /// is not JSON, an attach socket that was not offered, arguments not
    /// written by the engine). A bug or a mix of versions, not the user's.
    #[error("shim protocol: {0}")]
    ShimProtocol(String),

    /// A system call of the shim or the engine failed (no path involved).
    #[error("{op}: {errno}")]
    Sys {
        /// The call and what it was for (`shim: setsid`).
        op: &'static str,
        /// The kernel's error.
        errno: nix::errno::Errno,
    },

    /// Two container ids with the same 12-digit short id: one of them must
    /// go (practically never: 48 random bits).
    #[error("container id {id} shares its short id with {other}: create it again")]
    ShortIdTaken {
        /// The new container's id.
        id: String,
        /// The container that already has its short id.
        other: String,
    },

    /// A container directory that still has a mount below it: deleting it
    /// would delete the mounted files.
    #[error("refusing to delete {}: {} is still mounted; unmount it first", dir.display(), mount.display())]
    StillMounted {
        /// The directory that was to be deleted.
        dir: PathBuf,
        /// The mount point still found below it.
        mount: PathBuf,
    },

    /// A step failed, and undoing what it had done failed too.
    #[error("{error}; and cleaning up after it failed: {cleanup}")]
    CleanupFailed {
        /// The error of the step itself, the one to report.
        error: Box<Error>,
        /// The error of the clean-up, which may have left something behind.
        cleanup: Box<Error>,
    },

    /// The engine's sealed copy of its binary did not take its seals.
    #[error("the memfd copy of {} is not sealed", .0.display())]
    NotSealed(PathBuf),

    /// A spec could not be written as JSON for a helper.
    #[error("encode {what}: {source}")]
    Encode {
        /// What was encoded (`the exec spec`, …).
        what: &'static str,
        /// The encoder's error.
        source: serde_json::Error,
    },

    /// Chapter 01 failed while the container ran (waiting for it,
    /// signalling it); a failed start is [`Error::Start`].
    #[error(transparent)]
    Process(#[from] minidock_namespaces::Error),
}

/// The result of the chapter's operations.
pub type Result<T> = std::result::Result<T, Error>;
// ANCHOR_END: error

// ANCHOR: ctx
/// Turns an `io::Result` into ours, naming the operation and the path
/// ([`Error::Io`]): `fs::read(&p).ctx("read", &p)?`. Chapter 02 and 08
/// spell it the same way.
pub(crate) trait IoContext<T> {
    /// The error, if any, as [`Error::Io`] on `path`.
    fn ctx(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            op,
            path: path.into(),
            source,
        })
    }
}
// ANCHOR_END: ctx
