//! `Config.Healthcheck`: what to run and how often, as the image's
//! `HEALTHCHECK` and `docker run --health-*` give it.
//!
//! Docker's defaults apply to every field left at zero: a probe every 30 s,
//! 30 s to answer, 3 failures in a row before `unhealthy`, no start period,
//! and one probe every 5 s while a start period lasts.

use crate::error::ApiError;
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;

/// How long between two probes when none is given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// How long a probe may take when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long between two probes during the start period, when none is given.
pub const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
/// Failures in a row that make a container unhealthy, when none is given.
pub const DEFAULT_RETRIES: u32 = 3;
/// The shortest duration Docker accepts for any of the durations.
const MINIMUM: Duration = Duration::from_millis(1);

/// Reads `null` as zero or none, as Go's JSON decoder does.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

// ANCHOR: healthcheck
/// The health check of a container or image, in the API's shape
/// (durations in nanoseconds; 0 means "the default").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["NONE"]` (no check), `["CMD", prog, args…]`, `["CMD-SHELL",
    /// "command line"]`; empty: inherit the image's.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "nullable"
    )]
    pub test: Vec<String>,
    /// Time between two probes.
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        deserialize_with = "nullable"
    )]
    pub interval: i64,
    /// Time a probe may take before it counts as failed.
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        deserialize_with = "nullable"
    )]
    pub timeout: i64,
    /// Time after the start in which failures do not count.
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        deserialize_with = "nullable"
    )]
    pub start_period: i64,
    /// Time between two probes during the start period.
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        deserialize_with = "nullable"
    )]
    pub start_interval: i64,
    /// Failures in a row before the container is unhealthy.
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        deserialize_with = "nullable"
    )]
    pub retries: i64,
}
// ANCHOR_END: healthcheck

/// A health check ready to run: the command and every duration resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The program and its arguments (`CMD-SHELL` runs `/bin/sh -c`).
    pub argv: Vec<String>,
    /// Time between two probes.
    pub interval: Duration,
    /// Time a probe may take.
    pub timeout: Duration,
    /// Time after the start in which failures do not count.
    pub start_period: Duration,
    /// Time between two probes during the start period.
    pub start_interval: Duration,
    /// Failures in a row before `unhealthy`.
    pub retries: u32,
}

fn or_default(nanos: i64, default: Duration) -> Duration {
    match u64::try_from(nanos) {
        Ok(n) if n > 0 => Duration::from_nanos(n),
        _ => default,
    }
}

impl Healthcheck {
    /// Whether this turns the check off (`--no-healthcheck`, `HEALTHCHECK NONE`).
    pub fn is_none(&self) -> bool {
        self.test.first().map(String::as_str) == Some("NONE")
    }

    // ANCHOR: merge
    /// The check a container runs: what the create request gave, each
    /// field it left at zero taken from the image's (Docker's merge). A
    /// request without a check keeps the image's whole.
    pub fn merge(asked: Option<&Healthcheck>, image: Option<&Healthcheck>) -> Option<Healthcheck> {
        let Some(asked) = asked else {
            return image.cloned();
        };
        let Some(image) = image else {
            return Some(asked.clone());
        };
        let pick = |mine: i64, theirs: i64| if mine == 0 { theirs } else { mine };
        Some(Healthcheck {
            test: if asked.test.is_empty() {
                image.test.clone()
            } else {
                asked.test.clone()
            },
            interval: pick(asked.interval, image.interval),
            timeout: pick(asked.timeout, image.timeout),
            start_period: pick(asked.start_period, image.start_period),
            start_interval: pick(asked.start_interval, image.start_interval),
            retries: pick(asked.retries, image.retries),
        })
    }
    // ANCHOR_END: merge

    /// Refuses what Docker refuses at create, with Docker's messages, and
    /// a test whose kind no daemon knows.
    pub fn validate(&self) -> Result<(), ApiError> {
        let bad = |m: String| Err(ApiError::BadParameter(m));
        for (name, nanos) in [
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
        ] {
            if nanos != 0 && nanos < MINIMUM.as_nanos() as i64 {
                return bad(format!("{name} in Healthcheck cannot be less than 1ms"));
            }
        }
        if self.retries < 0 {
            return bad("Retries in Healthcheck cannot be negative".to_string());
        }
        match self.test.first().map(String::as_str) {
            None | Some("NONE") => Ok(()),
            Some("CMD") if self.test.len() > 1 => Ok(()),
            Some("CMD-SHELL") if self.test.len() == 2 => Ok(()),
            Some(_) => bad(format!(
                "Healthcheck.Test {:?} is not a health check: give [\"CMD\", program, \
                 args...], [\"CMD-SHELL\", \"command line\"] or [\"NONE\"]",
                self.test
            )),
        }
    }

    /// The check to run, or none for `NONE` and an empty test.
    pub fn probe(&self) -> Option<Probe> {
        let argv = match self.test.split_first() {
            Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => rest.to_vec(),
            Some((kind, [line])) if kind == "CMD-SHELL" => {
                vec!["/bin/sh".to_string(), "-c".to_string(), line.clone()]
            }
            _ => return None,
        };
        Some(Probe {
            argv,
            interval: or_default(self.interval, DEFAULT_INTERVAL),
            timeout: or_default(self.timeout, DEFAULT_TIMEOUT),
            start_period: or_default(self.start_period, Duration::ZERO),
            start_interval: or_default(self.start_interval, DEFAULT_START_INTERVAL),
            retries: u32::try_from(self.retries)
                .ok()
                .filter(|r| *r > 0)
                .unwrap_or(DEFAULT_RETRIES),
        })
    }
}

/// A duration as Go prints one (`30s`, `1m30s`, `1.5s`, `500ms`), for
/// messages that must read as Docker's.
pub fn go_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".to_string();
    }
    if d < Duration::from_secs(1) {
        let nanos = d.as_nanos();
        return match nanos {
            n if n % 1_000_000 == 0 => format!("{}ms", n / 1_000_000),
            n if n % 1_000 == 0 => format!("{}µs", n / 1_000),
            n => format!("{n}ns"),
        };
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let frac = d.subsec_nanos();
    let mut seconds = s.to_string();
    if frac > 0 {
        let digits = format!("{frac:09}");
        seconds = format!("{s}.{}", digits.trim_end_matches('0'));
    }
    match (h, m) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str) -> Healthcheck {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn docker_defaults_fill_what_is_zero() {
        let probe = check(r#"{"Test":["CMD-SHELL","true"]}"#).probe().unwrap();
        assert_eq!(probe.argv, ["/bin/sh", "-c", "true"]);
        assert_eq!(probe.interval, Duration::from_secs(30));
        assert_eq!(probe.timeout, Duration::from_secs(30));
        assert_eq!(probe.start_period, Duration::ZERO);
        assert_eq!(probe.start_interval, Duration::from_secs(5));
        assert_eq!(probe.retries, 3);
        let probe = check(r#"{"Test":["CMD","cat","/ok"],"Interval":1000000000,"Retries":2}"#)
            .probe()
            .unwrap();
        assert_eq!(probe.argv, ["cat", "/ok"]);
        assert_eq!(probe.interval, Duration::from_secs(1));
        assert_eq!(probe.retries, 2);
        assert!(check(r#"{"Test":["NONE"]}"#).probe().is_none());
        assert!(check(r#"{"Test":null,"Interval":null}"#).probe().is_none());
    }

    #[test]
    fn the_request_overrides_the_image_field_by_field() {
        let image = check(r#"{"Test":["CMD","true"],"Interval":5,"Retries":7}"#);
        let asked = check(r#"{"Interval":9}"#);
        let merged = Healthcheck::merge(Some(&asked), Some(&image)).unwrap();
        assert_eq!(merged.test, ["CMD", "true"]);
        assert_eq!((merged.interval, merged.retries), (9, 7));
        let none = check(r#"{"Test":["NONE"]}"#);
        assert!(Healthcheck::merge(Some(&none), Some(&image))
            .unwrap()
            .is_none());
        assert_eq!(Healthcheck::merge(None, Some(&image)), Some(image));
    }

    #[test]
    fn docker_refuses_these_at_create() {
        let err = |json: &str| check(json).validate().unwrap_err().to_string();
        assert!(err(r#"{"Test":["CMD","true"],"Interval":5}"#)
            .contains("Interval in Healthcheck cannot be less than 1ms"));
        assert!(err(r#"{"Test":["CMD","true"],"Retries":-1}"#).contains("cannot be negative"));
        assert!(err(r#"{"Test":["PING"]}"#).contains("is not a health check"));
        assert!(err(r#"{"Test":["CMD"]}"#).contains("is not a health check"));
        check(r#"{"Test":["NONE"]}"#).validate().unwrap();
    }

    #[test]
    fn durations_read_as_go_prints_them() {
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
    }
}
