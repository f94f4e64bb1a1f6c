//! `daemon.json`: minidockd's settings in a file, as dockerd reads
//! `/etc/docker/daemon.json`.
//!
//! The file's keys are dockerd's. Each one either sets what a flag of
//! [`DaemonArgs`] sets (`data-root` is `--root`) — and then giving both is
//! an error, as in dockerd, because which one should win is a guess — or
//! sets something only the file can (`default-ulimits`, `dns`). A key
//! minidock does not know is an error that names it: a typo would otherwise
//! be a setting silently not applied. A value minidock cannot honour (a log
//! driver it does not have) is an error too, never a warning.
//!
//! On SIGHUP the daemon reads the file again and applies what dockerd
//! applies on a reload: `debug`, `registry-mirrors`, `insecure-registries`
//! and the `log-*` defaults for new containers ([`reload_hook`]). The other
//! keys take effect at the next start.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use clap::parser::ValueSource;
use clap::{ArgMatches, FromArgMatches};
use minidock_daemon::compat::defaults::ContainerDefaults;
use minidock_daemon::daemon::{RegistrySettings, Reload};
use minidock_daemon::types::Ulimit;
use minidock_networks::ipam::Subnet;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::daemon_args::DaemonArgs;

/// Where minidockd looks when `--config-file` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/minidock/daemon.json";

/// Every key minidockd reads, with the id of the flag that sets the same
/// thing (`None`: only the file sets it).
const KEYS: &[(&str, Option<&str>)] = &[
    ("data-root", Some("root")),
    ("exec-root", Some("run")),
    ("hosts", Some("hosts")),
    ("group", Some("group")),
    ("debug", Some("debug")),
    ("cgroup-parent", Some("cgroup_parent")),
    ("insecure-registries", Some("insecure_registries")),
    ("registry-mirrors", Some("registry_mirrors")),
    ("log-driver", Some("log_driver")),
    ("log-opts", Some("log_opts")),
    ("default-ulimits", None),
    ("tls", None),
    ("tlsverify", Some("tlsverify")),
    ("tlscacert", Some("tlscacert")),
    ("tlscert", Some("tlscert")),
    ("tlskey", Some("tlskey")),
    ("bip", Some("bridge_subnet")),
    ("default-address-pools", Some("address_pools")),
    ("ip-forward", Some("ip_forward")),
    ("dns", None),
];

/// The file, parsed and checked. Absent keys are `None`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileConfig {
    /// `--root`.
    pub data_root: Option<PathBuf>,
    /// `--run`.
    pub exec_root: Option<PathBuf>,
    /// `--host`, each.
    pub hosts: Option<Vec<String>>,
    /// `--group`.
    pub group: Option<String>,
    /// `--debug`; reloaded.
    pub debug: Option<bool>,
    /// `--cgroup-parent`.
    pub cgroup_parent: Option<String>,
    /// `--insecure-registry`, each; reloaded.
    pub insecure_registries: Option<Vec<String>>,
    /// `--registry-mirror`, each; reloaded.
    pub registry_mirrors: Option<Vec<String>>,
    /// `--log-driver` (`json-file` or `none`); reloaded.
    pub log_driver: Option<String>,
    /// `--log-opt`, each (`{"max-size": "10m"}`); reloaded.
    pub log_opts: Option<BTreeMap<String, String>>,
    /// `{"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}}`.
    pub default_ulimits: Option<BTreeMap<String, FileUlimit>>,
    /// TLS without verifying clients: minidock refuses it.
    pub tls: Option<bool>,
    /// `--tlsverify`.
    pub tlsverify: Option<bool>,
    /// `--tlscacert`.
    pub tlscacert: Option<PathBuf>,
    /// `--tlscert`.
    pub tlscert: Option<PathBuf>,
    /// `--tlskey`.
    pub tlskey: Option<PathBuf>,
    /// The default bridge's address and prefix, as `172.26.0.1/16`
    /// (`--bridge-subnet`, whose gateway is the first address).
    pub bip: Option<String>,
    /// `--address-pool`, each: `[{"base": "172.80.0.0/16", "size": 24}]`.
    pub default_address_pools: Option<Vec<FilePool>>,
    /// `--ip-forward`.
    pub ip_forward: Option<bool>,
    /// DNS servers of containers that name none.
    pub dns: Option<Vec<String>>,
}

/// One entry of `default-ulimits`, in dockerd's shape.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileUlimit {
    /// The limit's name; must match the key when given.
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// The soft limit.
    #[serde(rename = "Soft")]
    pub soft: i64,
    /// The hard limit.
    #[serde(rename = "Hard")]
    pub hard: i64,
}

/// One entry of `default-address-pools`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePool {
    /// The range the subnets are cut from.
    pub base: String,
    /// The prefix length of each subnet.
    pub size: u8,
}

impl FileConfig {
    /// Reads `path`. A missing file is `Ok(None)` only when `required` is
    /// false (the default path, which most machines do not have).
    pub fn load(path: &Path, required: bool) -> Result<Option<FileConfig>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        FileConfig::parse(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and checks the file's text.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("expected a JSON object of settings".to_string());
        };
        let unknown: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| !KEYS.iter().any(|(known, _)| known == k))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "unknown key(s) {}; minidockd knows {}",
                quoted(&unknown),
                KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            ));
        }
        // One key at a time, so that a wrong type names its key.
        for (key, value) in &map {
            let mut one = Map::new();
            one.insert(key.clone(), value.clone());
            serde_json::from_value::<FileConfig>(Value::Object(one))
                .map_err(|e| format!("{key:?}: {e}"))?;
        }
        let config: FileConfig =
            serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    /// What minidock cannot do, refused by name.
    fn check(&self) -> Result<(), String> {
        crate::daemon_logs::check_file(self.log_driver.as_deref(), self.log_opts.as_ref())?;
        if self.tls == Some(true) && self.tlsverify != Some(true) {
            return Err(
                "\"tls\": minidockd serves TCP with mutual TLS only; set \"tlsverify\": \
                        true (with tlscacert, tlscert and tlskey)"
                    .to_string(),
            );
        }
        self.container_defaults()?;
        self.bridge_subnet()?;
        self.address_pools()?;
        for url in self.registry_mirrors.iter().flatten() {
            check_mirror(url)?;
        }
        for registry in self.insecure_registries.iter().flatten() {
            if registry.contains("://") {
                return Err(format!(
                    "\"insecure-registries\": {registry:?}: give HOST:PORT, without a scheme"
                ));
            }
        }
        Ok(())
    }

    /// `default-ulimits` and `dns`, for the create handler.
    pub fn container_defaults(&self) -> Result<ContainerDefaults, String> {
        let mut ulimits = Vec::new();
        for (name, limit) in self.default_ulimits.iter().flatten() {
            if limit.name.as_deref().is_some_and(|n| n != name) {
                return Err(format!(
                    "\"default-ulimits\": the entry {name:?} is named {:?}",
                    limit.name.as_deref().unwrap_or_default()
                ));
            }
            if minidock_namespaces::compat::rlimits::resource(name).is_none() {
                let known: Vec<&str> = minidock_namespaces::compat::rlimits::RESOURCES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect();
                return Err(format!(
                    "\"default-ulimits\": unknown limit {name:?}; known are {}",
                    known.join(", ")
                ));
            }
            if limit.soft < -1 || limit.hard < -1 || (limit.hard != -1 && limit.soft > limit.hard) {
                return Err(format!(
                    "\"default-ulimits\": {name}={}:{}: soft and hard must be ≥ 0 (or -1, \
                     unlimited) and soft ≤ hard",
                    limit.soft, limit.hard
                ));
            }
            ulimits.push(Ulimit {
                name: name.clone(),
                soft: limit.soft,
                hard: limit.hard,
            });
        }
        let dns = self.dns.clone().unwrap_or_default();
        for server in &dns {
            server
                .parse::<std::net::IpAddr>()
                .map_err(|_| format!("\"dns\": {server:?} is not an IP address"))?;
        }
        Ok(ContainerDefaults {
            ulimits,
            dns,
            ..ContainerDefaults::default()
        })
    }

    /// `bip` as the `--bridge-subnet` it means: dockerd gives the bridge's
    /// own address; minidock's bridge always has its subnet's first one.
    fn bridge_subnet(&self) -> Result<Option<String>, String> {
        let Some(bip) = &self.bip else {
            return Ok(None);
        };
        let bad = |why: &str| format!("\"bip\": {bip:?}: {why}");
        let (ip, prefix) = bip
            .split_once('/')
            .ok_or_else(|| bad("expected ADDRESS/PREFIX, as 172.26.0.1/16"))?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad("not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| (8..=30).contains(p))
            .ok_or_else(|| bad("the prefix must be between 8 and 30"))?;
        let mask = u32::MAX << (32 - prefix);
        let subnet = Subnet {
            base: Ipv4Addr::from(u32::from(ip) & mask),
            prefix,
        };
        if ip != subnet.first_host() {
            return Err(bad(&format!(
                "minidock's bridge takes its subnet's first address; use {}/{prefix}",
                subnet.first_host()
            )));
        }
        Ok(Some(subnet.to_string()))
    }

    /// `default-address-pools` as `--address-pool` values.
    fn address_pools(&self) -> Result<Option<Vec<String>>, String> {
        let Some(pools) = &self.default_address_pools else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for pool in pools {
            let text = format!("{}/{}", pool.base, pool.size);
            crate::daemon_args::parse_pool(&text)
                .map_err(|e| format!("\"default-address-pools\": {e}"))?;
            out.push(text);
        }
        Ok(Some(out))
    }

    /// Sets each flag of `args` that the file sets. A key whose flag was
    /// also given on the command line is an error (dockerd's message).
    pub fn merge_into(&self, args: &mut DaemonArgs, given: &ArgMatches) -> Result<(), String> {
        let present = self.present_keys();
        let both: Vec<&str> = KEYS
            .iter()
            .filter(|(key, flag)| {
                present.contains(key)
                    && flag.is_some_and(|f| given.value_source(f) == Some(ValueSource::CommandLine))
            })
            .map(|(key, _)| *key)
            .collect();
        if !both.is_empty() {
            return Err(format!(
                "the following directives are specified both as a flag and in the \
                 configuration file: {}",
                both.join(", ")
            ));
        }
        let set = |to: &mut Vec<String>, from: &Option<Vec<String>>| {
            if let Some(from) = from {
                to.clone_from(from);
            }
        };
        if let Some(root) = &self.data_root {
            args.root.clone_from(root);
        }
        if let Some(run) = &self.exec_root {
            args.run.clone_from(run);
        }
        set(&mut args.hosts, &self.hosts);
        if self.group.is_some() {
            args.group.clone_from(&self.group);
        }
        if let Some(debug) = self.debug {
            args.debug = debug;
        }
        if let Some(parent) = &self.cgroup_parent {
            args.cgroup_parent.clone_from(parent);
        }
        set(&mut args.insecure_registries, &self.insecure_registries);
        set(&mut args.registry_mirrors, &self.registry_mirrors);
        if self.log_driver.is_some() {
            args.log_driver.clone_from(&self.log_driver);
        }
        if let Some(opts) = &self.log_opts {
            args.log_opts = crate::daemon_logs::as_flags(opts);
        }
        if let Some(verify) = self.tlsverify {
            args.tlsverify = verify;
        }
        for (to, from) in [
            (&mut args.tlscacert, &self.tlscacert),
            (&mut args.tlscert, &self.tlscert),
            (&mut args.tlskey, &self.tlskey),
        ] {
            if from.is_some() {
                to.clone_from(from);
            }
        }
        if !args.tlsverify && (args.tlscacert.is_some() || args.tlscert.is_some()) {
            return Err("tlscacert/tlscert/tlskey need tlsverify".to_string());
        }
        if let Some(subnet) = self.bridge_subnet()? {
            args.bridge_subnet = subnet;
        }
        set(&mut args.address_pools, &self.address_pools()?);
        if let Some(forward) = self.ip_forward {
            args.ip_forward = forward;
        }
        Ok(())
    }

    /// The keys the file has.
    fn present_keys(&self) -> Vec<&'static str> {
        let present = [
            self.data_root.is_some(),
            self.exec_root.is_some(),
            self.hosts.is_some(),
            self.group.is_some(),
            self.debug.is_some(),
            self.cgroup_parent.is_some(),
            self.insecure_registries.is_some(),
            self.registry_mirrors.is_some(),
            self.log_driver.is_some(),
            self.log_opts.is_some(),
            self.default_ulimits.is_some(),
            self.tls.is_some(),
            self.tlsverify.is_some(),
            self.tlscacert.is_some(),
            self.tlscert.is_some(),
            self.tlskey.is_some(),
            self.bip.is_some(),
            self.default_address_pools.is_some(),
            self.ip_forward.is_some(),
            self.dns.is_some(),
        ];
        KEYS.iter()
            .zip(present)
            .filter(|(_, here)| *here)
            .map(|((key, _), _)| *key)
            .collect()
    }
}

/// A mirror must be an http(s) URL of a host, as dockerd requires.
fn check_mirror(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("\"registry-mirrors\": {url:?}: expected http://HOST[:PORT] or https://HOST")
        })?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        return Err(format!(
            "\"registry-mirrors\": {url:?}: a mirror is a host, without a path"
        ));
    }
    Ok(())
}

fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a reload may change, and where it goes.
pub struct Reloadable {
    /// The file (re-read on each SIGHUP).
    pub path: PathBuf,
    /// The flags as given: a reloadable key the command line set stays as
    /// the command line set it, and the file must not set it too.
    pub flags: ArgMatches,
    /// `--debug` as given.
    pub flag_debug: bool,
    /// `--insecure-registry` as given.
    pub flag_insecure_registries: Vec<String>,
    /// `--registry-mirror` as given.
    pub flag_registry_mirrors: Vec<String>,
    /// The daemon's debug switch.
    pub debug: Arc<AtomicBool>,
    /// The registry client's settings.
    pub registry: RegistrySettings,
    /// What new containers get (the log driver and options are reloaded).
    pub defaults: Arc<RwLock<ContainerDefaults>>,
}

/// The SIGHUP handler: re-reads the file; if it is valid (and conflicts
/// with no flag), applies the reloadable keys and logs what they now are;
/// otherwise logs why and changes nothing, as dockerd does.
pub fn reload_hook(r: Reloadable) -> Reload {
    Reload(Arc::new(move || match reload_once(&r) {
        Ok(summary) => eprintln!("minidockd: reloaded {}: {summary}", r.path.display()),
        Err(e) => eprintln!(
            "minidockd: reload of {} failed, nothing changed: {e}",
            r.path.display()
        ),
    }))
}

fn reload_once(r: &Reloadable) -> Result<String, String> {
    let file = FileConfig::load(&r.path, false)?.unwrap_or_default();
    // The same check as at start: a key both in the file and on the
    // command line is refused.
    let mut scratch = DaemonArgs::from_arg_matches(&r.flags).map_err(|e| e.to_string())?;
    file.merge_into(&mut scratch, &r.flags)?;
    let debug = file.debug.unwrap_or(r.flag_debug);
    let insecure = file
        .insecure_registries
        .clone()
        .unwrap_or_else(|| r.flag_insecure_registries.clone());
    let mirrors = file
        .registry_mirrors
        .clone()
        .unwrap_or_else(|| r.flag_registry_mirrors.clone());
    // `scratch` has the flags with the file merged in: the log defaults
    // the file sets, or else those the flags set.
    let log = crate::daemon_logs::defaults(&scratch)?;
    let log_summary = crate::daemon_logs::summary(&log);
    r.defaults
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .log_config = log;
    r.debug.store(debug, Ordering::Relaxed);
    {
        let mut registry = r.registry.write().unwrap_or_else(|e| e.into_inner());
        registry.insecure_registries.clone_from(&insecure);
        registry.registry_mirrors.clone_from(&mirrors);
    }
    Ok(format!(
        "debug={debug}, insecure-registries={insecure:?}, registry-mirrors={mirrors:?}, \
         {log_summary}; other keys apply at the next start"
    ))
}

/// The container defaults, shared with the daemon's create handler;
/// `args` has the file merged in.
pub fn shared_defaults(
    file: Option<&FileConfig>,
    args: &DaemonArgs,
) -> Result<Arc<RwLock<ContainerDefaults>>, String> {
    let mut defaults = match file {
        Some(file) => file.container_defaults()?,
        None => ContainerDefaults::default(),
    };
    defaults.log_config = crate::daemon_logs::defaults(args)?;
    Ok(Arc::new(RwLock::new(defaults)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parsed(flags: &[&str]) -> (DaemonArgs, ArgMatches) {
        let matches = DaemonArgs::command()
            .try_get_matches_from(std::iter::once("minidockd").chain(flags.iter().copied()))
            .unwrap();
        (DaemonArgs::from_arg_matches(&matches).unwrap(), matches)
    }

    #[test]
    fn every_key_is_read_and_named_in_the_table() {
        let text = r#"{
            "data-root": "/d", "exec-root": "/e", "hosts": ["unix:///e/s.sock"],
            "group": "g", "debug": true, "cgroup-parent": "p",
            "insecure-registries": ["r:5000"], "registry-mirrors": ["http://m:5000"],
            "log-driver": "json-file", "log-opts": {},
            "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 10, "Hard": 20}},
            "tls": true, "tlsverify": true, "tlscacert": "/c", "tlscert": "/t", "tlskey": "/k",
            "bip": "172.26.0.1/16",
            "default-address-pools": [{"base": "172.80.0.0/16", "size": 24}],
            "ip-forward": false, "dns": ["192.0.2.53"]
        }"#;
        let file = FileConfig::parse(text).unwrap();
        assert_eq!(file.present_keys().len(), KEYS.len());
        let (mut args, matches) = parsed(&[]);
        file.merge_into(&mut args, &matches).unwrap();
        assert_eq!(args.root, PathBuf::from("/d"));
        assert_eq!(args.run, PathBuf::from("/e"));
        assert_eq!(args.bridge_subnet, "172.26.0.0/16");
        assert_eq!(args.address_pools, ["172.80.0.0/16/24"]);
        assert!(args.debug && args.tlsverify && !args.ip_forward);
        let defaults = file.container_defaults().unwrap();
        assert_eq!(defaults.dns, ["192.0.2.53"]);
        assert_eq!(defaults.ulimits[0].soft, 10);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = FileConfig::parse(r#"{"debug": true, "storage-drivr": "x", "iptables": false}"#)
            .unwrap_err();
        assert!(err.contains("\"iptables\", \"storage-drivr\""), "{err}");
    }

    #[test]
    fn a_wrong_type_names_its_key() {
        let err = FileConfig::parse(r#"{"debug": "yes"}"#).unwrap_err();
        assert!(err.starts_with("\"debug\":"), "{err}");
    }

    #[test]
    fn what_minidock_cannot_do_is_refused_by_name() {
        for (text, named) in [
            (r#"{"log-driver": "syslog"}"#, "'syslog'"),
            (r#"{"log-opts": {"max-sise": "10m"}}"#, "'max-sise'"),
            (r#"{"tls": true}"#, "mutual TLS"),
            (r#"{"bip": "172.26.0.7/16"}"#, "172.26.0.1/16"),
            (
                r#"{"default-ulimits": {"nofiles": {"Soft": 1, "Hard": 2}}}"#,
                "\"nofiles\"",
            ),
            (r#"{"dns": ["resolver"]}"#, "\"resolver\""),
            (
                r#"{"registry-mirrors": ["mirror:5000"]}"#,
                "\"mirror:5000\"",
            ),
        ] {
            let err = FileConfig::parse(text).unwrap_err();
            assert!(err.contains(named), "{text}: {err}");
        }
    }

    #[test]
    fn a_flag_and_a_key_for_the_same_thing_conflict() {
        let file = FileConfig::parse(r#"{"data-root": "/d", "debug": true, "dns": []}"#).unwrap();
        let (mut args, matches) = parsed(&["--root", "/x", "-D"]);
        let err = file.merge_into(&mut args, &matches).unwrap_err();
        assert!(err.ends_with("file: data-root, debug"), "{err}");
        // A default value is not a flag given.
        let (mut args, matches) = parsed(&[]);
        file.merge_into(&mut args, &matches).unwrap();
    }
}
