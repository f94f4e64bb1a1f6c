//! The minidock test kit: the independent side of every check.
//!
//! It builds test inputs (a busybox rootfs, OCI images and `docker save` tars,
//! hostile layers), starts real services (the distribution registry) and
//! checks for leftovers (mounts, cgroups, network namespaces, links, nftables
//! tables, processes) without using any minidock crate, so a bug in minidock
//! cannot hide itself by also being in the fixture. Everything panics with a clear message on
//! failure: this is test code.

mod busybox;
mod cred_helper;
mod digest;
mod hostile;
mod http;
mod image;
mod layer;
mod leak;
mod names;
mod network;
mod pki;
mod registry;
mod root;
mod rootfs;
mod token_server;
mod tools;
mod tree;
pub mod vm;

pub use busybox::busybox_path;
pub use cred_helper::CredentialHelper;
pub use digest::sha256_digest;
pub use hostile::{hostile_layers, Canary, HostileLayer, CANARY_CONTENTS, CANARY_FILE};
pub use http::{http_get, HttpResponse};
pub use image::{
    busybox_image, entries_of_dir, host_architecture, ImageSpec, OciImage, CONFIG_MEDIA_TYPE,
    DEFAULT_PATH_ENV, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, REF_NAME,
};
pub use layer::{Compression, Entry, LayerSpec, LAYER_MTIME};
pub use leak::LeakCheck;
pub use names::random_name;
pub use network::{
    network_allocations, network_leaks, network_resources, remove_daemon_networks, still_present,
    tagged_network_objects, test_subnets, TestSubnets,
};
pub use pki::{Issued, TestCa, Usage, Validity};
pub use registry::{Registry, RegistryConfig, RegistryTls, TokenAuth};
pub use root::require_root;
pub use rootfs::{busybox_rootfs, BUSYBOX_IN_ROOTFS, GROUP, HOSTNAME, PASSWD};
pub use token_server::{TokenRequest, TokenServer, TOKEN_ISSUER, TOKEN_SERVICE};
pub use tools::{require_tool, run_ok, run_output};
pub use tree::{assert_same_tree, tree_snapshot, Node};
