//! IP address management: which container has which address.
//!
//! A network owns a subnet, say `172.18.0.0/16`: 65 536 addresses, of
//! which the first names the subnet itself, the last is its broadcast
//! address, and one more — by convention the first usable, `172.18.0.1` —
//! is the gateway, the bridge's own address. Every other one may be handed
//! to a container, each to one container only. The allocations are plain
//! data here, saved with the network's JSON file by the driver *before* an
//! address is used, so a daemon that crashes and starts again never hands
//! out an address twice.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;
// ANCHOR: subnet

/// An IPv4 subnet: a base address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subnet {
    /// The first address (host bits zero).
    pub base: Ipv4Addr,
    /// How many leading bits are the network's.
    pub prefix: u8,
}

impl Subnet {
    /// The mask of the prefix: `/16` is `255.255.0.0`.
    pub fn mask(&self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0)
    }

    /// Whether `ip` lies in the subnet.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.base)
    }

    /// Whether the two subnets share an address (one contains the other's
    /// base).
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.base) || other.contains(self.base)
    }

    /// The last address (the broadcast address).
    pub fn last(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) | !self.mask())
    }

    /// The first usable address (the gateway by convention).
    pub fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) + 1)
    }
}
// ANCHOR_END: subnet

// ANCHOR: subnet_parse
impl FromStr for Subnet {
    type Err = Error;
    fn from_str(s: &str) -> Result<Subnet> {
        let bad = |why: &str| Error::Invalid(format!("invalid subnet {s:?}: {why}"));
        let (ip, prefix) = s
            .split_once('/')
            .ok_or_else(|| bad("expected ADDRESS/PREFIX, as 172.18.0.0/16"))?;
        let ip: Ipv4Addr = ip
            .parse()
            .map_err(|_| bad("not an IPv4 address (minidock does not do IPv6)"))?;
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| bad("the prefix is not a number"))?;
        if !(8..=30).contains(&prefix) {
            return Err(bad("the prefix must be between /8 and /30"));
        }
        let subnet = Subnet { base: ip, prefix };
        if u32::from(ip) & !subnet.mask() != 0 {
            return Err(bad(
                "host bits are set; did you mean the network's first address?",
            ));
        }
        Ok(subnet)
    }
}
// ANCHOR_END: subnet_parse

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

impl Serialize for Subnet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Subnet, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
// ANCHOR: pool

/// The addresses of one network and who holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// The network's subnet.
    pub subnet: Subnet,
    /// The bridge's address.
    pub gateway: Ipv4Addr,
    /// `--ip-range`: automatic addresses come from here only.
    #[serde(default)]
    pub range: Option<Subnet>,
    /// Address → the endpoint (container) holding it.
    #[serde(default)]
    pub allocated: BTreeMap<Ipv4Addr, String>,
}

impl Pool {
    /// A pool for `subnet`; the gateway defaults to its first address.
    pub fn new(subnet: Subnet, gateway: Option<Ipv4Addr>, range: Option<Subnet>) -> Result<Pool> {
        let gateway = gateway.unwrap_or_else(|| subnet.first_host());
        if !subnet.contains(gateway) || gateway == subnet.base || gateway == subnet.last() {
            return Err(Error::Invalid(format!(
                "gateway {gateway} is not a usable address of subnet {subnet}"
            )));
        }
        if let Some(range) = range {
            if !(subnet.contains(range.base) && subnet.contains(range.last())) {
                return Err(Error::Invalid(format!(
                    "ip range {range} is not inside subnet {subnet}"
                )));
            }
        }
        Ok(Pool {
            subnet,
            gateway,
            range,
            allocated: BTreeMap::new(),
        })
    }

    /// Whether `ip` may be handed to a container at all.
    #[allow(dead_code)] // the allocation exercise (6.1) builds on it
    fn usable(&self, ip: Ipv4Addr) -> bool {
        self.subnet.contains(ip)
            && ip != self.subnet.base
            && ip != self.subnet.last()
            && ip != self.gateway
    }
    // ANCHOR_END: pool

    // ANCHOR: allocate
    /// Hands an address to `owner`: `wanted` if given (`--ip`), else the
    /// lowest free one of the range (or the subnet). The same owner asking
    /// again gets the address it already holds.
    pub fn allocate(&mut self, owner: &str, wanted: Option<Ipv4Addr>) -> Result<Ipv4Addr> {
        // exercise 6.1 ipam-allocate: hand out an address no other owner holds.
        // hint: an owner that already holds an address (and asks for no other) gets it again
        // hint: a wanted address must be usable (in the subnet, not the subnet's first or last, not the gateway) and free: else Invalid or Conflict
        // hint: otherwise walk the range (or the subnet) as u32 numbers, from its base up, and take the first usable, free one; none left is Error::Full
        if let Some((ip, _)) = self.allocated.iter().find(|(_, o)| *o == owner) {
            if wanted.is_none() || wanted == Some(*ip) {
                return Ok(*ip);
            }
        }
        if let Some(ip) = wanted {
            if !self.usable(ip) {
                return Err(Error::Invalid(format!(
                    "address {ip} is not usable in subnet {} (gateway {})",
                    self.subnet, self.gateway
                )));
            }
            if let Some(holder) = self.allocated.get(&ip) {
                return Err(Error::Conflict(format!(
                    "Address already in use: {ip} is held by {holder}"
                )));
            }
            self.allocated.insert(ip, owner.to_string());
            return Ok(ip);
        }
        let range = self.range.unwrap_or(self.subnet);
        let (first, last) = (u32::from(range.base), u32::from(range.last()));
        for n in first..=last {
            let ip = Ipv4Addr::from(n);
            if self.usable(ip) && !self.allocated.contains_key(&ip) {
                self.allocated.insert(ip, owner.to_string());
                return Ok(ip);
            }
        }
        Err(Error::Full(self.subnet.to_string()))
        // end exercise
    }
    // ANCHOR_END: allocate

    /// Gives back every address `owner` holds.
    pub fn release(&mut self, owner: &str) {
        self.allocated.retain(|_, o| o != owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn subnets_parse_and_overlap() {
        let a: Subnet = "172.18.0.0/16".parse().unwrap();
        assert_eq!(a.last(), ip("172.18.255.255"));
        assert!(a.overlaps(&"172.18.5.0/24".parse().unwrap()));
        assert!(!a.overlaps(&"172.19.0.0/16".parse().unwrap()));
        assert!("172.18.0.1/16".parse::<Subnet>().is_err());
        assert!("fd00::/64".parse::<Subnet>().is_err());
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"172.18.0.0/16\"");
    }
}
