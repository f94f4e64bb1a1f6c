//! The DNS server of user-defined networks: one UDP socket per network on
//! its gateway's port 53, answered from the daemon's records of who is on
//! which network ([`crate::dns`] reads the queries and writes the answers).
//!
//! Docker puts its resolver at `127.0.0.11` inside each container and
//! steers the packets to the daemon with NAT rules in the container's
//! namespace. minidock listens on the gateway instead — an address every
//! container on the network already reaches, with no rule at all — as
//! Podman's aardvark-dns does. Containers' `resolv.conf` names it.
//!
//! A name the records do not have is forwarded to the host's own servers
//! (`minidockd --dns-forward=true`, the default) or answered NXDOMAIN
//! (`--dns-forward=false`: nothing leaves the machine).

use crate::dns::{self, Presence};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a forwarded query waits for the host's server.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(3);

/// Who answers to which name: every container's place on every network.
#[derive(Debug, Default)]
struct Records {
    everyone: Vec<Presence>,
    /// The ids of the networks that resolve names.
    resolving: BTreeSet<String>,
}

struct Server {
    address: SocketAddrV4,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The resolver of every user-defined network.
pub struct Resolver {
    records: Arc<RwLock<Records>>,
    /// The host's servers, for the names no container has; empty: none.
    upstream: Vec<SocketAddr>,
    servers: Mutex<BTreeMap<String, Server>>,
}

/// The servers of a `resolv.conf`.
pub fn nameservers(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|s| s.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

impl Resolver {
    /// A resolver that forwards unknown names to `upstream` (none: it
    /// answers NXDOMAIN).
    pub fn new(upstream: Vec<SocketAddr>) -> Resolver {
        Resolver {
            records: Arc::default(),
            upstream,
            servers: Mutex::default(),
        }
    }

    /// The records, from the daemon's sandboxes: called whenever a
    /// container joins or leaves a network.
    pub fn update(&self, everyone: Vec<Presence>, resolving: BTreeSet<String>) {
        let mut records = self.records.write().unwrap_or_else(|p| p.into_inner());
        records.everyone = everyone;
        records.resolving = resolving;
    }

    /// Serves `network` on `gateway:53`; a network already served is left
    /// as it is.
    pub fn serve(&self, network: &str, gateway: Ipv4Addr) -> Result<()> {
        let mut servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        if servers.contains_key(network) {
            return Ok(());
        }
        let address = SocketAddrV4::new(gateway, 53);
        let socket = UdpSocket::bind(address).map_err(|source| Error::Io {
            what: "listen for DNS queries on",
            path: address.to_string().into(),
            source,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let context = Context {
            socket: Arc::new(socket),
            network: network.to_string(),
            records: self.records.clone(),
            upstream: self.upstream.clone(),
        };
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("dns-{}", &network[..network.len().min(12)]))
            .spawn(move || context.run(&stopping))
            .map_err(|source| Error::Io {
                what: "start the DNS server on",
                path: address.to_string().into(),
                source,
            })?;
        servers.insert(
            network.to_string(),
            Server {
                address,
                stop,
                thread: Some(thread),
            },
        );
        Ok(())
    }

    /// Stops serving `network` (its bridge goes away).
    pub fn stop(&self, network: &str) {
        let server = self
            .servers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(network);
        if let Some(mut server) = server {
            server.stop.store(true, Ordering::SeqCst);
            // An empty datagram wakes the thread from its `recv_from`.
            if let Ok(waker) = UdpSocket::bind((server.address.ip().to_owned(), 0)) {
                waker.send_to(&[], server.address).ok();
            }
            if let Some(thread) = server.thread.take() {
                thread.join().ok();
            }
        }
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        let networks: Vec<String> = self
            .servers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        for network in networks {
            self.stop(&network);
        }
    }
}

/// What one network's server thread needs.
struct Context {
    socket: Arc<UdpSocket>,
    network: String,
    records: Arc<RwLock<Records>>,
    upstream: Vec<SocketAddr>,
}

impl Context {
    fn run(&self, stop: &AtomicBool) {
        let mut buffer = [0u8; 1500];
        while !stop.load(Ordering::SeqCst) {
            let (len, from) = match self.socket.recv_from(&mut buffer) {
                Ok(got) => got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    eprintln!("minidockd: DNS server of network {}: {e}", self.network);
                    return;
                }
            };
            if stop.load(Ordering::SeqCst) {
                return;
            }
            if len == 0 {
                continue;
            }
            self.answer(&buffer[..len], from);
        }
    }

    fn answer(&self, query: &[u8], from: SocketAddr) {
        let question = match dns::parse_query(query) {
            Ok(q) => q,
            Err(_) => {
                self.socket
                    .send_to(&dns::error_answer(query, dns::FORMERR), from)
                    .ok();
                return;
            }
        };
        let asker = match from.ip() {
            std::net::IpAddr::V4(ip) => ip,
            std::net::IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        };
        let found = {
            let records = self.records.read().unwrap_or_else(|p| p.into_inner());
            let resolving = |id: &str| records.resolving.contains(id);
            dns::lookup(
                &question.name,
                asker,
                &self.network,
                &records.everyone,
                &resolving,
            )
        };
        if found.is_none() && !self.upstream.is_empty() {
            self.forward(query.to_vec(), from);
            return;
        }
        let packet = dns::answer(query, &question, found.as_deref());
        self.socket.send_to(&packet, from).ok();
    }

    /// Asks the host's servers, from a thread of its own so that a slow
    /// server does not hold up the names the daemon knows.
    fn forward(&self, query: Vec<u8>, to: SocketAddr) {
        let socket = self.socket.clone();
        let upstream = self.upstream.clone();
        std::thread::spawn(move || {
            for server in upstream {
                let bind: SocketAddr = if server.is_ipv4() {
                    (Ipv4Addr::UNSPECIFIED, 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let Ok(out) = UdpSocket::bind(bind) else {
                    continue;
                };
                if out.set_read_timeout(Some(FORWARD_TIMEOUT)).is_err()
                    || out.connect(server).is_err()
                    || out.send(&query).is_err()
                {
                    continue;
                }
                let mut buffer = [0u8; 4096];
                if let Ok(len) = out.recv(&mut buffer) {
                    socket.send_to(&buffer[..len], to).ok();
                    return;
                }
            }
            // No server answered: say so rather than let the client wait.
            socket.send_to(&dns::error_answer(&query, 2), to).ok();
        });
    }
}
