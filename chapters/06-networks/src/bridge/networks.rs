//! Networks: `network create` and `rm`, and a network's bridge, addresses
//! and rules brought up and down.

use crate::error::{Error, Result};
use crate::ipam::{Pool, Subnet};
use crate::{links, nat};
use std::fs;
use std::net::Ipv4Addr;

use super::{host_route_subnets, host_socket, random_id, write_json, Driver, Network, NetworkSpec};

impl Driver {
    /// `network create`.
    pub fn create(&self, spec: &NetworkSpec) -> Result<Network> {
        let _guard = self.guard();
        self.create_locked(spec, false)
    }

    pub(super) fn pick_subnet(&self, taken: &[Subnet]) -> Result<Subnet> {
        for (base, size) in &self.config.pools {
            let count = 1u32 << (size - base.prefix);
            for i in 0..count {
                let candidate = Subnet {
                    base: Ipv4Addr::from(u32::from(base.base) + (i << (32 - u32::from(*size)))),
                    prefix: *size,
                };
                if !taken.iter().any(|t| t.overlaps(&candidate)) {
                    return Ok(candidate);
                }
            }
        }
        Err(Error::Conflict(
            "could not find an available, non-overlapping IPv4 address pool among the defaults \
             to assign to the network: give one with --subnet, or remove unused networks"
                .into(),
        ))
    }

    // ANCHOR: create_network
    pub(super) fn create_locked(&self, spec: &NetworkSpec, predefined: bool) -> Result<Network> {
        if spec.name.is_empty() {
            return Err(Error::Invalid("a network needs a name".into()));
        }
        let networks = self.networks()?;
        if networks.iter().any(|n| n.name == spec.name) {
            return Err(Error::Conflict(format!(
                "network with name {} already exists",
                spec.name
            )));
        }
        let taken: Vec<Subnet> = networks
            .iter()
            .filter_map(|n| n.pool.as_ref().map(|p| p.subnet))
            .chain(host_route_subnets())
            .collect();
        let subnet = match spec.subnet {
            Some(s) => {
                if let Some(other) = networks
                    .iter()
                    .filter_map(|n| n.pool.as_ref().map(|p| (n, p.subnet)))
                    .find(|(_, t)| t.overlaps(&s))
                {
                    return Err(Error::Conflict(format!(
                        "Pool overlaps with other one on this address space: {s} overlaps \
                         {} of network {}",
                        other.1, other.0.name
                    )));
                }
                if let Some(route) = host_route_subnets().iter().find(|t| t.overlaps(&s)) {
                    return Err(Error::Conflict(format!(
                        "subnet {s} overlaps the host's route to {route}: choose another --subnet"
                    )));
                }
                s
            }
            None => self.pick_subnet(&taken)?,
        };
        // ANCHOR_END: create_network
        // ANCHOR: create_bridge_record
        let pool = Pool::new(subnet, spec.gateway, spec.ip_range)?;
        let id = random_id();
        let bridge = match spec.options.get("com.docker.network.bridge.name") {
            Some(name) => {
                if name.is_empty() || name.len() > 15 || name.contains('/') {
                    return Err(Error::Invalid(format!(
                        "bridge name {name:?} must be 1 to 15 bytes without '/'"
                    )));
                }
                name.clone()
            }
            None => format!("md-{}", &id[..12]),
        };
        let network = Network {
            id: id.clone(),
            name: spec.name.clone(),
            driver: "bridge".into(),
            created: minidock_daemon::time::rfc3339(std::time::SystemTime::now()),
            bridge,
            internal: spec.internal,
            attachable: spec.attachable,
            labels: spec.labels.clone(),
            options: spec.options.clone(),
            pool: Some(pool),
            predefined,
        };
        // Written first: a crash from here on is finished by `open`.
        write_json(&self.network_path(&id), &network)?;
        if let Err(err) = self.bring_up(&network) {
            self.bring_down(&network).ok();
            fs::remove_file(self.network_path(&id)).ok();
            return Err(err);
        }
        Ok(network)
    }
    // ANCHOR_END: create_bridge_record

    // ANCHOR: bring_up
    /// Makes sure the bridge exists with its address and is up, and that
    /// the network's nftables table is in place.
    pub(super) fn bring_up(&self, network: &Network) -> Result<()> {
        let pool = network
            .pool
            .as_ref()
            .ok_or_else(|| Error::Invalid(format!("network {} has no subnet", network.name)))?;
        let mut sock = host_socket()?;
        let index = match links::index(&mut sock, &network.bridge)? {
            Some(i) => i,
            None => {
                links::create_bridge(&mut sock, &network.bridge)?;
                links::index(&mut sock, &network.bridge)?
                    .ok_or_else(|| Error::NotFound(format!("bridge {} vanished", network.bridge)))?
            }
        };
        match links::add_address(&mut sock, index, pool.gateway, pool.subnet.prefix) {
            Err(Error::Netlink { source, .. }) if source.raw_os_error() == Some(libc::EEXIST) => {}
            other => other?,
        }
        links::set_up_tagged(&mut sock, &network.bridge, &self.tag())?;
        // ANCHOR_END: bring_up
        // ANCHOR: bring_up_rules
        nat::install(&nat::NetworkRules {
            table: nat::table_name(&network.id),
            bridge: network.bridge.clone(),
            subnet: pool.subnet,
            internal: network.internal,
            comment: self.tag(),
        })?;
        if !network.internal && self.config.ip_forward {
            fs::write("/proc/sys/net/ipv4/ip_forward", "1")
                .map_err(Error::io("enable", "/proc/sys/net/ipv4/ip_forward"))?;
        }
        if network.resolves_names() {
            // Without it names still resolve through /etc/hosts: a host
            // whose own DNS server holds port 53 on every address keeps the
            // network usable.
            if let Err(err) = self.resolver.serve(&network.id, pool.gateway) {
                eprintln!(
                    "minidockd: WARNING: network {}: no DNS server: {err}; its containers \
                     resolve each other through /etc/hosts only",
                    network.name
                );
            }
        }
        Ok(())
    }
    // ANCHOR_END: bring_up_rules

    pub(super) fn bring_down(&self, network: &Network) -> Result<()> {
        if network.driver != "bridge" {
            return Ok(());
        }
        self.resolver.stop(&network.id);
        nat::remove(&nat::table_name(&network.id))?;
        let mut sock = host_socket()?;
        links::delete(&mut sock, &network.bridge)
    }

    // ANCHOR: network_remove
    /// `network rm`: refused while a container is on it.
    pub fn remove(&self, reference: &str) -> Result<Network> {
        let _guard = self.guard();
        let network = self.find(reference)?;
        if network.predefined {
            return Err(Error::Conflict(format!(
                "{} is a pre-defined network and cannot be removed",
                network.name
            )));
        }
        let users: Vec<String> = self
            .sandboxes()
            .into_iter()
            // A stopped container (released) holds no endpoint, as in
            // Docker: its next start fails with "network not found".
            .filter(|s| {
                s.endpoints.iter().any(|e| e.network == network.id)
                    || (!s.released && s.pending.iter().any(|(n, _)| *n == network.id))
            })
            .map(|s| s.name)
            .collect();
        if !users.is_empty() {
            return Err(Error::Conflict(format!(
                "error while removing network: network {} id {} has active endpoints ({})",
                network.name,
                network.id,
                users.join(", ")
            )));
        }
        self.bring_down(&network)?;
        fs::remove_file(self.network_path(&network.id))
            .map_err(Error::io("remove", self.network_path(&network.id)))?;
        Ok(network)
    }
    // ANCHOR_END: network_remove
}
