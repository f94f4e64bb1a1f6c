//! Which log driver keeps a container's output, and with which options:
//! Docker's `HostConfig.LogConfig`, `{"Type": "json-file", "Config":
//! {"max-size": "10m", "max-file": "3"}}`.
//!
//! The configuration is kept as the client gave it (inspect shows it back
//! so), and read into a [`LogPolicy`] — what the shim does with the output
//! — by [`LogConfig::policy`], which is also the check at create: a driver
//! or an option that would not do what its user expects is refused there,
//! with Docker's message, rather than found out when the logs are needed.
//!
//! Two drivers exist: `json-file` (chapter 03's log, rotated when
//! `max-size` is set: see [`crate::log_rotate`]) and `none` (nothing is
//! kept, and `docker logs` has nothing to read).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Docker's default driver: one JSON object per line, in the container's
/// directory.
pub const JSON_FILE: &str = "json-file";
/// The driver that keeps nothing.
pub const NONE: &str = "none";

/// A container's log driver and its options, as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    /// The driver's name.
    #[serde(rename = "Type")]
    pub driver: String,
    /// The driver's options (`max-size`, …), strings as Docker keeps them.
    #[serde(rename = "Config", default)]
    pub options: BTreeMap<String, String>,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            driver: JSON_FILE.to_string(),
            options: BTreeMap::new(),
        }
    }
}

/// What the shim does with the container's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogPolicy {
    /// Keep nothing.
    Discard,
    /// Write the json-file log, rotated as [`Rotation`] says.
    JsonFile(Rotation),
}

/// When the json-file log is rotated, and what is kept of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate once the file has reached this many bytes (`max-size`);
    /// `None`: the log grows without limit.
    pub max_size: Option<u64>,
    /// How many files are kept, the one being written included
    /// (`max-file`, 1 unless given; only with `max-size`).
    pub max_file: u32,
    /// Gzip the rotated files (`compress`).
    pub compress: bool,
}

impl Default for Rotation {
    fn default() -> Rotation {
        Rotation {
            max_size: None,
            max_file: 1,
            compress: false,
        }
    }
}

/// A log configuration that cannot be honoured; the text is Docker's
/// message where Docker has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidLogConfig(pub String);

/// Options every driver takes in Docker: how the daemon hands lines to the
/// driver. minidock's shim always writes each line before reading more
/// (Docker's `blocking` mode); `non-blocking` is accepted and behaves so.
const COMMON_OPTIONS: &[&str] = &["mode", "max-buffer-size"];

/// Options Docker's json-file driver knows that minidock does not do.
const JSON_FILE_UNSUPPORTED: &[&str] = &["labels", "labels-regex", "env", "env-regex", "tag"];

impl LogConfig {
    // ANCHOR: policy
    /// The policy this configuration asks for, or why it cannot be had.
    pub fn policy(&self) -> Result<LogPolicy, InvalidLogConfig> {
        let bad = |m: String| Err(InvalidLogConfig(m));
        // Docker validates nothing for `none`: there is nothing to write.
        if self.driver == NONE {
            return Ok(LogPolicy::Discard);
        }
        let mode = self.options.get("mode").map(String::as_str);
        if !matches!(mode, None | Some("" | "blocking" | "non-blocking")) {
            return bad(format!(
                "logger: logging mode not supported: {}",
                mode.unwrap_or_default()
            ));
        }
        if let Some(size) = self.options.get("max-buffer-size") {
            if mode != Some("non-blocking") {
                return bad("logger: max-buffer-size option is only supported with \
                            'mode=non-blocking'"
                    .to_string());
            }
            if parse_size(size).is_err() {
                return bad(format!(
                    "error parsing option max-buffer-size: invalid size: '{size}'"
                ));
            }
        }
        match self.driver.as_str() {
            JSON_FILE => {}
            "local" => {
                return bad(
                    "logger: the local log driver is not available in minidock: use \
                            json-file, which rotates (max-size, max-file) and compresses \
                            (compress=true) as well"
                        .to_string(),
                )
            }
            other => {
                return bad(format!(
                    "logger: no log driver named '{other}' is registered (minidock has \
                     {JSON_FILE} and {NONE})"
                ))
            }
        }
        for key in self.options.keys() {
            if COMMON_OPTIONS.contains(&key.as_str()) {
                continue;
            }
            if JSON_FILE_UNSUPPORTED.contains(&key.as_str()) {
                return bad(format!(
                    "log opt '{key}' of the json-file log driver is not supported by minidock \
                     (it adds attributes to each line); remove it"
                ));
            }
            if !["max-size", "max-file", "compress"].contains(&key.as_str()) {
                return bad(format!("unknown log opt '{key}' for json-file log driver"));
            }
        }
        json_file_rotation(&self.options).map(LogPolicy::JsonFile)
    }
    // ANCHOR_END: policy

    /// Whether `docker logs` can read what this driver kept.
    pub fn readable(&self) -> bool {
        self.driver != NONE
    }
}

/// `max-size`, `max-file` and `compress`, checked as Docker's json-file
/// driver checks them.
fn json_file_rotation(options: &BTreeMap<String, String>) -> Result<Rotation, InvalidLogConfig> {
    let bad = |m: String| InvalidLogConfig(m);
    let max_size = match options.get("max-size") {
        None => None,
        Some(text) => {
            let size = parse_size(text)?;
            if size == 0 {
                return Err(bad("max-size must be a positive number".to_string()));
            }
            Some(size)
        }
    };
    let max_file = match options.get("max-file") {
        None => 1,
        Some(text) => {
            let n: i64 = text.parse().map_err(|_| {
                bad(format!(
                    "strconv.Atoi: parsing {text:?}: invalid syntax (max-file)"
                ))
            })?;
            if n < 1 {
                return Err(bad("max-file cannot be less than 1".to_string()));
            }
            u32::try_from(n).map_err(|_| bad(format!("max-file {n} is too large")))?
        }
    };
    let compress = match options.get("compress") {
        None => false,
        Some(text) => parse_bool(text).ok_or_else(|| {
            bad(format!(
                "strconv.ParseBool: parsing {text:?}: invalid syntax (compress)"
            ))
        })?,
    };
    if compress && (max_file < 2 || max_size.is_none()) {
        return Err(bad(
            "compress cannot be true when max-file is less than 2 or max-size is not set"
                .to_string(),
        ));
    }
    Ok(Rotation {
        max_size,
        max_file,
        compress,
    })
}

/// A size as Docker's `max-size` reads it: a number, then an optional unit
/// `k`, `m`, `g`, `t`, `p` in powers of 1000 (`10m` is 10 000 000 bytes),
/// optionally followed by `b` (`10mb`, `10MB`, `10 m`).
pub fn parse_size(text: &str) -> Result<u64, InvalidLogConfig> {
    let invalid = || InvalidLogConfig(format!("invalid size: '{text}'"));
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let factor: f64 = match unit {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "p" => 1e15,
        _ => return Err(invalid()),
    };
    Ok((number * factor) as u64)
}

/// A boolean as Go's `strconv.ParseBool` reads it.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(driver: &str, options: &[(&str, &str)]) -> LogConfig {
        LogConfig {
            driver: driver.to_string(),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn sizes_are_read_as_docker_reads_them() {
        for (text, bytes) in [
            ("10", 10),
            ("10k", 10_000),
            ("10m", 10_000_000),
            ("1.5g", 1_500_000_000),
            ("10MB", 10_000_000),
            ("3 kb", 3_000),
        ] {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for text in ["", "m", "10x", "ten", "-1", "10 mm"] {
            assert_eq!(
                parse_size(text),
                Err(InvalidLogConfig(format!("invalid size: '{text}'"))),
                "{text}"
            );
        }
    }

    #[test]
    fn json_file_options_become_a_rotation() {
        assert_eq!(
            LogConfig::default().policy(),
            Ok(LogPolicy::JsonFile(Rotation::default()))
        );
        let c = config(
            JSON_FILE,
            &[("max-size", "1k"), ("max-file", "3"), ("compress", "true")],
        );
        assert_eq!(
            c.policy(),
            Ok(LogPolicy::JsonFile(Rotation {
                max_size: Some(1000),
                max_file: 3,
                compress: true
            }))
        );
        // max-file alone is accepted and does nothing, as in Docker.
        let c = config(JSON_FILE, &[("max-file", "4"), ("mode", "non-blocking")]);
        assert!(c.policy().is_ok());
        assert_eq!(
            config(NONE, &[("anything", "x")]).policy(),
            Ok(LogPolicy::Discard)
        );
    }

    #[test]
    fn what_cannot_be_honoured_is_refused_with_dockers_words() {
        for (c, message) in [
            (
                config("syslog", &[]),
                "logger: no log driver named 'syslog' is registered",
            ),
            (
                config("local", &[]),
                "the local log driver is not available",
            ),
            (
                config(JSON_FILE, &[("max-sise", "1m")]),
                "unknown log opt 'max-sise' for json-file log driver",
            ),
            (config(JSON_FILE, &[("labels", "a")]), "log opt 'labels'"),
            (
                config(JSON_FILE, &[("max-size", "0")]),
                "max-size must be a positive number",
            ),
            (
                config(JSON_FILE, &[("max-size", "big")]),
                "invalid size: 'big'",
            ),
            (
                config(JSON_FILE, &[("max-size", "1m"), ("max-file", "0")]),
                "max-file cannot be less than 1",
            ),
            (config(JSON_FILE, &[("max-file", "x")]), "parsing \"x\""),
            (
                config(JSON_FILE, &[("max-size", "1m"), ("compress", "true")]),
                "compress cannot be true when max-file is less than 2",
            ),
            (config(JSON_FILE, &[("compress", "yes")]), "ParseBool"),
            (
                config(JSON_FILE, &[("mode", "eventually")]),
                "logging mode not supported: eventually",
            ),
            (
                config(JSON_FILE, &[("max-buffer-size", "4m")]),
                "only supported with 'mode=non-blocking'",
            ),
        ] {
            let err = c.policy().unwrap_err().0;
            assert!(err.contains(message), "{c:?}: {err}");
        }
    }
}
