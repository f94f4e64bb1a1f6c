//! Times in the shapes Docker uses: RFC 3339 with nanoseconds in inspect
//! output, unix seconds in lists, and "Up 3 seconds" in `docker ps`
//! ([`status_text`], the STATUS column). The
//! calendar arithmetic is chapter 03's [`Timestamp`]; this module only
//! shapes its output the way each part of the API wants it.

use minidock_lifecycle::state::State;
use minidock_lifecycle::time::Timestamp;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Go's zero time, which Docker prints for "never" (e.g. `FinishedAt` of a
/// container that has not exited).
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `2024-05-01T12:00:00.123456789Z`, as Go's `RFC3339Nano`: the fixed form
/// below with the trailing zeros of the fraction dropped (and the dot too
/// when the fraction is zero).
pub fn rfc3339(time: SystemTime) -> String {
    let fixed = rfc3339_fixed(time);
    // The fixed form always has a dot, so the zeros stop there at the latest.
    let trimmed = fixed
        .trim_end_matches('Z')
        .trim_end_matches('0')
        .trim_end_matches('.');
    format!("{trimmed}Z")
}

/// `2024-05-01T12:00:00.120000000Z`: always nine digits of fraction, as
/// Docker prefixes log lines (`docker logs -t`), so the columns line up.
/// This is chapter 03's log timestamp; a time before 1970 reads as 1970.
pub fn rfc3339_fixed(time: SystemTime) -> String {
    Timestamp::from_system_time(time.max(UNIX_EPOCH)).to_rfc3339_nanos()
}

/// A chapter 03 timestamp as a `SystemTime`.
pub fn system_time(t: &Timestamp) -> SystemTime {
    let secs = u64::try_from(t.unix_secs()).unwrap_or(0);
    UNIX_EPOCH + Duration::new(secs, t.subsec_nanos())
}

/// Parses an RFC 3339 time (`Z` or `±hh:mm` offset, optional fraction) with
/// chapter 03's parser; unix seconds, which that parser also takes, are
/// refused here.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    parse_timestamp(text)
}

/// Parses the `since`/`until` values the docker CLI sends: unix seconds with
/// an optional fraction (`1700000000.000000000`), or RFC 3339 — what chapter
/// 03's `docker logs --since` parser takes. `None` before 1970.
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let t = Timestamp::parse(text).ok()?;
    let secs = u64::try_from(t.unix_secs()).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, t.subsec_nanos()))
}

/// Parses a Go duration as the docker CLI passes them through (`10m`,
/// `1h30m`, `1.5h`, `45s`, `500ms`): the `until` filter of prune takes one
/// as "that long before now".
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&n| n > 0)?;
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).ok()
}

/// The `until` of a prune filter: a time (unix seconds or RFC 3339), or a
/// duration before `now`.
pub fn parse_until(text: &str, now: SystemTime) -> Option<SystemTime> {
    parse_timestamp(text).or_else(|| now.checked_sub(parse_go_duration(text)?))
}

/// Unix seconds of a time (for `Created` in lists).
pub fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ANCHOR: human_duration
/// A duration the way `docker ps` says it: "Less than a second", "3 seconds",
/// "About a minute", "5 minutes", "About an hour", "3 hours", "2 days",
/// "3 weeks", "4 months", "2 years" (the rules of `HumanDuration` in
/// Docker's go-units).
pub fn human_duration(d: Duration) -> String {
    // exercise 5.9 human-duration: say a duration the way `docker ps` does.
    // hint: under 1 s "Less than a second"; 1 s "1 second"; under 60 s "N seconds";
    // hint: 1 whole minute "About a minute"; under 60 min "N minutes";
    // hint: then round to the nearest hour: 1 "About an hour"; under 48 "N hours";
    // hint: under 14 days "N days"; under 60 days "N weeks"; under 730 days "N months" (30 days)
    // hint: else "N years" (365 days, from the unrounded hours)
    let secs = d.as_secs();
    let minutes = secs / 60;
    let hours = (secs + 1800) / 3600;
    if secs < 1 {
        "Less than a second".to_string()
    } else if secs == 1 {
        "1 second".to_string()
    } else if secs < 60 {
        format!("{secs} seconds")
    } else if minutes == 1 {
        "About a minute".to_string()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".to_string()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 14 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 60 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", secs / 3600 / 24 / 365)
    }
    // end exercise
}
// ANCHOR_END: human_duration

// ANCHOR: status_text
/// The `Status` column of `docker ps`: `Created`, `Up 3 seconds`,
/// `Up 2 minutes (Paused)`, `Exited (0) 5 seconds ago`.
pub fn status_text(state: &State, now: SystemTime) -> String {
    // exercise 5.10 status-text: the STATUS column of `docker ps` for a state.
    // hint: created → "Created"; running → "Up " + human_duration(now - started_at)
    // hint: paused → the same with " (Paused)"; exited → "Exited (CODE) " + human_duration(now - finished_at) + " ago"
    // hint: system_time() converts a chapter 03 Timestamp; a time in the future counts as zero
    let since =
        |t: &Timestamp| human_duration(now.duration_since(system_time(t)).unwrap_or_default());
    match state {
        State::Created => "Created".to_string(),
        State::Running { started_at, .. } => format!("Up {}", since(started_at)),
        State::Paused { started_at, .. } => format!("Up {} (Paused)", since(started_at)),
        State::Exited {
            code, finished_at, ..
        } => format!("Exited ({code}) {} ago", since(finished_at)),
        State::Removed => "Removal In Progress".to_string(),
    }
    // end exercise
}
// ANCHOR_END: status_text

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn formats_like_go() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::new(1_714_564_800, 120_000_000);
        assert_eq!(rfc3339(t), "2024-05-01T12:00:00.12Z");
        assert_eq!(rfc3339_fixed(t), "2024-05-01T12:00:00.120000000Z");
        assert_eq!(parse_rfc3339("2024-05-01T14:00:00.12+02:00"), Some(t));
        assert_eq!(parse_timestamp("1714564800.120000000"), Some(t));
        assert_eq!(
            parse_timestamp("1714564800"),
            Some(t - Duration::from_millis(120))
        );
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("1714564800"), None, "unix seconds");
        assert_eq!(
            rfc3339(t - Duration::from_millis(120)),
            "2024-05-01T12:00:00Z"
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn go_durations_and_until() {
        let d = |s: &str| parse_go_duration(s);
        assert_eq!(d("10m"), Some(Duration::from_secs(600)));
        assert_eq!(d("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(d("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        for bad in ["", "10", "h", "10x", "-1h", "1h-"] {
            assert_eq!(d(bad), None, "{bad}");
        }
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            parse_until("24h", now),
            Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000 - 86_400))
        );
        assert_eq!(
            parse_until("1700000000", now),
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
    }

    #[test]
    fn random_times_round_trip() {
        let mut rng = rand::thread_rng();
        for _ in 0..1000 {
            let t = UNIX_EPOCH
                + Duration::new(
                    rng.gen_range(0..8_000_000_000),
                    rng.gen_range(0..1_000_000_000),
                );
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
    }

    #[test]
    fn durations_read_like_docker_ps() {
        let s = Duration::from_secs;
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(3)), "3 seconds");
        assert_eq!(human_duration(s(59)), "59 seconds");
        assert_eq!(human_duration(s(60)), "About a minute");
        assert_eq!(human_duration(s(119)), "About a minute");
        assert_eq!(human_duration(s(120)), "2 minutes");
        assert_eq!(human_duration(s(59 * 60)), "59 minutes");
        assert_eq!(human_duration(s(60 * 60)), "About an hour");
        assert_eq!(human_duration(s(89 * 60)), "About an hour");
        assert_eq!(human_duration(s(90 * 60)), "2 hours");
        assert_eq!(human_duration(s(3 * 3600)), "3 hours");
        assert_eq!(human_duration(s(3 * 86_400)), "3 days");
        assert_eq!(human_duration(s(21 * 86_400)), "3 weeks");
        assert_eq!(human_duration(s(120 * 86_400)), "4 months");
        assert_eq!(human_duration(s(800 * 86_400)), "2 years");
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix(1_700_000_000 + secs, 0)
    }

    #[test]
    fn status_reads_like_docker_ps() {
        let now = system_time(&at(100));
        assert_eq!(status_text(&State::Created, now), "Created");
        let running = State::Running {
            pid: 1,
            started_at: at(97),
        };
        assert_eq!(status_text(&running, now), "Up 3 seconds");
        let paused = State::Paused {
            pid: 1,
            started_at: at(40),
        };
        assert_eq!(status_text(&paused, now), "Up About a minute (Paused)");
        let exited = State::Exited {
            code: 3,
            oom_killed: false,
            started_at: at(0),
            finished_at: at(-20),
        };
        assert_eq!(status_text(&exited, now), "Exited (3) 2 minutes ago");
        let future = State::Running {
            pid: 1,
            started_at: at(500),
        };
        assert_eq!(status_text(&future, now), "Up Less than a second");
    }
}
