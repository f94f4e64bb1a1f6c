//! Links, addresses and routes: the rtnetlink messages `ip` sends.
//!
//! Five requests wire a container:
//!
//! | `ip` command                                   | message        |
//! |------------------------------------------------|----------------|
//! | `ip link add md-… type bridge`                  | `RTM_NEWLINK`  |
//! | `ip link add mdv… master md-… type veth peer name eth0 netns …` | `RTM_NEWLINK` |
//! | `ip addr add 172.18.0.2/16 dev eth0`            | `RTM_NEWADDR`  |
//! | `ip link set eth0 up`                           | `RTM_NEWLINK`  |
//! | `ip route add default via 172.18.0.1`           | `RTM_NEWROUTE` |

use crate::error::{Error, Result};
use crate::netlink::{attr_string, parse_attrs, Message, Socket, F_ACK, F_CREATE, F_DUMP, F_EXCL};
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;

#[allow(dead_code)] // the veth exercise (6.4) uses it
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
#[allow(dead_code)] // the veth exercise (6.4) uses it
const IFLA_MASTER: u16 = 10;
const IFLA_IFALIAS: u16 = 20;
const IFLA_STATS64: u16 = 23;
const IFLA_LINKINFO: u16 = 18;
#[allow(dead_code)] // the veth exercise (6.4) uses it
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
#[allow(dead_code)] // the veth exercise (6.4) uses it
const IFLA_INFO_DATA: u16 = 2;
#[allow(dead_code)] // the veth exercise (6.4) uses it
const VETH_INFO_PEER: u16 = 1;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;

const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;

/// `struct ifinfomsg`: which link, and which flags to change.
fn ifinfomsg(index: u32, flags: u32, change: u32) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0] = libc::AF_UNSPEC as u8;
    h[4..8].copy_from_slice(&index.to_ne_bytes());
    h[8..12].copy_from_slice(&flags.to_ne_bytes());
    h[12..16].copy_from_slice(&change.to_ne_bytes());
    h
}

fn failed(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Netlink { what, source }
}

/// A link's name and counters, from a dump.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkInfo {
    /// Its index.
    pub index: u32,
    /// Its name.
    pub name: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
}

// ANCHOR: create_bridge
/// Creates a bridge named `name` (a virtual switch: every interface
/// attached to it sees the others' frames).
pub fn create_bridge(sock: &mut Socket, name: &str) -> Result<()> {
    let mut m = Message::new(RTM_NEWLINK, F_CREATE | F_EXCL | F_ACK, &ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, name);
    m.begin_nest(IFLA_LINKINFO)
        .attr_str(IFLA_INFO_KIND, "bridge")
        .end_nest();
    sock.request(&m)
        .map(drop)
        .map_err(failed(format!("create bridge {name}")))
}
// ANCHOR_END: create_bridge

// ANCHOR: veth
/// The request for a veth pair: `host` stays here, attached to the bridge
/// `master`; its peer is born inside the namespace `netns` as `peer` with
/// the MAC address `mac`. A veth pair is a virtual cable: what goes in at
/// one end comes out of the other. Creating the peer directly in the
/// container's namespace means no half-wired interface ever shows on the
/// host.
pub fn veth_request(
    host: &str,
    master: u32,
    peer: &str,
    netns: BorrowedFd<'_>,
    mac: [u8; 6],
) -> Message {
    // exercise 6.4 veth-pair: build the RTM_NEWLINK request for a veth pair whose peer lives in `netns`.
    // hint: the host end is an ordinary new link: its name and its master (the bridge's index) are top-level attributes
    // hint: the kind "veth" goes in IFLA_LINKINFO; the peer goes in IFLA_INFO_DATA as VETH_INFO_PEER
    // hint: the peer's value starts with its own ifinfomsg (raw), then its name, namespace fd (u32) and address
    let mut m = Message::new(RTM_NEWLINK, F_CREATE | F_EXCL | F_ACK, &ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, host);
    m.attr_u32(IFLA_MASTER, master);
    m.begin_nest(IFLA_LINKINFO);
    m.attr_str(IFLA_INFO_KIND, "veth");
    m.begin_nest(IFLA_INFO_DATA);
    m.begin_nest(VETH_INFO_PEER);
    m.raw(&ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, peer);
    m.attr_u32(
        IFLA_NET_NS_FD,
        std::os::fd::AsRawFd::as_raw_fd(&netns) as u32,
    );
    m.attr(IFLA_ADDRESS, &mac);
    m.end_nest().end_nest().end_nest();
    m
    // end exercise
}
// ANCHOR_END: veth

/// Creates the veth pair of [`veth_request`].
pub fn create_veth(
    sock: &mut Socket,
    host: &str,
    master: u32,
    peer: &str,
    netns: BorrowedFd<'_>,
    mac: [u8; 6],
) -> Result<()> {
    sock.request(&veth_request(host, master, peer, netns, mac))
        .map(drop)
        .map_err(failed(format!("create veth pair {host} <-> {peer}")))
}

/// Every link in the socket's namespace.
pub fn list(sock: &mut Socket) -> Result<Vec<LinkInfo>> {
    let m = Message::new(RTM_GETLINK, F_DUMP, &ifinfomsg(0, 0, 0));
    let replies = sock.request(&m).map_err(failed("list links".to_string()))?;
    Ok(replies
        .iter()
        .filter(|r| r.kind == RTM_NEWLINK && r.payload.len() >= 16)
        .map(|r| {
            let index = u32::from_ne_bytes(r.payload[4..8].try_into().unwrap());
            let mut info = LinkInfo {
                index,
                ..LinkInfo::default()
            };
            for (kind, value) in parse_attrs(&r.payload[16..]) {
                match kind {
                    IFLA_IFNAME => info.name = attr_string(value),
                    IFLA_STATS64 if value.len() >= 32 => {
                        info.rx_bytes = u64::from_ne_bytes(value[16..24].try_into().unwrap());
                        info.tx_bytes = u64::from_ne_bytes(value[24..32].try_into().unwrap());
                    }
                    _ => {}
                }
            }
            info
        })
        .collect())
}

/// The index of the link `name`, if there is one: `RTM_GETLINK` for that
/// name alone (the kernel looks it up), not a dump of every link.
pub fn index(sock: &mut Socket, name: &str) -> Result<Option<u32>> {
    let mut m = Message::new(RTM_GETLINK, F_ACK, &ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, name);
    match sock.request(&m) {
        Ok(replies) => Ok(replies
            .iter()
            .find(|r| r.kind == RTM_NEWLINK && r.payload.len() >= 16)
            .map(|r| u32::from_ne_bytes(r.payload[4..8].try_into().unwrap()))),
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
        Err(e) => Err(failed(format!("look up link {name}"))(e)),
    }
}

// ANCHOR: set_up_tagged
/// Sets `IFF_UP` on the link `name` and gives it the alias `tag` (what
/// `ip link set NAME up alias TAG` sends: one `RTM_NEWLINK` that names the
/// link instead of giving its index). The engine tags every link it makes
/// with its state directory, so that what a crash left is found by the
/// tag even when no record names it any more.
pub fn set_up_tagged(sock: &mut Socket, name: &str, tag: &str) -> Result<()> {
    let up = libc::IFF_UP as u32;
    let mut m = Message::new(RTM_NEWLINK, F_ACK, &ifinfomsg(0, up, up));
    m.attr_str(IFLA_IFNAME, name);
    // IFALIASZ: 256 bytes with the NUL.
    let tag: String = tag.chars().take(255).collect();
    m.attr(IFLA_IFALIAS, tag.as_bytes());
    sock.request(&m)
        .map(drop)
        .map_err(failed(format!("set link {name} up")))
}

/// The links whose alias is `tag` ([`set_up_tagged`]), by name.
pub fn tagged(sock: &mut Socket, tag: &str) -> Result<Vec<String>> {
    let m = Message::new(RTM_GETLINK, F_DUMP, &ifinfomsg(0, 0, 0));
    let replies = sock.request(&m).map_err(failed("list links".to_string()))?;
    let tag: String = tag.chars().take(255).collect();
    Ok(replies
        .iter()
        .filter(|r| r.kind == RTM_NEWLINK && r.payload.len() >= 16)
        .filter_map(|r| {
            let attrs = parse_attrs(&r.payload[16..]);
            let alias = attrs.iter().find(|(k, _)| *k == IFLA_IFALIAS)?;
            if attr_string(alias.1) != tag {
                return None;
            }
            attrs
                .iter()
                .find(|(k, _)| *k == IFLA_IFNAME)
                .map(|(_, v)| attr_string(v))
        })
        .collect())
}
// ANCHOR_END: set_up_tagged

/// Sets `IFF_UP` on a link (`ip link set … up`).
pub fn set_up(sock: &mut Socket, index: u32) -> Result<()> {
    let up = libc::IFF_UP as u32;
    let m = Message::new(RTM_NEWLINK, F_ACK, &ifinfomsg(index, up, up));
    sock.request(&m)
        .map(drop)
        .map_err(failed(format!("set link {index} up")))
}

// ANCHOR: link_delete
/// Deletes the link `name` (a veth takes its peer with it); no error if
/// it is gone.
pub fn delete(sock: &mut Socket, name: &str) -> Result<()> {
    let Some(index) = index(sock, name)? else {
        return Ok(());
    };
    let m = Message::new(RTM_DELLINK, F_ACK, &ifinfomsg(index, 0, 0));
    match sock.request(&m) {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
        Err(e) => Err(failed(format!("delete link {name}"))(e)),
    }
}
// ANCHOR_END: link_delete

// ANCHOR: address_route
/// Gives a link an IPv4 address; the kernel adds the route to its subnet.
pub fn add_address(sock: &mut Socket, index: u32, ip: Ipv4Addr, prefix: u8) -> Result<()> {
    let mut header = [0u8; 8];
    header[0] = libc::AF_INET as u8;
    header[1] = prefix;
    header[4..8].copy_from_slice(&index.to_ne_bytes());
    let broadcast = u32::from(ip) | (u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0));
    let mut m = Message::new(RTM_NEWADDR, F_CREATE | F_EXCL | F_ACK, &header);
    m.attr(IFA_LOCAL, &ip.octets());
    m.attr(IFA_ADDRESS, &ip.octets());
    m.attr(IFA_BROADCAST, &Ipv4Addr::from(broadcast).octets());
    sock.request(&m)
        .map(drop)
        .map_err(failed(format!("add address {ip}/{prefix} to link {index}")))
}

/// Adds the default route through `gateway` on link `index`.
pub fn add_default_route(sock: &mut Socket, gateway: Ipv4Addr, index: u32) -> Result<()> {
    // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
    let header = [
        libc::AF_INET as u8,
        0,
        0,
        0,
        libc::RT_TABLE_MAIN,
        libc::RTPROT_BOOT,
        libc::RT_SCOPE_UNIVERSE,
        libc::RTN_UNICAST,
        0,
        0,
        0,
        0,
    ];
    let mut m = Message::new(RTM_NEWROUTE, F_CREATE | F_EXCL | F_ACK, &header);
    m.attr(RTA_GATEWAY, &gateway.octets());
    m.attr_u32(RTA_OIF, index);
    sock.request(&m)
        .map(drop)
        .map_err(failed(format!("add the default route via {gateway}")))
}
// ANCHOR_END: address_route
