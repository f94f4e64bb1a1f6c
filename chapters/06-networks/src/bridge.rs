//! The bridge driver: networks and the containers on them.
//!
//! A *network* is a Linux bridge with the network's gateway address, an
//! address pool ([`crate::ipam`]) and an nftables table ([`crate::nat`]).
//! A container's *sandbox* is its pinned network namespace
//! ([`crate::netns`]), its files ([`crate::hosts`]), its published ports
//! ([`crate::ports`]) and one *endpoint* per network: a veth pair from the
//! bridge to an `ethN` inside, with an address from the pool.
//!
//! ```text
//!   host                                     container's namespace
//!  ┌──────────────────────────────────┐    ┌────────────────────────┐
//!  │ md-1a2b3c (bridge) 172.18.0.1/16 │    │ eth0  172.18.0.2/16    │
//!  │   └── mdv9f8e7d ═══ veth ════════╪════╪═╛ default via .0.1     │
//!  └──────────────────────────────────┘    └────────────────────────┘
//! ```
//!
//! Every step is written down before it is taken (the address in the
//! network's file, the endpoint in the sandbox's file), so that a daemon
//! killed at any point finds at start what to finish or undo. Crash tests
//! kill it at each step through chapter 03's fail points:
//! `net-setup-after-record`, `-after-netns`, `-after-address`,
//! `-after-endpoint`, `-after-veth`, `-after-proxy` (a proxy started, not
//! yet recorded: [`Driver::reconcile`] finds it by its command line) and
//! `-after-files`.

use crate::compat::reaper::Reaper;
use crate::compat::resolver::{self, Resolver};
use crate::dns::{peer_entries, Presence};
use crate::error::{Error, Result};
use crate::hosts::{self, HostEntry};
use crate::ipam::{Pool, Subnet};
use crate::netlink::{Socket, NETLINK_ROUTE};
use crate::ports::{self, PortRequest, Published};
use crate::{links, nat, netns};
use minidock_lifecycle::failpoint;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The name of the default network.
pub const DEFAULT_NETWORK: &str = "bridge";

/// How the driver is set up (the daemon's flags).
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// Where networks and sandboxes are kept (`ROOT/networks`).
    pub state: PathBuf,
    /// Where namespaces are pinned (`RUN/netns`).
    pub run: PathBuf,
    /// The engine's binary, re-executed as port proxies.
    pub binary: PathBuf,
    /// The default network's subnet; `None`: no default network, and
    /// containers without `--network` get none.
    pub default_subnet: Option<Subnet>,
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

/// The three files bind-mounted into a container.
pub const FILES: [&str; 3] = ["hosts", "resolv.conf", "hostname"];

/// The bridge driver. One lock serialises every change: networks change
/// rarely, and the kernel work is milliseconds.
pub struct Driver {
    config: DriverConfig,
    lock: Mutex<()>,
    resolver: Resolver,
    reaper: Reaper,
}

fn random_id() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Writes JSON atomically: a temporary file, then a rename over the old
/// one, so a daemon killed at any point leaves the old record or the new.
/// No fsync: the records describe what lives in the running kernel (links,
/// namespaces, proxies), which a power loss takes away with them, and a
/// flush per step would cost more than the whole wiring.
fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Invalid(e.to_string()))?;
    fs::write(&tmp, &bytes).map_err(Error::io("write", &tmp))?;
    fs::rename(&tmp, path).map_err(Error::io("rename", path))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).map_err(Error::io("read", path))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::Invalid(format!("{} is damaged: {e}", path.display())))
}

fn host_socket() -> Result<Socket> {
    Socket::open(NETLINK_ROUTE).map_err(|source| Error::Netlink {
        what: "open a netlink socket".into(),
        source,
    })
}

/// Docker's MAC address for an IPv4 address: `02:42` and its four bytes.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

fn parse_mac(text: &str) -> Result<[u8; 6]> {
    let parts: Vec<u8> = text
        .split(':')
        .map(|p| u8::from_str_radix(p, 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::Invalid(format!("invalid MAC address {text:?}")))?;
    parts
        .try_into()
        .map_err(|_| Error::Invalid(format!("invalid MAC address {text:?}: six bytes")))
}

fn format_mac(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The subnets of the host's own routes (ignoring the default route and
/// blackholes), which a new network must not overlap.
fn host_route_subnets() -> Vec<Subnet> {
    let text = fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (iface, dest, mask) = (f.first()?, f.get(1)?, f.get(7)?);
            let dest = u32::from_str_radix(dest, 16).ok()?.swap_bytes();
            let mask = u32::from_str_radix(mask, 16).ok()?.swap_bytes();
            if *iface == "*" || mask == 0 {
                return None;
            }
            Some(Subnet {
                base: Ipv4Addr::from(dest),
                prefix: mask.count_ones() as u8,
            })
        })
        .collect()
}

impl Driver {
    /// Opens the driver's state, brings every network's bridge and rules
    /// back (after a reboot or a firewall flush), and makes the predefined
    /// networks.
    pub fn open(config: DriverConfig) -> Result<Driver> {
        for dir in [
            config.state.clone(),
            config.state.join("sandboxes"),
            config.run.clone(),
        ] {
            fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
        }
        let upstream = if config.dns_forward {
            resolver::nameservers(&fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
        } else {
            Vec::new()
        };
        let driver = Driver {
            config,
            lock: Mutex::new(()),
            resolver: Resolver::new(upstream),
            reaper: Reaper::default(),
        };
        let _guard = driver.guard();
        let networks = driver.networks()?;
        let find = |name: &str| networks.iter().find(|n| n.name == name && n.predefined);
        if let Some(subnet) = driver.config.default_subnet {
            if find(DEFAULT_NETWORK).is_none() {
                let spec = NetworkSpec {
                    name: DEFAULT_NETWORK.into(),
                    subnet: Some(subnet),
                    ..NetworkSpec::default()
                };
                // A host that already routes the subnet (Docker's docker0
                // on 172.17.0.0/16) must not keep the daemon from starting.
                if let Err(err) = driver.create_locked(&spec, true) {
                    eprintln!(
                        "minidockd: WARNING: no default network: {err}; containers without \
                         --network get none (choose a free subnet with --bridge-subnet)"
                    );
                }
            }
        }
        for (name, kind) in [("host", "host"), ("none", "null")] {
            if find(name).is_none() {
                let network = Network {
                    id: random_id(),
                    name: name.into(),
                    driver: kind.into(),
                    created: minidock_daemon::time::rfc3339(std::time::SystemTime::now()),
                    bridge: String::new(),
                    internal: false,
                    attachable: false,
                    labels: BTreeMap::new(),
                    options: BTreeMap::new(),
                    pool: None,
                    predefined: true,
                };
                write_json(&driver.network_path(&network.id), &network)?;
            }
        }
        for network in driver.networks()? {
            if network.driver == "bridge" {
                if let Err(err) = driver.bring_up(&network) {
                    eprintln!("minidockd: network {}: {err}", network.name);
                }
            }
        }
        // The names known before a restart resolve at once.
        driver.refresh_hosts(Some(""))?;
        drop(_guard);
        Ok(driver)
    }

    /// What every link and table of this daemon carries (a link's alias,
    /// a table's comment): `minidock` and its state directory. Names are
    /// too short to hold it (15 bytes for a link).
    pub fn tag(&self) -> String {
        format!("minidock {}", self.config.state.display())
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn network_path(&self, id: &str) -> PathBuf {
        self.config.state.join(format!("{id}.json"))
    }

    fn sandbox_path(&self, container_id: &str) -> PathBuf {
        self.config
            .state
            .join("sandboxes")
            .join(format!("{container_id}.json"))
    }

    /// The directory of a container's files (`hosts`, …).
    pub fn files_dir(&self, container_id: &str) -> PathBuf {
        self.config.state.join("sandboxes").join(container_id)
    }

    fn netns_path(&self, container_id: &str) -> PathBuf {
        self.config.run.join(container_id)
    }

    /// Every network, oldest first.
    pub fn networks(&self) -> Result<Vec<Network>> {
        let mut list = Vec::new();
        let dir =
            fs::read_dir(&self.config.state).map_err(Error::io("read", &self.config.state))?;
        for entry in dir.filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                match read_json::<Network>(&path) {
                    Ok(n) => list.push(n),
                    Err(err) => eprintln!("minidockd: skipping network file: {err}"),
                }
            }
        }
        list.sort_by(|a, b| a.created.cmp(&b.created).then(a.name.cmp(&b.name)));
        Ok(list)
    }

    /// Finds a network by id, name or unique id prefix.
    pub fn find(&self, reference: &str) -> Result<Network> {
        let networks = self.networks()?;
        if let Some(n) = networks
            .iter()
            .find(|n| n.id == reference || n.name == reference)
        {
            return Ok(n.clone());
        }
        let matches: Vec<&Network> = networks
            .iter()
            .filter(|n| n.id.starts_with(reference))
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::NotFound(format!("network {reference} not found"))),
            _ => Err(Error::Invalid(format!(
                "network {reference} is ambiguous ({} matches found on id prefix)",
                matches.len()
            ))),
        }
    }

    /// Every sandbox.
    pub fn sandboxes(&self) -> Vec<Sandbox> {
        let dir = self.config.state.join("sandboxes");
        let Ok(entries) = fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut list: Vec<Sandbox> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter_map(|p| read_json(&p).ok())
            .collect();
        list.sort_by(|a, b| a.container_id.cmp(&b.container_id));
        list
    }

    /// The sandbox of a container, if it has one.
    pub fn sandbox(&self, container_id: &str) -> Option<Sandbox> {
        read_json(&self.sandbox_path(container_id)).ok()
    }

    // ---- networks ----

    /// `network create`.
    pub fn create(&self, spec: &NetworkSpec) -> Result<Network> {
        let _guard = self.guard();
        self.create_locked(spec, false)
    }

    fn pick_subnet(&self, taken: &[Subnet]) -> Result<Subnet> {
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

    fn create_locked(&self, spec: &NetworkSpec, predefined: bool) -> Result<Network> {
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

    /// Makes sure the bridge exists with its address and is up, and that
    /// the network's nftables table is in place.
    fn bring_up(&self, network: &Network) -> Result<()> {
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

    fn bring_down(&self, network: &Network) -> Result<()> {
        if network.driver != "bridge" {
            return Ok(());
        }
        self.resolver.stop(&network.id);
        nat::remove(&nat::table_name(&network.id))?;
        let mut sock = host_socket()?;
        links::delete(&mut sock, &network.bridge)
    }

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

    // ---- containers ----

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

    fn wire(
        &self,
        sandbox: &mut Sandbox,
        request: &SandboxRequest,
        networks: &[(String, EndpointRequest)],
    ) -> Result<()> {
        let path = self.sandbox_path(&sandbox.container_id);
        write_json(&path, &sandbox)?;
        failpoint::hit("net-setup-after-record");
        netns::create(&sandbox.netns)?;
        failpoint::hit("net-setup-after-netns");
        let mut inside = netns::socket_in(&sandbox.netns)?;
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
        let gateway = sandbox.endpoints.first().and_then(|e| {
            self.find(&e.network)
                .ok()
                .and_then(|n| n.pool.map(|p| p.gateway))
        });
        for spec in &request.extra_hosts {
            let entry = hosts::parse_extra_host(spec, gateway)?;
            sandbox.extra_hosts.push((entry.ip, entry.names));
        }
        write_json(&path, &sandbox)?;
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

    // ANCHOR: join
    /// Puts the sandbox on one network: an address, recorded before it is
    /// used; the endpoint, recorded before it is made; then the veth pair
    /// and the configuration inside, through `inside`, a netlink socket
    /// opened in the sandbox's namespace.
    fn join(
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
    fn dns_server_of(&self, sandbox: &Sandbox) -> Option<Ipv4Addr> {
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
    fn refresh_hosts(&self, only: Option<&str>) -> Result<()> {
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
            let own_names = vec![s.hostname.clone()];
            let own = s.endpoints.first().map(|e| (e.ip, own_names.as_slice()));
            hosts::write_in_place(&dir.join("hosts"), &hosts::hosts_file(own, &extra))?;
        }
        Ok(())
    }

    /// The files to bind-mount: host path, path in the container.
    pub fn files(&self, container_id: &str) -> Vec<(PathBuf, PathBuf)> {
        let dir = self.files_dir(container_id);
        FILES
            .iter()
            .map(|f| (dir.join(f), PathBuf::from("/etc").join(f)))
            .collect()
    }

    /// Unwires a container; nothing to do is no error.
    pub fn teardown(&self, container_id: &str) -> Result<()> {
        let _guard = self.guard();
        match self.sandbox(container_id) {
            Some(s) => {
                self.teardown_locked(&s)?;
                self.refresh_hosts(None)
            }
            None => Ok(()),
        }
    }

    fn teardown_locked(&self, sandbox: &Sandbox) -> Result<()> {
        self.unwire(sandbox)?;
        let path = self.sandbox_path(&sandbox.container_id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &path)(e)),
        }
    }

    // ANCHOR: release
    /// A container stopped (or its start failed): its ports, links,
    /// namespace and addresses go back, and its sandbox remembers only
    /// which networks to join at the next start, with what it asked for
    /// there. Returns the networks it left. Nothing to do is no error.
    pub fn release(&self, container_id: &str) -> Result<Vec<Network>> {
        let _guard = self.guard();
        let Some(sandbox) = self.sandbox(container_id) else {
            return Ok(Vec::new());
        };
        let wired = !sandbox.endpoints.is_empty()
            || !sandbox.plan.is_empty()
            || netns::is_pinned(&sandbox.netns);
        if sandbox.released || !wired {
            return Ok(Vec::new());
        }
        self.release_locked(&sandbox)
    }

    fn release_locked(&self, sandbox: &Sandbox) -> Result<Vec<Network>> {
        let container_id = &sandbox.container_id;
        let mut left = Vec::new();
        for endpoint in &sandbox.endpoints {
            if let Ok(network) = self.find(&endpoint.network) {
                left.push(network);
            }
        }
        let pending = if sandbox.plan.is_empty() {
            let mut pending: Vec<_> = sandbox
                .endpoints
                .iter()
                .map(|endpoint| {
                    let mut asked = endpoint.request.clone();
                    asked.aliases.clone_from(&endpoint.aliases);
                    (endpoint.network.clone(), asked)
                })
                .collect();
            pending.extend(sandbox.pending.iter().cloned());
            pending
        } else {
            // A setup cut short: what it was to join.
            sandbox.plan.clone()
        };
        // Recorded once the wiring is gone: a crash in between leaves the
        // old record, and `reconcile` releases it again (every step of
        // `unwire` is done when there is nothing left to do).
        let released = Sandbox {
            container_id: sandbox.container_id.clone(),
            name: sandbox.name.clone(),
            hostname: sandbox.hostname.clone(),
            pending,
            released: true,
            ..Sandbox::default()
        };
        self.unwire(sandbox)?;
        write_json(&self.sandbox_path(container_id), &released)?;
        self.refresh_hosts(None)?;
        Ok(left)
    }
    // ANCHOR_END: release

    /// Takes a sandbox's wiring away (ports, links, namespace, addresses,
    /// files), leaving its record.
    fn unwire(&self, sandbox: &Sandbox) -> Result<()> {
        let tag = sandbox.netns.display().to_string();
        for port in &sandbox.ports {
            ports::unpublish(port, &tag);
        }
        // The veths go with the namespace: once it is unpinned and its
        // processes are gone, the kernel deletes every interface inside,
        // and a veth's host end with its peer. That takes tens of
        // milliseconds of the kernel's time (it waits for readers of the
        // old interfaces to finish), so it is not waited for here, where
        // `run --rm` waits: the reaper checks a moment later and deletes
        // whatever is still there.
        self.reaper
            .defer(sandbox.endpoints.iter().map(|e| e.veth.clone()).collect());
        if !sandbox.netns.as_os_str().is_empty() {
            netns::remove(&sandbox.netns)?;
        }
        for network in self.networks()? {
            if let Some(mut pool) = network.pool.clone() {
                if pool.allocated.values().any(|o| *o == sandbox.container_id) {
                    pool.release(&sandbox.container_id);
                    let mut network = network.clone();
                    network.pool = Some(pool);
                    write_json(&self.network_path(&network.id), &network)?;
                }
            }
        }
        let dir = self.files_dir(&sandbox.container_id);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(Error::io("remove", &dir))?;
        }
        Ok(())
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

    fn undo_join(&self, sandbox: &mut Sandbox, network_id: &str) {
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

    /// Stops the port proxies of this daemon's namespaces that no sandbox
    /// records: a daemon killed between a proxy's start and its record
    /// left them.
    fn sweep_proxies(&self) {
        let known: Vec<i32> = self
            .sandboxes()
            .iter()
            .flat_map(|s| s.ports.iter().filter_map(|p| p.proxy_pid))
            .collect();
        let ours = format!("{}/", self.config.run.display());
        let Ok(entries) = fs::read_dir("/proc") else {
            return;
        };
        for pid in entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| !known.contains(pid))
        {
            if ports::is_proxy(pid, &ours) {
                let orphan = Published {
                    proto: ports::Proto::Tcp,
                    container_port: 0,
                    host_ip: Ipv4Addr::UNSPECIFIED,
                    host_port: 0,
                    proxy_pid: Some(pid),
                };
                ports::unpublish(&orphan, &ours);
            }
        }
    }

    /// Deletes the links and tables that carry this daemon's tag but that
    /// no record names: a network whose file went while its bridge or
    /// table stayed (a crash between the two, an older engine), a veth
    /// the reaper had not yet seen to when the daemon died.
    fn sweep_tagged(&self) -> Result<()> {
        let tag = self.tag();
        let networks = self.networks()?;
        let sandboxes = self.sandboxes();
        let known_links: Vec<&str> = networks
            .iter()
            .map(|n| n.bridge.as_str())
            .chain(
                sandboxes
                    .iter()
                    .flat_map(|s| s.endpoints.iter().map(|e| e.veth.as_str())),
            )
            .collect();
        let mut host = host_socket()?;
        for link in links::tagged(&mut host, &tag)? {
            if !known_links.contains(&link.as_str()) {
                eprintln!("minidockd: deleting link {link}: no network or container has it");
                links::delete(&mut host, &link)?;
            }
        }
        let known_tables: Vec<String> = networks
            .iter()
            .filter(|n| n.driver == "bridge")
            .map(|n| nat::table_name(&n.id))
            .collect();
        for (table, comment) in nat::tables_with_comments()? {
            if comment == tag && !known_tables.contains(&table) {
                eprintln!("minidockd: deleting nftables table {table}: no network has it");
                nat::remove(&table)?;
            }
        }
        Ok(())
    }

    /// At daemon start: unwires every sandbox whose container is gone,
    /// releases those of containers that stopped while no daemon watched
    /// (`running` lists those that run), and frees addresses held by
    /// nobody (a crash between the two writes).
    pub fn reconcile(&self, existing: &[String], running: &[String]) -> Result<()> {
        let stopped: Vec<String> = self
            .sandboxes()
            .into_iter()
            .filter(|s| existing.contains(&s.container_id) && !running.contains(&s.container_id))
            .filter(|s| !s.endpoints.is_empty() || !s.plan.is_empty() || netns::is_pinned(&s.netns))
            .map(|s| s.container_id)
            .collect();
        for id in stopped {
            self.release(&id)?;
        }
        let _guard = self.guard();
        for sandbox in self.sandboxes() {
            if !existing.contains(&sandbox.container_id) {
                self.teardown_locked(&sandbox)?;
            }
        }
        let wired: Vec<String> = self
            .sandboxes()
            .into_iter()
            .map(|s| s.container_id)
            .collect();
        self.sweep_proxies();
        self.sweep_tagged()?;
        for mut network in self.networks()? {
            if let Some(pool) = network.pool.as_mut() {
                let before = pool.allocated.len();
                pool.allocated.retain(|_, owner| wired.contains(owner));
                if pool.allocated.len() != before {
                    write_json(&self.network_path(&network.id), &network)?;
                }
            }
        }
        self.refresh_hosts(None)
    }
}
