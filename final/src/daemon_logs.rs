//! The daemon's default log driver for new containers: `--log-driver` and
//! `--log-opt KEY=VALUE` on minidockd, or `log-driver` and `log-opts` in
//! daemon.json (one or the other: both is an error, as for every key).
//!
//! The defaults are checked when the daemon starts and at each reload, by
//! the rules a container's own `--log-driver`/`--log-opt` are checked by
//! (chapter 03's [`minidock_lifecycle::log_config`]), so a default that no
//! container could have stops the daemon rather than every later create.
//! A SIGHUP that changes them reaches containers created afterwards only.

use std::collections::BTreeMap;

use minidock_daemon::types::LogConfig;
use minidock_lifecycle::log_config::{LogConfig as RtLogConfig, JSON_FILE};

use crate::daemon_args::DaemonArgs;

/// `--log-opt` values as a map; a value without `=` is an error naming it.
pub fn parse_opts(opts: &[String]) -> Result<BTreeMap<String, String>, String> {
    opts.iter()
        .map(|opt| {
            opt.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("--log-opt {opt:?}: expected KEY=VALUE (max-size=10m)"))
        })
        .collect()
}

/// The defaults the (merged) arguments ask for, checked.
pub fn defaults(args: &DaemonArgs) -> Result<LogConfig, String> {
    let config = RtLogConfig {
        driver: args
            .log_driver
            .clone()
            .unwrap_or_else(|| JSON_FILE.to_string()),
        options: parse_opts(&args.log_opts)?,
    };
    config
        .policy()
        .map_err(|e| format!("log-driver {:?}, log-opts: {e}", config.driver))?;
    Ok(LogConfig {
        kind: config.driver,
        config: config.options,
    })
}

/// Checks daemon.json's `log-driver` and `log-opts`, naming the key.
pub fn check_file(
    driver: Option<&str>,
    opts: Option<&BTreeMap<String, String>>,
) -> Result<(), String> {
    let mut config = RtLogConfig {
        driver: driver.unwrap_or(JSON_FILE).to_string(),
        options: BTreeMap::new(),
    };
    // The driver alone first, so that its error names its key.
    config
        .policy()
        .map_err(|e| format!("\"log-driver\": {e}"))?;
    config.options = opts.cloned().unwrap_or_default();
    config
        .policy()
        .map(|_| ())
        .map_err(|e| format!("\"log-opts\": {e}"))
}

/// `log-opts` as the `--log-opt` values they mean (to merge into flags).
pub fn as_flags(opts: &BTreeMap<String, String>) -> Vec<String> {
    opts.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// The defaults, as a reload reports them.
pub fn summary(config: &LogConfig) -> String {
    format!("log-driver={}, log-opts={:?}", config.kind, config.config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_key_value_and_checked() {
        assert_eq!(
            parse_opts(&["max-size=1m".into(), "max-file=3".into()]).unwrap(),
            BTreeMap::from([
                ("max-file".to_string(), "3".to_string()),
                ("max-size".to_string(), "1m".to_string())
            ])
        );
        assert!(parse_opts(&["max-size".into()])
            .unwrap_err()
            .contains("KEY=VALUE"));
        let opts = BTreeMap::from([("max-sise".to_string(), "1m".to_string())]);
        let err = check_file(None, Some(&opts)).unwrap_err();
        assert!(
            err.starts_with("\"log-opts\"") && err.contains("'max-sise'"),
            "{err}"
        );
        let err = check_file(Some("syslog"), None).unwrap_err();
        assert!(
            err.starts_with("\"log-driver\"") && err.contains("'syslog'"),
            "{err}"
        );
        check_file(Some("none"), None).unwrap();
    }
}
