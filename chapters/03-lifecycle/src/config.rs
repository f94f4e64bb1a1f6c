//! A container's configuration: what the image suggests, what the user
//! asked for, and the merge of the two by Docker's rules.
//!
//! An image says "run `/docker-entrypoint.sh nginx -g 'daemon off;'` as user
//! `nginx` in `/`, with `PATH=…`". The user says "`docker run -e A=1 -u 0
//! nginx sh`". What runs is decided once, at create, and written to
//! `config.json`: later image changes do not change an existing container.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What the image suggests (the `config` object of an OCI image config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub stop_signal: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl From<&oci_spec::image::Config> for ImageConfig {
    fn from(c: &oci_spec::image::Config) -> Self {
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        ImageConfig {
            entrypoint: c.entrypoint().clone(),
            cmd: c.cmd().clone(),
            env: c.env().clone().unwrap_or_default(),
            working_dir: non_empty(c.working_dir()),
            user: non_empty(c.user()),
            stop_signal: non_empty(c.stop_signal()),
            labels: c
                .labels()
                .clone()
                .map(|l| l.into_iter().collect())
                .unwrap_or_default(),
        }
    }
}

/// What the user asked for: every field that is `None` (or empty) was not
/// given and falls back to the image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserConfig {
    /// `--entrypoint`; `Some(vec![])` is `--entrypoint ""`: no entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// The words after the image name.
    pub cmd: Option<Vec<String>>,
    /// `-e KEY=VALUE`.
    pub env: Vec<String>,
    /// `-w`.
    pub working_dir: Option<String>,
    /// `-u`.
    pub user: Option<String>,
    /// `--hostname`; the short id when not given.
    pub hostname: Option<String>,
    /// `--stop-signal`.
    pub stop_signal: Option<String>,
    /// `--stop-timeout`, in seconds.
    pub stop_timeout: Option<u32>,
    /// `-l KEY=VALUE`.
    pub labels: BTreeMap<String, String>,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub open_stdin: bool,
}

/// The merged configuration a container runs with, stored in `config.json`.
/// Field names follow Docker's `Config` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    /// The image as the user named it (`busybox:latest`).
    pub image: String,
    pub hostname: String,
    /// `name`, `uid`, `uid:gid` or `name:group`; empty = root.
    pub user: String,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Absolute; empty = `/`.
    pub working_dir: String,
    pub labels: BTreeMap<String, String>,
    /// `SIGTERM` unless the image or the user chose another.
    pub stop_signal: String,
    pub stop_timeout: Option<u32>,
    pub tty: bool,
    pub open_stdin: bool,
}

impl Config {
    /// The process to run: entrypoint, then cmd.
    pub fn args(&self) -> Vec<String> {
        self.entrypoint.iter().chain(&self.cmd).cloned().collect()
    }
}

// ANCHOR: merge
/// Merges the image's defaults with the user's options, as Docker's
/// `merge()` in `daemon/commit.go` does:
/// - a user entrypoint replaces the image's, and the image's cmd is dropped
///   with it (an image cmd is meant as arguments to the image entrypoint);
/// - a user cmd replaces the image's cmd;
/// - env is merged by key: every user entry, then each image entry whose
///   key the user did not set;
/// - working dir, user and stop signal come from the image unless given;
/// - labels: the image's, overridden key by key by the user's.
///
/// Fails when nothing is left to run.
pub fn merge(
    image_ref: &str,
    image: &ImageConfig,
    user: UserConfig,
    short_id: &str,
) -> Result<Config, Error> {
    // exercise 3.2 merge-config: merge the image config and the user's options with Docker's rules.
    // hint: decide entrypoint and cmd together: a non-empty user entrypoint wins and drops the image's cmd; otherwise the user's cmd, else the image's
    // hint: env: keep every user entry, then append image entries whose KEY (before '=') the user did not set (crate::env has the key rule)
    let user_entrypoint_given = user.entrypoint.as_ref().is_some_and(|e| !e.is_empty());
    let (entrypoint, cmd) = if user_entrypoint_given {
        (
            user.entrypoint.clone().unwrap_or_default(),
            user.cmd.clone().unwrap_or_default(),
        )
    } else {
        let cmd = match &user.cmd {
            Some(c) if !c.is_empty() => c.clone(),
            _ => image.cmd.clone().unwrap_or_default(),
        };
        // `--entrypoint ""` clears the image's entrypoint but keeps its cmd.
        let entrypoint = match &user.entrypoint {
            Some(e) => e.clone(),
            None => image.entrypoint.clone().unwrap_or_default(),
        };
        (entrypoint, cmd)
    };
    if entrypoint.is_empty() && cmd.is_empty() {
        return Err(Error::NoCommand {
            image: image_ref.to_string(),
        });
    }
    let mut env = user.env.clone();
    for entry in &image.env {
        if !crate::env::has(&user.env, crate::env::key(entry)) {
            env.push(entry.clone());
        }
    }
    let mut labels = image.labels.clone();
    labels.extend(user.labels);
    Ok(Config {
        image: image_ref.to_string(),
        hostname: user.hostname.unwrap_or_else(|| short_id.to_string()),
        user: user.user.or_else(|| image.user.clone()).unwrap_or_default(),
        env,
        entrypoint,
        cmd,
        working_dir: user
            .working_dir
            .or_else(|| image.working_dir.clone())
            .unwrap_or_default(),
        labels,
        stop_signal: user
            .stop_signal
            .or_else(|| image.stop_signal.clone())
            .unwrap_or_else(|| "SIGTERM".to_string()),
        stop_timeout: user.stop_timeout,
        tty: user.tty,
        open_stdin: user.open_stdin,
    })
    // end exercise
}
// ANCHOR_END: merge

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
    /// `-v /host:/ctr[:ro]`; a volume (chapter 07) is a bind of its data
    /// directory.
    pub binds: Vec<Bind>,
    /// `--tmpfs /ctr[:opts]` and `--mount type=tmpfs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<TmpfsMount>,
    pub restart_policy: RestartPolicy,
    /// `--rm`.
    pub auto_remove: bool,
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
    /// Docker's process settings beyond the lesson: capabilities, shared
    /// namespaces, ulimits, sysctls, `--init`… (see [`crate::compat::process`]).
    #[serde(flatten)]
    pub process: crate::compat::process::ProcessOptions,
    /// `--log-driver` and `--log-opt`: where the shim keeps the output
    /// (see [`crate::log_config`]).
    #[serde(default)]
    pub log_config: crate::log_config::LogConfig,
}

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
        }
    }

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
        crate::limits::validate(self)?;
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

/// A tmpfs mount: chapter 01's description, kept in the host config.
pub use minidock_namespaces::TmpfsMount;

/// A bind mount of a host path into the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bind {
    /// Absolute host path.
    pub source: PathBuf,
    /// Absolute path inside the container.
    pub destination: PathBuf,
    pub read_only: bool,
    /// `rslave`, `shared`, …: whether the host's later mounts under the
    /// source reach the container (chapter 01's [`Propagation`]). Written
    /// after the mode (`/a:/b:ro,rslave`) only when it is not the default,
    /// so a `config.json` from before it existed still loads.
    pub propagation: Propagation,
}

pub use minidock_namespaces::Propagation;

impl FromStr for Bind {
    type Err = Error;

    /// Parses `/host:/ctr`, `/host:/ctr:ro` or `/host:/ctr:rw`, the mode
    /// optionally followed by a propagation (`/host:/ctr:ro,rslave`,
    /// `/host:/ctr:rslave`). Both paths must be absolute and free of `..`,
    /// and the destination may not be `/`: a bind is resolved inside the
    /// container's root when it is mounted, and `..` has no business there.
    fn from_str(spec: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::InvalidBind {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = spec.split(':').collect();
        let (source, destination, mode) = match parts.as_slice() {
            [s, d] => (*s, *d, "rw"),
            [s, d, m] => (*s, *d, *m),
            _ => return Err(bad("expected /host/path:/container/path[:ro|rw]")),
        };
        let mut read_only = false;
        let mut propagation = Propagation::default();
        for option in mode.split(',') {
            match option {
                "ro" => read_only = true,
                "rw" => read_only = false,
                other => {
                    propagation = other.parse().map_err(|_| {
                        bad("mode must be ro or rw, optionally with a propagation (ro,rslave)")
                    })?
                }
            }
        }
        if !source.starts_with('/') {
            return Err(bad(
                "the host path must be absolute (named volumes are not supported)",
            ));
        }
        if !destination.starts_with('/') {
            return Err(bad("the container path must be absolute"));
        }
        for p in [source, destination] {
            if Path::new(p).components().any(|c| c == Component::ParentDir) {
                return Err(bad("paths may not contain '..'"));
            }
        }
        if Path::new(destination)
            .components()
            .all(|c| c == Component::RootDir)
        {
            return Err(bad("cannot bind over the container's root '/'"));
        }
        Ok(Bind {
            source: PathBuf::from(source),
            destination: PathBuf::from(destination),
            read_only,
            propagation,
        })
    }
}

impl TryFrom<String> for Bind {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<Bind> for String {
    fn from(b: Bind) -> String {
        b.to_string()
    }
}

impl fmt::Display for Bind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}",
            self.source.display(),
            self.destination.display()
        )?;
        let propagation = self.propagation != Propagation::default();
        match (self.read_only, propagation) {
            (false, false) => Ok(()),
            (true, false) => write!(f, ":ro"),
            (false, true) => write!(f, ":{}", self.propagation),
            (true, true) => write!(f, ":ro,{}", self.propagation),
        }
    }
}

/// What to do when the container's process exits on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    /// `no`, `always`, `unless-stopped` or `on-failure`.
    pub name: RestartName,
    /// For `on-failure`: most restarts; 0 = no limit.
    pub maximum_retry_count: u32,
}

/// The restart policy kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestartName {
    #[default]
    #[serde(rename = "no", alias = "")]
    No,
    #[serde(rename = "always")]
    Always,
    #[serde(rename = "unless-stopped")]
    UnlessStopped,
    #[serde(rename = "on-failure")]
    OnFailure,
}

impl RestartName {
    /// The name as Docker writes it (`on-failure`).
    pub fn as_str(self) -> &'static str {
        match self {
            RestartName::No => "no",
            RestartName::Always => "always",
            RestartName::UnlessStopped => "unless-stopped",
            RestartName::OnFailure => "on-failure",
        }
    }
}

impl FromStr for RestartPolicy {
    type Err = Error;

    /// Parses `no`, `always`, `unless-stopped`, `on-failure` or
    /// `on-failure:N` (`""` is `no`, as the API sends it), with the
    /// messages of Docker's CLI. The one parser of a policy: the CLI's
    /// `--restart`, the API's `RestartPolicy` and `docker update` use it.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: &'static str| Error::InvalidRestartPolicy {
            policy: s.to_string(),
            reason,
        };
        let (name, count) = match s.split_once(':') {
            Some((name, count)) => (name, Some(count)),
            None => (s, None),
        };
        let name = match name {
            "" | "no" => RestartName::No,
            "always" => RestartName::Always,
            "unless-stopped" => RestartName::UnlessStopped,
            "on-failure" => RestartName::OnFailure,
            _ => {
                return Err(bad(
                    "use no, always, unless-stopped or on-failure[:max-retries]",
                ))
            }
        };
        let maximum_retry_count = match (name, count) {
            (_, None) => 0,
            (RestartName::OnFailure, Some(n)) => n
                .parse()
                .map_err(|_| bad("maximum retry count must be a positive integer"))?,
            (_, Some(_)) => {
                return Err(bad(
                    "maximum retry count can only be used with 'on-failure'",
                ))
            }
        };
        Ok(RestartPolicy {
            name,
            maximum_retry_count,
        })
    }
}

/// When a restart policy is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartTrigger {
    /// The container's process exited while its shim watched it.
    Exited,
    /// The engine starts and finds the container exited (its shim died
    /// with the machine, say).
    EngineStart,
}

impl RestartPolicy {
    /// Whether a container that exited with `exit_code` after `restarts`
    /// earlier restarts should be started again. `stopped_by_user` is true
    /// after `stop`/`kill`/`rm` through the engine: a manual stop ends
    /// restarts until the next `start`.
    ///
    /// Docker's one exception, kept: when the engine starts, `always`
    /// starts a container even after a manual stop (`unless-stopped`
    /// is the policy that remembers the stop across engine restarts).
    ///
    /// | policy           | on exit             | on engine start      |
    /// |------------------|---------------------|----------------------|
    /// | `no`             | never               | never                |
    /// | `always`         | unless stopped by hand | always            |
    /// | `unless-stopped` | unless stopped by hand | unless stopped by hand |
    /// | `on-failure[:N]` | code ≠ 0, not stopped by hand, restarts left (N = 0: no limit) | the same |
    pub fn decide(
        &self,
        trigger: RestartTrigger,
        exit_code: i32,
        restarts: u32,
        stopped_by_user: bool,
    ) -> bool {
        let by_hand = stopped_by_user
            && !(trigger == RestartTrigger::EngineStart && self.name == RestartName::Always);
        if by_hand {
            return false;
        }
        match self.name {
            RestartName::No => false,
            RestartName::Always | RestartName::UnlessStopped => true,
            RestartName::OnFailure => {
                exit_code != 0
                    && (self.maximum_retry_count == 0 || restarts < self.maximum_retry_count)
            }
        }
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

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn nginx_like() -> ImageConfig {
        ImageConfig {
            entrypoint: Some(v(&["/docker-entrypoint.sh"])),
            cmd: Some(v(&["nginx", "-g", "daemon off;"])),
            env: v(&["PATH=/usr/bin:/bin", "NGINX_VERSION=1.27"]),
            working_dir: Some("/srv".into()),
            user: Some("nginx".into()),
            stop_signal: Some("SIGQUIT".into()),
            labels: [("maintainer".to_string(), "x".to_string())].into(),
        }
    }

    #[test]
    fn nothing_given_takes_everything_from_the_image() {
        let c = merge(
            "nginx",
            &nginx_like(),
            UserConfig::default(),
            "0123456789ab",
        )
        .unwrap();
        assert_eq!(
            c.args(),
            v(&["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"])
        );
        assert_eq!(c.env, v(&["PATH=/usr/bin:/bin", "NGINX_VERSION=1.27"]));
        assert_eq!((c.working_dir.as_str(), c.user.as_str()), ("/srv", "nginx"));
        assert_eq!(c.stop_signal, "SIGQUIT");
        assert_eq!(c.hostname, "0123456789ab");
    }

    #[test]
    fn user_cmd_replaces_the_image_cmd_and_keeps_the_entrypoint() {
        let user = UserConfig {
            cmd: Some(v(&["sh"])),
            ..Default::default()
        };
        let c = merge("nginx", &nginx_like(), user, "x").unwrap();
        assert_eq!(c.entrypoint, v(&["/docker-entrypoint.sh"]));
        assert_eq!(c.cmd, v(&["sh"]));
    }

    #[test]
    fn user_entrypoint_drops_the_image_cmd() {
        let user = UserConfig {
            entrypoint: Some(v(&["/bin/echo"])),
            ..Default::default()
        };
        let c = merge("nginx", &nginx_like(), user, "x").unwrap();
        assert_eq!(c.args(), v(&["/bin/echo"]));
        let user = UserConfig {
            entrypoint: Some(v(&["/bin/echo"])),
            cmd: Some(v(&["hi"])),
            ..Default::default()
        };
        assert_eq!(
            merge("nginx", &nginx_like(), user, "x").unwrap().args(),
            v(&["/bin/echo", "hi"])
        );
    }

    #[test]
    fn empty_user_entrypoint_clears_it_but_keeps_the_image_cmd() {
        let user = UserConfig {
            entrypoint: Some(vec![]),
            ..Default::default()
        };
        let c = merge("nginx", &nginx_like(), user, "x").unwrap();
        assert!(c.entrypoint.is_empty());
        assert_eq!(c.cmd, v(&["nginx", "-g", "daemon off;"]));
    }

    #[test]
    fn env_is_merged_by_key_and_the_user_wins() {
        use rand::Rng;
        let value: u32 = rand::thread_rng().gen();
        let user = UserConfig {
            env: vec![
                format!("NGINX_VERSION={value}"),
                "EXTRA=1".into(),
                "FLAG".into(),
            ],
            ..Default::default()
        };
        let mut image = nginx_like();
        image.env.push("FLAG=from-image".into());
        let c = merge("nginx", &image, user, "x").unwrap();
        assert_eq!(
            c.env,
            vec![
                format!("NGINX_VERSION={value}"),
                "EXTRA=1".into(),
                "FLAG".into(),
                "PATH=/usr/bin:/bin".into()
            ]
        );
    }

    #[test]
    fn user_settings_override_the_image() {
        let user = UserConfig {
            working_dir: Some("/tmp".into()),
            user: Some("0:0".into()),
            stop_signal: Some("SIGUSR1".into()),
            hostname: Some("web".into()),
            labels: [("maintainer".to_string(), "me".to_string())].into(),
            ..Default::default()
        };
        let c = merge("nginx", &nginx_like(), user, "x").unwrap();
        assert_eq!(c.working_dir, "/tmp");
        assert_eq!(c.user, "0:0");
        assert_eq!(c.stop_signal, "SIGUSR1");
        assert_eq!(c.hostname, "web");
        assert_eq!(c.labels["maintainer"], "me");
    }

    #[test]
    fn no_command_at_all_is_an_error() {
        let err = merge(
            "scratchy",
            &ImageConfig::default(),
            UserConfig::default(),
            "x",
        )
        .unwrap_err();
        assert!(err.to_string().contains("no command specified"), "{err}");
        let c = merge(
            "scratchy",
            &ImageConfig::default(),
            UserConfig::default_with_cmd(),
            "x",
        )
        .unwrap();
        assert_eq!(c.stop_signal, "SIGTERM");
    }

    impl UserConfig {
        fn default_with_cmd() -> Self {
            UserConfig {
                cmd: Some(v(&["true"])),
                ..Default::default()
            }
        }
    }

    #[test]
    fn binds_are_validated() {
        let b: Bind = "/srv/data:/data:ro".parse().unwrap();
        assert_eq!(b.source, PathBuf::from("/srv/data"));
        assert_eq!(b.destination, PathBuf::from("/data"));
        assert!(b.read_only);
        assert_eq!(b.to_string(), "/srv/data:/data:ro");
        assert!(!"/a:/b".parse::<Bind>().unwrap().read_only);
        assert!(!"/a:/b:rw".parse::<Bind>().unwrap().read_only);
        // A propagation is kept, and written only when it is not rprivate:
        // what older config.json files hold still reads the same.
        let slave: Bind = "/a:/b:ro,rslave".parse().unwrap();
        assert!(slave.read_only);
        assert_eq!(slave.propagation, Propagation::Rslave);
        assert_eq!(slave.to_string(), "/a:/b:ro,rslave");
        let shared: Bind = "/a:/b:shared".parse().unwrap();
        assert_eq!(shared.to_string(), "/a:/b:shared");
        assert_eq!(
            "/a:/b:rprivate".parse::<Bind>().unwrap().to_string(),
            "/a:/b"
        );
        let json: Bind = serde_json::from_str("\"/a:/b:ro\"").unwrap();
        assert_eq!(json.propagation, Propagation::Rprivate);
        for bad in [
            "",
            "/a",
            "data:/data",
            "/a:b",
            "/a:/b:rx",
            "/a:/../../etc",
            "/../etc:/x",
            "/a:/",
            "/a:/b:ro:x",
            "/a:/b:ro,rshare",
        ] {
            let err = bad.parse::<Bind>().unwrap_err().to_string();
            assert!(err.starts_with("invalid bind"), "{bad:?}: {err}");
        }
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, "\"/srv/data:/data:ro\"");
        assert!(serde_json::from_str::<Bind>("\"/a:/../x\"").is_err());
    }

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
    fn restart_policies() {
        use RestartTrigger::{EngineStart, Exited};
        let p: RestartPolicy = "on-failure:3".parse().unwrap();
        assert_eq!(p.name, RestartName::OnFailure);
        assert!(p.decide(Exited, 1, 2, false));
        assert!(!p.decide(Exited, 1, 3, false));
        assert!(!p.decide(Exited, 0, 0, false));
        assert!(!p.decide(EngineStart, 1, 0, true));
        let a: RestartPolicy = "always".parse().unwrap();
        assert!(a.decide(Exited, 0, 100, false));
        assert!(!a.decide(Exited, 0, 0, true), "a manual stop ends restarts");
        assert!(a.decide(EngineStart, 0, 0, true), "until the engine starts");
        let u: RestartPolicy = "unless-stopped".parse().unwrap();
        assert!(u.decide(EngineStart, 0, 0, false));
        assert!(!u.decide(EngineStart, 0, 0, true));
        let no: RestartPolicy = "".parse().unwrap();
        assert!(!no.decide(Exited, 1, 0, false));
        assert!(!no.decide(EngineStart, 1, 0, false));
        for (bad, says) in [
            ("sometimes", "use no, always"),
            ("on-failure:x", "must be a positive integer"),
            ("on-failure:-1", "must be a positive integer"),
            ("always:3", "only be used with 'on-failure'"),
        ] {
            let e = bad.parse::<RestartPolicy>().unwrap_err().to_string();
            assert!(e.starts_with("invalid restart policy format: "), "{e}");
            assert!(e.contains(says) && e.ends_with(bad), "{e}");
        }
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"Name":"on-failure","MaximumRetryCount":3}"#);
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
