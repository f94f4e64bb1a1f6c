//! Outbound NAT and isolation, with nftables.
//!
//! A container's address (172.18.0.2) means nothing outside the machine.
//! For its packets to come back, the host rewrites their source to its own
//! address as they leave — *masquerade* — and the kernel's connection
//! tracking rewrites the answers back. Docker does this with iptables;
//! minidock with nftables, the kernel's newer packet filter, in one table
//! per network so that removing a network is removing its table:
//!
//! ```text
//! table ip minidock-<id> {
//!   chain postrouting { type nat hook postrouting priority 100;
//!     ip saddr 172.18.0.0/16 oifname != "md-<id>" masquerade }   # not for --internal
//!   chain forward { type filter hook forward priority 0;
//!     oifname "md-<id>" iifname != "md-<id>" ct state established,related accept
//!     oifname "md-<id>" iifname != "md-<id>" drop                 # isolation
//!     iifname "md-<id>" oifname != "md-<id>" drop }               # only --internal
//! }
//! ```
//!
//! nftables rules are not text in the kernel but small programs: *expressions*
//! that load a packet field into a register (`payload`, `meta`, `ct`),
//! transform it (`bitwise`), compare it (`cmp`) and decide (`immediate`
//! verdicts, `masq`). `nft` compiles the text above into them; minidock
//! sends them itself over a `NETLINK_NETFILTER` socket, inside a batch
//! that the kernel applies whole or not at all.

use crate::error::{Error, Result};
use crate::ipam::Subnet;
use crate::netlink::{
    attr_string, parse_attrs, Message, Socket, F_ACK, F_CREATE, F_DUMP, NETLINK_NETFILTER,
};

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_GETTABLE: u16 = 1;
const NFT_MSG_DELTABLE: u16 = 2;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NFPROTO_IPV4: u8 = 2;

const NFTA_TABLE_NAME: u16 = 1;
const NFTA_TABLE_USERDATA: u16 = 6;
/// In a table's user data, the type of `nft`'s comment record.
const NFTNL_UDATA_TABLE_COMMENT: u8 = 0;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;

const NF_INET_FORWARD: u32 = 2;
const NF_INET_POST_ROUTING: u32 = 4;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
const REG_VERDICT: u32 = 0;
const REG_1: u32 = 1;
const NFT_CMP_EQ: u32 = 0;
const NFT_CMP_NEQ: u32 = 1;
const NFT_META_IIFNAME: u32 = 6;
const NFT_META_OIFNAME: u32 = 7;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFT_CT_STATE: u32 = 0;
/// `ct state established,related`: the kernel's bits for the two states.
const CT_ESTABLISHED_RELATED: u32 = 0x2 | 0x4;

/// The name of a network's table.
pub fn table_name(network_id: &str) -> String {
    format!("minidock-{}", &network_id[..network_id.len().min(12)])
}

/// One expression of a rule, built into a message.
#[derive(Debug, Clone)]
pub enum Expr {
    /// Loads `len` bytes at `offset` of the IP header into register 1.
    Payload {
        /// Where the bytes start in the IP header.
        offset: u32,
        /// How many bytes.
        len: u32,
    },
    /// Loads the input (`true`) or output interface name into register 1.
    IfName {
        /// `true` for the input interface, `false` for the output one.
        input: bool,
    },
    /// Loads the connection's state bits into register 1.
    CtState,
    /// Register 1 &= mask.
    And(Vec<u8>),
    /// Compares register 1 with the bytes: equal (`true`) or not.
    Cmp {
        /// `true` to match when equal, `false` when not.
        equal: bool,
        /// The bytes to compare with.
        data: Vec<u8>,
    },
    /// Masquerade: rewrite the source to the outgoing interface's address.
    Masquerade,
    /// Accept (`true`) or drop the packet.
    Verdict(bool),
}

/// An interface name as `meta iifname` compares it: 16 bytes, NUL-padded.
fn ifname_bytes(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.resize(16, 0);
    bytes
}

// ANCHOR: expr
impl Expr {
    /// Appends the expression as an `NFTA_LIST_ELEM`: its name, and its
    /// attributes in `NFTA_EXPR_DATA` (numbers in network byte order).
    fn build(&self, m: &mut Message) {
        let value = |m: &mut Message, kind: u16, bytes: &[u8]| {
            m.begin_nest(kind).attr(NFTA_DATA_VALUE, bytes).end_nest();
        };
        m.begin_nest(NFTA_LIST_ELEM);
        let name = match self {
            Expr::Payload { .. } => "payload",
            Expr::IfName { .. } => "meta",
            Expr::CtState => "ct",
            Expr::And(_) => "bitwise",
            Expr::Cmp { .. } => "cmp",
            Expr::Masquerade => "masq",
            Expr::Verdict(_) => "immediate",
        };
        m.attr_str(NFTA_EXPR_NAME, name);
        m.begin_nest(NFTA_EXPR_DATA);
        match self {
            Expr::Payload { offset, len } => {
                m.attr_be32(1, REG_1) // NFTA_PAYLOAD_DREG
                    .attr_be32(2, NFT_PAYLOAD_NETWORK_HEADER) // BASE
                    .attr_be32(3, *offset) // OFFSET
                    .attr_be32(4, *len); // LEN
            }
            Expr::IfName { input } => {
                let key = if *input {
                    NFT_META_IIFNAME
                } else {
                    NFT_META_OIFNAME
                };
                m.attr_be32(2, key).attr_be32(1, REG_1); // KEY, DREG
            }
            Expr::CtState => {
                m.attr_be32(1, REG_1).attr_be32(2, NFT_CT_STATE); // DREG, KEY
            }
            Expr::And(mask) => {
                m.attr_be32(1, REG_1) // SREG
                    .attr_be32(2, REG_1) // DREG
                    .attr_be32(3, mask.len() as u32); // LEN
                value(m, 4, mask); // MASK
                value(m, 5, &vec![0; mask.len()]); // XOR
            }
            Expr::Cmp { equal, data } => {
                let op = if *equal { NFT_CMP_EQ } else { NFT_CMP_NEQ };
                m.attr_be32(1, REG_1).attr_be32(2, op); // SREG, OP
                value(m, 3, data); // DATA
            }
            Expr::Masquerade => {}
            Expr::Verdict(accept) => {
                m.attr_be32(1, REG_VERDICT); // NFTA_IMMEDIATE_DREG
                m.begin_nest(2) // NFTA_IMMEDIATE_DATA
                    .begin_nest(NFTA_DATA_VERDICT)
                    .attr_be32(NFTA_VERDICT_CODE, if *accept { NF_ACCEPT } else { NF_DROP })
                    .end_nest()
                    .end_nest();
            }
        }
        m.end_nest().end_nest();
    }
}
// ANCHOR_END: expr

/// What a network's table holds.
#[derive(Debug, Clone)]
pub struct NetworkRules {
    /// The table (see [`table_name`]).
    pub table: String,
    /// The bridge.
    pub bridge: String,
    /// The network's subnet.
    pub subnet: Subnet,
    /// `--internal`: no masquerade, and nothing leaves the bridge.
    pub internal: bool,
    /// The table's comment (`nft list table` shows it): the engine's tag,
    /// so that a table no record names any more is still known as its.
    pub comment: String,
}

// ANCHOR: masquerade
/// The masquerade rule: `ip saddr SUBNET oifname != BRIDGE masquerade`.
pub fn masquerade_rule(subnet: &Subnet, bridge: &str) -> Vec<Expr> {
    // exercise 6.6 masquerade-rule: the expressions of `ip saddr SUBNET oifname != BRIDGE masquerade`.
    // hint: the source address is 4 bytes at offset 12 of the IPv4 header; mask it with the subnet's mask, compare with its base
    // hint: then load the output interface's name and compare it, not equal, with the bridge's (16 bytes, see ifname_bytes)
    // hint: the last expression is the action
    vec![
        Expr::Payload { offset: 12, len: 4 },
        Expr::And(subnet.mask().to_be_bytes().to_vec()),
        Expr::Cmp {
            equal: true,
            data: subnet.base.octets().to_vec(),
        },
        Expr::IfName { input: false },
        Expr::Cmp {
            equal: false,
            data: ifname_bytes(bridge),
        },
        Expr::Masquerade,
    ]
    // end exercise
}
// ANCHOR_END: masquerade

/// The forward chain's rules: answers come in, new connections from other
/// networks do not; an internal network's packets do not leave either.
fn forward_rules(rules: &NetworkRules) -> Vec<Vec<Expr>> {
    let name = |input| Expr::IfName { input };
    let is = |equal, n: &str| Expr::Cmp {
        equal,
        data: ifname_bytes(n),
    };
    let b = rules.bridge.as_str();
    let mut list = vec![
        vec![
            name(false),
            is(true, b),
            name(true),
            is(false, b),
            Expr::CtState,
            Expr::And(CT_ESTABLISHED_RELATED.to_ne_bytes().to_vec()),
            Expr::Cmp {
                equal: false,
                data: vec![0; 4],
            },
            Expr::Verdict(true),
        ],
        vec![
            name(false),
            is(true, b),
            name(true),
            is(false, b),
            Expr::Verdict(false),
        ],
    ];
    if rules.internal {
        list.push(vec![
            name(true),
            is(true, b),
            name(false),
            is(false, b),
            Expr::Verdict(false),
        ]);
    }
    list
}

fn nft_message(kind: u16, flags: u16) -> Message {
    // nfgenmsg: family, version, resource id (big endian)
    Message::new(
        (NFNL_SUBSYS_NFTABLES << 8) | kind,
        flags,
        &[NFPROTO_IPV4, 0, 0, 0],
    )
}

fn batch_marker(kind: u16) -> Message {
    let res = NFNL_SUBSYS_NFTABLES.to_be_bytes();
    Message::new(kind, 0, &[libc::AF_UNSPEC as u8, 0, res[0], res[1]])
}

// ANCHOR: send_batch
/// Sends `messages` as one batch; returns the first error the kernel
/// reported for any of them.
fn send_batch(what: &str, messages: &[Message]) -> Result<()> {
    let failed = |source| Error::Netlink {
        what: what.to_string(),
        source,
    };
    let mut sock = Socket::open(NETLINK_NETFILTER).map_err(failed)?;
    let mut bytes = batch_marker(NFNL_MSG_BATCH_BEGIN).finish(sock.next_seq());
    let mut seqs = Vec::new();
    for m in messages {
        let seq = sock.next_seq();
        seqs.push(seq);
        bytes.extend(m.finish(seq));
    }
    bytes.extend(batch_marker(NFNL_MSG_BATCH_END).finish(sock.next_seq()));
    sock.send_raw(&bytes).map_err(failed)?;
    for seq in seqs {
        sock.collect(seq).map_err(failed)?;
    }
    Ok(())
}

fn chain(m: &mut Vec<Message>, table: &str, name: &str, kind: &str, hook: u32, priority: i32) {
    let mut c = nft_message(NFT_MSG_NEWCHAIN, F_CREATE | F_ACK);
    c.attr_str(NFTA_CHAIN_TABLE, table)
        .attr_str(NFTA_CHAIN_NAME, name)
        .begin_nest(NFTA_CHAIN_HOOK)
        .attr_be32(NFTA_HOOK_HOOKNUM, hook)
        .attr_be32(NFTA_HOOK_PRIORITY, priority as u32)
        .end_nest()
        .attr_str(NFTA_CHAIN_TYPE, kind);
    m.push(c);
}

fn rule(m: &mut Vec<Message>, table: &str, chain: &str, exprs: &[Expr]) {
    let mut r = nft_message(NFT_MSG_NEWRULE, F_CREATE | F_ACK | 0x800); // NLM_F_APPEND
    r.attr_str(NFTA_RULE_TABLE, table)
        .attr_str(NFTA_RULE_CHAIN, chain)
        .begin_nest(NFTA_RULE_EXPRESSIONS);
    for e in exprs {
        e.build(&mut r);
    }
    r.end_nest();
    m.push(r);
}
// ANCHOR_END: send_batch

// ANCHOR: nat_install
/// Creates the network's table with its chains and rules, in one batch
/// (any old table of that name is replaced).
pub fn install(rules: &NetworkRules) -> Result<()> {
    remove(&rules.table)?;
    let t = rules.table.as_str();
    let mut m = Vec::new();
    let mut table = nft_message(NFT_MSG_NEWTABLE, F_CREATE | F_ACK);
    table.attr_str(NFTA_TABLE_NAME, t);
    if !rules.comment.is_empty() {
        table.attr(NFTA_TABLE_USERDATA, &comment_udata(&rules.comment));
    }
    m.push(table);
    chain(&mut m, t, "forward", "filter", NF_INET_FORWARD, 0);
    for r in forward_rules(rules) {
        rule(&mut m, t, "forward", &r);
    }
    if !rules.internal {
        chain(&mut m, t, "postrouting", "nat", NF_INET_POST_ROUTING, 100);
        rule(
            &mut m,
            t,
            "postrouting",
            &masquerade_rule(&rules.subnet, &rules.bridge),
        );
    }
    send_batch(&format!("install nftables table {t}"), &m)
}
// ANCHOR_END: nat_install

/// A comment as `nft` keeps it in a table's user data: one
/// type-length-value record (one byte each for type and length), the text
/// with its NUL.
fn comment_udata(comment: &str) -> Vec<u8> {
    let mut text: Vec<u8> = comment.bytes().take(254).collect();
    text.push(0);
    let mut udata = vec![NFTNL_UDATA_TABLE_COMMENT, text.len() as u8];
    udata.extend(text);
    udata
}

/// Deletes a table; no error if there is none.
pub fn remove(table: &str) -> Result<()> {
    let mut del = nft_message(NFT_MSG_DELTABLE, F_ACK);
    del.attr_str(NFTA_TABLE_NAME, table);
    match send_batch(&format!("delete nftables table {table}"), &[del]) {
        Err(Error::Netlink { source, .. }) if source.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        other => other,
    }
}

/// The names of every `ip` table.
pub fn tables() -> Result<Vec<String>> {
    Ok(tables_with_comments()?
        .into_iter()
        .map(|(n, _)| n)
        .collect())
}

/// Every `ip` table with its comment (empty when it has none).
pub fn tables_with_comments() -> Result<Vec<(String, String)>> {
    let failed = |source| Error::Netlink {
        what: "list nftables tables".to_string(),
        source,
    };
    let mut sock = Socket::open(NETLINK_NETFILTER).map_err(failed)?;
    let replies = sock
        .request(&nft_message(NFT_MSG_GETTABLE, F_DUMP))
        .map_err(failed)?;
    Ok(replies
        .iter()
        .filter(|r| r.payload.len() >= 4 && r.payload[0] == NFPROTO_IPV4)
        .filter_map(|r| {
            let attrs = parse_attrs(&r.payload[4..]);
            let name = attrs
                .iter()
                .find(|(k, _)| *k == NFTA_TABLE_NAME)
                .map(|(_, v)| attr_string(v))?;
            let comment = attrs
                .iter()
                .find(|(k, _)| *k == NFTA_TABLE_USERDATA)
                .map(|(_, v)| comment_of(v))
                .unwrap_or_default();
            Some((name, comment))
        })
        .collect())
}

/// The comment record in a table's user data ([`comment_udata`]).
fn comment_of(mut udata: &[u8]) -> String {
    while udata.len() >= 2 {
        let (kind, len) = (udata[0], usize::from(udata[1]));
        let Some(value) = udata.get(2..2 + len) else {
            break;
        };
        if kind == NFTNL_UDATA_TABLE_COMMENT {
            return attr_string(value);
        }
        udata = &udata[2 + len..];
    }
    String::new()
}
