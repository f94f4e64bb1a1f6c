//! One error type for the chapter.
//!
//! Every variant says what failed, on which container or path, and where it
//! helps what to do. The daemon of chapter 05 maps some of them to HTTP:
//! [`Error::NoSuchContainer`] is a 404, [`Error::NameInUse`] and
//! [`Error::Transition`] are 409s.

use std::io;
use std::path::PathBuf;

use crate::cgroup::CgroupError;
use crate::state::TransitionError;

/// Everything that can go wrong managing containers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A file of the container store could not be parsed.
    #[error("{path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },

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
    NameInUse { name: String, id: String },

    /// Nothing matches the id, short id or name.
    #[error("no such container: {0}")]
    NoSuchContainer(String),

    /// A short id that matches more than one container.
    #[error("multiple containers match {0:?}: give more of the id")]
    Ambiguous(String),

    /// The merged configuration has nothing to run.
    #[error("no command specified: image {image} has no Cmd or Entrypoint; give a command")]
    NoCommand { image: String },

    /// A `-v` specification that cannot be used.
    #[error("invalid bind {spec:?}: {reason}")]
    InvalidBind { spec: String, reason: String },

    /// A limit or policy out of range.
    #[error("invalid host config: {0}")]
    InvalidHostConfig(String),

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
        id: String,
        reason: String,
        exit_code: i32,
    },

    /// Any other failure with its explanation (from the process chapters).
    #[error("{0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Shorthand for [`Error::Io`].
pub(crate) fn io_err(
    op: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { op, path, source }
}
