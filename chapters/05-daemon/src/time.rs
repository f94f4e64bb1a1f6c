//! Times in the shapes Docker uses: RFC 3339 with nanoseconds in inspect
//! output, unix seconds in lists, and "Up 3 seconds" in `docker ps`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Go's zero time, which Docker prints for "never" (e.g. `FinishedAt` of a
/// container that has not exited).
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm: shift to a March-based era of 400 years.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2024-05-01T12:00:00.123456789Z`, as Go's `RFC3339Nano` (trailing zeros
/// of the fraction dropped, no fraction when it is zero).
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    let nanos = since.subsec_nanos();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// `2024-05-01T12:00:00.120000000Z`: always nine digits of fraction, as
/// Docker prefixes log lines (`docker logs -t`), so the columns line up.
pub fn rfc3339_fixed(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let whole = rfc3339(UNIX_EPOCH + Duration::from_secs(since.as_secs()));
    format!(
        "{}.{:09}Z",
        whole.trim_end_matches('Z'),
        since.subsec_nanos()
    )
}

/// Parses an RFC 3339 time (`Z` or `±hh:mm` offset, optional fraction).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut padded = frac[..digits.min(9)].to_string();
        while padded.len() < 9 {
            padded.push('0');
        }
        nanos = padded.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let h: i64 = rest[1..3].parse().ok()?;
            let m: i64 = rest[4..6].parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Parses the `since`/`until` values the docker CLI sends: unix seconds with
/// an optional fraction (`1700000000.000000000`), or RFC 3339.
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    if !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        let secs: u64 = secs.parse().ok()?;
        let mut padded = frac.chars().take(9).collect::<String>();
        while padded.len() < 9 {
            padded.push('0');
        }
        return Some(UNIX_EPOCH + Duration::new(secs, padded.parse().ok()?));
    }
    parse_rfc3339(text)
}

/// Unix seconds of a time (for `Created` in lists).
pub fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A duration the way `docker ps` says it: "Less than a second", "3 seconds",
/// "About a minute", "5 minutes", "About an hour", "3 hours", "2 days",
/// "3 weeks", "4 months", "2 years" (the rules of `HumanDuration` in
/// Docker's go-units).
pub fn human_duration(d: Duration) -> String {
    // exercise 5.6 human-duration: say a duration the way `docker ps` does.
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
        assert_eq!(parse_timestamp("yesterday"), None);
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
}
