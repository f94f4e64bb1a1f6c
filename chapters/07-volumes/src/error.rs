//! What can go wrong with volumes, each naming what failed and what to do.

use std::path::PathBuf;

/// The result of every fallible operation of this chapter.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A volume operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A name outside Docker's rule.
    #[error("invalid volume name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// No volume of that name.
    #[error("get {0}: no such volume")]
    NotFound(String),
    /// Containers use it.
    #[error("remove {name}: volume is in use - [{}]", containers.join(", "))]
    InUse {
        /// The volume.
        name: String,
        /// The containers that use it.
        containers: Vec<String>,
    },
    /// A volume of that name exists with other settings.
    #[error("volume {0} already exists with another driver or other options: remove it first or pick another name")]
    Exists(String),
    /// A driver other than `local`, or options it does not know.
    #[error("{0}")]
    Driver(String),
    /// A mount that cannot be honoured (`-v`, `--mount`, `--tmpfs`).
    #[error("invalid mount {spec:?}: {reason}")]
    InvalidMount {
        /// The mount as given.
        spec: String,
        /// Why.
        reason: String,
    },
    /// A path a mount or a copy would go through is a symlink.
    #[error("mount destination {destination}: {path} is a symlink in the container's file system; refusing to mount or copy through it")]
    Symlink {
        /// The destination asked for.
        destination: String,
        /// The symlink.
        path: PathBuf,
    },
    /// A system call failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// `map_err(io("create", &path))`: an [`Error::Io`] naming the action and path.
pub fn io(action: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}
