//! # Chapter 04 — registry: pull and push over the OCI distribution API
//!
//! A registry is an HTTP server that stores blobs by digest and manifests
//! by tag or digest. This crate is the client side of its API, the *OCI
//! distribution specification*:
//!
//! - [`endpoint`]: from a reference's domain to a base URL (Docker Hub's
//!   special case, plain HTTP for loopback registries);
//! - [`tls`]: HTTPS to registries, with a private CA and a client
//!   certificate per registry from `certs.d/<host:port>/`, as Docker;
//! - [`challenge`] and [`auth`]: the `WWW-Authenticate` challenge and its
//!   answer, a Bearer token from the token server or Basic credentials;
//!   [`credentials`] reads and writes them in Docker's `config.json`, or
//!   [`cred_helper`] has a credential helper program keep them;
//! - [`manifest`]: the four manifest media types, and picking the host's
//!   platform from a multi-platform index;
//! - [`client`]: one place that sends requests with authentication and
//!   follows redirects without leaking credentials to other hosts;
//! - [`pull`]: manifest, config and layers streamed and verified into the
//!   chapter 02 content store, several layers at a time, resuming
//!   interrupted downloads with `Range`;
//! - [`push`]: `HEAD` each blob, mount or upload what is missing, then `PUT`
//!   the manifest;
//! - [`progress`]: the events a caller turns into progress bars.
//!
//! ```no_run
//! use minidock_images::{Reference, Store};
//! use minidock_registry::{Client, PullOptions};
//!
//! let store = Store::open("/var/lib/minidock".as_ref())?;
//! let client = Client::default();
//! let reference = Reference::parse("busybox")?;
//! let pulled = client.pull(&store, &reference, &PullOptions::default(), &|p| eprintln!("{p:?}"))?;
//! println!("{}", pulled.manifest_digest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod auth;
pub mod challenge;
pub mod client;
pub mod cred_helper;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod manifest;
pub mod progress;
pub mod pull;
pub mod push;
pub mod tls;

pub use challenge::{parse_challenge, Challenge};
pub use client::{Client, ClientOptions, Repo};
pub use credentials::{Credentials, DockerConfig};
pub use endpoint::{Endpoint, Scheme};
pub use error::{RegistryError, Result};
pub use manifest::{pick_platform, Descriptor, ImageIndex, ImageManifest, ManifestKind, Platform};
pub use progress::{no_progress, Progress, ProgressFn};
pub use pull::{PullOptions, Pulled};
pub use push::{mount_sources, BlobPush, PushOptions, Pushed};
