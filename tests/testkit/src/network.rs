//! Networks for tests: subnets no other test (and no host route) uses, and
//! the leak check of what a daemon's networks leave on the host — links,
//! nftables tables and address allocations — read with the host's own `ip`
//! and `nft`.
//!
//! Two ways to find a daemon's kernel objects: by its records (the network
//! and sandbox files under its root), and by the tag minidock gives every
//! link (its alias) and table (its comment): `minidock ROOT/networks`. The
//! tag finds what a record no longer names — a bridge whose network file is
//! gone, a veth of a sandbox removed too early.
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
struct PoolFile {
    #[serde(default)]
    allocated: std::collections::BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
struct NetworkPoolFile {
    name: String,
    pool: Option<PoolFile>,
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

/// `(name, alias)` of every link of the host.
fn links_with_alias() -> Vec<(String, String)> {
    let out = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("run `ip -o link show` (iproute2)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let name = l.split(": ").nth(1)?;
            let name = name.split('@').next().unwrap_or(name).to_string();
            // `-o` joins the lines of one link with a backslash.
            let alias = l
                .split('\\')
                .find_map(|part| part.trim().strip_prefix("alias "))
                .unwrap_or_default()
                .to_string();
            Some((name, alias))
        })
        .collect()
}

fn present_links() -> Vec<String> {
    links_with_alias().into_iter().map(|(n, _)| n).collect()
}

/// Whether the `nft` tool is installed.
fn nft_installed() -> bool {
    Command::new("nft")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
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

/// The comment of the table `ip NAME`, if it has one.
fn table_comment(name: &str) -> Option<String> {
    let out = Command::new("nft")
        .args(["list", "table", "ip", name])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
        l.trim()
            .strip_prefix("comment \"")
            .map(|c| c.trim_end_matches('"').to_string())
    })
}

/// The links and nft tables whose minidock tag (link alias, table comment)
/// contains `prefix`: every kernel object a daemon whose root path holds
/// `prefix` made, whether a record still names it or not. One line each:
/// `link NAME`, `nft table ip NAME`.
pub fn tagged_network_objects(prefix: &str) -> Vec<String> {
    let mut found: Vec<String> = links_with_alias()
        .into_iter()
        .filter(|(_, alias)| alias.starts_with("minidock ") && alias.contains(prefix))
        .map(|(name, _)| format!("link {name}"))
        .collect();
    if !nft_installed() {
        return found;
    }
    found.extend(
        present_tables()
            .into_iter()
            .filter(|t| t.starts_with("minidock-"))
            .filter(|t| table_comment(t).is_some_and(|c| c.contains(prefix)))
            .map(|t| format!("nft table ip {t}")),
    );
    found
}

/// The links and nft tables that the records of the daemon on `root` name
/// for its user-defined networks and its containers, present or not:
/// `link NAME` and `nft table ip NAME`, for [`still_present`] after a
/// removal.
pub fn network_resources(root: &Path) -> Vec<String> {
    let (links, tables) = resources_of(root, false);
    links
        .into_iter()
        .map(|l| format!("link {l}"))
        .chain(tables.into_iter().map(|t| format!("nft table ip {t}")))
        .collect()
}

/// Those of `resources` (as [`network_resources`] lists them) that are on
/// the host now.
pub fn still_present(resources: &[String]) -> Vec<String> {
    let links = present_links();
    let tables = present_tables();
    resources
        .iter()
        .filter(|r| match r.split_once(' ') {
            Some(("link", name)) => links.iter().any(|l| l == name),
            _ => r
                .strip_prefix("nft table ip ")
                .is_some_and(|t| tables.iter().any(|p| p == t)),
        })
        .cloned()
        .collect()
}

/// Every address the networks of the daemon on `root` hand out now, from
/// their files: `network: address -> container`.
pub fn network_allocations(root: &Path) -> Vec<String> {
    json_files(&root.join("networks"))
        .iter()
        .filter_map(|bytes| serde_json::from_slice::<NetworkPoolFile>(bytes).ok())
        .flat_map(|n| {
            let name = n.name;
            n.pool
                .map(|p| p.allocated)
                .unwrap_or_default()
                .into_iter()
                .map(move |(ip, owner)| format!("{name}: {ip} -> {owner}"))
        })
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
/// daemon keeps across restarts), and whatever else carries the daemon's
/// tag (so that one leak does not stay on the host after its report).
pub fn remove_daemon_networks(root: &Path) {
    let (mut links, mut tables) = resources_of(root, true);
    for object in tagged_network_objects(&root.display().to_string()) {
        if let Some(link) = object.strip_prefix("link ") {
            links.push(link.to_string());
        } else if let Some(table) = object.strip_prefix("nft table ip ") {
            tables.push(table.to_string());
        }
    }
    links.sort();
    links.dedup();
    tables.sort();
    tables.dedup();
    let present = present_links();
    for link in links.iter().filter(|l| present.contains(l)) {
        // A veth may go with its namespace meanwhile: no error to show.
        let _ = Command::new("ip")
            .args(["link", "del", link])
            .stderr(std::process::Stdio::null())
            .status();
    }
    let tables_present = present_tables();
    for table in tables.iter().filter(|t| tables_present.contains(t)) {
        let _ = Command::new("nft")
            .args(["delete", "table", "ip", table])
            .stderr(std::process::Stdio::null())
            .status();
    }
}
