//! The image store: one directory that holds everything images are made of.
//!
//! ```text
//! ROOT/                      mode 0700: image content is nobody else's business
//!   blobs/sha256/<hex>       manifests, configs and compressed layers, named by digest
//!   ingest/<hex>.partial     blobs being written (an interrupted pull resumes from here)
//!   layers/<diff-id hex>/    each layer unpacked once, shared read-only by images and containers
//!   images/repositories.json the registered images and their tags, replaced atomically
//! ```
//!
//! Nothing becomes visible half-made: a blob is renamed into `blobs/` only
//! after its digest was checked, a layer into `layers/` only after its last
//! file was written, and the image list is written to a temporary file and
//! renamed over the old one.

mod blobs;
mod id;
mod images;
mod index;
mod repair;

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub(crate) use blobs::sync_dir;
pub use blobs::BlobWriter;
pub use id::{image_id, ImageId};
pub use images::{host_architecture, media_types, Image, Removed};
pub use repair::{IndexRecovery, Swept};

use crate::digest::Digest;
use crate::error::{IoContext, Result};

/// The default bound on the uncompressed size of one layer: 64 GiB. A layer
/// that inflates beyond this is refused as a decompression bomb.
pub const DEFAULT_MAX_LAYER_SIZE: u64 = 64 << 30;

/// A handle on an image store directory. Cheap to clone; several handles
/// (in several processes) may use one root at the same time.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
    max_layer_size: u64,
}

// ANCHOR: store_open
/// Creates `dir`, and its missing parents, with mode 0700: the one way the
/// engine makes a directory of its state (this store, the containers, the
/// volumes, the run directory), so that none is ever open to the host's
/// other users. A directory that exists is left as it is.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

impl Store {
    /// Opens the store at `root`, creating its directories (the root with
    /// mode 0700) if they do not exist yet.
    pub fn open(root: &Path) -> Result<Store> {
        create_private_dir(root).ctx("create store root", root)?;
        // An existing root may have been created with a looser mode.
        fs::set_permissions(root, fs::Permissions::from_mode(0o700))
            .ctx("set mode 0700 on store root", root)?;
        let root = fs::canonicalize(root).ctx("resolve store root", root)?;
        let store = Store {
            root,
            max_layer_size: DEFAULT_MAX_LAYER_SIZE,
        };
        for dir in [
            store.root.join("blobs/sha256"),
            store.ingest_dir(),
            store.layers_dir(),
            store.images_dir(),
        ] {
            create_private_dir(&dir).ctx("create store directory", &dir)?;
        }
        Ok(store)
    }
    // ANCHOR_END: store_open

    /// Sets the bound on the uncompressed size of one layer.
    pub fn set_max_layer_size(&mut self, bytes: u64) {
        self.max_layer_size = bytes;
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `d` lives (whether or not it is there).
    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs").join(d.algorithm()).join(d.hex())
    }

    /// Whether the blob `d` is in the store.
    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    /// The directory of partial downloads.
    pub(crate) fn ingest_dir(&self) -> PathBuf {
        self.root.join("ingest")
    }

    /// The directory of unpacked layers.
    pub fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    /// Where the layer with diff-id `diff_id` is (or would be) unpacked.
    pub fn layer_dir(&self, diff_id: &Digest) -> PathBuf {
        self.layers_dir().join(diff_id.hex())
    }

    /// Whether the layer `diff_id` is unpacked.
    pub fn has_layer(&self, diff_id: &Digest) -> bool {
        self.layer_dir(diff_id).is_dir()
    }

    pub(crate) fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }

    pub(crate) fn max_layer_size(&self) -> u64 {
        self.max_layer_size
    }
}
