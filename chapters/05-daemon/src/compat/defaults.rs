//! What the daemon gives a new container that its request leaves out:
//! dockerd's `default-ulimits`, `dns`, `log-driver` and `log-opts`
//! (daemon.json). The daemon's
//! configuration fills a [`ContainerDefaults`]; the create handler applies it
//! to every request before the container service sees it, so a reload
//! reaches the next container and never a running one.

use crate::compat::types::{ContainerCreateBody, LogConfig, Ulimit};
use serde_json::Value;

/// Defaults for new containers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerDefaults {
    /// Resource limits a container gets unless it sets the same one itself
    /// (`--ulimit nofile=…` wins over the daemon's `nofile`).
    pub ulimits: Vec<Ulimit>,
    /// DNS servers for a container that names none (`--dns`).
    pub dns: Vec<String>,
    /// The log driver and options of a container that names none
    /// (`log-driver`, `log-opts`); `json-file` without options by default.
    pub log_config: LogConfig,
}

impl ContainerDefaults {
    /// Fills in what `body` leaves out, as dockerd does at create.
    pub fn apply(&self, body: &mut ContainerCreateBody) {
        let host = &mut body.host_config;
        if !self.ulimits.is_empty() {
            let own = host.ulimits.get_or_insert_with(Vec::new);
            for default in &self.ulimits {
                if !own.iter().any(|u| u.name == default.name) {
                    own.push(default.clone());
                }
            }
        }
        let names_dns = host
            .other
            .get("Dns")
            .and_then(Value::as_array)
            .is_some_and(|servers| !servers.is_empty());
        if !self.dns.is_empty() && !names_dns {
            host.other
                .insert("Dns".to_string(), self.dns.clone().into());
        }
        // json-file without options is what an absent LogConfig means.
        if self.log_config != LogConfig::default() {
            crate::compat::log_config::merge_defaults(&mut host.log_config, &self.log_config);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(name: &str, soft: i64, hard: i64) -> Ulimit {
        Ulimit {
            name: name.to_string(),
            soft,
            hard,
        }
    }

    #[test]
    fn a_containers_own_limit_and_dns_win_over_the_defaults() {
        let defaults = ContainerDefaults {
            ulimits: vec![limit("nofile", 100, 200), limit("nproc", 50, 60)],
            dns: vec!["192.0.2.53".to_string()],
            ..ContainerDefaults::default()
        };
        let mut body = ContainerCreateBody::default();
        body.host_config.ulimits = Some(vec![limit("nofile", 10, 20)]);
        body.host_config
            .other
            .insert("Dns".to_string(), serde_json::json!(["198.51.100.1"]));
        defaults.apply(&mut body);
        assert_eq!(
            body.host_config.ulimits,
            Some(vec![limit("nofile", 10, 20), limit("nproc", 50, 60)])
        );
        assert_eq!(
            body.host_config.other["Dns"],
            serde_json::json!(["198.51.100.1"])
        );
    }

    #[test]
    fn a_request_without_them_gets_the_defaults() {
        let defaults = ContainerDefaults {
            ulimits: vec![limit("nofile", 100, 200)],
            dns: vec!["192.0.2.53".to_string()],
            ..ContainerDefaults::default()
        };
        let mut body = ContainerCreateBody::default();
        // The docker CLI sends an empty list rather than nothing.
        body.host_config
            .other
            .insert("Dns".to_string(), serde_json::json!([]));
        defaults.apply(&mut body);
        assert_eq!(
            body.host_config.ulimits,
            Some(vec![limit("nofile", 100, 200)])
        );
        assert_eq!(
            body.host_config.other["Dns"],
            serde_json::json!(["192.0.2.53"])
        );
    }

    #[test]
    fn no_defaults_change_nothing() {
        let mut body = ContainerCreateBody::default();
        ContainerDefaults::default().apply(&mut body);
        assert_eq!(body, ContainerCreateBody::default());
    }
}
