//! # minidock-images — chapter 02: layered, content-addressed, copy-on-write images
//!
//! An image is a stack of file-system layers plus a config (command,
//! environment, …), each stored as a blob named by its SHA-256 digest. This
//! crate is the image store of minidock:
//!
//! - [`Digest`] and [`Reference`]: naming content and naming images;
//! - [`Store`]: blobs written through a hasher and checked before they are
//!   visible; layers unpacked once, safely, into `layers/<diff-id>/`;
//!   images registered, tagged, listed and removed with reference counting;
//! - [`Store::load`], [`Store::save`], [`Store::import`]: `docker load`,
//!   `docker save` and `docker import`;
//! - [`Rootfs`]: a container's root file system, an overlay of the image's
//!   layers under the container's own writable layer;
//! - [`failpoint`]: the store's steps where crash tests kill a load.
//!
//! The compat part, [`compat`], holds what Docker's clients ask beyond the
//! lesson: `docker cp` ([`copy`]) and `docker diff` ([`changes`]).

mod archive;
pub mod compat;
mod digest;
mod error;
pub mod failpoint;
mod layer;
mod reference;
mod rootfs;
mod staging;
mod store;

pub use archive::{ImageChanges, LoadedImage};
pub use compat::{changes, copy};
pub use digest::{Digest, DigestError, Hasher, HashingReader};
pub use error::{Error, Result};
pub use layer::{media_types as layer_media_types, Compression};
pub use reference::{Reference, DEFAULT_DOMAIN, DEFAULT_TAG};
pub use rootfs::{unmount_rootfs, MountMethod, Rootfs, Upper};
pub use store::{
    create_private_dir, host_architecture, image_id, media_types, BlobWriter, Image, ImageId,
    IndexRecovery, Removed, Store, Swept, DEFAULT_MAX_LAYER_SIZE,
};
