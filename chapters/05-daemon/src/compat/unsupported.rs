//! Settings a client may send that minidock cannot honour.
//!
//! The Engine API has hundreds of container settings; minidock implements a
//! few dozen. A daemon that silently ignored the rest would lie: `docker run
//! -p 8080:80` would "work" with no port published, `--device /dev/sdb`
//! would run without the device, `--blkio-weight 300` without the weight.
//! So every setting minidock knows it does not implement is refused by
//! name when a request asks for it, with what to do instead.
//!
//! "Asks for it" matters: clients send many of these fields with empty
//! values on every create (the docker CLI sends `"Devices": []`,
//! `"PortBindings": {}`, `"BlkioWeight": 0`, …). Only a value that means
//! something — `true`, a non-zero number, a non-empty string, list or map,
//! a mode other than the default — is refused.

use crate::error::ApiError;
use serde_json::Value;
use std::collections::BTreeMap;

// ANCHOR: asks
/// When a field's value asks for something.
#[derive(Debug, Clone, Copy)]
enum Asks {
    /// `true`.
    Flag,
    /// A non-empty list or map.
    Entries,
    /// A number above zero.
    Positive,
    /// A number of zero or more (-1 or `null`: the default).
    ZeroOrMore,
    /// A non-empty string.
    Text,
    /// A string other than these (the defaults).
    ModeOtherThan(&'static [&'static str]),
}

impl Asks {
    fn by(self, value: &Value) -> bool {
        match (self, value) {
            (_, Value::Null) => false,
            (Asks::Flag, v) => v.as_bool() == Some(true),
            (Asks::Entries, Value::Array(a)) => !a.is_empty(),
            (Asks::Entries, Value::Object(o)) => !o.is_empty(),
            (Asks::Positive, v) => v.as_f64().is_some_and(|n| n > 0.0),
            (Asks::ZeroOrMore, v) => v.as_f64().is_some_and(|n| n >= 0.0),
            (Asks::Text, Value::String(s)) => !s.is_empty(),
            (Asks::ModeOtherThan(defaults), Value::String(s)) => !defaults.contains(&s.as_str()),
            // a type the API does not use for this field
            _ => true,
        }
    }
}
// ANCHOR_END: asks

const NO_NETWORK: &str = "minidock gives a container no network of its own to publish or \
                          configure; use --network host to share the host's";
const NO_LINKS: &str = "legacy container links (--link) live on the default bridge \
                        network, and this daemon has no network service";
const NO_VOLUMES: &str =
    "this daemon has bind mounts only (no volume service): use -v /host/path:/container/path[:ro]";
const HOST_USERNS: &str = "minidock runs containers in the host's user namespace";
const HOST_CGROUPNS: &str = "minidock makes no cgroup namespace (mode host)";
const NO_BLKIO: &str = "minidock sets no block I/O limits";
const NO_DEVICES: &str = "minidock gives containers the default devices only (all of them with \
                          --privileged)";
const NO_FILES: &str = "minidock does not write /etc/hosts or /etc/resolv.conf into containers";
const LIMITS: &str = "minidock sets --memory, --memory-swap, --memory-reservation, --cpus, \
                      --cpu-shares, --cpu-quota, --cpu-period, --cpuset-cpus, --cpuset-mems, \
                      --pids-limit and --oom-kill-disable only";

/// `HostConfig` fields minidock does not implement, and why.
const HOST_CONFIG: &[(&str, Asks, &str)] = &[
    ("PortBindings", Asks::Entries, NO_NETWORK),
    ("PublishAllPorts", Asks::Flag, NO_NETWORK),
    ("Dns", Asks::Entries, NO_FILES),
    ("DnsSearch", Asks::Entries, NO_FILES),
    ("DnsOptions", Asks::Entries, NO_FILES),
    ("ExtraHosts", Asks::Entries, NO_FILES),
    ("Links", Asks::Entries, NO_LINKS),
    ("Devices", Asks::Entries, NO_DEVICES),
    ("DeviceRequests", Asks::Entries, NO_DEVICES),
    ("DeviceCgroupRules", Asks::Entries, NO_DEVICES),
    (
        "VolumeDriver",
        Asks::ModeOtherThan(&["", "local"]),
        "minidock has the local volume driver only",
    ),
    (
        "UsernsMode",
        Asks::ModeOtherThan(&["", "host"]),
        HOST_USERNS,
    ),
    (
        "CgroupnsMode",
        Asks::ModeOtherThan(&["", "host"]),
        HOST_CGROUPNS,
    ),
    ("CgroupParent", Asks::Text, LIMITS),
    ("Cgroup", Asks::Text, LIMITS),
    ("MemorySwappiness", Asks::ZeroOrMore, LIMITS),
    ("KernelMemory", Asks::Positive, LIMITS),
    ("KernelMemoryTCP", Asks::Positive, LIMITS),
    ("CpuRealtimePeriod", Asks::Positive, LIMITS),
    ("CpuRealtimeRuntime", Asks::Positive, LIMITS),
    ("CpuCount", Asks::Positive, LIMITS),
    ("CpuPercent", Asks::Positive, LIMITS),
    ("IOMaximumIOps", Asks::Positive, NO_BLKIO),
    ("IOMaximumBandwidth", Asks::Positive, NO_BLKIO),
    ("BlkioWeight", Asks::Positive, NO_BLKIO),
    ("BlkioWeightDevice", Asks::Entries, NO_BLKIO),
    ("BlkioDeviceReadBps", Asks::Entries, NO_BLKIO),
    ("BlkioDeviceWriteBps", Asks::Entries, NO_BLKIO),
    ("BlkioDeviceReadIOps", Asks::Entries, NO_BLKIO),
    ("BlkioDeviceWriteIOps", Asks::Entries, NO_BLKIO),
    (
        "Isolation",
        Asks::ModeOtherThan(&["", "default"]),
        "containers on Linux have one isolation, the default",
    ),
    (
        "Annotations",
        Asks::Entries,
        "minidock has no OCI runtime to pass annotations to",
    ),
    (
        "Runtime",
        Asks::ModeOtherThan(&["", "runc", "minidock"]),
        "minidock is its own and only runtime",
    ),
];

/// The fields a network service (chapter 06) implements.
const NETWORKED: &[&str] = &[
    "PortBindings",
    "PublishAllPorts",
    "Dns",
    "DnsSearch",
    "DnsOptions",
    "ExtraHosts",
    "MacAddress",
    "Links",
];

/// `Config` fields minidock does not implement.
const CONFIG: &[(&str, Asks, &str)] = &[("MacAddress", Asks::Text, NO_NETWORK)];

/// `HostConfig` fields that need a volume service (chapter 07).
const HOST_CONFIG_VOLUMES: &[(&str, Asks, &str)] = &[
    ("Mounts", Asks::Entries, NO_VOLUMES),
    ("Tmpfs", Asks::Entries, NO_VOLUMES),
    ("VolumesFrom", Asks::Entries, NO_VOLUMES),
];

/// `Config` fields that need a volume service.
const CONFIG_VOLUMES: &[(&str, Asks, &str)] = &[("Volumes", Asks::Entries, NO_VOLUMES)];

/// Refuses volumes, tmpfs mounts and `--volumes-from`: for a daemon that
/// has no volume service plugged in.
pub fn refuse_volumes(body: &crate::compat::types::ContainerCreateBody) -> Result<(), ApiError> {
    fn json<T: serde::Serialize>(v: &T) -> Value {
        serde_json::to_value(v).unwrap_or(Value::Null)
    }
    let h = &body.host_config;
    let host: BTreeMap<String, Value> = [
        ("Mounts", json(&h.mounts)),
        ("Tmpfs", json(&h.tmpfs)),
        ("VolumesFrom", json(&h.volumes_from)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    check("HostConfig", HOST_CONFIG_VOLUMES, &host)?;
    let config = BTreeMap::from([("Volumes".to_string(), json(&body.config.volumes))]);
    check("Config", CONFIG_VOLUMES, &config)
}

fn check(
    part: &str,
    fields: &[(&str, Asks, &str)],
    sent: &BTreeMap<String, Value>,
) -> Result<(), ApiError> {
    for (name, asks, why) in fields {
        if let Some(value) = sent.get(*name) {
            if asks.by(value) {
                return Err(ApiError::BadParameter(format!(
                    "{part}.{name} is not supported ({value}): {why}"
                )));
            }
        }
    }
    Ok(())
}

/// Refuses a create request that asks for a setting minidock cannot honour,
/// naming the first one. `config` and `host_config` are the fields of the
/// request's `Config` and `HostConfig` that minidock does not read.
///
/// With a network service (`networked`), the network settings — published
/// ports, DNS, extra hosts, MAC address, links — are that service's to
/// check.
pub fn refuse_unsupported(
    config: &BTreeMap<String, Value>,
    host_config: &BTreeMap<String, Value>,
    networked: bool,
) -> Result<(), ApiError> {
    let keep = |fields: &'static [(&'static str, Asks, &'static str)]| {
        fields
            .iter()
            .filter(|(name, _, _)| !(networked && NETWORKED.contains(name)))
            .copied()
            .collect::<Vec<_>>()
    };
    check("HostConfig", &keep(HOST_CONFIG), host_config)?;
    check("Config", &keep(CONFIG), config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn empty_values_as_clients_send_them_pass() {
        // What the docker CLI sends for `docker run busybox true`.
        let body = |config: Value, host: Value| -> crate::compat::types::ContainerCreateBody {
            let mut config = config;
            config["HostConfig"] = host;
            serde_json::from_value(config).unwrap()
        };
        let host = map(json!({
            "CapAdd": null, "CapDrop": null, "PortBindings": {}, "Privileged": false,
            "PublishAllPorts": false, "Dns": [], "DnsOptions": [], "DnsSearch": [],
            "ExtraHosts": null, "Links": null, "Devices": [], "Mounts": null, "VolumesFrom": null,
            "PidMode": "", "IpcMode": "", "UTSMode": "", "UsernsMode": "", "Sysctls": null,
            "CgroupParent": "", "CpusetCpus": "", "CpuQuota": 0, "CpuPeriod": 0,
            "BlkioWeight": 0, "MemorySwap": 0, "MemorySwappiness": -1, "CgroupnsMode": "", "MemoryReservation": 0, "OomKillDisable": false,
            "Runtime": "", "ConsoleSize": [24, 80], "Isolation": "", "ShmSize": 0,
        }));
        let config = map(json!({"Volumes": {}, "ExposedPorts": {}, "MacAddress": ""}));
        refuse_unsupported(&config, &host, false).unwrap();
        refuse_volumes(&body(
            json!({"Volumes": {}}),
            json!({"Mounts": null, "VolumesFrom": null, "Tmpfs": {}}),
        ))
        .unwrap();
    }

    #[test]
    fn a_setting_that_asks_for_something_is_refused_by_name() {
        for (host, field) in [
            (
                json!({"Devices": [{"PathOnHost": "/dev/sda"}]}),
                "HostConfig.Devices",
            ),
            (
                json!({"MemorySwappiness": 0}),
                "HostConfig.MemorySwappiness",
            ),
            (
                json!({"CgroupnsMode": "private"}),
                "HostConfig.CgroupnsMode",
            ),
            (
                json!({"PortBindings": {"80/tcp": [{"HostPort": "8080"}]}}),
                "HostConfig.PortBindings",
            ),
            (json!({"UsernsMode": "keep-id"}), "HostConfig.UsernsMode"),
            (json!({"BlkioWeight": 300}), "HostConfig.BlkioWeight"),
            (
                json!({"VolumeDriver": "flocker"}),
                "HostConfig.VolumeDriver",
            ),
        ] {
            let err = refuse_unsupported(&BTreeMap::new(), &map(host), false).unwrap_err();
            assert!(
                matches!(&err, ApiError::BadParameter(m) if m.starts_with(field)),
                "{field}: {err:?}"
            );
        }
        let body = |config: Value| -> crate::compat::types::ContainerCreateBody {
            serde_json::from_value(config).unwrap()
        };
        let err = refuse_volumes(&body(
            json!({"HostConfig": {"Mounts": [{"Type": "volume"}]}}),
        ))
        .unwrap_err();
        assert!(err.to_string().starts_with("HostConfig.Mounts"), "{err}");
        let err = refuse_volumes(&body(json!({"Volumes": {"/data": {}}}))).unwrap_err();
        assert!(err.to_string().contains("-v /host/path"), "{err}");
        let ports = map(json!({"PortBindings": {"80/tcp": [{"HostPort": "8080"}]}}));
        assert!(refuse_unsupported(&BTreeMap::new(), &ports, false).is_err());
        assert!(refuse_unsupported(&BTreeMap::new(), &ports, true).is_ok());
        // Links are the network service's (see `compat::links`); without
        // one they are refused, saying why.
        let links = map(json!({"Links": ["db:db"]}));
        assert!(refuse_unsupported(&BTreeMap::new(), &links, true).is_ok());
        let err = refuse_unsupported(&BTreeMap::new(), &links, false).unwrap_err();
        assert!(err.to_string().contains("default bridge"), "{err}");
    }
}
