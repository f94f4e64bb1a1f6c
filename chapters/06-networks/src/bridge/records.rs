//! What the driver writes down: its configuration, the networks, and each
//! container's sandbox with its endpoints. Every record is JSON in the
//! driver's state directory, written before the step it describes.

use crate::ipam::{Pool, Subnet};
use crate::ports::{PortRequest, Published};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// The name of the default network.
pub const DEFAULT_NETWORK: &str = "bridge";

/// How the driver is set up (the daemon's flags).
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// Where networks and sandboxes are kept (`ROOT/networks`).
    pub state: PathBuf,
    /// Where namespaces are pinned (`RUN/netns`).
    pub run: PathBuf,
    /// Where each container's `hosts`, `resolv.conf` and `hostname` are
    /// written, to be bind-mounted into it (`RUN/sandboxes`). They are made
    /// afresh at every start, so they live in memory with the namespaces:
    /// nothing on the disk is made for them at each `run`.
    pub files: PathBuf,
    /// The engine's binary, re-executed as port proxies.
    pub binary: PathBuf,
    /// The default network's subnet; `None`: no default network, and
    /// containers without `--network` get none.
    pub default_subnet: Option<Subnet>,
    /// Whether the user chose `default_subnet` (`--bridge-subnet`, or
    /// `bip` in daemon.json): then a host route over it means no default
    /// network. Otherwise it is only the first choice, and when a host
    /// route or another network holds it, the default network takes the
    /// first free subnet of `pools`, as Docker's `docker0` does without
    /// `--bip`.
    pub default_subnet_chosen: bool,
    /// Where automatic subnets come from: a base and the prefix length of
    /// each subnet cut from it (Docker's `default-address-pools`).
    pub pools: Vec<(Subnet, u8)>,
    /// Switch on the kernel's IPv4 forwarding for non-internal networks,
    /// as Docker does (so that masquerade has something to rewrite).
    pub ip_forward: bool,
    /// Whether the networks' DNS servers ask the host's servers for the
    /// names no container has (else they answer NXDOMAIN).
    pub dns_forward: bool,
}

/// A network, as kept in `ROOT/networks/<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Network {
    /// 64 hex digits.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `bridge`, or `host` / `null` for the two predefined networks that
    /// have no bridge.
    pub driver: String,
    /// RFC 3339.
    pub created: String,
    /// The Linux bridge (≤ 15 bytes); empty for `host` and `null`.
    #[serde(default)]
    pub bridge: String,
    /// No route out.
    #[serde(default)]
    pub internal: bool,
    /// `--attachable`.
    #[serde(default)]
    pub attachable: bool,
    /// `--label`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `-o`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The addresses.
    pub pool: Option<Pool>,
    /// Predefined (`bridge`, `host`, `none`): cannot be removed.
    #[serde(default)]
    pub predefined: bool,
}

impl Network {
    /// Whether containers on it find each other by name (not on the
    /// default `bridge`, as in Docker).
    pub fn resolves_names(&self) -> bool {
        !self.predefined && self.driver == "bridge"
    }
}

/// What `network create` asks for.
#[derive(Debug, Clone, Default)]
pub struct NetworkSpec {
    /// The name.
    pub name: String,
    /// `--subnet`; chosen from the pools when absent.
    pub subnet: Option<Subnet>,
    /// `--gateway`.
    pub gateway: Option<Ipv4Addr>,
    /// `--ip-range`.
    pub ip_range: Option<Subnet>,
    /// `--internal`.
    pub internal: bool,
    /// `--attachable`.
    pub attachable: bool,
    /// `--label`.
    pub labels: BTreeMap<String, String>,
    /// `-o` (`com.docker.network.bridge.name` names the bridge).
    pub options: BTreeMap<String, String>,
}

// ANCHOR: endpoint_record
/// A container's place on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The network's id.
    pub network: String,
    /// 64 hex digits.
    pub id: String,
    /// The container's address.
    pub ip: Ipv4Addr,
    /// `02:42:…`.
    pub mac: String,
    /// `--network-alias`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The host end of the veth pair.
    pub veth: String,
    /// The name inside (`eth0`, `eth1`, …).
    pub ifname: String,
    /// What the container asked for here, asked again at its next start.
    #[serde(default)]
    pub request: EndpointRequest,
}
// ANCHOR_END: endpoint_record

/// What a container asks of its endpoint on a network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRequest {
    /// `--ip`.
    #[serde(default)]
    pub ip: Option<Ipv4Addr>,
    /// `--network-alias`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `--mac-address`.
    #[serde(default)]
    pub mac: Option<String>,
    /// `--link NAME:ALIAS` on a user-defined network: `ALIAS` names the
    /// container `NAME` for this container only (compat: see
    /// [`crate::compat::resolver`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// Everything a container asks of the network, from its create request.
#[derive(Debug, Clone, Default)]
pub struct SandboxRequest {
    /// The container's id.
    pub container_id: String,
    /// Its name.
    pub name: String,
    /// Its hostname.
    pub hostname: String,
    /// `--domainname`.
    pub domainname: String,
    /// The networks to join, in order (the first gets the default route),
    /// by name or id.
    pub networks: Vec<(String, EndpointRequest)>,
    /// `-p`: each port's host ports to try in order (a range gives several;
    /// the first that is free is taken).
    pub ports: Vec<Vec<PortRequest>>,
    /// `--add-host`.
    pub extra_hosts: Vec<String>,
    /// `--dns`.
    pub dns: Vec<String>,
    /// `--dns-search`.
    pub dns_search: Vec<String>,
    /// `--dns-option`.
    pub dns_options: Vec<String>,
}
// ANCHOR: sandbox_record

/// A wired container, as kept in `ROOT/networks/sandboxes/<id>.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sandbox {
    /// The container's id.
    pub container_id: String,
    /// Its name.
    pub name: String,
    /// Its hostname.
    pub hostname: String,
    /// The pinned namespace (empty until it is made).
    #[serde(default)]
    pub netns: PathBuf,
    /// Its endpoints, the primary one first.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Published ports.
    #[serde(default)]
    pub ports: Vec<Published>,
    /// `--add-host` entries, resolved.
    #[serde(default)]
    pub extra_hosts: Vec<(String, Vec<String>)>,
    /// Networks to join at the next start: joined with `connect` while
    /// the container did not run, or left at its stop.
    #[serde(default)]
    pub pending: Vec<(String, EndpointRequest)>,
    /// Released at a stop: `pending` is the whole list of the container's
    /// networks (the create request's no longer counts: a `disconnect`
    /// since may have taken one away).
    #[serde(default)]
    pub released: bool,
    /// While a setup runs: the networks it joins. Emptied once the setup
    /// is done, so a sandbox with a plan was cut short (a crash, an error)
    /// and its next start follows the plan, not its partial endpoints.
    #[serde(default)]
    pub plan: Vec<(String, EndpointRequest)>,
}
// ANCHOR_END: sandbox_record

/// The three files bind-mounted into a container.
pub const FILES: [&str; 3] = ["hosts", "resolv.conf", "hostname"];
