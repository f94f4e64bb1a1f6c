//! Names that resolve: containers on a user-defined network find each
//! other by name and by alias.
//!
//! Two roads lead there, and minidock takes both:
//!
//! - `/etc/hosts`: every container's file lists every peer it shares a
//!   user-defined network with, rewritten whenever a container joins or
//!   leaves (the road Docker's `--link` took). `getaddrinfo` — what `wget`,
//!   `ping` and almost every program calls — reads it before it asks a DNS
//!   server, and it works while no daemon runs.
//! - a DNS server: tools that speak DNS themselves (`nslookup`, `dig`, a
//!   program with its own resolver) ask the `nameserver` of
//!   `/etc/resolv.conf`, which on a user-defined network is the network's
//!   gateway, where the daemon answers ([`crate::compat::resolver`]). It
//!   also gives every address of an alias several containers share, which
//!   a hosts file cannot.
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

// ---- the DNS server's part ----
//
// `nslookup` and `dig` do not read `/etc/hosts`: they send a DNS query,
// a UDP datagram, to the `nameserver` of `/etc/resolv.conf`. On a
// user-defined network that is the network's gateway, where the daemon
// listens on port 53 ([`crate::compat::resolver`]). A query and its answer
// share one layout (RFC 1035 §4):
//
// ```text
//  0      2      4        6        8        10       12
//  ┌──────┬──────┬────────┬────────┬────────┬────────┐
//  │  id  │flags │qdcount │ancount │nscount │arcount │  header, 12 bytes
//  ├──────┴──────┴────────┴────────┴────────┴────────┤
//  │ question: 3 w e b 0 │ type (A = 1) │ class (IN=1)│  name as labels
//  ├─────────────────────────────────────────────────┤
//  │ answers: name (C0 0C: "the name at byte 12"),    │
//  │   type, class, TTL (4 bytes), length 4, address │
//  └─────────────────────────────────────────────────┘
// ```

/// Record type A: an IPv4 address.
pub const TYPE_A: u16 = 1;
/// Record type AAAA: an IPv6 address (minidock's networks have none).
pub const TYPE_AAAA: u16 = 28;
/// Class IN, the Internet: the only class anyone asks for.
pub const CLASS_IN: u16 = 1;
/// How long a resolver may keep an answer, in seconds (Docker's 600).
pub const TTL: u32 = 600;
/// Response code: the name does not exist.
pub const NXDOMAIN: u16 = 3;
/// Response code: the query could not be read.
pub const FORMERR: u16 = 1;
// ANCHOR: dns_question

/// The question of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The query's id, sent back in the answer.
    pub id: u16,
    /// The query's flags (its opcode and "recursion desired" go back).
    pub flags: u16,
    /// The name asked for, lower case, without the final dot.
    pub name: String,
    /// The record type asked for ([`TYPE_A`], [`TYPE_AAAA`], …).
    pub qtype: u16,
    /// The class ([`CLASS_IN`]).
    pub qclass: u16,
    /// Where the question ends in the packet: the answer repeats it.
    pub end: usize,
}

// ANCHOR_END: dns_question
// ANCHOR: parse_query
/// Reads the one question of a query. A packet that is not a query with
/// exactly one question is an error (the caller answers FORMERR or drops
/// it).
pub fn parse_query(packet: &[u8]) -> Result<Question, String> {
    let be16 = |at: usize| -> Result<u16, String> {
        packet
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| format!("query cut short at byte {at}"))
    };
    let (id, flags, questions) = (be16(0)?, be16(2)?, be16(4)?);
    if flags & 0x8000 != 0 {
        return Err("an answer, not a query".into());
    }
    if questions != 1 {
        return Err(format!("{questions} questions, not one"));
    }
    let mut labels = Vec::new();
    let mut at = 12;
    loop {
        let len = usize::from(*packet.get(at).ok_or("name cut short")?);
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return Err("a compressed or too long label in a question".into());
        }
        let label = packet.get(at..at + len).ok_or("label cut short")?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += len;
    }
    Ok(Question {
        id,
        flags,
        name: labels.join("."),
        qtype: be16(at)?,
        qclass: be16(at + 2)?,
        end: at + 4,
    })
}
// ANCHOR_END: parse_query

// ANCHOR: answer
/// The answer to `question` (read from `query`): the addresses in
/// `found` as A records, none for another type of a known name, and
/// NXDOMAIN when `found` is `None` (a name nobody has).
pub fn answer(query: &[u8], question: &Question, found: Option<&[Ipv4Addr]>) -> Vec<u8> {
    // exercise 6.9 dns-answer: write the answer packet, header, question and records.
    // hint: the header's flags say: an answer (the top bit), the query's opcode and "recursion desired" kept, authoritative, recursion available, and the response code in the low four bits
    // hint: the question goes back as it came (the bytes from 12 to `question.end`); the counts say one question and how many records follow
    // hint: a record names the question's name with a pointer (two bytes, top bits set, offset 12), then type, class, TTL, the length of the data and the four bytes of the address; only A questions in class IN get records
    let ips: &[Ipv4Addr] = match found {
        Some(ips) if question.qtype == TYPE_A && question.qclass == CLASS_IN => ips,
        _ => &[],
    };
    let code = if found.is_none() { NXDOMAIN } else { 0 };
    let flags = 0x8000 | (question.flags & 0x7900) | 0x0400 | 0x0080 | code;
    let mut out = Vec::with_capacity(question.end + 16 * ips.len());
    for field in [question.id, flags, 1, ips.len() as u16, 0, 0] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    out.extend_from_slice(&query[12..question.end]);
    for ip in ips {
        out.extend_from_slice(&[0xc0, 12]);
        out.extend_from_slice(&TYPE_A.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&TTL.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&ip.octets());
    }
    out
    // end exercise
}
// ANCHOR_END: answer

/// An answer that carries only a response code (FORMERR for a query that
/// could not be read): the query's id, no question.
pub fn error_answer(query: &[u8], code: u16) -> Vec<u8> {
    let id = query.get(..2).map_or([0, 0], |b| [b[0], b[1]]);
    let mut out = id.to_vec();
    out.extend_from_slice(&(0x8000 | 0x0080 | code).to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    out
}

// ANCHOR: lookup
/// The addresses `name` has for a query that came from `from` on
/// `network`: the containers called so (by name, alias or short id) on
/// every resolving network the asking container is on — a container on
/// two networks finds the peers of both, whichever gateway it asked —
/// or, when the asker is no container (the host), on `network` alone.
/// `None`: nobody is called so.
pub fn lookup(
    name: &str,
    from: Ipv4Addr,
    network: &str,
    everyone: &[Presence],
    resolving: &dyn Fn(&str) -> bool,
) -> Option<Vec<Ipv4Addr>> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let asker = everyone
        .iter()
        .find(|p| p.network == network && p.ip == from)
        .map(|p| p.container_id.as_str());
    let searched: Vec<&str> = match asker {
        Some(me) => everyone
            .iter()
            .filter(|p| p.container_id == me && resolving(&p.network))
            .map(|p| p.network.as_str())
            .collect(),
        None if resolving(network) => vec![network],
        None => Vec::new(),
    };
    let called = |p: &Presence| {
        p.name.eq_ignore_ascii_case(&name)
            || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(&name))
            || (name.len() == 12 && p.container_id.starts_with(&name))
    };
    let mut found = Vec::new();
    // The asker's own network first: its address there is the one that
    // answers without a detour through another bridge.
    for net in std::iter::once(network).chain(searched.iter().copied()) {
        if !searched.contains(&net) {
            continue;
        }
        for p in everyone.iter().filter(|p| p.network == net && called(p)) {
            if !found.contains(&p.ip) {
                found.push(p.ip);
            }
        }
    }
    (!found.is_empty()).then_some(found)
}
// ANCHOR_END: lookup

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `web`, type A, id 0x1234, recursion desired: the bytes
    /// `dig web` sends, written out by hand from RFC 1035.
    const QUERY_WEB_A: [u8; 21] = [
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // header
        0x03, b'w', b'e', b'b', 0x00, // name
        0x00, 0x01, 0x00, 0x01, // A, IN
    ];

    #[test]
    fn a_query_is_read() {
        let q = parse_query(&QUERY_WEB_A).unwrap();
        assert_eq!(
            (q.id, q.name.as_str(), q.qtype, q.end),
            (0x1234, "web", TYPE_A, 21)
        );
        assert!(parse_query(&QUERY_WEB_A[..15]).is_err());
    }

    #[test]
    fn answers_are_rfc_1035() {
        let q = parse_query(&QUERY_WEB_A).unwrap();
        let ip: Ipv4Addr = [172, 18, 0, 2].into();
        let expected: Vec<u8> = [
            &[0x12, 0x34, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0][..],
            &QUERY_WEB_A[12..],
            &[
                0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4, 172, 18, 0, 2,
            ],
        ]
        .concat();
        assert_eq!(answer(&QUERY_WEB_A, &q, Some(&[ip])), expected);
        // A name nobody has: NXDOMAIN (rcode 3), no record.
        let nx = answer(&QUERY_WEB_A, &q, None);
        assert_eq!(&nx[2..8], &[0x85, 0x83, 0, 1, 0, 0]);
        assert_eq!(nx.len(), 21);
        // AAAA of a known name: no error, no record.
        let mut aaaa = QUERY_WEB_A;
        aaaa[18] = 28;
        let q6 = parse_query(&aaaa).unwrap();
        let none = answer(&aaaa, &q6, Some(&[ip]));
        assert_eq!(&none[2..8], &[0x85, 0x80, 0, 1, 0, 0]);
    }

    #[test]
    fn lookups_cover_every_network_of_the_asker() {
        let at = |network: &str, id: &str, name: &str, ip: [u8; 4]| Presence {
            network: network.into(),
            container_id: id.repeat(64 / id.len()),
            name: name.into(),
            aliases: vec![format!("{name}-alias")],
            ip: ip.into(),
        };
        let everyone = vec![
            at("front", "a", "both", [10, 1, 0, 2]),
            at("back", "a", "both", [10, 2, 0, 2]),
            at("back", "b", "db", [10, 2, 0, 3]),
            at("front", "c", "web", [10, 1, 0, 3]),
        ];
        let resolving = |_: &str| true;
        // `both` asks front's server for db, which is on back only.
        let found = lookup("db", [10, 1, 0, 2].into(), "front", &everyone, &resolving);
        assert_eq!(found, Some(vec![[10, 2, 0, 3].into()]));
        // `web` is not on back: db is no name to it.
        assert_eq!(
            lookup("db", [10, 1, 0, 3].into(), "front", &everyone, &resolving),
            None
        );
        // Aliases, case, the final dot and the short id.
        let both = Some(vec![Ipv4Addr::from([10, 1, 0, 2]), [10, 2, 0, 2].into()]);
        assert_eq!(
            lookup(
                "BOTH-alias.",
                [10, 2, 0, 3].into(),
                "back",
                &everyone,
                &resolving
            ),
            Some(vec![[10, 2, 0, 2].into()])
        );
        assert_eq!(
            lookup(
                "aaaaaaaaaaaa",
                [10, 1, 0, 2].into(),
                "front",
                &everyone,
                &resolving
            ),
            both
        );
        assert_eq!(
            lookup("db", [10, 2, 0, 3].into(), "back", &everyone, &|_| false),
            None
        );
    }
}
