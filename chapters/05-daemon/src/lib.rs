//! # Chapter 05 — the daemon: Docker's Engine API over a unix socket
//!
//! `minidockd` is a server that speaks a subset of the Docker Engine API
//! (version 1.44) on a unix socket, so that the real `docker` CLI, docker-py
//! and minidock's own CLI can drive it. This crate holds:
//!
//! - the protocol: [`version`] (the `/v1.44` prefix), [`router`] (paths to
//!   endpoints), [`query`], [`error`] (statuses and messages), [`frames`]
//!   (stdout and stderr on one connection), [`wait`] (wait conditions),
//!   [`time`] (and the STATUS column of `docker ps`), [`detach`] (the keys
//!   that leave an attached terminal);
//! - the server: [`server`] (hyper on tokio, the hijack of attach and exec),
//!   [`listen`] (a socket that is never world-writable), [`tls`] (mutual
//!   TLS, the only way the daemon serves TCP), [`events`], and `locks`, the
//!   one way every part of the daemon takes a lock;
//! - the [`service`] traits that the server calls, so the protocol can be
//!   tested with fakes, and [`engine`], which implements them with the
//!   chapters before this one;
//! - the traits later chapters implement, plugged in by `minidockd`:
//!   [`networks`] (chapter 06), [`volumes`] (chapter 07) and [`builder`]
//!   (chapter 08);
//! - [`daemon`], which puts it all together for the `minidockd` binary (the
//!   client library that talks to it is its own crate, `minidock-client`);
//! - [`compat`]: what real clients need beyond the lesson: the JSON shapes
//!   of the API ([`types`], re-exported here because every client of the
//!   daemon names them), the translation between them and chapter 03's
//!   container model, the settings refused by name, `docker update`, health
//!   checks, log drivers.

pub mod builder;
pub mod compat;
pub mod daemon;
pub mod detach;
pub mod engine;
pub mod error;
pub mod events;
pub mod frames;
pub mod listen;
pub(crate) mod locks;
pub mod networks;
pub mod query;
pub mod router;
pub mod server;
pub mod service;
pub mod time;
pub mod tls;
pub mod version;
pub mod volumes;
pub mod wait;

pub use compat::types;
pub use error::{ApiError, ApiResult};
