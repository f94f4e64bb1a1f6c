//! The `Warnings` of `POST /containers/create`: what dockerd accepts but
//! tells the user about instead of refusing. The docker CLI (and
//! `minidock run`/`create`) print each as `WARNING: …` on stderr.
//!
//! A setting the host cannot honour is one of them: dockerd drops it from
//! the container's configuration, so inspect shows what the container
//! really has, and says so. The messages are dockerd's own (from
//! `verifyPlatformContainerResources`), word for word: scripts and tests
//! match on them.

use minidock_lifecycle::config::HostConfig;

// ANCHOR: oom_warnings
/// `--oom-kill-disable` on a host without the switch (cgroup v2).
pub const OOM_KILL_DISABLE_UNSUPPORTED: &str =
    "Your kernel does not support OomKillDisable. OomKillDisable discarded.";

/// `--oom-kill-disable` without `--memory`: nothing stops the container
/// from taking all of the host's memory.
pub const OOM_KILL_DISABLE_WITHOUT_LIMIT: &str =
    "OOM killer is disabled for the container, but no memory limit is set, \
     this can result in the system running out of resources.";

/// The warnings for `host`, in dockerd's order, after dropping from it what
/// this host cannot do. `oom_kill_disable_supported`: the host's cgroups
/// can switch the OOM killer off
/// ([`CgroupRoot::supports_oom_kill_disable`](minidock_lifecycle::cgroup::CgroupRoot::supports_oom_kill_disable)).
pub fn create_warnings(host: &mut HostConfig, oom_kill_disable_supported: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    if host.oom_kill_disable && !oom_kill_disable_supported {
        warnings.push(OOM_KILL_DISABLE_UNSUPPORTED.to_string());
        host.oom_kill_disable = false;
    }
    if host.oom_kill_disable && host.memory == 0 {
        warnings.push(OOM_KILL_DISABLE_WITHOUT_LIMIT.to_string());
    }
    warnings
}
// ANCHOR_END: oom_warnings

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::convert::{create_options, host_config};
    use crate::compat::types::ContainerCreateBody;
    use minidock_lifecycle::store::Container;

    /// What the docker CLI 28 sends for `docker run [--memory M]
    /// --oom-kill-disable busybox` (the fields that matter here).
    fn body(memory: i64, oom_kill_disable: bool) -> ContainerCreateBody {
        serde_json::from_value(serde_json::json!({
            "Image": "busybox",
            "HostConfig": {"Memory": memory, "MemorySwap": 0, "OomKillDisable": oom_kill_disable,
                           "MemorySwappiness": -1, "NetworkMode": "default"}
        }))
        .unwrap()
    }

    /// Create as the engine does it: the options, then the warnings; and
    /// the `HostConfig.OomKillDisable` that inspect then shows.
    fn create(body: &ContainerCreateBody, supported: bool) -> (Vec<String>, serde_json::Value) {
        let (_, mut host) = create_options(body, false, false).unwrap();
        let warnings = create_warnings(&mut host, supported);
        let container = Container {
            id: minidock_lifecycle::id::ContainerId::random(),
            name: "c".into(),
            created: minidock_lifecycle::time::Timestamp::now(),
            image_id: String::new(),
            config: Default::default(),
            host_config: host,
        };
        let shown = serde_json::to_value(host_config(&container, Some(body))).unwrap();
        (warnings, shown["OomKillDisable"].clone())
    }

    #[test]
    fn cgroup_v2_discards_oom_kill_disable_with_dockerds_warning() {
        let (warnings, shown) = create(&body(32 << 20, true), false);
        assert_eq!(warnings, [OOM_KILL_DISABLE_UNSUPPORTED]);
        assert_eq!(shown, false, "inspect shows what the container has");
        // Discarded first, so no second warning about the missing limit.
        let (warnings, shown) = create(&body(0, true), false);
        assert_eq!(warnings, [OOM_KILL_DISABLE_UNSUPPORTED]);
        assert_eq!(shown, false);
        // Not asked for: nothing to say, on either version.
        for supported in [false, true] {
            let (warnings, shown) = create(&body(32 << 20, false), supported);
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(shown, false);
        }
    }

    #[test]
    fn cgroup_v1_keeps_it_and_warns_only_without_a_memory_limit() {
        let (warnings, shown) = create(&body(32 << 20, true), true);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(shown, true);
        let (warnings, shown) = create(&body(0, true), true);
        assert_eq!(warnings, [OOM_KILL_DISABLE_WITHOUT_LIMIT]);
        assert_eq!(shown, true);
        assert!(OOM_KILL_DISABLE_WITHOUT_LIMIT.contains("limit is set, this can"));
    }
}
