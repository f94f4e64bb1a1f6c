//! What can go wrong in a build, commit or export.

use std::path::PathBuf;

use crate::dockerfile::{Instruction, ParseError};
use crate::substitute::SubstituteError;

/// A failed build, commit or export.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Dockerfile cannot be read.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// An entry of the build context is refused.
    #[error("build context: entry {entry:?} refused: {reason}")]
    Context {
        /// The entry's name, as the archive has it.
        entry: String,
        /// Why.
        reason: String,
    },
    /// A step failed.
    #[error("Dockerfile line {line}: {instruction}: {message}")]
    Step {
        /// The line of the instruction.
        line: usize,
        /// The keyword.
        instruction: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// A RUN step's command failed.
    #[error("The command '{command}' returned a non-zero code: {code}")]
    RunFailed {
        /// The command as Docker prints it.
        command: String,
        /// Its exit code.
        code: i32,
    },
    /// A variable could not be expanded.
    #[error(transparent)]
    Substitute(#[from] SubstituteError),
    /// The image store failed.
    #[error(transparent)]
    Image(#[from] minidock_images::Error),
    /// A container operation failed.
    #[error(transparent)]
    Container(#[from] minidock_lifecycle::Error),
    /// Pulling a base image failed.
    #[error("pull {image}: {message}")]
    Pull {
        /// The image.
        image: String,
        /// Why.
        message: String,
    },
    /// A file operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was done.
        op: &'static str,
        /// To what.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The build cache's lock could not be taken.
    #[error("lock {}: {errno}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        errno: nix::errno::Errno,
    },
    /// The build cache's index cannot be read as JSON.
    #[error("the build cache index {} is damaged ({source}): remove it to start afresh", path.display())]
    CacheDamaged {
        /// The index file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// An image's config blob is not JSON.
    #[error("the config of image {image} is not JSON: {source}")]
    ImageConfig {
        /// The image id.
        image: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A `FROM` image that is not in the store, and no registry to pull from.
    #[error("pull access denied for {0}: the image is not in the store; pull or load it first")]
    NoSuchImage(String),
    /// `--target` names no stage of the Dockerfile.
    #[error("failed to reach build target {0} in Dockerfile")]
    NoSuchTarget(String),
    /// A `-t` tag or a commit's reference that is not an image reference.
    #[error("invalid reference {reference:?}: {source}")]
    InvalidReference {
        /// As given.
        reference: String,
        /// Why it does not parse.
        source: minidock_images::Error,
    },
    /// The build context is over the size limit.
    #[error("the build context is larger than {0} bytes: exclude what the build does not need with .dockerignore")]
    ContextTooLarge(u64),
    /// The Dockerfile is not in the context, or cannot be read.
    #[error("Cannot locate specified Dockerfile: {name} ({reason}): send it in the build context, or name it with -f")]
    NoDockerfile {
        /// The name given (`-f`), a path in the context.
        name: String,
        /// Why it could not be read.
        reason: String,
    },
    /// The network service could not attach a RUN container.
    #[error("cannot give the RUN container a network: {0}")]
    Network(String),
}

/// A result with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds what was done and to which path to an I/O error.
pub(crate) trait IoContext<T> {
    fn ctx(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            op,
            path: path.into(),
            source,
        })
    }
}

/// An error of the step `i`: its line and keyword, and `message`.
pub(crate) fn step_error(i: &Instruction, message: impl Into<String>) -> Error {
    Error::Step {
        line: i.line,
        instruction: i.keyword.clone(),
        message: message.into(),
    }
}
