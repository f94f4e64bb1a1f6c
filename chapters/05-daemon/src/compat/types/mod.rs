//! The JSON shapes of the API subset, as serde types.
//!
//! Both sides use them: the server serialises them, the client library
//! deserialises them. Docker clients send many fields this daemon does not
//! know; serde ignores unknown fields, so they are accepted and dropped.
//! Clients also send `null` for fields they leave unset (docker-py sends
//! `"Hostname": null`), so every field that a client fills is either an
//! `Option` or read through [`nullable`].

mod build;
mod container;
mod exec;
mod files;
mod image;
mod inspect;
mod network;
mod stats;
mod system;
mod volume;

pub use build::*;
pub use container::*;
pub use exec::*;
pub use files::*;
pub use image::*;
pub use inspect::*;
pub use network::*;
pub use stats::*;
pub use system::*;
pub use volume::*;

use serde::{Deserialize, Deserializer};

/// Reads `null` as the type's default (an empty list, `false`, 0).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
