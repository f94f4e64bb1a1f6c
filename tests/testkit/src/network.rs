//! Networks for tests: subnets no other test (and no host route) uses, and
//! the leak check of what a daemon's networks leave on the host — links
//! and nftables tables — read with the host's own `ip` and `nft`.
//!
//! Every test daemon gets a /22 of its own in 172.16.0.0/12 (the range
//! `test.sh` holds a blackhole route for): its first /24 is the default
//! network, the other three are the pool of automatic subnets.

use rand::Rng;
use std::path::Path;
use std::process::Command;

/// A test daemon's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSubnets {
    /// The default network's subnet (`--bridge-subnet`).
    pub bridge: String,
    /// The pool of automatic subnets (`--address-pool`).
    pub pool: String,
    /// A /24 inside the block that the daemon never picks by itself, for
    /// a test's `network create --subnet`.
    pub spare: Vec<String>,
}

/// The IPv4 routes of the host, as `(base, prefix)`.
fn host_routes() -> Vec<(u32, u32)> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.first() == Some(&"*") {
                return None; // a blackhole
            }
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?.swap_bytes();
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?.swap_bytes();
            (mask != 0).then_some((dest, mask))
        })
        .collect()
}

/// A /21 block of 172.16.0.0/12 that no host route touches: the daemon's
/// default network, its pool, and two spare /24s for tests.
pub fn test_subnets() -> TestSubnets {
    let routes = host_routes();
    let mut rng = rand::thread_rng();
    for _ in 0..1000 {
        let block: u32 = rng.gen_range(0..512);
        let base = u32::from(std::net::Ipv4Addr::new(172, 16, 0, 0)) + block * 2048;
        let mask = !0u32 << 11;
        if routes
            .iter()
            .any(|(d, m)| (d & mask) == base || (base & m) == *d)
        {
            continue;
        }
        let net = |i: u32| std::net::Ipv4Addr::from(base + i * 256);
        return TestSubnets {
            bridge: format!("{}/24", net(0)),
            pool: format!("{}/22/24", net(0)),
            spare: (4..8).map(|i| format!("{}/24", net(i))).collect(),
        };
    }
    panic!("no free /21 in 172.16.0.0/12: the host's routes cover it all");
}

#[derive(serde::Deserialize)]
struct NetworkFile {
    id: String,
    #[serde(default)]
    bridge: String,
    #[serde(default)]
    predefined: bool,
}

#[derive(serde::Deserialize)]
struct SandboxFile {
    #[serde(default)]
    endpoints: Vec<EndpointFile>,
}

#[derive(serde::Deserialize)]
struct EndpointFile {
    veth: String,
}

fn json_files(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// The links and nft tables the networks of the daemon on `root` use:
/// its bridges, its containers' veths, its tables.
fn resources_of(root: &Path, predefined: bool) -> (Vec<String>, Vec<String>) {
    let state = root.join("networks");
    let mut links = Vec::new();
    let mut tables = Vec::new();
    for bytes in json_files(&state) {
        if let Ok(n) = serde_json::from_slice::<NetworkFile>(&bytes) {
            if !n.bridge.is_empty() && (predefined || !n.predefined) {
                links.push(n.bridge);
                tables.push(format!("minidock-{}", &n.id[..12.min(n.id.len())]));
            }
        }
    }
    for bytes in json_files(&state.join("sandboxes")) {
        if let Ok(s) = serde_json::from_slice::<SandboxFile>(&bytes) {
            links.extend(s.endpoints.into_iter().map(|e| e.veth));
        }
    }
    (links, tables)
}

fn present_links() -> Vec<String> {
    let out = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("run `ip -o link show` (iproute2)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect()
}

fn present_tables() -> Vec<String> {
    let out = Command::new("nft")
        .args(["list", "tables", "ip"])
        .output()
        .expect("run `nft list tables ip` (apt-get install nftables)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("table ip "))
        .map(str::to_string)
        .collect()
}

/// Every link or nft table that a user-defined network or a container of
/// the daemon on `root` made and that is still on the host (the default
/// network's bridge stays by design, as `docker0` does).
pub fn network_leaks(root: &Path) -> Vec<String> {
    let (links, tables) = resources_of(root, false);
    let present = present_links();
    let tables_present = present_tables();
    links
        .into_iter()
        .filter(|l| present.contains(l))
        .map(|l| format!("link {l}"))
        .chain(
            tables
                .into_iter()
                .filter(|t| tables_present.contains(t))
                .map(|t| format!("nft table ip {t}")),
        )
        .collect()
}

/// Removes what [`network_leaks`] would find: what a stopped test daemon
/// leaves by design (its default network's bridge and table, which a real
/// daemon keeps across restarts).
pub fn remove_daemon_networks(root: &Path) {
    let (links, tables) = resources_of(root, true);
    let present = present_links();
    for link in links.iter().filter(|l| present.contains(l)) {
        let _ = Command::new("ip").args(["link", "del", link]).status();
    }
    let tables_present = present_tables();
    for table in tables.iter().filter(|t| tables_present.contains(t)) {
        let _ = Command::new("nft")
            .args(["delete", "table", "ip", table])
            .status();
    }
}
