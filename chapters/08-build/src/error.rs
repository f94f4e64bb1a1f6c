//! What can go wrong in a build, commit or export.

use std::path::PathBuf;

use crate::dockerfile::ParseError;
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
    /// Anything else, said in words.
    #[error("{0}")]
    Other(String),
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
