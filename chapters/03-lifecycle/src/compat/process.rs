//! Docker's process settings beyond the lesson, as a part of
//! [`HostConfig`](crate::config::HostConfig), and how each becomes part of
//! chapter 01's [`ProcessSpec`] when the container starts.
//!
//! Every one is honoured for real or refused when the container is created,
//! never ignored: a limit that cannot be raised, a kernel parameter that is
//! not the container's own, a capability nobody has heard of, each gets an
//! error that names it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use minidock_namespaces::compat::{all_capabilities, rlimits, sysctl, Shm, DEFAULT_SHM_SIZE};
/// Docker's masked and read-only paths, for those who show them (inspect).
pub use minidock_namespaces::spec::{DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS};
use minidock_namespaces::ProcessSpec;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Which PID, IPC or UTS namespace a container gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NamespaceMode {
    /// A new one of its own (Docker's `""`, `private`, `shareable`).
    #[default]
    Private,
    /// The host's.
    Host,
    /// Another container's (its full id once the engine resolved it).
    Container(String),
}

impl NamespaceMode {
    fn is_private(&self) -> bool {
        *self == NamespaceMode::Private
    }
}

impl FromStr for NamespaceMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "" | "private" | "shareable" => Ok(NamespaceMode::Private),
            "host" => Ok(NamespaceMode::Host),
            other => match other.strip_prefix("container:") {
                Some(name) if !name.is_empty() => Ok(NamespaceMode::Container(name.to_string())),
                _ => Err(Error::InvalidHostConfig(format!(
                    "invalid namespace mode {other:?}: use host, private or container:NAME"
                ))),
            },
        }
    }
}

impl TryFrom<String> for NamespaceMode {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl fmt::Display for NamespaceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamespaceMode::Private => Ok(()),
            NamespaceMode::Host => write!(f, "host"),
            NamespaceMode::Container(id) => write!(f, "container:{id}"),
        }
    }
}

impl From<NamespaceMode> for String {
    fn from(m: NamespaceMode) -> String {
        m.to_string()
    }
}

/// `--ulimit NAME=SOFT[:HARD]`, as Docker's API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    /// The resource, without Docker's `RLIMIT_` prefix: `nofile`, `nproc`, `core`, …
    pub name: String,
    /// The limit the process starts with; it may raise it up to `hard`.
    pub soft: i64,
    /// The ceiling; never above the host's own hard limit (no `CAP_SYS_RESOURCE` here).
    pub hard: i64,
}

/// Docker's settings beyond the lesson. All default to Docker's defaults,
/// and a `config.json` without them reads as such.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ProcessOptions {
    /// `--cap-add` (`NET_ADMIN`, `CAP_SYS_TIME`, `ALL`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// `--cap-drop`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// `--privileged`: every capability, every host device, no seccomp, no
    /// masked or read-only paths, `/sys` writable.
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    /// `--pid`.
    #[serde(skip_serializing_if = "NamespaceMode::is_private")]
    pub pid_mode: NamespaceMode,
    /// `--ipc`.
    #[serde(skip_serializing_if = "NamespaceMode::is_private")]
    pub ipc_mode: NamespaceMode,
    /// `--uts` (`host` only, as in Docker).
    #[serde(rename = "UTSMode", skip_serializing_if = "NamespaceMode::is_private")]
    pub uts_mode: NamespaceMode,
    /// `--group-add`: more supplementary groups, by name or number.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// `--shm-size` in bytes; 0 = Docker's 64 MiB.
    #[serde(skip_serializing_if = "is_zero")]
    pub shm_size: u64,
    /// `--ulimit`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ulimits: Vec<Ulimit>,
    /// `--sysctl` (namespaced parameters only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    /// `--oom-score-adj`, -1000..=1000.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub oom_score_adj: i32,
    /// `--init`.
    #[serde(skip_serializing_if = "is_false")]
    pub init: bool,
    /// The paths to mask instead of Docker's list (`--security-opt
    /// systempaths=unconfined` sends an empty one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_paths: Option<Vec<String>>,
    /// The paths to make read-only instead of Docker's list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly_paths: Option<Vec<String>>,
}

/// A limit as the kernel takes it: Docker's -1 is `RLIM_INFINITY`.
fn rlim(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(libc_infinity())
}

fn libc_infinity() -> u64 {
    u64::MAX
}

fn is_false(b: &bool) -> bool {
    !*b
}
fn is_zero(n: &u64) -> bool {
    *n == 0
}
fn is_zero_i32(n: &i32) -> bool {
    *n == 0
}

/// `net_admin`, `NET_ADMIN`, `CAP_NET_ADMIN` → `CAP_NET_ADMIN`, checked.
fn canonical_capability(name: &str) -> Result<String, Error> {
    if name.eq_ignore_ascii_case("ALL") {
        return Ok("ALL".to_string());
    }
    minidock_namespaces::compat::canonical_capability(name)
        .ok_or_else(|| Error::InvalidHostConfig(format!("unknown capability: {name:?}")))
}

impl ProcessOptions {
    /// The capabilities the container's processes keep, by Docker's rules:
    /// `--privileged` has them all; `--cap-add ALL` is every one but those
    /// dropped; `--cap-drop ALL` is only those added; otherwise the 14
    /// defaults, less the dropped, plus the added.
    pub fn capabilities(&self) -> Result<Vec<String>, Error> {
        if self.privileged {
            return Ok(all_capabilities());
        }
        let add = self
            .cap_add
            .iter()
            .map(|c| canonical_capability(c))
            .collect::<Result<Vec<_>, _>>()?;
        let drop = self
            .cap_drop
            .iter()
            .map(|c| canonical_capability(c))
            .collect::<Result<Vec<_>, _>>()?;
        let all = "ALL".to_string();
        let mut keep: Vec<String> = if add.contains(&all) {
            all_capabilities()
                .into_iter()
                .filter(|c| !drop.contains(c))
                .collect()
        } else if drop.contains(&all) {
            add.clone()
        } else {
            minidock_namespaces::spec::DEFAULT_CAPABILITIES
                .iter()
                .map(|c| c.to_string())
                .filter(|c| !drop.contains(c))
                .chain(add.iter().filter(|c| !drop.contains(c)).cloned())
                .collect()
        };
        keep.sort();
        keep.dedup();
        Ok(keep)
    }

    /// `/dev/shm`'s size in bytes.
    pub fn shm_bytes(&self) -> u64 {
        if self.shm_size == 0 {
            DEFAULT_SHM_SIZE
        } else {
            self.shm_size
        }
    }

    /// Checks everything that can be checked at create. `host_network`:
    /// the container shares the host's network namespace.
    pub fn validate(&self, host_network: bool) -> Result<(), Error> {
        let bad = |m: String| Err(Error::InvalidHostConfig(m));
        self.capabilities()?;
        if let NamespaceMode::Container(_) = self.uts_mode {
            return bad("UTSMode container:NAME is not supported (as in Docker): use host or leave it private".into());
        }
        for u in &self.ulimits {
            if rlimits::resource(&u.name).is_none() {
                return bad(format!(
                    "invalid ulimit {:?}: known are {}",
                    u.name,
                    rlimits::RESOURCES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if u.soft < -1 || u.hard < -1 || rlim(u.soft) > rlim(u.hard) {
                return bad(format!(
                    "invalid ulimit {}={}:{}: soft and hard must be ≥ 0 (or -1, unlimited) \
                     and soft ≤ hard",
                    u.name, u.soft, u.hard
                ));
            }
        }
        for key in self.sysctls.keys() {
            match sysctl::namespace_of(key) {
                None => {
                    return bad(format!(
                        "sysctl {key:?} is not allowed: only namespaced parameters (kernel.msg*, \
                         kernel.sem, kernel.shm*, fs.mqueue.*, net.*) can be set for a container"
                    ))
                }
                Some("ipc") if self.ipc_mode == NamespaceMode::Host => {
                    return bad(format!(
                        "sysctl {key:?} is not allowed with --ipc host: it would change the host"
                    ))
                }
                Some("net") if host_network => {
                    return bad(format!(
                    "sysctl {key:?} is not allowed with --network host: it would change the host"
                ))
                }
                Some(_) => {}
            }
            sysctl::path_of(key).map_err(|e| Error::InvalidHostConfig(e.to_string()))?;
        }
        if self.shm_size != 0 && self.ipc_mode != NamespaceMode::Private {
            return bad(format!(
                "--shm-size {} needs a private IPC namespace: with --ipc {} the container uses \
                 another's /dev/shm",
                self.shm_size, self.ipc_mode
            ));
        }
        if !(-1000..=1000).contains(&self.oom_score_adj) {
            return bad(format!(
                "invalid oom score adjust {}: must be between -1000 and 1000",
                self.oom_score_adj
            ));
        }
        for path in self
            .masked_paths
            .iter()
            .chain(&self.readonly_paths)
            .flatten()
        {
            if !path.starts_with('/') || path.split('/').any(|p| p == "..") {
                return bad(format!("invalid masked or read-only path {path:?}"));
            }
        }
        Ok(())
    }

    /// The containers whose namespaces this one joins.
    pub fn joined_containers(&self) -> Vec<&str> {
        [&self.pid_mode, &self.ipc_mode, &self.uts_mode]
            .into_iter()
            .filter_map(|m| match m {
                NamespaceMode::Container(id) => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Turns these settings into chapter 01's spec, at start: `running_pid`
    /// gives the PID 1 of a container whose namespaces are joined, or an
    /// error when it is not running (the store answers it:
    /// [`ContainerStore::running_pid`](crate::store::ContainerStore::running_pid)).
    pub fn apply(
        &self,
        spec: &mut ProcessSpec,
        running_pid: &dyn Fn(&str) -> Result<i32, Error>,
    ) -> Result<(), Error> {
        spec.capabilities = self.capabilities()?;
        if self.privileged {
            spec.seccomp = false;
            spec.masked_paths.clear();
            spec.readonly_paths.clear();
            spec.docker.host_devices = true;
        }
        if let Some(paths) = &self.masked_paths {
            spec.masked_paths = paths.iter().map(PathBuf::from).collect();
        }
        if let Some(paths) = &self.readonly_paths {
            spec.readonly_paths = paths.iter().map(PathBuf::from).collect();
        }
        let pid_of = running_pid;
        let ns = |pid: i32, kind: &str| PathBuf::from(format!("/proc/{pid}/ns/{kind}"));
        match &self.pid_mode {
            NamespaceMode::Private => {}
            NamespaceMode::Host => spec.namespaces.pid = false,
            NamespaceMode::Container(id) => spec.namespaces.pid_path = Some(ns(pid_of(id)?, "pid")),
        }
        spec.docker.shm = match &self.ipc_mode {
            NamespaceMode::Private => Shm::Tmpfs {
                size: self.shm_bytes(),
            },
            NamespaceMode::Host => {
                spec.namespaces.ipc = false;
                Shm::Bind(PathBuf::from("/dev/shm"))
            }
            NamespaceMode::Container(id) => {
                let pid = pid_of(id)?;
                spec.namespaces.ipc_path = Some(ns(pid, "ipc"));
                Shm::OfProcess(pid)
            }
        };
        if self.uts_mode == NamespaceMode::Host {
            spec.namespaces.uts = false;
        }
        spec.docker.rlimits = self.rlimits();
        spec.docker.sysctls = self.sysctls.clone();
        spec.docker.oom_score_adj = (self.oom_score_adj != 0).then_some(self.oom_score_adj);
        spec.docker.init = self.init;
        Ok(())
    }

    /// `--ulimit` in chapter 01's terms (-1 is unlimited).
    pub fn rlimits(&self) -> Vec<rlimits::Rlimit> {
        self.ulimits
            .iter()
            .map(|u| rlimits::Rlimit {
                name: u.name.clone(),
                soft: rlim(u.soft),
                hard: rlim(u.hard),
            })
            .collect()
    }

    /// The gids of `--group-add`, names looked up in the container's
    /// `/etc/group`.
    pub fn group_ids(&self, rootfs: &std::path::Path) -> Result<Vec<u32>, Error> {
        if self.group_add.is_empty() {
            return Ok(Vec::new());
        }
        let groups = crate::inroot::read_in_root(rootfs, "etc/group")?
            .map(|t| crate::user::parse_group(&t))
            .unwrap_or_default();
        self.group_add
            .iter()
            .map(|g| match g.parse::<u32>() {
                Ok(gid) => Ok(gid),
                Err(_) => groups
                    .iter()
                    .find(|e| e.name == *g)
                    .map(|e| e.gid)
                    .ok_or_else(|| {
                        Error::User(format!(
                            "unable to find group {g}: no matching entries in group file"
                        ))
                    }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(add: &[&str], drop: &[&str]) -> ProcessOptions {
        ProcessOptions {
            cap_add: add.iter().map(|s| s.to_string()).collect(),
            cap_drop: drop.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn capabilities_follow_dockers_rules() {
        let defaults = opts(&[], &[]).capabilities().unwrap();
        assert_eq!(defaults.len(), 14);
        let c = opts(&["net_admin"], &["CAP_CHOWN"]).capabilities().unwrap();
        assert!(c.contains(&"CAP_NET_ADMIN".into()) && !c.contains(&"CAP_CHOWN".into()));
        assert_eq!(c.len(), 14);
        assert_eq!(
            opts(&["SYS_TIME"], &["ALL"]).capabilities().unwrap(),
            vec!["CAP_SYS_TIME".to_string()]
        );
        let all = opts(&["ALL"], &["MKNOD"]).capabilities().unwrap();
        assert!(all.contains(&"CAP_SYS_ADMIN".into()) && !all.contains(&"CAP_MKNOD".into()));
        let err = opts(&["FLY"], &[]).capabilities().unwrap_err().to_string();
        assert!(
            err.contains("unknown capability") && err.contains("FLY"),
            "{err}"
        );
    }

    #[test]
    fn modes_and_checks() {
        assert_eq!(
            "host".parse::<NamespaceMode>().unwrap(),
            NamespaceMode::Host
        );
        assert_eq!(
            "container:abc".parse::<NamespaceMode>().unwrap(),
            NamespaceMode::Container("abc".into())
        );
        assert!("container:".parse::<NamespaceMode>().is_err());
        assert!("bogus".parse::<NamespaceMode>().is_err());
        let mut o = ProcessOptions::default();
        o.sysctls.insert("vm.swappiness".into(), "1".into());
        assert!(o
            .validate(false)
            .unwrap_err()
            .to_string()
            .contains("vm.swappiness"));
        o.sysctls = [("net.ipv4.ip_forward".to_string(), "1".to_string())].into();
        assert!(o.validate(false).is_ok());
        assert!(o.validate(true).is_err());
        o.sysctls.clear();
        o.ulimits = vec![Ulimit {
            name: "nofile".into(),
            soft: 10,
            hard: 5,
        }];
        assert!(o.validate(false).is_err());
        o.ulimits.clear();
        o.shm_size = 1 << 20;
        o.ipc_mode = NamespaceMode::Host;
        assert!(o
            .validate(false)
            .unwrap_err()
            .to_string()
            .contains("shm-size"));
        o.ipc_mode = NamespaceMode::Private;
        o.oom_score_adj = 1001;
        assert!(o.validate(false).is_err());
        // Stored without the defaults, read back the same.
        let json = serde_json::to_string(&ProcessOptions::default()).unwrap();
        assert_eq!(json, "{}");
    }
}
