//! A container joins its networks: its sandbox is wired before its start
//! (a namespace, an endpoint per network, ports, files), and `network
//! connect`/`disconnect` change it later.

use crate::compat::resolver::{link_address, LinkAlias};
use crate::dns::{peer_entries, Presence};
use crate::error::{Error, Result};
use crate::hosts::{self, HostEntry};
use crate::netlink::Socket;
use crate::ports;
use crate::{links, netns};
use minidock_lifecycle::failpoint;
use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::{
    format_mac, host_socket, mac_for, parse_mac, random_id, write_json, Driver, Endpoint,
    EndpointRequest, Network, Sandbox, SandboxRequest, FILES,
};

impl Driver {
    // ANCHOR: setup_reuse
    /// Wires a container before its start: its namespace, its endpoints,
    /// its ports and its files. A container already wired keeps its
    /// wiring. On failure nothing of it is left. Also says whether it was
    /// wired now (`true`) or already (`false`).
    pub fn setup(&self, request: &SandboxRequest) -> Result<(Sandbox, bool)> {
        let _guard = self.guard();
        let id = &request.container_id;
        let mut networks = request.networks.clone();
        if let Some(existing) = self.sandbox(id) {
            if netns::is_pinned(&existing.netns) {
                return Ok((existing, false));
            }
            if existing.released {
                // Stopped once: the networks it was on when it stopped.
                networks.clone_from(&existing.pending);
            } else if !existing.plan.is_empty() {
                // A setup cut short by a crash: what it was to join.
                networks.clone_from(&existing.plan);
            } else {
                // Networks joined with `connect` before this first start.
                networks.extend(existing.pending.clone());
            }
            // Released, or wired once but the namespace is gone (a
            // reboot): start over.
            self.teardown_locked(&existing)?;
        }
        // ANCHOR_END: setup_reuse
        // ANCHOR: setup_wire
        let mut sandbox = Sandbox {
            container_id: id.clone(),
            name: request.name.clone(),
            hostname: request.hostname.clone(),
            netns: self.netns_path(id),
            plan: networks.clone(),
            ..Sandbox::default()
        };
        match self.wire(&mut sandbox, request, &networks) {
            Ok(()) => {
                sandbox.plan.clear();
                write_json(&self.sandbox_path(id), &sandbox)?;
                Ok((sandbox, true))
            }
            Err(err) => {
                // Nothing of the wiring stays; the plan does, for the next
                // start.
                if let Err(undo) = self.release_locked(&sandbox) {
                    eprintln!("minidockd: undoing a failed network setup of {id}: {undo}");
                }
                Err(err)
            }
        }
    }
    // ANCHOR_END: setup_wire

    // ANCHOR: wire_netns
    pub(super) fn wire(
        &self,
        sandbox: &mut Sandbox,
        request: &SandboxRequest,
        networks: &[(String, EndpointRequest)],
    ) -> Result<()> {
        let path = self.sandbox_path(&sandbox.container_id);
        write_json(&path, &sandbox)?;
        failpoint::hit("net-setup-after-record");
        let mut inside = netns::create_with_socket(&sandbox.netns)?;
        failpoint::hit("net-setup-after-netns");
        if let Some(lo) = links::index(&mut inside, "lo")? {
            links::set_up(&mut inside, lo)?;
        }
        let mut seen = Vec::new();
        for (reference, wanted) in networks {
            let network = self.find(reference)?;
            if seen.contains(&network.id) {
                continue;
            }
            seen.push(network.id.clone());
            self.join(sandbox, &network, wanted, &mut inside)?;
        }
        // ANCHOR_END: wire_netns
        // ANCHOR: wire_ports
        let gateway = sandbox.endpoints.first().and_then(|e| {
            self.find(&e.network)
                .ok()
                .and_then(|n| n.pool.map(|p| p.gateway))
        });
        for spec in &request.extra_hosts {
            let entry = hosts::parse_extra_host(spec, gateway)?;
            sandbox.extra_hosts.push((entry.ip, entry.names));
        }
        // Written for `refresh_hosts` below, which reads the records; the
        // rest of the record is already there (`join` wrote it).
        if !request.extra_hosts.is_empty() {
            write_json(&path, &sandbox)?;
        }
        if !request.ports.is_empty() {
            let target = sandbox.endpoints.first().map(|e| e.ip).ok_or_else(|| {
                Error::Invalid(
                    "published ports need a bridge network: --network none/host has none".into(),
                )
            })?;
            for choices in &request.ports {
                let mut last = None;
                for port in choices {
                    match ports::publish(
                        &self.config.binary,
                        port,
                        target,
                        &sandbox.netns.display().to_string(),
                    ) {
                        Ok(published) => {
                            failpoint::hit("net-setup-after-proxy");
                            sandbox.ports.push(published);
                            write_json(&path, &sandbox)?;
                            last = None;
                            break;
                        }
                        Err(err) => last = Some(err),
                    }
                }
                if let Some(err) = last {
                    return Err(err);
                }
            }
        }
        // ANCHOR_END: wire_ports
        // ANCHOR: wire_files
        let dir = self.files_dir(&sandbox.container_id);
        fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
        let mut host_resolv = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        if let Some(gateway) = self.dns_server_of(sandbox) {
            // The network's DNS server in place of the host's; the host's
            // search domains stay.
            let search: String = host_resolv
                .lines()
                .filter(|l| l.trim_start().starts_with("search"))
                .map(|l| format!("{l}\n"))
                .collect();
            host_resolv = format!("nameserver {gateway}\n{search}");
        }
        hosts::write_in_place(
            &dir.join("resolv.conf"),
            &hosts::resolv_conf(
                &host_resolv,
                &request.dns,
                &request.dns_search,
                &request.dns_options,
            ),
        )?;
        let full = if request.domainname.is_empty() {
            request.hostname.clone()
        } else {
            format!("{}.{}", request.hostname, request.domainname)
        };
        hosts::write_in_place(&dir.join("hostname"), &format!("{full}\n"))?;
        self.refresh_hosts(Some(&sandbox.container_id))?;
        failpoint::hit("net-setup-after-files");
        Ok(())
    }
    // ANCHOR_END: wire_files

    // ANCHOR: join
    /// Puts the sandbox on one network: an address, recorded before it is
    /// used; the endpoint, recorded before it is made; then the veth pair
    /// and the configuration inside, through `inside`, a netlink socket
    /// opened in the sandbox's namespace.
    pub(super) fn join(
        &self,
        sandbox: &mut Sandbox,
        network: &Network,
        wanted: &EndpointRequest,
        inside: &mut Socket,
    ) -> Result<()> {
        if network.driver != "bridge" {
            return Err(Error::Invalid(format!(
                "container cannot be connected to network {}: a container joins the host's \
                 network or none with --network at create only",
                network.name
            )));
        }
        let mut network = network.clone();
        let pool = network.pool.as_mut().expect("a bridge network has a pool");
        let ip = pool.allocate(&sandbox.container_id, wanted.ip)?;
        let (gateway, prefix) = (pool.gateway, pool.subnet.prefix);
        write_json(&self.network_path(&network.id), &network)?;
        failpoint::hit("net-setup-after-address");
        let mac = match &wanted.mac {
            Some(text) if !text.is_empty() => parse_mac(text)?,
            _ => mac_for(ip),
        };
        let endpoint_id = random_id();
        let ifname = (0..)
            .map(|n| format!("eth{n}"))
            .find(|name| !sandbox.endpoints.iter().any(|e| e.ifname == *name))
            .expect("a free interface name");
        let primary = sandbox.endpoints.is_empty();
        sandbox.endpoints.push(Endpoint {
            network: network.id.clone(),
            id: endpoint_id.clone(),
            ip,
            mac: format_mac(mac),
            aliases: wanted.aliases.clone(),
            veth: format!("mdv{}", &endpoint_id[..12]),
            ifname: ifname.clone(),
            request: wanted.clone(),
        });
        write_json(&self.sandbox_path(&sandbox.container_id), &sandbox)?;
        failpoint::hit("net-setup-after-endpoint");
        let endpoint = sandbox.endpoints.last().expect("just pushed").clone();

        let mut host = host_socket()?;
        let master = links::index(&mut host, &network.bridge)?
            .ok_or_else(|| Error::NotFound(format!("bridge {} is missing", network.bridge)))?;
        let ns = fs::File::open(&sandbox.netns).map_err(Error::io("open", &sandbox.netns))?;
        use std::os::fd::AsFd;
        links::create_veth(&mut host, &endpoint.veth, master, &ifname, ns.as_fd(), mac)?;
        failpoint::hit("net-setup-after-veth");
        links::set_up_tagged(&mut host, &endpoint.veth, &self.tag())?;
        let index = links::index(inside, &ifname)?
            .ok_or_else(|| Error::NotFound(format!("{ifname} is missing in the container")))?;
        links::add_address(inside, index, ip, prefix)?;
        links::set_up(inside, index)?;
        if primary && !network.internal {
            links::add_default_route(inside, gateway, index)?;
        }
        Ok(())
    }
    // ANCHOR_END: join

    /// The DNS server a sandbox's `resolv.conf` names: the gateway of its
    /// first network, when that network resolves names.
    pub(super) fn dns_server_of(&self, sandbox: &Sandbox) -> Option<Ipv4Addr> {
        let first = sandbox.endpoints.first()?;
        let network = self.find(&first.network).ok()?;
        network
            .resolves_names()
            .then(|| network.pool.map(|p| p.gateway))
            .flatten()
    }

    /// Rewrites the `/etc/hosts` of every wired container (or of `only`):
    /// its own line, its `--add-host` entries and its peers by name; and
    /// gives the DNS servers the same records.
    pub(super) fn refresh_hosts(&self, only: Option<&str>) -> Result<()> {
        let sandboxes = self.sandboxes();
        let networks: BTreeMap<String, Network> = self
            .networks()?
            .into_iter()
            .map(|n| (n.id.clone(), n))
            .collect();
        let everyone: Vec<Presence> = sandboxes
            .iter()
            .flat_map(|s| {
                s.endpoints.iter().map(|e| Presence {
                    network: e.network.clone(),
                    container_id: s.container_id.clone(),
                    name: s.name.clone(),
                    aliases: e.aliases.clone(),
                    ip: e.ip,
                })
            })
            .collect();
        let resolving = |id: &str| networks.get(id).is_some_and(Network::resolves_names);
        // Legacy links on user-defined networks (compat): an alias of the
        // target, for the linking container alone.
        let link_aliases: Vec<LinkAlias> = sandboxes
            .iter()
            .flat_map(|s| {
                s.endpoints
                    .iter()
                    .filter(|e| resolving(&e.network))
                    .flat_map(move |e| {
                        e.request.links.iter().filter_map(move |spec| {
                            LinkAlias::parse(&e.network, &s.container_id, spec)
                        })
                    })
            })
            .collect();
        self.resolver.update_links(link_aliases.clone());
        self.resolver.update(
            everyone.clone(),
            networks
                .values()
                .filter(|n| n.resolves_names())
                .map(|n| n.id.clone())
                .collect(),
        );
        for s in &sandboxes {
            if only.is_some_and(|o| o != s.container_id) {
                continue;
            }
            let dir = self.files_dir(&s.container_id);
            if !dir.is_dir() {
                continue;
            }
            let mut extra: Vec<HostEntry> = s
                .extra_hosts
                .iter()
                .map(|(ip, names)| HostEntry {
                    ip: ip.clone(),
                    names: names.clone(),
                })
                .collect();
            extra.extend(peer_entries(&s.container_id, &everyone, &resolving));
            for link in link_aliases
                .iter()
                .filter(|l| l.container_id == s.container_id)
            {
                if let Some(ip) = link_address(link, &everyone) {
                    extra.push(HostEntry {
                        ip: ip.to_string(),
                        names: vec![link.alias.clone()],
                    });
                }
            }
            let own_names = vec![s.hostname.clone()];
            let own = s.endpoints.first().map(|e| (e.ip, own_names.as_slice()));
            hosts::write_in_place(&dir.join("hosts"), &hosts::hosts_file(own, &extra))?;
        }
        Ok(())
    }

    /// Replaces a wired container's `--add-host` entries and rewrites its
    /// `/etc/hosts` (compat: a legacy link's target has a new address).
    /// A container that is not wired is left alone.
    pub fn update_extra_hosts(&self, container_id: &str, specs: &[String]) -> Result<()> {
        let _guard = self.guard();
        let Some(mut sandbox) = self.sandbox(container_id) else {
            return Ok(());
        };
        if !netns::is_pinned(&sandbox.netns) {
            return Ok(());
        }
        let gateway = sandbox.endpoints.first().and_then(|e| {
            self.find(&e.network)
                .ok()
                .and_then(|n| n.pool.map(|p| p.gateway))
        });
        let mut extra = Vec::new();
        for spec in specs {
            let entry = hosts::parse_extra_host(spec, gateway)?;
            extra.push((entry.ip, entry.names));
        }
        sandbox.extra_hosts = extra;
        write_json(&self.sandbox_path(container_id), &sandbox)?;
        self.refresh_hosts(Some(container_id))
    }

    /// The files to bind-mount: host path, path in the container.
    pub fn files(&self, container_id: &str) -> Vec<(PathBuf, PathBuf)> {
        let dir = self.files_dir(container_id);
        FILES
            .iter()
            .map(|f| (dir.join(f), PathBuf::from("/etc").join(f)))
            .collect()
    }

    /// `network connect`: a wired container joins at once; one not yet
    /// started joins at its start.
    pub fn connect(
        &self,
        reference: &str,
        container_id: &str,
        name: &str,
        wanted: EndpointRequest,
    ) -> Result<Network> {
        let _guard = self.guard();
        let network = self.find(reference)?;
        if network.driver != "bridge" {
            return Err(Error::Invalid(format!(
                "container cannot be disconnected from host network or connected to host network ({})",
                network.name
            )));
        }
        let mut sandbox = self.sandbox(container_id).unwrap_or_else(|| Sandbox {
            container_id: container_id.to_string(),
            name: name.to_string(),
            ..Sandbox::default()
        });
        if sandbox.endpoints.iter().any(|e| e.network == network.id)
            || sandbox.pending.iter().any(|(n, _)| *n == network.id)
        {
            return Err(Error::Conflict(format!(
                "endpoint with name {name} already exists in network {}",
                network.name
            )));
        }
        if netns::is_pinned(&sandbox.netns) {
            let joined = netns::socket_in(&sandbox.netns)
                .and_then(|mut inside| self.join(&mut sandbox, &network, &wanted, &mut inside));
            if let Err(err) = joined {
                self.undo_join(&mut sandbox, &network.id);
                return Err(err);
            }
            self.refresh_hosts(None)?;
        } else {
            sandbox.pending.push((network.id.clone(), wanted));
            write_json(&self.sandbox_path(container_id), &sandbox)?;
        }
        Ok(network)
    }

    pub(super) fn undo_join(&self, sandbox: &mut Sandbox, network_id: &str) {
        if let Some(pos) = sandbox
            .endpoints
            .iter()
            .position(|e| e.network == network_id)
        {
            let endpoint = sandbox.endpoints.remove(pos);
            if let Ok(mut host) = host_socket() {
                links::delete(&mut host, &endpoint.veth).ok();
            }
        }
        if let Ok(mut network) = self.find(network_id) {
            if let Some(pool) = network.pool.as_mut() {
                pool.release(&sandbox.container_id);
                write_json(&self.network_path(&network.id), &network).ok();
            }
        }
        write_json(&self.sandbox_path(&sandbox.container_id), &sandbox).ok();
    }

    /// `network disconnect`.
    pub fn disconnect(&self, reference: &str, container_id: &str) -> Result<Network> {
        let _guard = self.guard();
        let network = self.find(reference)?;
        let mut sandbox = self.sandbox(container_id).ok_or_else(|| {
            Error::NotFound(format!(
                "container {container_id} is not connected to network {}",
                network.name
            ))
        })?;
        let before = (sandbox.endpoints.len(), sandbox.pending.len());
        sandbox.pending.retain(|(n, _)| *n != network.id);
        if sandbox.endpoints.iter().any(|e| e.network == network.id) {
            self.undo_join(&mut sandbox, &network.id);
        }
        if before == (sandbox.endpoints.len(), sandbox.pending.len()) {
            return Err(Error::NotFound(format!(
                "container {container_id} is not connected to network {}",
                network.name
            )));
        }
        if sandbox.endpoints.is_empty()
            && sandbox.pending.is_empty()
            && !sandbox.released
            && !netns::is_pinned(&sandbox.netns)
        {
            fs::remove_file(self.sandbox_path(container_id)).ok();
        } else {
            write_json(&self.sandbox_path(container_id), &sandbox)?;
        }
        self.refresh_hosts(None)?;
        Ok(network)
    }
}
