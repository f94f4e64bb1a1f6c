//! Inspect's `HostConfig` with every key dockerd shows.
//!
//! dockerd answers `GET /containers/{id}/json` with the whole `HostConfig`
//! struct of its Go API: keys minidock does not implement are there too,
//! with their zero values (`"CgroupnsMode": "host"`, `"Devices": []`,
//! `"MemorySwappiness": null`, …). Clients index them — docker-py's
//! `container.attrs['HostConfig']['Isolation']`, scripts with `docker
//! inspect -f '{{.HostConfig.Runtime}}'` — and fail on a missing key. So
//! each key that the API types do not carry as a field of their own gets
//! its default here, unless the client sent it at create (then it is shown
//! as sent: a create with a setting minidock cannot honour was refused, so
//! what is kept is a value that asks for nothing).
//!
//! The defaults are what dockerd 28 shows for `docker run busybox` on a
//! cgroup v1 host (`CgroupnsMode` is `host` there, and minidock makes no
//! cgroup namespace on any host).

use crate::compat::types::HostConfig;
use serde_json::{json, Value};

/// Keys of `HostConfig` that the API types keep only in `other`, with
/// dockerd's default for each.
pub fn docker_defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("ContainerIDFile", json!("")),
        ("PortBindings", json!({})),
        ("PublishAllPorts", json!(false)),
        ("VolumeDriver", json!("")),
        ("ConsoleSize", json!([0, 0])),
        ("CgroupnsMode", json!("host")),
        ("Dns", json!([])),
        ("DnsOptions", json!([])),
        ("DnsSearch", json!([])),
        ("ExtraHosts", Value::Null),
        ("Cgroup", json!("")),
        ("Links", Value::Null),
        ("UsernsMode", json!("")),
        ("Runtime", json!("runc")),
        ("Isolation", json!("")),
        ("CgroupParent", json!("")),
        ("BlkioWeight", json!(0)),
        ("BlkioWeightDevice", json!([])),
        ("BlkioDeviceReadBps", json!([])),
        ("BlkioDeviceWriteBps", json!([])),
        ("BlkioDeviceReadIOps", json!([])),
        ("BlkioDeviceWriteIOps", json!([])),
        ("CpuRealtimePeriod", json!(0)),
        ("CpuRealtimeRuntime", json!(0)),
        ("Devices", json!([])),
        ("DeviceCgroupRules", Value::Null),
        ("DeviceRequests", Value::Null),
        ("MemorySwappiness", Value::Null),
        ("CpuCount", json!(0)),
        ("CpuPercent", json!(0)),
        ("IOMaximumIOps", json!(0)),
        ("IOMaximumBandwidth", json!(0)),
    ]
}

/// Modes dockerd decides itself when a client sends `""` (the docker CLI
/// always sends both).
const DAEMON_CHOOSES: &[&str] = &["CgroupnsMode", "Runtime"];

/// Adds every key of [`docker_defaults`] that `host` does not have yet, and
/// the daemon's choice where the client left a mode empty.
pub fn complete(host: &mut HostConfig) {
    for (key, default) in docker_defaults() {
        let value = host.other.entry(key.to_string()).or_insert(Value::Null);
        let empty_mode = DAEMON_CHOOSES.contains(&key) && value.as_str() == Some("");
        if value.is_null() || empty_mode {
            *value = default;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key dockerd 28 shows in an inspect's `HostConfig` (for `docker
    /// run busybox`, Linux, API 1.44+), once each.
    const DOCKERD_KEYS: &[&str] = &[
        "Binds",
        "ContainerIDFile",
        "LogConfig",
        "NetworkMode",
        "PortBindings",
        "RestartPolicy",
        "AutoRemove",
        "VolumeDriver",
        "VolumesFrom",
        "ConsoleSize",
        "CapAdd",
        "CapDrop",
        "CgroupnsMode",
        "Dns",
        "DnsOptions",
        "DnsSearch",
        "ExtraHosts",
        "GroupAdd",
        "IpcMode",
        "Cgroup",
        "Links",
        "OomScoreAdj",
        "PidMode",
        "Privileged",
        "PublishAllPorts",
        "ReadonlyRootfs",
        "SecurityOpt",
        "UTSMode",
        "UsernsMode",
        "ShmSize",
        "Runtime",
        "Isolation",
        "CpuShares",
        "Memory",
        "NanoCpus",
        "CgroupParent",
        "BlkioWeight",
        "BlkioWeightDevice",
        "BlkioDeviceReadBps",
        "BlkioDeviceWriteBps",
        "BlkioDeviceReadIOps",
        "BlkioDeviceWriteIOps",
        "CpuPeriod",
        "CpuQuota",
        "CpuRealtimePeriod",
        "CpuRealtimeRuntime",
        "CpusetCpus",
        "CpusetMems",
        "Devices",
        "DeviceCgroupRules",
        "DeviceRequests",
        "MemoryReservation",
        "MemorySwap",
        "MemorySwappiness",
        "OomKillDisable",
        "PidsLimit",
        "Ulimits",
        "CpuCount",
        "CpuPercent",
        "IOMaximumIOps",
        "IOMaximumBandwidth",
        "MaskedPaths",
        "ReadonlyPaths",
    ];

    #[test]
    fn a_completed_host_config_has_every_key_of_dockerd_once() {
        let mut host = HostConfig::default();
        complete(&mut host);
        let text = serde_json::to_string(&host).unwrap();
        for key in DOCKERD_KEYS {
            let n = text.matches(&format!("\"{key}\":")).count();
            assert_eq!(n, 1, "{key} appears {n} times in {text}");
        }
    }

    #[test]
    fn what_the_client_sent_wins_over_the_default() {
        let mut host: HostConfig = serde_json::from_value(
            json!({"Dns": ["10.0.0.2"], "Isolation": "default", "CgroupnsMode": ""}),
        )
        .unwrap();
        complete(&mut host);
        let back = serde_json::to_value(&host).unwrap();
        assert_eq!(back["Dns"], json!(["10.0.0.2"]));
        assert_eq!(back["Isolation"], json!("default"));
        assert_eq!(back["Runtime"], json!("runc"));
        assert_eq!(back["CgroupnsMode"], json!("host"));
    }
}
