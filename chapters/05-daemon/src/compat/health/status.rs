//! `State.Health`: the status a container's probes have earned, and the
//! last five of them.
//!
//! A container with a check starts `starting`. One probe that exits 0 makes
//! it `healthy`; `retries` failures in a row make it `unhealthy`. During
//! the start period failures do not count until the first success, so a
//! slow service is not called unhealthy while it boots. When the
//! container stops the status turns `unhealthy` (Docker's rule: nothing
//! vouches for a container that does not run).

use super::check::Probe;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

/// No probe has succeeded since the start.
pub const STARTING: &str = "starting";
/// The last probe succeeded.
pub const HEALTHY: &str = "healthy";
/// `retries` probes failed in a row, or the container stopped.
pub const UNHEALTHY: &str = "unhealthy";
/// How many probe results `State.Health.Log` keeps.
pub const KEPT_RESULTS: usize = 5;

/// One probe's result in `State.Health.Log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthcheckResult {
    /// RFC 3339 time the probe started.
    pub start: String,
    /// RFC 3339 time it ended.
    pub end: String,
    /// 0 healthy, 1 (any other) unhealthy, -1 it could not run or timed out.
    pub exit_code: i64,
    /// The first 4 KiB of what it wrote to stdout and stderr.
    pub output: String,
}

/// `State.Health` of inspect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    /// Failed probes in a row.
    pub failing_streak: u32,
    /// The last [`KEPT_RESULTS`] probe results, oldest first.
    pub log: Vec<HealthcheckResult>,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            status: STARTING.to_string(),
            failing_streak: 0,
            log: Vec::new(),
        }
    }
}

impl Health {
    /// A new run of the container: `starting` again, with the streak
    /// reset and the old results kept (as Docker does).
    pub fn restart(&mut self) {
        self.status = STARTING.to_string();
        self.failing_streak = 0;
    }

    // ANCHOR: record
    /// Counts one probe's result; `since_start` is how long after the
    /// container's start the probe began. Returns whether the status
    /// changed (which is an event).
    pub fn record(
        &mut self,
        result: HealthcheckResult,
        since_start: Duration,
        probe: &Probe,
    ) -> bool {
        let before = self.status.clone();
        if result.exit_code == 0 {
            self.failing_streak = 0;
            self.status = HEALTHY.to_string();
        } else {
            // Booting: failures before the first success, within the
            // start period, do not count.
            let booting = self.status == STARTING && since_start < probe.start_period;
            if !booting {
                self.failing_streak += 1;
                if self.failing_streak >= probe.retries {
                    self.status = UNHEALTHY.to_string();
                }
            }
        }
        self.log.push(result);
        let excess = self.log.len().saturating_sub(KEPT_RESULTS);
        self.log.drain(..excess);
        self.status != before
    }
    // ANCHOR_END: record

    /// The container stopped (or was paused): no probe vouches for it
    /// any more. Returns whether the status changed.
    pub fn stopped(&mut self) -> bool {
        let changed = self.status != UNHEALTHY;
        self.status = UNHEALTHY.to_string();
        changed
    }

    /// The words `docker ps` puts after `Up 3 seconds`: `health:
    /// starting`, `healthy`, `unhealthy`.
    pub fn ps_text(&self) -> String {
        if self.status == STARTING {
            format!("health: {STARTING}")
        } else {
            self.status.clone()
        }
    }
}

/// The earliest time the next probe runs: the start interval while the
/// container is starting within its start period, else the interval.
pub fn next_wait(health: &Health, since_start: Duration, probe: &Probe) -> Duration {
    if since_start < probe.start_period && health.status == STARTING {
        probe.start_interval
    } else {
        probe.interval
    }
}

/// When a probe ran, as inspect shows it.
pub fn result(
    start: SystemTime,
    end: SystemTime,
    exit_code: i64,
    output: String,
) -> HealthcheckResult {
    HealthcheckResult {
        start: crate::time::rfc3339(start),
        end: crate::time::rfc3339(end),
        exit_code,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(retries: u32, start_period: u64) -> Probe {
        Probe {
            argv: vec!["true".into()],
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            start_period: Duration::from_secs(start_period),
            start_interval: Duration::from_millis(100),
            retries,
        }
    }

    fn code(exit_code: i64) -> HealthcheckResult {
        result(
            SystemTime::now(),
            SystemTime::now(),
            exit_code,
            String::new(),
        )
    }

    #[test]
    fn retries_failures_in_a_row_make_it_unhealthy_and_one_success_heals() {
        let p = probe(2, 0);
        let mut h = Health::default();
        assert_eq!(h.ps_text(), "health: starting");
        assert!(!h.record(code(1), Duration::from_secs(5), &p));
        assert_eq!((h.status.as_str(), h.failing_streak), (STARTING, 1));
        assert!(h.record(code(1), Duration::from_secs(6), &p));
        assert_eq!((h.status.as_str(), h.failing_streak), (UNHEALTHY, 2));
        assert!(h.record(code(0), Duration::from_secs(7), &p));
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTHY, 0));
        assert_eq!(h.ps_text(), "healthy");
        for _ in 0..7 {
            h.record(code(0), Duration::from_secs(8), &p);
        }
        assert_eq!(h.log.len(), KEPT_RESULTS);
        assert!(h.stopped());
        assert_eq!(h.status, UNHEALTHY);
        h.restart();
        assert_eq!((h.status.as_str(), h.log.len()), (STARTING, KEPT_RESULTS));
    }

    #[test]
    fn failures_in_the_start_period_do_not_count_until_the_first_success() {
        let p = probe(1, 10);
        let mut h = Health::default();
        h.record(code(1), Duration::from_secs(2), &p);
        assert_eq!((h.status.as_str(), h.failing_streak), (STARTING, 0));
        assert_eq!(next_wait(&h, Duration::from_secs(2), &p), p.start_interval);
        h.record(code(0), Duration::from_secs(3), &p);
        assert_eq!(next_wait(&h, Duration::from_secs(3), &p), p.interval);
        // Healthy once: a failure counts even within the period.
        h.record(code(1), Duration::from_secs(4), &p);
        assert_eq!(h.status, UNHEALTHY);
        h.restart();
        h.record(code(1), Duration::from_secs(11), &p);
        assert_eq!(
            h.status, UNHEALTHY,
            "after the start period every failure counts"
        );
    }
}
