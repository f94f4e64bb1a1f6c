//! The minidock test kit: the independent side of every check.
//!
//! It builds test inputs (a busybox rootfs, OCI images and `docker save` tars,
//! hostile layers), starts real services (the distribution registry) and
//! checks for leftovers (mounts, cgroups, network namespaces, links, nftables
//! tables, processes), runs crash tests (a fail point armed, the abort checked) without using any minidock crate, so a bug in minidock
//! cannot hide itself by also being in the fixture. Everything panics with a clear message on
//! failure: this is test code.

// Modules behind a feature need that feature (see Cargo.toml): chapter 01 builds the kit
// without images and registry.
mod busybox;
mod crash;
mod cred_helper;
#[cfg(feature = "images")]
mod digest;
#[cfg(feature = "images")]
mod hostile;
#[cfg(feature = "registry")]
mod http;
#[cfg(feature = "images")]
mod image;
#[cfg(feature = "images")]
mod layer;
mod leak;
mod names;
mod network;
mod pki;
#[cfg(feature = "registry")]
mod proxy;
#[cfg(feature = "registry")]
mod registry;
mod root;
mod rootfs;
pub mod solo;
#[cfg(feature = "registry")]
mod token_server;
mod tools;
#[cfg(feature = "images")]
mod tree;
pub mod vm;

pub use busybox::busybox_path;
pub use crash::{
    assert_aborted_at, container_dirs, crash_at, example, mounts_under, FAILPOINT_ENV,
};
pub use cred_helper::CredentialHelper;
#[cfg(feature = "images")]
pub use digest::sha256_digest;
#[cfg(feature = "images")]
pub use hostile::{hostile_layers, Canary, HostileLayer, CANARY_CONTENTS, CANARY_FILE};
#[cfg(feature = "registry")]
pub use http::{http_get, http_get_authorized, HttpResponse};
#[cfg(feature = "images")]
pub use image::{
    busybox_image, entries_of_dir, host_architecture, ImageSpec, OciImage, CONFIG_MEDIA_TYPE,
    DEFAULT_PATH_ENV, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, REF_NAME,
};
#[cfg(feature = "images")]
pub use layer::{Compression, Entry, LayerSpec, LAYER_MTIME};
pub use leak::LeakCheck;
pub use names::random_name;
pub use network::{
    network_allocations, network_leaks, network_resources, remove_daemon_networks, still_present,
    tagged_network_objects, test_subnets, TestSubnets,
};
pub use pki::{Issued, TestCa, Usage, Validity};
#[cfg(feature = "registry")]
pub use proxy::{Hold, HoldingProxy, ProxiedRequest};
#[cfg(feature = "registry")]
pub use registry::{Registry, RegistryConfig, RegistryTls, TokenAuth};
pub use root::require_root;
pub use rootfs::{busybox_rootfs, BUSYBOX_IN_ROOTFS, GROUP, HOSTNAME, PASSWD};
#[cfg(feature = "registry")]
pub use token_server::{
    TokenControl, TokenRequest, TokenServer, REGISTRY_LEEWAY, TOKEN_ISSUER, TOKEN_SERVICE,
};
pub use tools::{require_tool, run_ok, run_output};
#[cfg(feature = "images")]
pub use tree::{assert_same_tree, tree_snapshot, Node};
