//! `HostConfig.LogConfig`: the log driver of a new container and its
//! options, checked at create and shown back by inspect.
//!
//! dockerd merges the daemon's defaults (daemon.json's `log-driver` and
//! `log-opts`, see [`crate::compat::defaults`]) into the request before it
//! checks it; what is stored, and shown by inspect, is the merged
//! configuration: a later change of the defaults reaches new containers
//! only. Chapter 03 ([`minidock_lifecycle::log_config`]) decides what is
//! valid; an error here is a 400 with Docker's message.

use crate::compat::types::LogConfig;
use crate::error::ApiError;
use minidock_lifecycle::log_config::LogConfig as RtLogConfig;
use std::collections::BTreeMap;

/// The request's `LogConfig` as chapter 03 keeps it, checked. An absent
/// configuration (or an empty `Type`) is the default driver, `json-file`.
pub fn from_request(given: Option<&LogConfig>) -> Result<RtLogConfig, ApiError> {
    let config = match given {
        Some(c) if !c.kind.is_empty() => RtLogConfig {
            driver: c.kind.clone(),
            options: c.config.clone(),
        },
        Some(c) => RtLogConfig {
            options: c.config.clone(),
            ..RtLogConfig::default()
        },
        None => RtLogConfig::default(),
    };
    config
        .policy()
        .map_err(|e| ApiError::BadParameter(e.to_string()))?;
    Ok(config)
}

/// Inspect's `LogConfig`: what the container was created with.
pub fn shown(config: &RtLogConfig) -> LogConfig {
    LogConfig {
        kind: config.driver.clone(),
        config: config.options.clone(),
    }
}

/// Fills in the daemon's default driver and options as dockerd does: a
/// request without a driver gets the default one, and a request for the
/// default driver gets each default option it does not set itself.
pub fn merge_defaults(given: &mut Option<LogConfig>, default: &LogConfig) {
    let config = given.get_or_insert_with(|| LogConfig {
        kind: String::new(),
        config: BTreeMap::new(),
    });
    if config.kind.is_empty() {
        config.kind.clone_from(&default.kind);
    }
    if config.kind == default.kind {
        for (key, value) in &default.config {
            config
                .config
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
    }
}

/// `GET /containers/{id}/logs` of a container whose driver keeps nothing:
/// dockerd's answer (a 501, as for every driver it cannot read back).
pub fn not_readable() -> ApiError {
    ApiError::NotImplemented("configured logging driver does not support reading".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kind: &str, options: &[(&str, &str)]) -> LogConfig {
        LogConfig {
            kind: kind.to_string(),
            config: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn defaults_fill_what_the_request_leaves_out_for_the_same_driver() {
        let default = config("json-file", &[("max-size", "10m"), ("max-file", "3")]);
        let mut none = None;
        merge_defaults(&mut none, &default);
        assert_eq!(none, Some(default.clone()));
        let mut own = Some(config("", &[("max-file", "5")]));
        merge_defaults(&mut own, &default);
        assert_eq!(
            own,
            Some(config(
                "json-file",
                &[("max-size", "10m"), ("max-file", "5")]
            ))
        );
        let mut other = Some(config("none", &[]));
        merge_defaults(&mut other, &default);
        assert_eq!(other, Some(config("none", &[])));
    }

    #[test]
    fn a_request_is_checked_and_shown_as_given() {
        let given = config("json-file", &[("max-size", "1k"), ("compress", "false")]);
        let kept = from_request(Some(&given)).unwrap();
        assert_eq!(shown(&kept), given);
        assert_eq!(shown(&from_request(None).unwrap()), LogConfig::default());
        let err = from_request(Some(&config("syslog", &[]))).unwrap_err();
        assert!(matches!(err, ApiError::BadParameter(_)), "{err:?}");
        assert!(err.message().contains("'syslog'"), "{}", err.message());
    }
}
