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
//!
//! The driver, file by file: `records.rs` (what is written down), this file
//! (the driver and its records on disk), `networks.rs` (`network create`
//! and `rm`), `sandbox.rs` (a container joins its networks), `teardown.rs`
//! (it leaves them) and `reconcile.rs` (the daemon's start after a crash).

use crate::compat::reaper::Reaper;
use crate::compat::resolver::{self, Resolver};
use crate::error::{Error, Result};
use crate::ipam::Subnet;
use crate::netlink::{Socket, NETLINK_ROUTE};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod networks;
mod reconcile;
mod records;
mod sandbox;
mod teardown;

pub use records::{
    DriverConfig, Endpoint, EndpointRequest, Network, NetworkSpec, Sandbox, SandboxRequest,
    DEFAULT_NETWORK, FILES,
};

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
///
/// Nor an implicit one: ext4 starts writing a file out, and often waits
/// for its journal, when a `rename` replaces another file with it (its
/// `auto_da_alloc` guard for programs that forget to `fsync`) — 5 to 15 ms
/// per record on a busy disk, several times per setup. An existing record
/// is therefore swapped with the new one (`RENAME_EXCHANGE`, atomic as
/// well, and exempt from that flush), and the old one, now under the
/// temporary name, is deleted.
fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Invalid(e.to_string()))?;
    fs::write(&tmp, &bytes).map_err(Error::io("write", &tmp))?;
    match minidock_lifecycle::atomic::exchange(&tmp, path) {
        Ok(()) => {
            fs::remove_file(&tmp).map_err(Error::io("remove", &tmp))?;
            Ok(())
        }
        // No record yet (nothing to replace, nothing to flush), or a file
        // system without the exchange: a plain rename.
        Err(_) => fs::rename(&tmp, path).map_err(Error::io("rename", path)),
    }
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

// ANCHOR: host_routes
/// The subnets of the host's own routes (ignoring the default route and
/// blackholes), which a new network must not overlap. The routes of the
/// calling thread's network namespace (`/proc/net` would show the main
/// thread's): the driver works in the namespace it was opened in.
fn host_route_subnets() -> Vec<Subnet> {
    let text = fs::read_to_string("/proc/thread-self/net/route").unwrap_or_default();
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
// ANCHOR_END: host_routes

// ANCHOR: driver_open
impl Driver {
    /// Opens the driver's state, brings every network's bridge and rules
    /// back (after a reboot or a firewall flush), and makes the predefined
    /// networks.
    pub fn open(config: DriverConfig) -> Result<Driver> {
        for dir in [
            config.state.clone(),
            config.state.join("sandboxes"),
            config.run.clone(),
            config.files.clone(),
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
                    subnet: Some(driver.default_subnet(subnet, &networks)),
                    ..NetworkSpec::default()
                };
                // A host that already routes the subnet it was told to use
                // (Docker's docker0 on 172.17.0.0/16) must not keep the
                // daemon from starting.
                if let Err(err) = driver.create_locked(&spec, true) {
                    eprintln!(
                        "minidockd: WARNING: no default network: {err}; containers without \
                         --network get none (choose a free subnet with --bridge-subnet)"
                    );
                }
            }
            // ANCHOR_END: driver_open
            // ANCHOR: driver_bring_up
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
        // ANCHOR_END: driver_bring_up
        Ok(driver)
    }

    // ANCHOR: default_subnet
    /// The default network's subnet: `wanted`, unless the user did not
    /// choose it and a host route or another network already holds it;
    /// then the first free subnet of the pools (172.18.0.0/16 next to a
    /// `docker0` on 172.17.0.0/16). With none free, `wanted`, whose
    /// refusal then names the route in the way.
    fn default_subnet(&self, wanted: Subnet, networks: &[Network]) -> Subnet {
        if self.config.default_subnet_chosen {
            return wanted;
        }
        let taken: Vec<Subnet> = networks
            .iter()
            .filter_map(|n| n.pool.as_ref().map(|p| p.subnet))
            .chain(host_route_subnets())
            .collect();
        if !taken.iter().any(|t| t.overlaps(&wanted)) {
            return wanted;
        }
        match self.pick_subnet(&taken) {
            Ok(free) => {
                eprintln!(
                    "minidockd: {wanted} is in use on this host: the default network takes {free}"
                );
                free
            }
            Err(_) => wanted,
        }
    }
    // ANCHOR_END: default_subnet

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
        self.config.files.join(container_id)
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
}
