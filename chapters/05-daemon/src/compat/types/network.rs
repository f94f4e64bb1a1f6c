//! Networks: `/networks`, and a container's place on them.

use super::nullable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One subnet of a network (`IPAM.Config[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    /// `172.18.0.0/16`.
    #[serde(default, deserialize_with = "nullable")]
    pub subnet: String,
    /// `172.18.0.1`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub gateway: String,
    /// `--ip-range`.
    #[serde(
        rename = "IPRange",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub ip_range: String,
}

/// A network's address management.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    /// Always `default`.
    #[serde(default, deserialize_with = "nullable")]
    pub driver: String,
    /// Driver options.
    #[serde(default, deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    /// The subnets.
    #[serde(default, deserialize_with = "nullable")]
    pub config: Vec<IpamConfig>,
}

/// A container as a network lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkContainer {
    /// The container's name.
    pub name: String,
    /// The endpoint's id.
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    /// Its MAC address.
    pub mac_address: String,
    /// `172.18.0.2/16`.
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    /// Empty: no IPv6.
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// `GET /networks/{id}` and each item of `GET /networks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkResource {
    /// Its name.
    pub name: String,
    /// Its id (64 hex digits).
    pub id: String,
    /// RFC 3339.
    pub created: String,
    /// `local`.
    pub scope: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// Always false.
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    /// Its subnets.
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    /// No route out.
    pub internal: bool,
    /// Containers may join by hand.
    pub attachable: bool,
    /// Always false.
    pub ingress: bool,
    /// `{"Network": ""}`.
    pub config_from: BTreeMap<String, String>,
    /// Always false.
    pub config_only: bool,
    /// Container id → its endpoint.
    #[serde(default, deserialize_with = "nullable")]
    pub containers: BTreeMap<String, NetworkContainer>,
    /// Driver options (`com.docker.network.bridge.name`, …).
    #[serde(default, deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    /// Labels.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
}

/// `POST /networks/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkCreateRequest {
    /// The name.
    pub name: String,
    /// `bridge` (the default) only.
    #[serde(default, deserialize_with = "nullable")]
    pub driver: String,
    /// `--internal`.
    #[serde(default, deserialize_with = "nullable")]
    pub internal: bool,
    /// `--attachable`.
    #[serde(default, deserialize_with = "nullable")]
    pub attachable: bool,
    /// `--ipv6` (refused).
    #[serde(rename = "EnableIPv6", default, deserialize_with = "nullable")]
    pub enable_ipv6: bool,
    /// `--subnet`, `--gateway`, `--ip-range`.
    #[serde(rename = "IPAM", default, deserialize_with = "nullable")]
    pub ipam: Ipam,
    /// `-o`.
    #[serde(default, deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    /// `--label`.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
}

/// The answer to `POST /networks/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkCreateResponse {
    /// The new network's id.
    pub id: String,
    /// Empty.
    #[serde(default)]
    pub warning: String,
}

/// An endpoint's address request (`--ip`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointIpamConfig {
    /// `--ip`.
    #[serde(rename = "IPv4Address", default, deserialize_with = "nullable")]
    pub ipv4_address: String,
}

/// A container's endpoint on one network: asked for in
/// `NetworkingConfig.EndpointsConfig` and `connect`, shown in
/// `NetworkSettings.Networks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    /// `--ip`.
    #[serde(rename = "IPAMConfig", default)]
    pub ipam_config: Option<EndpointIpamConfig>,
    /// Legacy links on a user-defined network: `NAME:ALIAS`, an alias of
    /// container `NAME` for this container alone.
    #[serde(default, deserialize_with = "nullable")]
    pub links: Vec<String>,
    /// `--network-alias`.
    #[serde(default, deserialize_with = "nullable")]
    pub aliases: Vec<String>,
    /// `--mac-address`.
    #[serde(default, deserialize_with = "nullable")]
    pub mac_address: String,
    /// The network's id.
    #[serde(rename = "NetworkID", default, deserialize_with = "nullable")]
    pub network_id: String,
    /// The endpoint's id.
    #[serde(rename = "EndpointID", default, deserialize_with = "nullable")]
    pub endpoint_id: String,
    /// The bridge's address.
    #[serde(default, deserialize_with = "nullable")]
    pub gateway: String,
    /// The container's address.
    #[serde(rename = "IPAddress", default, deserialize_with = "nullable")]
    pub ip_address: String,
    /// The subnet's prefix length.
    #[serde(rename = "IPPrefixLen", default, deserialize_with = "nullable")]
    pub ip_prefix_len: u8,
    /// Always empty.
    #[serde(rename = "IPv6Gateway", default, deserialize_with = "nullable")]
    pub ipv6_gateway: String,
    /// Always empty.
    #[serde(rename = "GlobalIPv6Address", default, deserialize_with = "nullable")]
    pub global_ipv6_address: String,
    /// Always 0.
    #[serde(rename = "GlobalIPv6PrefixLen", default, deserialize_with = "nullable")]
    pub global_ipv6_prefix_len: u8,
    /// Names this endpoint answers to on the network.
    #[serde(rename = "DNSNames", default, deserialize_with = "nullable")]
    pub dns_names: Vec<String>,
}

/// `POST /networks/{id}/connect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkConnectRequest {
    /// The container's id or name.
    pub container: String,
    /// `--ip`, `--alias`.
    #[serde(default)]
    pub endpoint_config: Option<EndpointSettings>,
}

/// `POST /networks/{id}/disconnect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkDisconnectRequest {
    /// The container's id or name.
    pub container: String,
    /// `-f`.
    #[serde(default, deserialize_with = "nullable")]
    pub force: bool,
}

/// The answer to `POST /networks/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkPruneResponse {
    /// The names of the networks removed.
    #[serde(default, deserialize_with = "nullable")]
    pub networks_deleted: Vec<String>,
}
