//! What can go wrong while building networks.

use std::path::PathBuf;

/// An error of the network driver.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel refused a netlink request.
    #[error("{what}: the kernel answered {source}")]
    Netlink {
        /// What was asked ("create bridge md-1234").
        what: String,
        /// The errno the kernel sent back.
        source: std::io::Error,
    },
    /// A file or a system call failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// The operation.
        what: &'static str,
        /// The path it was about.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A subnet, an address or a port that is not valid.
    #[error("{0}")]
    Invalid(String),
    /// The subnet has no free address left.
    #[error("no available IPv4 address in subnet {0}: remove a container from the network or create a larger one")]
    Full(String),
    /// The address or subnet is taken.
    #[error("{0}")]
    Conflict(String),
    /// No such network or endpoint.
    #[error("{0}")]
    NotFound(String),
}

impl Error {
    /// An [`Error::Io`] maker for `map_err`.
    pub fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { what, path, source }
    }
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
