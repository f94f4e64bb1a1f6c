//! One error type for the whole chapter.
//!
//! Every variant says what failed, on which object (a path, a digest, a layer
//! entry) and, where it helps, what to do about it. Callers (the daemon of
//! chapter 05) turn some of them into HTTP answers: [`Error::NoSuchImage`]
//! becomes a 404, [`Error::Conflict`] a 409.

use std::io;
use std::path::PathBuf;

use crate::digest::{Digest, DigestError};

/// Everything that can go wrong in the image store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `docker cp`: copying a path out of or into a root failed.
    #[error("copy {path}: {reason}")]
    Copy { path: String, reason: String },

    /// `docker cp`: the path does not exist in the root.
    #[error("Could not find the file {0} in container")]
    CopyNotFound(String),

    /// A string that should have been `sha256:<64 hex>` was not.
    #[error("invalid digest {input:?}: {reason}")]
    InvalidDigest { input: String, reason: String },

    /// An image reference (`name[:tag][@digest]`) that breaks the grammar.
    #[error("invalid reference format {input:?}: {reason}")]
    InvalidReference { input: String, reason: String },

    /// A system call or file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Content did not hash to the digest it was announced under.
    #[error("content of blob {expected} hashes to {actual}: it is corrupt or was tampered with, and was not stored")]
    DigestMismatch { expected: Digest, actual: Digest },

    /// Content was shorter or longer than announced.
    #[error("blob {digest}: expected {expected} bytes, got {actual}: it was not stored")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },

    /// A blob the operation needs is not in the store.
    #[error("blob {0} is not in the store: pull or load the image that contains it")]
    BlobNotFound(Digest),

    /// A layer entry that would escape the layer or do something a layer must
    /// not do. The whole layer is refused.
    #[error("layer {layer}: refused entry {entry:?}: {reason}")]
    UnsafeEntry {
        layer: Digest,
        entry: String,
        reason: String,
    },

    /// A layer that cannot be read (bad compression, bad tar, wrong type).
    #[error("layer {layer}: {reason}")]
    BadLayer { layer: Digest, reason: String },

    /// A layer whose uncompressed content is not what the image config says.
    #[error("layer {layer}: uncompressed content has diff-id {actual}, the image config expects {expected}")]
    DiffIdMismatch {
        layer: Digest,
        expected: Digest,
        actual: Digest,
    },

    /// A layer that decompresses to more than the store allows.
    #[error("layer {layer}: uncompressed size exceeds the limit of {limit} bytes (a decompression bomb?)")]
    LayerTooLarge { layer: Digest, limit: u64 },

    /// A manifest, index or config that cannot be used.
    #[error("{what} {digest}: {reason}")]
    BadManifest {
        what: &'static str,
        digest: Digest,
        reason: String,
    },

    /// An image archive or layout (`docker save` tar, OCI layout) that cannot
    /// be loaded.
    #[error("image archive {path}: {reason}")]
    BadArchive { path: PathBuf, reason: String },

    /// No image matches a name, id or digest. The text matches Docker's.
    #[error("No such image: {0}")]
    NoSuchImage(String),

    /// The operation conflicts with the state of the store (Docker answers 409).
    #[error("conflict: {0}")]
    Conflict(String),

    /// Mounting or unmounting an overlay file system failed.
    #[error("{op} overlay at {path}: {source}")]
    Mount {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl From<DigestError> for Error {
    fn from(e: DigestError) -> Error {
        Error::InvalidDigest {
            input: e.input,
            reason: e.reason,
        }
    }
}

/// The chapter's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns an `io::Result` into ours, naming the operation and the path.
pub(crate) trait IoContext<T> {
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

impl<T> IoContext<T> for nix::Result<T> {
    fn ctx(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|errno| Error::Io {
            op,
            path: path.into(),
            source: io::Error::from(errno),
        })
    }
}
