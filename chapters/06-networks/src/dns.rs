//! Names that resolve: containers on a user-defined network find each
//! other by name and by alias.
//!
//! Docker answers these names with a small DNS server inside every
//! container's namespace, at `127.0.0.11`. minidock takes the simpler,
//! older road (the one Docker's `--link` took): every container's
//! `/etc/hosts` lists every peer it shares a user-defined network with,
//! and the engine rewrites those files whenever a container joins or
//! leaves. `getaddrinfo` — what `wget`, `curl`, `ping` and almost every
//! program calls — reads `/etc/hosts` before it asks a DNS server, so the
//! names resolve. What does not work: tools that speak DNS themselves
//! (`nslookup`, `dig`), and round-robin answers for an alias that several
//! containers share (the file gives each name one address per line).
//!
//! The default network `bridge` resolves no names, as in Docker.

use crate::hosts::HostEntry;
use std::net::Ipv4Addr;

/// A container's presence on one network, as name resolution sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// The network's id.
    pub network: String,
    /// The container's id.
    pub container_id: String,
    /// The container's name.
    pub name: String,
    /// Its aliases on this network.
    pub aliases: Vec<String>,
    /// Its address on this network.
    pub ip: Ipv4Addr,
}

// ANCHOR: peers
/// The `/etc/hosts` entries that container `me` gets for its peers: one
/// per other container on each resolving network `me` is on, with its
/// name, aliases and short id. `resolving` says which networks resolve
/// names (every one but the default `bridge`).
pub fn peer_entries(
    me: &str,
    everyone: &[Presence],
    resolving: &dyn Fn(&str) -> bool,
) -> Vec<HostEntry> {
    // exercise 6.8 dns-peers: list the peers `me` can reach by name.
    // hint: first the networks `me` is on that resolve names
    // hint: then every presence of *another* container on one of them: its address, then its name, its aliases and the first 12 characters of its id
    // hint: keep the order of `everyone`, so the file does not change when nothing changed
    let mine: Vec<&str> = everyone
        .iter()
        .filter(|p| p.container_id == me && resolving(&p.network))
        .map(|p| p.network.as_str())
        .collect();
    everyone
        .iter()
        .filter(|p| p.container_id != me && mine.contains(&p.network.as_str()))
        .map(|p| {
            let mut names = vec![p.name.clone()];
            names.extend(p.aliases.iter().filter(|a| **a != p.name).cloned());
            names.push(p.container_id.chars().take(12).collect());
            HostEntry {
                ip: p.ip.to_string(),
                names,
            }
        })
        .collect()
    // end exercise
}
// ANCHOR_END: peers
