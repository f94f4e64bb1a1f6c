//! Leak checks: a container engine that forgets a mount, a cgroup, a network
//! namespace, a link, an nftables table or a process keeps working — until
//! the machine is full of them.
//! Tests therefore snapshot these resources before they run and fail if
//! anything new that carries the test's unique prefix is still there after.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// Where cgroup hierarchies (v1 controllers and the v2 tree) are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// Deep enough for `/sys/fs/cgroup/<controller>/<parent>/<child>/<x>`.
const CGROUP_DEPTH: usize = 5;
/// Where `ip netns` (and minidock) pin named network namespaces.
const NETNS_DIR: &str = "/run/netns";
/// How long `finish` waits for leftovers that are on their way out (a
/// process being reaped, a lazy unmount) before calling them leaks.
const GRACE: Duration = Duration::from_secs(2);

/// A snapshot of the resources whose name contains a prefix.
///
/// `prefix` should be unique to the test: its temp dir path (for mounts
/// and processes that mention it) or a name tag made with
/// [`random_name`](crate::random_name) (for cgroups, network namespaces,
/// container ids).
#[derive(Debug)]
pub struct LeakCheck {
    prefix: String,
    before: BTreeSet<String>,
}

impl LeakCheck {
    /// Takes the snapshot.
    pub fn start(prefix: &str) -> LeakCheck {
        assert!(!prefix.is_empty(), "LeakCheck needs a non-empty prefix");
        LeakCheck {
            prefix: prefix.to_string(),
            before: resources(prefix),
        }
    }

    /// Panics listing, one per line, every resource matching the prefix
    /// that did not exist at `start`.
    pub fn finish(self) {
        let deadline = Instant::now() + GRACE;
        loop {
            let leaks: Vec<String> = resources(&self.prefix)
                .difference(&self.before)
                .cloned()
                .collect();
            if leaks.is_empty() {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "left behind by the test (prefix {:?}):\n  {}",
                    self.prefix,
                    leaks.join("\n  ")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Every matching resource, one line each, kind first.
fn resources(prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    mounts(prefix, &mut found);
    cgroups(prefix, &mut found);
    netns(prefix, &mut found);
    network_objects(prefix, &mut found);
    processes(prefix, &mut found);
    found
}

/// Links and nftables tables whose minidock tag (alias, comment) contains
/// `prefix`: a daemon tags them with its root, so the prefix of a test
/// daemon's directory finds them even when no record names them any more.
/// Without the `nft` tool only links are seen (a chapter before 06 makes
/// no table).
fn network_objects(prefix: &str, found: &mut BTreeSet<String>) {
    found.extend(crate::network::tagged_network_objects(prefix));
}

/// Mounts whose mount point or source contains `prefix`. Read from
/// `/proc/thread-self` so that a test thread that entered its own mount
/// namespace sees its own mounts (`/proc/self` would show the main thread's).
fn mounts(prefix: &str, found: &mut BTreeSet<String>) {
    let text = fs::read_to_string("/proc/thread-self/mountinfo")
        .unwrap_or_else(|e| panic!("read /proc/thread-self/mountinfo: {e}"));
    for line in text.lines() {
        // id parent maj:min root mountpoint options [optional…] - fstype source super
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let mount_point = unescape(fields.get(4).copied().unwrap_or_default());
        let fstype = fields.get(dash + 1).copied().unwrap_or_default();
        let source = unescape(fields.get(dash + 2).copied().unwrap_or_default());
        if mount_point.contains(prefix) || source.contains(prefix) {
            found.insert(format!(
                "mount {mount_point} ({fstype} from {source}, id {})",
                fields[0]
            ));
        }
    }
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// cgroup directories, in every v1 hierarchy and the v2 tree, whose name
/// contains `prefix`.
fn cgroups(prefix: &str, found: &mut BTreeSet<String>) {
    if !Path::new(CGROUP_ROOT).is_dir() {
        return;
    }
    let walk = walkdir::WalkDir::new(CGROUP_ROOT)
        .min_depth(1)
        .max_depth(CGROUP_DEPTH)
        .follow_links(false);
    for item in walk.into_iter().filter_map(Result::ok) {
        // A cgroup removed while we walk is not an error.
        if item.file_type().is_dir() && item.file_name().to_string_lossy().contains(prefix) {
            found.insert(format!("cgroup {}", item.path().display()));
        }
    }
}

/// Named network namespaces whose name contains `prefix`.
fn netns(prefix: &str, found: &mut BTreeSet<String>) {
    let Ok(dir) = fs::read_dir(NETNS_DIR) else {
        return; // no named namespace exists at all
    };
    for entry in dir.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains(prefix) {
            found.insert(format!("netns {NETNS_DIR}/{name}"));
        }
    }
}

/// Processes (other than this one) whose command line contains `prefix`.
fn processes(prefix: &str, found: &mut BTreeSet<String>) {
    let me = std::process::id().to_string();
    let dir = fs::read_dir("/proc").unwrap_or_else(|e| panic!("read /proc: {e}"));
    for entry in dir.filter_map(Result::ok) {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if pid == me || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        // The process may exit while we look: then it is no leak.
        let Ok(raw) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw)
            .trim_end_matches('\0')
            .replace('\0', " ");
        if cmdline.contains(prefix) {
            found.insert(format!("process {pid}: {cmdline}"));
        }
    }
}
