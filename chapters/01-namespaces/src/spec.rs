//! What to run, and how isolated: the container's description.
//!
//! A [`ProcessSpec`] is plain data. The parent process builds it, serializes
//! it to JSON and hands it to the init helper, which does the actual work in
//! a fresh process (see [`crate::spawn`] and [`crate::init`]). Everything in
//! it is therefore `Serialize`, except the stdio choices, which the parent
//! applies itself when it starts the helper.

use std::fs::File;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::propagation::Propagation;

/// The `PATH` a container gets when its spec sets none (Docker's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Docker's 14 default capabilities (moby `oci/caps/defaults.go`). As a
/// bit mask this is `0xa80425fb`, the value `grep Cap /proc/self/status`
/// shows inside a default container.
pub const DEFAULT_CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Paths Docker hides from a container (moby `oci/defaults.go`): files get
/// `/dev/null` bind-mounted over them, directories an empty read-only tmpfs.
/// They leak host information (`/proc/kcore` is the host's memory,
/// `/proc/keys` the kernel keyrings) or allow attacks on the host.
pub const DEFAULT_MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
];

/// Paths Docker makes read-only (moby `oci/defaults.go`): writing to them
/// would change the host kernel (`/proc/sys`, `/proc/sysrq-trigger`).
pub const DEFAULT_READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Which namespaces the container gets. The mount namespace is not
/// optional: `pivot_root` and our mounts must never touch the host's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespaces {
    /// UTS: its own hostname.
    pub uts: bool,
    /// PID: its own process numbers; the command is PID 1.
    pub pid: bool,
    /// IPC: its own System V IPC objects and POSIX message queues.
    pub ipc: bool,
    /// Network: its own interfaces (only `lo`), routes and ports.
    pub net: bool,
    /// Instead of a new network namespace, join this one: a namespace
    /// file pinned by the engine (chapter 06 wires it before the start).
    /// `net` is ignored when this is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_path: Option<PathBuf>,
    /// Join this PID namespace (`--pid container:NAME`: a file
    /// `/proc/PID/ns/pid` of the other container) instead of making one;
    /// `pid` is ignored when this is set. Likewise `ipc_path`, `uts_path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_path: Option<PathBuf>,
    /// The IPC namespace to join (`--ipc container:NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc_path: Option<PathBuf>,
    /// The UTS namespace to join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uts_path: Option<PathBuf>,
    /// User: its own uids and gids, mapped onto a range of host ids.
    pub user: Option<UserNamespace>,
}

// ANCHOR: namespaces_spec
impl Default for Namespaces {
    /// Docker's default: UTS, PID, IPC, network (and mount), no user namespace.
    fn default() -> Self {
        Namespaces {
            uts: true,
            pid: true,
            ipc: true,
            net: true,
            net_path: None,
            pid_path: None,
            ipc_path: None,
            uts_path: None,
            user: None,
        }
    }
}

impl Namespaces {
    /// The namespaces to join rather than make: kind, `CLONE_NEW*` flag
    /// and the namespace file, network first.
    pub fn joined(&self) -> Vec<(&'static str, nix::sched::CloneFlags, &std::path::Path)> {
        use nix::sched::CloneFlags as F;
        [
            ("net", F::CLONE_NEWNET, &self.net_path),
            ("pid", F::CLONE_NEWPID, &self.pid_path),
            ("ipc", F::CLONE_NEWIPC, &self.ipc_path),
            ("uts", F::CLONE_NEWUTS, &self.uts_path),
        ]
        .into_iter()
        .filter_map(|(kind, flag, path)| path.as_deref().map(|p| (kind, flag, p)))
        .collect()
    }

    /// Whether a new namespace of `kind` (`uts`, `pid`, `ipc`, `net`) is
    /// made: asked for, and not joined instead.
    pub fn makes(&self, kind: &str) -> bool {
        let (asked, joined) = match kind {
            "uts" => (self.uts, &self.uts_path),
            "pid" => (self.pid, &self.pid_path),
            "ipc" => (self.ipc, &self.ipc_path),
            "net" => (self.net, &self.net_path),
            _ => return false,
        };
        asked && joined.is_none()
    }
}
// ANCHOR_END: namespaces_spec

// ANCHOR: user_namespace
/// A user namespace and how its ids map onto the host's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserNamespace {
    /// Which host uids the container's uids are (`/proc/PID/uid_map`).
    pub uid_map: Vec<IdMap>,
    /// Which host gids the container's gids are (`/proc/PID/gid_map`).
    pub gid_map: Vec<IdMap>,
}

impl UserNamespace {
    /// Container ids `0..size` are host ids `host_start..host_start+size`,
    /// for both uids and gids (what `dockerd --userns-remap` does).
    pub fn remap(host_start: u32, size: u32) -> Self {
        let map = vec![IdMap {
            container: 0,
            host: host_start,
            size,
        }];
        UserNamespace {
            uid_map: map.clone(),
            gid_map: map,
        }
    }
}
// ANCHOR_END: user_namespace

/// One line of `/proc/PID/uid_map`: `container host size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    /// The first id of the range as the container sees it.
    pub container: u32,
    /// The same id as the host sees it.
    pub host: u32,
    /// How many consecutive ids the range holds.
    pub size: u32,
}

// ANCHOR: mount_specs
/// A host directory or file made visible inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindMount {
    /// Host path.
    pub source: PathBuf,
    /// Absolute path inside the container.
    pub destination: PathBuf,
    /// Remount the bind read-only: the container can read the host's files but not change them.
    pub read_only: bool,
    /// Whether mounts made on the host under `source` later appear in the
    /// container (see [`crate::propagation`]); `rprivate` by default.
    #[serde(default)]
    pub propagation: Propagation,
}

/// A fresh tmpfs mounted in the container (`--tmpfs /run:size=64m`,
/// `--mount type=tmpfs`): memory-backed, empty at every start, gone at stop.
/// Always `nosuid` and `nodev`, as Docker mounts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsMount {
    /// Absolute path inside the container.
    pub destination: PathBuf,
    /// The kernel's mount data, `size=…,mode=…` (checked by whoever made it:
    /// only tmpfs options, no commas inside values).
    pub data: String,
    /// Mount it read-only (`--mount type=tmpfs,readonly`).
    pub read_only: bool,
    /// `noexec` (Docker's default for `--tmpfs`) unless `exec` was asked.
    pub noexec: bool,
}

/// The user the command runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user id the command runs as, inside the container's user namespace if it has one.
    pub uid: u32,
    /// The primary group id: what new files are owned by.
    pub gid: u32,
    /// Supplementary groups; empty drops every group the parent had.
    pub additional_gids: Vec<u32>,
}

/// Where one of the command's standard streams goes, as in
/// [`std::process::Stdio`].
#[derive(Debug, Default)]
pub enum Stdio {
    /// The same file as this process's (the default).
    #[default]
    Inherit,
    /// A pipe; take its end from the [`crate::Container`].
    Piped,
    /// `/dev/null`.
    Null,
    /// An open file (a log file, one end of a socket pair, …).
    File(File),
}
// ANCHOR_END: mount_specs

// ANCHOR: process_spec
/// Everything needed to start one container process.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProcessSpec {
    /// The directory that becomes `/`. Must exist.
    pub rootfs: PathBuf,
    /// The command and its arguments; `args[0]` is looked up in the
    /// container's `PATH` unless it contains a `/`.
    pub args: Vec<String>,
    /// `KEY=value` pairs: the command's whole environment.
    pub env: Vec<String>,
    /// Working directory inside the container.
    pub cwd: PathBuf,
    /// Who the command runs as, set as the last step before `execve` (after the steps that need root).
    pub user: User,
    /// Hostname inside the UTS namespace.
    pub hostname: String,
    /// Which namespaces the container gets of its own.
    pub namespaces: Namespaces,
    /// Host paths bound into the container (`-v`), mounted before `pivot_root`, in this order.
    pub mounts: Vec<BindMount>,
    /// tmpfs mounts, mounted with the bind mounts, shallow paths first.
    #[serde(default)]
    pub tmpfs: Vec<TmpfsMount>,
    /// Set `PR_SET_NO_NEW_PRIVS`: setuid binaries and file capabilities no
    /// longer raise privileges (`docker run --security-opt no-new-privileges`).
    pub no_new_privileges: bool,
    /// Mount the root file system read-only (`docker run --read-only`).
    #[serde(default)]
    pub readonly_rootfs: bool,
    /// Install the seccomp filter of [`crate::seccomp`] (Docker's default
    /// is on; `--security-opt seccomp=unconfined` turns it off).
    #[serde(default = "yes")]
    pub seccomp: bool,
    /// Capabilities the command keeps, by name (`CAP_CHOWN`, …).
    pub capabilities: Vec<String>,
    /// Paths hidden from the command (`/proc/kcore`, …): covered by `/dev/null` or an empty read-only tmpfs. See [`crate::masks`].
    pub masked_paths: Vec<PathBuf>,
    /// Paths the command may read but not write (`/proc/sys`, …), remounted read-only. See [`crate::masks`].
    pub readonly_paths: Vec<PathBuf>,
    /// Files that PID 1 writes `0` ("the writer") into as its very first
    /// step, to move itself into a cgroup: `cgroup.procs` (one per cgroup v1
    /// hierarchy, or one on v2), or a v1 hierarchy's `tasks`, which moves
    /// just the writing thread (PID 1 has only one then) and costs the
    /// kernel less than moving a whole process. So every limit of the
    /// engine's cgroup holds before the command runs (chapter 3). Empty:
    /// the container stays in the helper's cgroups.
    #[serde(default)]
    pub cgroup_procs: Vec<PathBuf>,
    /// Docker's settings beyond the lesson: `--ulimit`, `--sysctl`,
    /// `--init`, `--privileged`'s devices, `/dev/shm` (see [`crate::compat`]).
    #[serde(default)]
    pub docker: crate::compat::DockerProcess,
    /// Give the container a terminal (`docker run -t`): PID 1 opens a new
    /// one on the container's own `/dev/ptmx`, makes it its stdin, stdout,
    /// stderr and controlling terminal, in a session of its own (job
    /// control and `^C` work), and sends the master side back; take it
    /// with [`crate::Container::take_terminal`]. The stdio settings then
    /// only apply to the init helper. See [`crate::terminal`].
    #[serde(default)]
    pub tty: bool,
    /// Where the command's stdin comes from (not serialized: a file or pipe cannot be).
    #[serde(skip)]
    pub stdin: Stdio,
    /// Where the command's stdout goes.
    #[serde(skip)]
    pub stdout: Stdio,
    /// Where the command's stderr goes.
    #[serde(skip)]
    pub stderr: Stdio,
}
// ANCHOR_END: process_spec

impl ProcessSpec {
    // ANCHOR: process_spec_new
    /// A spec with Docker's defaults: all namespaces but the user one, root,
    /// `/` as working directory, the default `PATH`, the 14 capabilities,
    /// the masked and read-only paths, stdio inherited.
    pub fn new<I, S>(rootfs: impl Into<PathBuf>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ProcessSpec {
            rootfs: rootfs.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: vec![format!("PATH={DEFAULT_PATH}")],
            cwd: PathBuf::from("/"),
            user: User {
                uid: 0,
                gid: 0,
                additional_gids: Vec::new(),
            },
            hostname: "minidock".to_string(),
            namespaces: Namespaces::default(),
            mounts: Vec::new(),
            tmpfs: Vec::new(),
            no_new_privileges: false,
            readonly_rootfs: false,
            seccomp: true,
            capabilities: DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect(),
            masked_paths: DEFAULT_MASKED_PATHS.iter().map(PathBuf::from).collect(),
            readonly_paths: DEFAULT_READONLY_PATHS.iter().map(PathBuf::from).collect(),
            cgroup_procs: Vec::new(),
            docker: Default::default(),
            tty: false,
            stdin: Stdio::Inherit,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
        }
    }
    // ANCHOR_END: process_spec_new

    /// Adds `KEY=value` to the environment, replacing an earlier `KEY`.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        let prefix = format!("{key}=");
        self.env.retain(|e| !e.starts_with(&prefix));
        self.env.push(format!("{key}={value}"));
        self
    }

    /// Sets the working directory inside the container ([`ProcessSpec::cwd`]).
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = cwd.into();
        self
    }

    /// Sets the hostname of the container's UTS namespace.
    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = name.into();
        self
    }

    /// Runs the command as `uid:gid`, with no supplementary groups.
    pub fn user(mut self, uid: u32, gid: u32) -> Self {
        self.user = User {
            uid,
            gid,
            additional_gids: Vec::new(),
        };
        self
    }

    /// Adds a bind mount, mounted after those added before it.
    pub fn mount(mut self, mount: BindMount) -> Self {
        self.mounts.push(mount);
        self
    }

    /// Mounts the root file system read-only ([`ProcessSpec::readonly_rootfs`]).
    pub fn readonly_rootfs(mut self, on: bool) -> Self {
        self.readonly_rootfs = on;
        self
    }

    /// Turns the seccomp filter on or off ([`ProcessSpec::seccomp`]).
    pub fn seccomp(mut self, on: bool) -> Self {
        self.seccomp = on;
        self
    }

    /// Sets `PR_SET_NO_NEW_PRIVS` ([`ProcessSpec::no_new_privileges`]).
    pub fn no_new_privileges(mut self, on: bool) -> Self {
        self.no_new_privileges = on;
        self
    }

    /// Gives the container a user namespace with these id maps: root inside is an unprivileged user outside.
    pub fn user_namespace(mut self, userns: UserNamespace) -> Self {
        self.namespaces.user = Some(userns);
        self
    }

    /// Gives the container a terminal of its own (see [`ProcessSpec::tty`]).
    pub fn tty(mut self, on: bool) -> Self {
        self.tty = on;
        self
    }

    /// Sets where the command's stdin comes from.
    pub fn stdin(mut self, s: Stdio) -> Self {
        self.stdin = s;
        self
    }

    /// Sets where the command's stdout goes.
    pub fn stdout(mut self, s: Stdio) -> Self {
        self.stdout = s;
        self
    }

    /// Sets where the command's stderr goes.
    pub fn stderr(mut self, s: Stdio) -> Self {
        self.stderr = s;
        self
    }

    /// The value of `PATH` in the container's environment.
    pub fn path_env(&self) -> &str {
        path_in(&self.env)
    }
}

/// The value of `PATH` in an environment (`KEY=value` strings), or Docker's
/// default when it has none.
pub fn path_in(env: &[String]) -> &str {
    env.iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH)
}

/// serde's default for flags that are on unless a spec says otherwise.
fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_replaces_a_key_and_path_env_finds_it() {
        let s = ProcessSpec::new("/r", ["sh"])
            .env("PATH", "/x")
            .env("A", "1");
        assert_eq!(s.env, vec!["PATH=/x".to_string(), "A=1".to_string()]);
        assert_eq!(s.path_env(), "/x");
    }

    #[test]
    fn default_capabilities_are_dockers_mask() {
        let mask: u64 = DEFAULT_CAPABILITIES
            .iter()
            .map(|c| c.parse::<caps::Capability>().unwrap().bitmask())
            .sum();
        assert_eq!(format!("{mask:016x}"), "00000000a80425fb");
    }

    #[test]
    fn spec_survives_json_without_stdio() {
        let s = ProcessSpec::new("/r", ["echo", "hi"])
            .user_namespace(UserNamespace::remap(100000, 65536));
        let back: ProcessSpec = serde_json::from_slice(&serde_json::to_vec(&s).unwrap()).unwrap();
        assert_eq!(back.args, s.args);
        assert_eq!(back.namespaces, s.namespaces);
    }
}
