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
    Copy {
        /// The path named by the client, as it was given.
        path: String,
        /// Why it could not be copied.
        reason: String,
    },

    /// `docker cp`: the path does not exist in the root.
    #[error("Could not find the file {0} in container")]
    CopyNotFound(String),

    /// A string that should have been `sha256:<64 hex>` was not.
    #[error("invalid digest {input:?}: {reason}")]
    InvalidDigest {
        /// The text that was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// An image reference (`name[:tag][@digest]`) that breaks the grammar.
    #[error("invalid reference format {input:?}: {reason}")]
    InvalidReference {
        /// The text that was given.
        input: String,
        /// Which rule of the grammar it breaks.
        reason: String,
    },

    /// A system call or file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`create`, `rename`, `read`, …).
        op: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: io::Error,
    },

    /// Content did not hash to the digest it was announced under.
    #[error("content of blob {expected} hashes to {actual}: it is corrupt or was tampered with, and was not stored")]
    DigestMismatch {
        /// The digest the content was announced under.
        expected: Digest,
        /// The digest of the bytes that came.
        actual: Digest,
    },

    /// Content was shorter or longer than announced.
    #[error("blob {digest}: expected {expected} bytes, got {actual}: it was not stored")]
    SizeMismatch {
        /// The blob's digest.
        digest: Digest,
        /// The size it was announced with (in a manifest or by the client).
        expected: u64,
        /// The number of bytes that came.
        actual: u64,
    },

    /// A blob the operation needs is not in the store.
    #[error("blob {0} is not in the store: pull or load the image that contains it")]
    BlobNotFound(Digest),

    /// A layer entry that would escape the layer or do something a layer must
    /// not do. The whole layer is refused.
    #[error("layer {layer}: refused entry {entry:?}: {reason}")]
    UnsafeEntry {
        /// The layer (its compressed digest) that holds the entry.
        layer: Digest,
        /// The entry's path as written in the tar.
        entry: String,
        /// What it tried to do (escape the root, link outside the layer, …).
        reason: String,
    },

    /// A layer that cannot be read (bad compression, bad tar, wrong type).
    #[error("layer {layer}: {reason}")]
    BadLayer {
        /// The layer's digest.
        layer: Digest,
        /// What could not be read.
        reason: String,
    },

    /// A layer whose uncompressed content is not what the image config says.
    #[error("layer {layer}: uncompressed content has diff-id {actual}, the image config expects {expected}")]
    DiffIdMismatch {
        /// The layer's compressed digest, as the manifest names it.
        layer: Digest,
        /// The diff-id the image config lists for it.
        expected: Digest,
        /// The digest of its uncompressed content as unpacked.
        actual: Digest,
    },

    /// A layer that decompresses to more than the store allows.
    #[error("layer {layer}: uncompressed size exceeds the limit of {limit} bytes (a decompression bomb?)")]
    LayerTooLarge {
        /// The layer's digest.
        layer: Digest,
        /// The store's limit, in uncompressed bytes.
        limit: u64,
    },

    /// A manifest, index or config that cannot be used.
    #[error("{what} {digest}: {reason}")]
    BadManifest {
        /// What kind of document: `manifest`, `index` or `config`.
        what: &'static str,
        /// Its digest.
        digest: Digest,
        /// Why it cannot be used.
        reason: String,
    },

    /// An image archive or layout (`docker save` tar, OCI layout) that cannot
    /// be loaded.
    #[error("image archive {path}: {reason}")]
    BadArchive {
        /// The archive or layout directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// No image matches a name, id or digest. The text matches Docker's.
    #[error("No such image: {0}")]
    NoSuchImage(String),

    /// The operation conflicts with the state of the store (Docker answers 409).
    #[error("conflict: {0}")]
    Conflict(String),

    /// Mounting or unmounting an overlay file system failed.
    #[error("{op} overlay at {path}: {source}")]
    Mount {
        /// `mount` or `unmount`.
        op: &'static str,
        /// The mount point.
        path: PathBuf,
        /// The kernel's error (`EINVAL` often means the kernel lacks an overlay option).
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
