//! A container's create request, read for what it asks of the network.

use crate::bridge::{EndpointRequest, SandboxRequest, DEFAULT_NETWORK};
use crate::error::{Error, Result};
use crate::ports::{parse_port_key, PortRequest, Proto};
use minidock_daemon::networks::ContainerRef;
use minidock_daemon::types::{ContainerCreateBody, EndpointSettings};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Which network a request's `NetworkMode` names: `None` for the modes
/// that are not the driver's (`host`, `none`, `container:…`), or the
/// default one when the daemon has none.
pub fn primary_network(mode: &str, has_default: bool) -> Option<String> {
    match mode {
        "" | "default" | DEFAULT_NETWORK => has_default.then(|| DEFAULT_NETWORK.to_string()),
        "host" | "none" => None,
        m if m.starts_with("container:") => None,
        name => Some(name.to_string()),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn endpoint_request(settings: &EndpointSettings) -> Result<EndpointRequest> {
    let ip = settings
        .ipam_config
        .as_ref()
        .map(|c| c.ipv4_address.as_str())
        .filter(|ip| !ip.is_empty())
        .map(|ip| {
            ip.parse::<Ipv4Addr>()
                .map_err(|_| Error::Invalid(format!("invalid IPv4 address {ip:?}")))
        })
        .transpose()?;
    Ok(EndpointRequest {
        ip,
        aliases: settings.aliases.clone(),
        mac: Some(settings.mac_address.clone()).filter(|m| !m.is_empty()),
        links: settings.links.clone(),
    })
}

/// The host ports of one binding: `""` (any), `8080`, or a range
/// `8000-8010` (the first that is free).
pub fn host_ports(text: &str) -> Result<Vec<u16>> {
    let bad = || Error::Invalid(format!("invalid host port {text:?}"));
    if text.is_empty() {
        return Ok(vec![0]);
    }
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b): (u16, u16) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            if a == 0 || a > b {
                return Err(bad());
            }
            Ok((a..=b).collect())
        }
        None => Ok(vec![text.parse().map_err(|_| bad())?]),
    }
}

/// The ports to publish: every `PortBindings` entry, and with
/// `PublishAllPorts` every other exposed port on an ephemeral host port.
/// A host port range is given as its ports, tried in order at start.
pub fn port_requests(body: &ContainerCreateBody) -> Result<Vec<Vec<PortRequest>>> {
    let mut out = Vec::new();
    let bindings = body
        .host_config
        .other
        .get("PortBindings")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (key, list) in &bindings {
        let (container_port, proto) = parse_port_key(key)?;
        for b in list.as_array().cloned().unwrap_or_default() {
            let host_ip = match b.get("HostIp").and_then(Value::as_str).unwrap_or("") {
                "" => Ipv4Addr::UNSPECIFIED,
                ip => ip.parse().map_err(|_| {
                    Error::Invalid(format!(
                        "invalid host address {ip:?} for port {key}: minidock publishes on IPv4 only"
                    ))
                })?,
            };
            let ports = host_ports(b.get("HostPort").and_then(Value::as_str).unwrap_or(""))?;
            out.push(
                ports
                    .into_iter()
                    .map(|host_port| PortRequest {
                        proto,
                        container_port,
                        host_ip,
                        host_port,
                    })
                    .collect(),
            );
        }
    }
    let publish_all = body
        .host_config
        .other
        .get("PublishAllPorts")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if publish_all {
        let exposed = body
            .config
            .other
            .get("ExposedPorts")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for key in exposed.keys() {
            if bindings.contains_key(key) {
                continue;
            }
            let (container_port, proto) = parse_port_key(key)?;
            out.push(vec![PortRequest {
                proto,
                container_port,
                host_ip: Ipv4Addr::UNSPECIFIED,
                host_port: 0,
            }]);
        }
    }
    Ok(out)
}

/// Reads everything the request asks of the network. `None` when its
/// network mode is not the driver's.
pub fn sandbox_request(
    container: &ContainerRef,
    body: &ContainerCreateBody,
    has_default: bool,
) -> Result<Option<SandboxRequest>> {
    let mode = body.host_config.network_mode.clone().unwrap_or_default();
    let Some(primary) = primary_network(&mode, has_default) else {
        return Ok(None);
    };
    let endpoints: BTreeMap<String, EndpointSettings> = body
        .config
        .other
        .get("NetworkingConfig")
        .and_then(|n| n.get("EndpointsConfig"))
        .filter(|v| !v.is_null())
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| Error::Invalid(format!("invalid NetworkingConfig.EndpointsConfig: {e}")))?
        .unwrap_or_default();
    let mut first = match endpoints.get(&primary).or_else(|| {
        // The docker CLI names the default network by the mode it sent.
        endpoints.get(&mode)
    }) {
        Some(s) => endpoint_request(s)?,
        None => EndpointRequest::default(),
    };
    if first.mac.is_none() {
        first.mac = body
            .config
            .other
            .get("MacAddress")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_string);
    }
    // Legacy links on a user-defined network are aliases there (the docker
    // CLI sends them in the endpoint's settings too, a raw client only in
    // `HostConfig.Links`); on the default network they are chapter 05's.
    if primary != DEFAULT_NETWORK && first.links.is_empty() {
        first.links = strings(body.host_config.other.get("Links"));
    }
    let mut networks = vec![(primary.clone(), first)];
    for (name, settings) in &endpoints {
        if *name != primary && *name != mode {
            networks.push((name.clone(), endpoint_request(settings)?));
        }
    }
    let h = &body.host_config.other;
    let request = SandboxRequest {
        container_id: container.id.clone(),
        name: container.name.clone(),
        hostname: container.hostname.clone(),
        domainname: body.config.domainname.clone().unwrap_or_default(),
        networks,
        ports: port_requests(body)?,
        extra_hosts: strings(h.get("ExtraHosts")),
        dns: strings(h.get("Dns")),
        dns_search: strings(h.get("DnsSearch")),
        dns_options: strings(h.get("DnsOptions")),
    };
    for dns in &request.dns {
        dns.parse::<std::net::IpAddr>()
            .map_err(|_| Error::Invalid(format!("invalid DNS server address {dns:?}")))?;
    }
    Ok(Some(request))
}

/// `Proto` as the API's port keys write it.
pub fn port_key(port: u16, proto: Proto) -> String {
    format!("{port}/{}", proto.as_str())
}
