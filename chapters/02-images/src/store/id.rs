//! An image's identity: the digest of its config, which pins the exact
//! content of every layer.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// An image id: the digest of the image's config (`docker images` shows its
/// first 12 hex characters).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImageId(pub Digest);

impl ImageId {
    /// The config digest this id is.
    pub fn digest(&self) -> &Digest {
        &self.0
    }

    /// The 12-character short form.
    pub fn short(&self) -> &str {
        self.0.short()
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageId({})", self.0)
    }
}

// ANCHOR: image_id
/// The id of an image whose config is `config_bytes`: the digest of those
/// exact bytes (not of a re-serialisation, which could order keys
/// differently).
pub fn image_id(config_bytes: &[u8]) -> ImageId {
    // exercise 2.7 image-id: compute an image's id from its raw config bytes.
    // hint: an image id is not a name anyone chose: it is content-addressed, like every blob in the store
    // hint: the content is the image's config blob, its bytes exactly as stored (re-serialised JSON could order keys differently)
    // hint: Digest has a constructor that hashes bytes with sha256, and ImageId wraps a Digest
    ImageId(Digest::sha256_of(config_bytes))
    // end exercise
}
// ANCHOR_END: image_id
