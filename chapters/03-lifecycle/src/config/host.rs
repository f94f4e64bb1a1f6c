//! The part of a container's configuration that is about the host: cgroup
//! limits (and Docker's rules for the ones that go together), bind mounts,
//! the restart policy, the network mode and the security options. Checked
//! once, at create (and at `docker update`), before anything is made.

use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Bind, RestartPolicy, TmpfsMount};
use crate::error::Error;

/// The part of a container's configuration that is about the host: limits,
/// mounts, policies. Field names follow Docker's `HostConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    /// `--memory` in bytes; 0 = unlimited.
    pub memory: u64,
    /// `--cpus` × 10⁹; 0 = unlimited.
    pub nano_cpus: u64,
    /// `--cpu-shares`; 0 = the default weight.
    pub cpu_shares: u64,
    /// `--pids-limit`; `None` = unlimited.
    pub pids_limit: Option<u64>,
    /// `--memory-swap`: memory plus swap in bytes; 0 = not set, -1 =
    /// unlimited swap.
    #[serde(default)]
    pub memory_swap: i64,
    /// `--memory-reservation`: the soft limit in bytes; 0 = none.
    #[serde(default)]
    pub memory_reservation: u64,
    /// `--cpu-quota`: µs of CPU time per period; 0 = not set.
    #[serde(default)]
    pub cpu_quota: u64,
    /// `--cpu-period`: the quota's period in µs; 0 = the kernel's 100 ms.
    #[serde(default)]
    pub cpu_period: u64,
    /// `--cpuset-cpus` (`0-3`, `0,2`); empty = every CPU.
    #[serde(default)]
    pub cpuset_cpus: String,
    /// `--cpuset-mems`; empty = every memory node.
    #[serde(default)]
    pub cpuset_mems: String,
    /// `--oom-kill-disable`: over its memory limit the container waits for
    /// memory instead of losing a process to the OOM killer (cgroup v1).
    #[serde(default)]
    pub oom_kill_disable: bool,
    /// `-v /host:/ctr[:ro]`; a volume (chapter 07) is a bind of its data
    /// directory.
    pub binds: Vec<Bind>,
    /// `--tmpfs /ctr[:opts]` and `--mount type=tmpfs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<TmpfsMount>,
    /// `--restart`: whether the shim starts the process again when it ends.
    pub restart_policy: RestartPolicy,
    /// `--rm`.
    pub auto_remove: bool,
    /// `--network`: whose network namespace the container gets.
    pub network_mode: NetworkMode,
    /// `--read-only`: the root file system is mounted read-only; `/dev`,
    /// `/proc`, `/sys` and bind mounts keep their own modes.
    #[serde(default)]
    pub readonly_rootfs: bool,
    /// `--security-opt`: `seccomp=unconfined` turns chapter 01's seccomp
    /// filter off, `no-new-privileges` sets `no_new_privs`.
    #[serde(default)]
    pub security_opt: Vec<String>,
    /// A network namespace pinned by the engine's network driver (chapter
    /// 06) that the container joins instead of making a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<PathBuf>,
    /// Files the network driver writes for the container (`/etc/hosts`,
    /// `/etc/resolv.conf`, `/etc/hostname`), bind-mounted like `binds` but
    /// not the user's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub etc_files: Vec<Bind>,
    /// Variables the engine computes afresh at each start (Docker's
    /// legacy links: `DB_PORT=tcp://…`), given to the container's process
    /// and its execs under the configured ones, which win, and never shown
    /// as the container's `Config.Env`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start_env: Vec<String>,
    /// Docker's process settings beyond the lesson: capabilities, shared
    /// namespaces, ulimits, sysctls, `--init`… (see [`crate::compat::process`]).
    #[serde(flatten)]
    pub process: crate::compat::process::ProcessOptions,
    /// `--log-driver` and `--log-opt`: where the shim keeps the output
    /// (see [`crate::log_config`]).
    #[serde(default)]
    pub log_config: crate::log_config::LogConfig,
}

// ANCHOR: host_resources
impl HostConfig {
    /// The cgroup limits this host config asks for.
    pub fn resources(&self) -> crate::cgroup::Resources {
        let non_empty = |s: &String| (!s.is_empty()).then(|| s.clone());
        crate::cgroup::Resources {
            memory: (self.memory > 0).then_some(self.memory),
            cpu_quota: if self.nano_cpus > 0 {
                Some(crate::cgroup::cpus_to_quota(self.nano_cpus))
            } else if self.cpu_quota > 0 {
                let period = if self.cpu_period > 0 {
                    self.cpu_period
                } else {
                    100_000
                };
                Some((self.cpu_quota, period))
            } else {
                None
            },
            cpu_shares: (self.cpu_shares > 0).then_some(self.cpu_shares),
            pids_max: self.pids_limit.filter(|p| *p > 0),
            memory_swap: crate::cgroup::SwapLimit::from_api(self.memory_swap)
                .filter(|_| self.memory > 0),
            memory_reservation: (self.memory_reservation > 0).then_some(self.memory_reservation),
            cpuset_cpus: non_empty(&self.cpuset_cpus),
            cpuset_mems: non_empty(&self.cpuset_mems),
            oom_kill_disable: self.oom_kill_disable,
        }
    }
    // ANCHOR_END: host_resources

    /// Whether the container runs under the seccomp filter (the default;
    /// never for a privileged container).
    pub fn seccomp(&self) -> bool {
        !self.process.privileged
            && !self
                .security_opt
                .iter()
                .any(|o| matches!(parse_security_opt(o), Ok(SecurityOpt::SeccompUnconfined)))
    }

    /// Whether `no_new_privs` is set for the container's processes.
    pub fn no_new_privileges(&self) -> bool {
        self.security_opt
            .iter()
            .rev()
            .find_map(|o| match parse_security_opt(o) {
                Ok(SecurityOpt::NoNewPrivileges(on)) => Some(on),
                _ => None,
            })
            .unwrap_or(false)
    }

    // ANCHOR: host_validate
    /// Checks what can be checked before anything is created: limits in
    /// range, bind sources present, security options known.
    pub fn validate(&self) -> Result<(), Error> {
        for option in &self.security_opt {
            parse_security_opt(option).map_err(Error::InvalidHostConfig)?;
        }
        if self.memory > 0 && self.memory < 6 * 1024 * 1024 {
            return Err(Error::InvalidHostConfig(format!(
                "minimum memory limit allowed is 6MB, got {} bytes",
                self.memory
            )));
        }
        validate_limits(self)?;
        self.process
            .validate(self.network_mode == NetworkMode::Host)?;
        if self.cpu_shares != 0 && !(2..=262_144).contains(&self.cpu_shares) {
            return Err(Error::InvalidHostConfig(format!(
                "cpu shares must be between 2 and 262144, got {}",
                self.cpu_shares
            )));
        }
        for bind in &self.binds {
            if !bind.source.exists() {
                return Err(Error::InvalidBind {
                    spec: bind.to_string(),
                    reason: format!("bind source path {} does not exist", bind.source.display()),
                });
            }
        }
        Ok(())
    }
    // ANCHOR_END: host_validate
}

/// One `--security-opt` that minidock understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityOpt {
    /// `seccomp=unconfined`.
    SeccompUnconfined,
    /// `no-new-privileges[=true|false]`.
    NoNewPrivileges(bool),
}

/// Parses a `--security-opt` the way Docker writes them (`key=value`, or
/// the older `key:value`); other options (AppArmor, SELinux labels, custom
/// seccomp profiles) are refused by name rather than ignored.
pub fn parse_security_opt(option: &str) -> Result<SecurityOpt, String> {
    let (key, value) = match option.split_once(['=', ':']) {
        Some((k, v)) => (k, Some(v)),
        None => (option, None),
    };
    match (key, value) {
        ("no-new-privileges", None | Some("true")) => Ok(SecurityOpt::NoNewPrivileges(true)),
        ("no-new-privileges", Some("false")) => Ok(SecurityOpt::NoNewPrivileges(false)),
        ("seccomp", Some("unconfined")) => Ok(SecurityOpt::SeccompUnconfined),
        ("seccomp", Some(profile)) => Err(format!(
            "security option seccomp={profile}: minidock has one built-in seccomp profile; \
             use it (the default) or seccomp=unconfined"
        )),
        _ => Err(format!(
            "security option {option:?} is not supported: minidock knows \
             seccomp=unconfined and no-new-privileges[=true|false]"
        )),
    }
}

// ANCHOR: host_limits
/// The smallest memory limit or reservation Docker accepts.
const MIN_MEMORY: u64 = 6 * 1024 * 1024;

/// Docker's checks of the limits that go together, with its messages.
fn validate_limits(h: &HostConfig) -> Result<(), Error> {
    let bad = |m: &str| Err(Error::InvalidHostConfig(m.to_string()));
    if h.memory_swap > 0 && h.memory == 0 {
        return bad(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        );
    }
    if h.memory_swap > 0 && (h.memory_swap as u64) < h.memory {
        return bad("Minimum memoryswap limit should be larger than memory limit, see usage");
    }
    if h.memory_reservation > 0 && h.memory_reservation < MIN_MEMORY {
        return bad("Minimum memory reservation allowed is 6MB");
    }
    if h.memory > 0 && h.memory_reservation > h.memory {
        return bad(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        );
    }
    if h.nano_cpus > 0 && h.cpu_quota > 0 {
        return bad("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    }
    if h.nano_cpus > 0 && h.cpu_period > 0 {
        return bad("Conflicting options: Nano CPUs and CPU Period cannot both be set");
    }
    if h.cpu_period != 0 && !(1_000..=1_000_000).contains(&h.cpu_period) {
        return bad(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        );
    }
    if h.cpu_quota != 0 && h.cpu_quota < 1_000 {
        return bad("CPU cfs quota can not be less than 1ms (i.e. 1000)");
    }
    for (flag, list) in [
        ("--cpuset-cpus", &h.cpuset_cpus),
        ("--cpuset-mems", &h.cpuset_mems),
    ] {
        check_list(flag, list)?;
    }
    Ok(())
}
// ANCHOR_END: host_limits

/// A cpuset list as the kernel reads it: `0-3,6`, numbers and ranges.
fn check_list(flag: &str, list: &str) -> Result<(), Error> {
    if list.is_empty() {
        return Ok(());
    }
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = list.split(',').all(|part| match part.split_once('-') {
        Some((a, b)) => number(a) && number(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok(),
        None => number(part),
    });
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidHostConfig(format!(
            "invalid value {list:?} for {flag}: use numbers and ranges, e.g. 0-2,4"
        )))
    }
}

/// Which network namespace the container gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetworkMode {
    /// A new network namespace with only `lo` (also what `default` means
    /// until the engine has a bridge network).
    #[default]
    #[serde(rename = "none", alias = "default")]
    None,
    /// The host's network namespace.
    #[serde(rename = "host")]
    Host,
}

impl FromStr for NetworkMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "none" | "default" | "" => Ok(NetworkMode::None),
            "host" => Ok(NetworkMode::Host),
            other => Err(Error::InvalidHostConfig(format!(
                "network mode {other:?} is not supported: use none or host"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_config_checks_limits_and_bind_sources() {
        let hc = HostConfig {
            memory: 1024,
            ..Default::default()
        };
        assert!(hc.validate().is_err());
        let hc = HostConfig {
            binds: vec!["/nonexistent-minidock-path:/x".parse().unwrap()],
            ..Default::default()
        };
        assert!(hc
            .validate()
            .unwrap_err()
            .to_string()
            .contains("does not exist"));
        let hc = HostConfig {
            memory: 16 << 20,
            nano_cpus: 1_500_000_000,
            cpu_shares: 512,
            pids_limit: Some(20),
            binds: vec!["/tmp:/x:ro".parse().unwrap()],
            ..Default::default()
        };
        hc.validate().unwrap();
        let r = hc.resources();
        assert_eq!(r.memory, Some(16 << 20));
        assert_eq!(r.cpu_quota, Some((150_000, 100_000)));
        assert_eq!(r.cpu_shares, Some(512));
        assert_eq!(r.pids_max, Some(20));
        assert_eq!(HostConfig::default().resources(), Default::default());
    }

    #[test]
    fn network_modes() {
        assert_eq!("host".parse::<NetworkMode>().unwrap(), NetworkMode::Host);
        assert_eq!("default".parse::<NetworkMode>().unwrap(), NetworkMode::None);
        assert!("bridge".parse::<NetworkMode>().is_err());
        assert_eq!(
            serde_json::from_str::<NetworkMode>("\"default\"").unwrap(),
            NetworkMode::None
        );
    }

    #[test]
    fn security_options_in_dockers_spellings() {
        let with = |opts: &[&str]| HostConfig {
            security_opt: opts.iter().map(|o| o.to_string()).collect(),
            ..Default::default()
        };
        let defaults = with(&[]);
        assert_eq!(
            (defaults.seccomp(), defaults.no_new_privileges()),
            (true, false)
        );
        for nnp in [
            "no-new-privileges",
            "no-new-privileges=true",
            "no-new-privileges:true",
        ] {
            assert!(with(&[nnp]).no_new_privileges(), "{nnp}");
        }
        // the last one wins, as in Docker
        assert!(!with(&["no-new-privileges", "no-new-privileges=false"]).no_new_privileges());
        for unconfined in ["seccomp=unconfined", "seccomp:unconfined"] {
            assert!(!with(&[unconfined]).seccomp(), "{unconfined}");
        }
        assert!(with(&["seccomp=unconfined", "no-new-privileges"])
            .validate()
            .is_ok());
        for refused in [
            "apparmor=unconfined",
            "label=disable",
            "seccomp=/p.json",
            "nnp",
        ] {
            let err = with(&[refused]).validate().unwrap_err().to_string();
            assert!(err.contains("security option"), "{refused}: {err}");
        }
    }
}
