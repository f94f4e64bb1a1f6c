//! # Chapter 06 — networks: bridge, veth, IPAM, published ports, names that resolve
//!
//! Chapter 01 gave a container a network namespace with nothing but `lo`.
//! This chapter wires it to the world the way Docker's bridge driver does.
//!
//! The *lesson*, in reading order:
//!
//! - [`netlink`]: the messages `ip` sends to the kernel, built by hand;
//! - [`netns`]: a network namespace pinned on a file, made before the
//!   container starts;
//! - [`links`]: bridges, veth pairs, addresses and routes over netlink;
//! - [`ipam`]: which container has which address, never twice;
//! - [`hosts`]: `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname`;
//! - [`dns`]: names that resolve between containers on a network;
//! - [`nat`]: masquerade and isolation with nftables;
//! - [`ports`]: published ports, through a proxy process per port;
//! - [`bridge`]: the driver that puts them together.
//!
//! The *compat* part, [`compat`], is what the Engine API needs beyond the
//! lesson: Docker's JSON shapes and status codes, filters, prune, events,
//! and reading a container's create request.

pub mod bridge;
pub mod compat;
pub mod dns;
pub mod error;
pub mod hosts;
pub mod ipam;
pub mod links;
pub mod nat;
pub mod netlink;
pub mod netns;
pub mod ports;

pub use bridge::{Driver, DriverConfig};
pub use compat::api::Networks;
pub use error::{Error, Result};
