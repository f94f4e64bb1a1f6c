//! The driver behind chapter 05's [`NetworkService`]: Docker's JSON shapes,
//! status codes, filters, prune and events.

use super::request::{port_key, primary_network, sandbox_request};
use crate::bridge::{Driver, EndpointRequest, Network, NetworkSpec, Sandbox, DEFAULT_NETWORK};
use crate::error::Error;
use crate::ipam::Subnet;
use minidock_daemon::error::{ApiError, ApiResult};
use minidock_daemon::events::Events;
use minidock_daemon::networks::{ContainerRef, NetworkService, NetworkSetup};
use minidock_daemon::query::Filters;
use minidock_daemon::types::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The driver's errors as the API's.
pub fn api_error(err: Error) -> ApiError {
    match err {
        Error::NotFound(m) => ApiError::NotFound(m),
        Error::Invalid(m) => ApiError::BadParameter(m),
        Error::Conflict(m) => ApiError::Conflict(m),
        e @ Error::Full(_) => ApiError::Conflict(e.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}

/// Chapter 06's network service.
pub struct Networks {
    driver: Driver,
    events: Events,
}

impl Networks {
    /// The service over `driver`, publishing on `events`.
    pub fn new(driver: Driver, events: Events) -> Networks {
        Networks { driver, events }
    }

    /// The driver.
    pub fn driver(&self) -> &Driver {
        &self.driver
    }

    /// The networks a container has an endpoint on now.
    fn endpoint_networks(&self, container_id: &str) -> Vec<Network> {
        self.driver
            .sandbox(container_id)
            .map(|s| {
                s.endpoints
                    .iter()
                    .filter_map(|e| self.driver.find(&e.network).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn has_default(&self) -> bool {
        self.driver.find(DEFAULT_NETWORK).is_ok()
    }

    fn publish(&self, action: &str, network: &Network, container: Option<&str>) {
        let mut attributes = BTreeMap::from([
            ("name".to_string(), network.name.clone()),
            ("type".to_string(), network.driver.clone()),
        ]);
        if let Some(c) = container {
            attributes.insert("container".to_string(), c.to_string());
        }
        self.events
            .publish("network", action, &network.id, attributes);
    }

    fn resource(&self, network: &Network, sandboxes: &[Sandbox]) -> NetworkResource {
        let mut containers = BTreeMap::new();
        let prefix = network.pool.as_ref().map_or(0, |p| p.subnet.prefix);
        for s in sandboxes {
            for e in s.endpoints.iter().filter(|e| e.network == network.id) {
                containers.insert(
                    s.container_id.clone(),
                    NetworkContainer {
                        name: s.name.clone(),
                        endpoint_id: e.id.clone(),
                        mac_address: e.mac.clone(),
                        ipv4_address: format!("{}/{prefix}", e.ip),
                        ipv6_address: String::new(),
                    },
                );
            }
        }
        let mut options = network.options.clone();
        if network.driver == "bridge" {
            options
                .entry("com.docker.network.bridge.name".to_string())
                .or_insert_with(|| network.bridge.clone());
        }
        NetworkResource {
            name: network.name.clone(),
            id: network.id.clone(),
            created: network.created.clone(),
            scope: "local".into(),
            driver: network.driver.clone(),
            enable_ipv6: false,
            ipam: Ipam {
                driver: "default".into(),
                options: BTreeMap::new(),
                config: network
                    .pool
                    .iter()
                    .map(|p| IpamConfig {
                        subnet: p.subnet.to_string(),
                        gateway: p.gateway.to_string(),
                        ip_range: p.range.map(|r| r.to_string()).unwrap_or_default(),
                    })
                    .collect(),
            },
            internal: network.internal,
            attachable: network.attachable,
            ingress: false,
            config_from: BTreeMap::from([("Network".to_string(), String::new())]),
            config_only: false,
            containers,
            options,
            labels: network.labels.clone(),
        }
    }
}

fn parse_subnet(text: &str, what: &str) -> ApiResult<Option<Subnet>> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|e: Error| ApiError::BadParameter(format!("{what}: {e}")))
}

fn matches(resource: &NetworkResource, network: &Network, filters: &Filters) -> bool {
    let any = |name: &str, test: &dyn Fn(&str) -> bool| {
        let values = filters.values(name);
        values.is_empty() || values.iter().any(|v| test(v))
    };
    any("name", &|v| network.name.contains(v))
        && any("id", &|v| network.id.starts_with(v))
        && any("driver", &|v| network.driver == v)
        && any("scope", &|v| v == "local")
        && any("type", &|v| match v {
            "custom" => !network.predefined,
            "builtin" => network.predefined,
            _ => false,
        })
        && any("dangling", &|v| {
            let dangling = resource.containers.is_empty() && !network.predefined;
            (v == "true" || v == "1") == dangling
        })
        && filters.labels_match(&network.labels)
}

impl NetworkService for Networks {
    fn list(&self, filters: &Filters) -> ApiResult<Vec<NetworkResource>> {
        filters.only(
            &["name", "id", "driver", "scope", "type", "dangling", "label"],
            "network list",
        )?;
        let sandboxes = self.driver.sandboxes();
        Ok(self
            .driver
            .networks()
            .map_err(api_error)?
            .iter()
            .filter_map(|n| {
                let r = self.resource(n, &sandboxes);
                matches(&r, n, filters).then_some(r)
            })
            .collect())
    }

    fn inspect(&self, id: &str) -> ApiResult<NetworkResource> {
        let network = self.driver.find(id).map_err(api_error)?;
        Ok(self.resource(&network, &self.driver.sandboxes()))
    }

    fn create(&self, request: NetworkCreateRequest) -> ApiResult<NetworkCreateResponse> {
        match request.driver.as_str() {
            "" | "bridge" => {}
            other => {
                return Err(ApiError::BadParameter(format!(
                    "network driver {other:?} is not supported: minidock has the bridge driver \
                     only (no overlay, macvlan or ipvlan)"
                )))
            }
        }
        if request.enable_ipv6 {
            return Err(ApiError::BadParameter(
                "IPv6 networks are not supported by minidock".into(),
            ));
        }
        if request.ipam.config.len() > 1 {
            return Err(ApiError::BadParameter(
                "minidock gives a network one IPv4 subnet".into(),
            ));
        }
        let config = request.ipam.config.first().cloned().unwrap_or_default();
        let gateway =
            match config.gateway.as_str() {
                "" => None,
                g => Some(g.parse::<Ipv4Addr>().map_err(|_| {
                    ApiError::BadParameter(format!("invalid gateway address {g:?}"))
                })?),
            };
        let spec = NetworkSpec {
            name: request.name.clone(),
            subnet: parse_subnet(&config.subnet, "--subnet")?,
            gateway,
            ip_range: parse_subnet(&config.ip_range, "--ip-range")?,
            internal: request.internal,
            attachable: request.attachable,
            labels: request.labels,
            options: request.options,
        };
        if spec.subnet.is_none() && (spec.gateway.is_some() || spec.ip_range.is_some()) {
            return Err(ApiError::BadParameter(
                "--gateway and --ip-range need a --subnet".into(),
            ));
        }
        let network = self.driver.create(&spec).map_err(api_error)?;
        self.publish("create", &network, None);
        Ok(NetworkCreateResponse {
            id: network.id,
            warning: String::new(),
        })
    }

    fn remove(&self, id: &str) -> ApiResult<()> {
        let network = self.driver.remove(id).map_err(api_error)?;
        self.publish("destroy", &network, None);
        Ok(())
    }

    fn connect(
        &self,
        network: &str,
        container: &ContainerRef,
        endpoint: EndpointSettings,
    ) -> ApiResult<()> {
        let wanted = {
            let ip = endpoint
                .ipam_config
                .as_ref()
                .map(|c| c.ipv4_address.clone())
                .filter(|ip| !ip.is_empty())
                .map(|ip| {
                    ip.parse::<Ipv4Addr>()
                        .map_err(|_| ApiError::BadParameter(format!("invalid IPv4 address {ip:?}")))
                })
                .transpose()?;
            EndpointRequest {
                ip,
                aliases: endpoint.aliases.clone(),
                mac: Some(endpoint.mac_address.clone()).filter(|m| !m.is_empty()),
                links: endpoint.links.clone(),
            }
        };
        let network = self
            .driver
            .connect(network, &container.id, &container.name, wanted)
            .map_err(api_error)?;
        self.publish("connect", &network, Some(&container.id));
        Ok(())
    }

    fn disconnect(&self, network: &str, container: &ContainerRef, _force: bool) -> ApiResult<()> {
        let network = self
            .driver
            .disconnect(network, &container.id)
            .map_err(api_error)?;
        self.publish("disconnect", &network, Some(&container.id));
        Ok(())
    }

    fn prune(&self, filters: &Filters) -> ApiResult<NetworkPruneResponse> {
        filters.only(&["until", "label"], "prune")?;
        let until = filters.until(std::time::SystemTime::now())?;
        let sandboxes = self.driver.sandboxes();
        let mut deleted = Vec::new();
        for network in self.driver.networks().map_err(api_error)? {
            let used = sandboxes.iter().any(|s| {
                s.endpoints.iter().any(|e| e.network == network.id)
                    || s.pending.iter().any(|(n, _)| *n == network.id)
            });
            let created = minidock_daemon::time::parse_rfc3339(&network.created);
            let old_enough = match (until, created) {
                (Some(until), Some(created)) => created < until,
                _ => true,
            };
            if network.predefined || used || !old_enough || !filters.labels_match(&network.labels) {
                continue;
            }
            if self.driver.remove(&network.id).is_ok() {
                self.publish("destroy", &network, None);
                deleted.push(network.name);
            }
        }
        Ok(NetworkPruneResponse {
            networks_deleted: deleted,
        })
    }

    fn check(&self, request: &ContainerCreateBody) -> ApiResult<()> {
        let probe = ContainerRef::default();
        let Some(sandbox) =
            sandbox_request(&probe, request, self.has_default()).map_err(api_error)?
        else {
            let mode = request.host_config.network_mode.clone().unwrap_or_default();
            let other = &request.host_config.other;
            let asks = |k: &str| {
                other
                    .get(k)
                    .is_some_and(|v| v.as_object().is_some_and(|o| !o.is_empty()))
            };
            if (mode == "host" || mode == "none" || mode.starts_with("container:"))
                && asks("PortBindings")
            {
                return Err(ApiError::BadParameter(format!(
                    "conflicting options: port publishing and the container type network mode ({mode})"
                )));
            }
            return Ok(());
        };
        for (network, _) in &sandbox.networks {
            let found = self.driver.find(network).map_err(api_error)?;
            if found.driver != "bridge" {
                return Err(ApiError::BadParameter(format!(
                    "container cannot be connected to {} and another network",
                    found.name
                )));
            }
        }
        Ok(())
    }

    fn setup(
        &self,
        container: &ContainerRef,
        request: &ContainerCreateBody,
    ) -> ApiResult<Option<NetworkSetup>> {
        let Some(sandbox) =
            sandbox_request(container, request, self.has_default()).map_err(api_error)?
        else {
            return Ok(None);
        };
        let (wired, fresh) = self.driver.setup(&sandbox).map_err(api_error)?;
        if fresh {
            // As Docker: a container joins its networks at each start.
            for endpoint in &wired.endpoints {
                if let Ok(network) = self.driver.find(&endpoint.network) {
                    self.publish("connect", &network, Some(&container.id));
                }
            }
        }
        Ok(Some(NetworkSetup {
            netns: Some(wired.netns.clone()),
            files: self.driver.files(&container.id),
        }))
    }

    fn teardown(&self, container_id: &str) -> ApiResult<()> {
        let left = self.endpoint_networks(container_id);
        self.driver.teardown(container_id).map_err(api_error)?;
        for network in &left {
            self.publish("disconnect", network, Some(container_id));
        }
        Ok(())
    }

    fn release(&self, container_id: &str) -> ApiResult<()> {
        let left = self.driver.release(container_id).map_err(api_error)?;
        for network in &left {
            self.publish("disconnect", network, Some(container_id));
        }
        Ok(())
    }

    fn settings(&self, container_id: &str) -> Option<NetworkSettings> {
        let sandbox = self.driver.sandbox(container_id)?;
        let networks: BTreeMap<String, Network> = self
            .driver
            .networks()
            .ok()?
            .into_iter()
            .map(|n| (n.id.clone(), n))
            .collect();
        let mut settings = NetworkSettings {
            sandbox_key: sandbox.netns.display().to_string(),
            ..NetworkSettings::default()
        };
        for e in &sandbox.endpoints {
            let Some(network) = networks.get(&e.network) else {
                continue;
            };
            let pool = network.pool.as_ref();
            let gateway = pool.map(|p| p.gateway.to_string()).unwrap_or_default();
            let prefix = pool.map_or(0, |p| p.subnet.prefix);
            let mut dns_names = Vec::new();
            if network.resolves_names() {
                dns_names.push(sandbox.name.clone());
                dns_names.extend(e.aliases.clone());
                dns_names.push(container_id.chars().take(12).collect());
            }
            let endpoint = EndpointSettings {
                ipam_config: None,
                links: e.request.links.clone(),
                aliases: e.aliases.clone(),
                mac_address: e.mac.clone(),
                network_id: network.id.clone(),
                endpoint_id: e.id.clone(),
                gateway: gateway.clone(),
                ip_address: e.ip.to_string(),
                ip_prefix_len: prefix,
                dns_names,
                ..EndpointSettings::default()
            };
            if network.name == DEFAULT_NETWORK && network.predefined {
                settings.bridge = network.bridge.clone();
                settings.ip_address = e.ip.to_string();
                settings.ip_prefix_len = prefix;
                settings.gateway = gateway;
                settings.mac_address = e.mac.clone();
            }
            settings.networks.insert(
                network.name.clone(),
                serde_json::to_value(endpoint).unwrap_or(Value::Null),
            );
        }
        for p in &sandbox.ports {
            let entry = settings
                .ports
                .entry(port_key(p.container_port, p.proto))
                .or_insert_with(|| json!([]));
            if let Some(list) = entry.as_array_mut() {
                list.push(
                    json!({"HostIp": p.host_ip.to_string(), "HostPort": p.host_port.to_string()}),
                );
            }
        }
        Some(settings)
    }

    fn update_extra_hosts(&self, container_id: &str, extra_hosts: &[String]) -> ApiResult<()> {
        self.driver
            .update_extra_hosts(container_id, extra_hosts)
            .map_err(api_error)
    }

    fn interface_counters(&self, container_id: &str) -> Option<Vec<(String, u64, u64)>> {
        let sandbox = self.driver.sandbox(container_id)?;
        let mut sock = crate::netns::socket_in(&sandbox.netns).ok()?;
        let links = crate::links::list(&mut sock).ok()?;
        Some(
            links
                .into_iter()
                .filter(|l| l.name != "lo")
                .map(|l| (l.name, l.rx_bytes, l.tx_bytes))
                .collect(),
        )
    }

    fn reconcile(&self, existing: &[ContainerRef]) {
        let ids: Vec<String> = existing.iter().map(|c| c.id.clone()).collect();
        let running: Vec<String> = existing
            .iter()
            .filter(|c| c.running)
            .map(|c| c.id.clone())
            .collect();
        if let Err(err) = self.driver.reconcile(&ids, &running) {
            eprintln!("minidockd: reconciling networks: {err}");
        }
    }
}

/// Whether a create request's network mode is one the driver wires.
pub fn is_driver_mode(mode: &str, has_default: bool) -> bool {
    primary_network(mode, has_default).is_some()
}
