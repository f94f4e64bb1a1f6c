//! The DNS server of user-defined networks: one UDP socket and one TCP
//! listener per network on its gateway's port 53, answered from the
//! daemon's records of who is on which network ([`crate::dns`] reads the
//! queries and writes the answers).
//!
//! Over TCP (RFC 1035 §4.2.2, RFC 7766) each message is preceded by its
//! length in two bytes, and a client may send several queries on one
//! connection; clients fall back to it when an answer over UDP comes
//! truncated, and some resolvers (`dig +tcp`, `options use-vc`) use it
//! from the start.
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
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a forwarded query waits for the host's server.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a TCP connection may sit idle between queries (RFC 7766
/// asks servers to close idle connections after seconds).
const TCP_IDLE: Duration = Duration::from_secs(10);

/// Who answers to which name: every container's place on every network.
#[derive(Debug, Default)]
struct Records {
    everyone: Vec<Presence>,
    /// The ids of the networks that resolve names.
    resolving: BTreeSet<String>,
    /// Legacy links on user-defined networks: names one container alone
    /// has for another.
    links: Vec<LinkAlias>,
}

/// `--link NAME:ALIAS` of a container on a user-defined network, as
/// dockerd keeps it: `ALIAS` resolves to `NAME` for that container alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkAlias {
    /// The network's id.
    pub network: String,
    /// The linking container's id.
    pub container_id: String,
    /// The alias, as the linking container asks for it.
    pub alias: String,
    /// The name (or id) of the container it stands for.
    pub target: String,
}

impl LinkAlias {
    /// Reads `NAME:ALIAS` (or `NAME`, or inspect's `/NAME:/PARENT/ALIAS`)
    /// of `container_id` on `network`; `None` for an empty one.
    pub fn parse(network: &str, container_id: &str, spec: &str) -> Option<LinkAlias> {
        let (target, alias) = spec.split_once(':').unwrap_or((spec, spec));
        let alias = alias.rsplit('/').next().unwrap_or(alias);
        let target = target.trim_start_matches('/');
        (!target.is_empty() && !alias.is_empty()).then(|| LinkAlias {
            network: network.to_string(),
            container_id: container_id.to_string(),
            alias: alias.to_string(),
            target: target.to_string(),
        })
    }
}

/// The address, on `link`'s network, of the container `link` names.
pub fn link_address(link: &LinkAlias, everyone: &[Presence]) -> Option<Ipv4Addr> {
    everyone
        .iter()
        .find(|p| {
            p.network == link.network
                && (p.name == link.target
                    || (link.target.len() >= 12 && p.container_id.starts_with(&link.target)))
        })
        .map(|p| p.ip)
}

struct Server {
    address: SocketAddrV4,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The TCP side; `None` when port 53/tcp was taken (UDP still serves).
    tcp: Option<JoinHandle<()>>,
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

    /// The legacy links of containers on user-defined networks: called
    /// with [`Resolver::update`].
    pub fn update_links(&self, links: Vec<LinkAlias>) {
        let mut records = self.records.write().unwrap_or_else(|p| p.into_inner());
        records.links = links;
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
        let context = Arc::new(Context {
            socket: Arc::new(socket),
            network: network.to_string(),
            records: self.records.clone(),
            upstream: self.upstream.clone(),
        });
        let short = &network[..network.len().min(12)];
        let (udp_context, stopping) = (context.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("dns-{short}"))
            .spawn(move || udp_context.run(&stopping))
            .map_err(|source| Error::Io {
                what: "start the DNS server on",
                path: address.to_string().into(),
                source,
            })?;
        let tcp = match TcpListener::bind(address) {
            Ok(listener) => {
                let stopping = stop.clone();
                std::thread::Builder::new()
                    .name(format!("dns-tcp-{short}"))
                    .spawn(move || context.run_tcp(&listener, &stopping))
                    .ok()
            }
            Err(err) => {
                eprintln!(
                    "minidockd: WARNING: no DNS over TCP on {address}: {err}; UDP still answers"
                );
                None
            }
        };
        servers.insert(
            network.to_string(),
            Server {
                address,
                stop,
                thread: Some(thread),
                tcp,
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
            if let Some(thread) = server.tcp.take() {
                // A connection wakes the thread from its `accept`.
                TcpStream::connect_timeout(&server.address.into(), Duration::from_secs(1)).ok();
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

    /// Accepts TCP connections until `stop`, each served on a thread of
    /// its own.
    fn run_tcp(self: &Arc<Self>, listener: &TcpListener, stop: &AtomicBool) {
        for stream in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let Ok(stream) = stream else {
                continue;
            };
            let context = self.clone();
            std::thread::spawn(move || context.serve_connection(stream));
        }
    }

    /// Answers the queries of one TCP connection: two bytes of length,
    /// then the message, both ways; until the client closes it or is idle
    /// for [`TCP_IDLE`].
    fn serve_connection(&self, mut stream: TcpStream) {
        let Ok(from) = stream.peer_addr() else {
            return;
        };
        if stream.set_read_timeout(Some(TCP_IDLE)).is_err() {
            return;
        }
        loop {
            let mut length = [0u8; 2];
            if stream.read_exact(&mut length).is_err() {
                return;
            }
            let mut query = vec![0u8; usize::from(u16::from_be_bytes(length))];
            if stream.read_exact(&mut query).is_err() {
                return;
            }
            let answer = match self.resolve(&query, from) {
                Resolved::Answer(packet) => packet,
                Resolved::Forward => forward_to(&self.upstream, &query),
            };
            let Ok(len) = u16::try_from(answer.len()) else {
                return;
            };
            let mut framed = len.to_be_bytes().to_vec();
            framed.extend(answer);
            if stream.write_all(&framed).is_err() {
                return;
            }
        }
    }

    fn answer(&self, query: &[u8], from: SocketAddr) {
        match self.resolve(query, from) {
            Resolved::Answer(packet) => {
                self.socket.send_to(&packet, from).ok();
            }
            Resolved::Forward => self.forward(query.to_vec(), from),
        }
    }

    /// The answer to `query` from `from`, or that the host's servers are
    /// to be asked.
    fn resolve(&self, query: &[u8], from: SocketAddr) -> Resolved {
        let question = match dns::parse_query(query) {
            Ok(q) => q,
            Err(_) => return Resolved::Answer(dns::error_answer(query, dns::FORMERR)),
        };
        let asker = match from.ip() {
            std::net::IpAddr::V4(ip) => ip,
            std::net::IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        };
        let found = {
            let records = self.records.read().unwrap_or_else(|p| p.into_inner());
            let resolving = |id: &str| records.resolving.contains(id);
            // A link alias of the asking container names its target.
            let me = records
                .everyone
                .iter()
                .find(|p| p.network == self.network && p.ip == asker);
            let linked = me.and_then(|me| {
                records.links.iter().find(|l| {
                    l.container_id == me.container_id
                        && l.alias
                            .eq_ignore_ascii_case(question.name.trim_end_matches('.'))
                })
            });
            match linked {
                Some(link) => link_address(link, &records.everyone).map(|ip| vec![ip]),
                None => dns::lookup(
                    &question.name,
                    asker,
                    &self.network,
                    &records.everyone,
                    &resolving,
                ),
            }
        };
        if found.is_none() && !self.upstream.is_empty() {
            return Resolved::Forward;
        }
        Resolved::Answer(dns::answer(query, &question, found.as_deref()))
    }

    /// Asks the host's servers, from a thread of its own so that a slow
    /// server does not hold up the names the daemon knows.
    fn forward(&self, query: Vec<u8>, to: SocketAddr) {
        let socket = self.socket.clone();
        let upstream = self.upstream.clone();
        std::thread::spawn(move || {
            socket.send_to(&forward_to(&upstream, &query), to).ok();
        });
    }
}

/// What a query gets.
enum Resolved {
    /// This answer.
    Answer(Vec<u8>),
    /// The host's servers' answer.
    Forward,
}

/// Asks the host's servers in turn; the first answer, or SERVFAIL when
/// none answered (rather than let the client wait).
fn forward_to(upstream: &[SocketAddr], query: &[u8]) -> Vec<u8> {
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
            || out.send(query).is_err()
        {
            continue;
        }
        let mut buffer = [0u8; 4096];
        if let Ok(len) = out.recv(&mut buffer) {
            return buffer[..len].to_vec();
        }
    }
    dns::error_answer(query, 2)
}

#[cfg(test)]
mod link_tests {
    use super::*;

    #[test]
    fn a_link_alias_names_its_target_on_its_network() {
        let link = LinkAlias::parse("n1", "c1", "api:backend").unwrap();
        assert_eq!(
            (link.target.as_str(), link.alias.as_str()),
            ("api", "backend")
        );
        let same = LinkAlias::parse("n1", "c1", "api").unwrap();
        assert_eq!(same.alias, "api");
        let shown = LinkAlias::parse("n1", "c1", "/api:/web/backend").unwrap();
        assert_eq!(
            (shown.target.as_str(), shown.alias.as_str()),
            ("api", "backend")
        );
        assert!(LinkAlias::parse("n1", "c1", "").is_none());
        let at = |network: &str, ip: [u8; 4]| Presence {
            network: network.into(),
            container_id: "0123456789abcdef".into(),
            name: "api".into(),
            aliases: vec![],
            ip: Ipv4Addr::from(ip),
        };
        let everyone = [at("n2", [10, 0, 0, 9]), at("n1", [10, 0, 0, 2])];
        assert_eq!(
            link_address(&link, &everyone),
            Some(Ipv4Addr::new(10, 0, 0, 2))
        );
        let by_id = LinkAlias::parse("n1", "c1", "0123456789ab:b").unwrap();
        assert_eq!(
            link_address(&by_id, &everyone),
            Some(Ipv4Addr::new(10, 0, 0, 2))
        );
        let elsewhere = LinkAlias::parse("n3", "c1", "api:b").unwrap();
        assert_eq!(link_address(&elsewhere, &everyone), None);
    }
}
