//! Timestamps as Docker writes them: RFC 3339, UTC, nanoseconds.
//!
//! Docker's json-file log, `docker inspect` and the events stream all write
//! times like `2026-11-27T23:19:15.123456789Z`. The conversion from seconds
//! since 1970 to a calendar date is a small piece of arithmetic (Howard
//! Hinnant's `civil_from_days`), so the crate does it itself instead of
//! pulling in a date library.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, UTC, with nanosecond precision.
///
/// Ordered, so log readers can compare with `--since` and `--until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    secs: i64,
    /// Nanoseconds within that second, `0..1_000_000_000`.
    nanos: u32,
}

/// A string that is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time {input:?}: {reason} (expected RFC 3339 like 2026-11-27T23:19:15.5Z, or seconds since 1970 like 1764285555.5)")]
pub struct TimeParseError {
    /// The text that was given.
    pub input: String,
    /// Which part of it is wrong.
    pub reason: &'static str,
}

impl Timestamp {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const EPOCH: Timestamp = Timestamp { secs: 0, nanos: 0 };

    /// The current time of the system clock.
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    /// Builds a timestamp from seconds and nanoseconds since the epoch.
    /// Nanoseconds beyond one second carry into the seconds.
    pub fn from_unix(secs: i64, nanos: u32) -> Timestamp {
        Timestamp {
            secs: secs + i64::from(nanos / 1_000_000_000),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Converts a [`SystemTime`]; times before 1970 are supported.
    pub fn from_system_time(t: SystemTime) -> Timestamp {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp::from_unix(d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let (secs, nanos) = (d.as_secs() as i64, d.subsec_nanos());
                if nanos == 0 {
                    Timestamp { secs: -secs, nanos }
                } else {
                    Timestamp {
                        secs: -secs - 1,
                        nanos: 1_000_000_000 - nanos,
                    }
                }
            }
        }
    }

    /// Seconds since the epoch.
    pub fn unix_secs(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// The time `d` later.
    pub fn add(&self, d: Duration) -> Timestamp {
        Timestamp::from_unix(
            self.secs + d.as_secs() as i64,
            self.nanos + d.subsec_nanos(),
        )
    }

    /// The time `d` earlier.
    pub fn sub(&self, d: Duration) -> Timestamp {
        let total =
            i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos) - d.as_nanos() as i128;
        Timestamp {
            secs: total.div_euclid(1_000_000_000) as i64,
            nanos: total.rem_euclid(1_000_000_000) as u32,
        }
    }

    /// RFC 3339 with exactly nine fraction digits, always UTC (`Z`), as
    /// Docker's json-file log writes it: `2026-11-27T23:19:15.123456789Z`.
    /// Fixed width keeps log lines aligned and sortable as text.
    pub fn to_rfc3339_nanos(&self) -> String {
        let days = self.secs.div_euclid(86_400);
        let secs_of_day = self.secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
            secs_of_day / 3600,
            secs_of_day / 60 % 60,
            secs_of_day % 60,
            self.nanos
        )
    }

    /// Parses RFC 3339 (`2026-11-27T23:19:15Z`, any number of fraction
    /// digits up to nine, `Z` or a `+hh:mm`/`-hh:mm` offset), or seconds
    /// since the epoch with an optional fraction (`1764285555.25`), which
    /// is what `docker logs --since` also accepts.
    pub fn parse(input: &str) -> Result<Timestamp, TimeParseError> {
        let err = |reason| TimeParseError {
            input: input.to_string(),
            reason,
        };
        let s = input.trim();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
            let secs: i64 = whole.parse().map_err(|_| err("bad seconds"))?;
            return Ok(Timestamp::from_unix(
                secs,
                parse_fraction(frac).ok_or(err("bad fraction"))?,
            ));
        }
        let b = s.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || (b[10] != b'T' && b[10] != b't' && b[10] != b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(err("not of the form YYYY-MM-DDTHH:MM:SS"));
        }
        let num = |from: usize, to: usize| -> Result<i64, TimeParseError> {
            let part = &s[from..to];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err("a date or time field is not a number"));
            }
            part.parse()
                .map_err(|_| err("a date or time field is not a number"))
        };
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(err("no such date"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(err("no such time of day"));
        }
        let mut rest = &s[19..];
        let mut nanos = 0;
        if let Some(after_dot) = rest.strip_prefix('.') {
            let digits = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            nanos = parse_fraction(&after_dot[..digits]).ok_or(err("bad fraction of a second"))?;
            rest = &after_dot[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ if rest.len() == 6
                && (rest.starts_with('+') || rest.starts_with('-'))
                && &rest[3..4] == ":" =>
            {
                let h: i64 = rest[1..3].parse().map_err(|_| err("bad UTC offset"))?;
                let m: i64 = rest[4..6].parse().map_err(|_| err("bad UTC offset"))?;
                let o = h * 3600 + m * 60;
                if rest.starts_with('-') {
                    -o
                } else {
                    o
                }
            }
            _ => return Err(err("missing or bad time zone (Z or +hh:mm)")),
        };
        let secs = days_from_civil(year, month as u32, day as u32) * 86_400
            + hour * 3600
            + minute * 60
            + second.min(59)
            - offset;
        Ok(Timestamp { secs, nanos })
    }
}

/// `"5"` → 500 000 000 ns, `"123456789"` → 123 456 789 ns; `None` when not
/// 0 to 9 digits.
fn parse_fraction(digits: &str) -> Option<u32> {
    if digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{digits:0<9}");
    padded.parse().ok()
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 → (year, month 1–12, day 1–31), proleptic
/// Gregorian. The year is shifted to start in March, so the leap day is the
/// last day of the shifted year and months have a regular 153-day rhythm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097); // 400-year eras
    let doe = z.rem_euclid(146_097); // day of era, 0..146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of (March) year
    let mp = (5 * doy + 2) / 153; // month, March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if month > 2 { month - 3 } else { month + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_nanos())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339_nanos())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000000000Z"),
            (951_782_400, 0, "2000-02-29T00:00:00.000000000Z"),
            (1_700_000_000, 5, "2023-11-14T22:13:20.000000005Z"),
            (1_795_821_555, 123_456_789, "2026-11-27T23:19:15.123456789Z"),
            (4_102_444_799, 999_999_999, "2099-12-31T23:59:59.999999999Z"),
            (-1, 0, "1969-12-31T23:59:59.000000000Z"),
        ];
        for (secs, nanos, text) in cases {
            let t = Timestamp::from_unix(secs, nanos);
            assert_eq!(t.to_rfc3339_nanos(), text, "format {secs}.{nanos}");
            assert_eq!(Timestamp::parse(text).unwrap(), t, "parse {text}");
        }
    }

    #[test]
    fn parse_accepts_offsets_short_fractions_and_unix_seconds() {
        let t = Timestamp::parse("2026-11-28T01:19:15.5+02:00").unwrap();
        assert_eq!(t.to_rfc3339_nanos(), "2026-11-27T23:19:15.500000000Z");
        let u = Timestamp::parse("1795821555.5").unwrap();
        assert_eq!(t, u);
        assert_eq!(
            Timestamp::parse("1795821555").unwrap().unix_secs(),
            1_795_821_555
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-27T23:19:15",
            "2026-11-27T25:00:00Z",
            "2026-11-27T23:19:15.1234567891Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    /// GNU `date` is an independent oracle for the calendar arithmetic.
    #[test]
    fn matches_gnu_date_for_random_times() {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        for _ in 0..20 {
            let secs: i64 = rng.gen_range(-2_000_000_000..8_000_000_000);
            let out = std::process::Command::new("date")
                .args([
                    "-u",
                    "-d",
                    &format!("@{secs}"),
                    "+%Y-%m-%dT%H:%M:%S.000000000Z",
                ])
                .output()
                .expect("run date");
            assert!(out.status.success());
            let expected = String::from_utf8(out.stdout).unwrap();
            assert_eq!(
                Timestamp::from_unix(secs, 0).to_rfc3339_nanos(),
                expected.trim()
            );
            assert_eq!(Timestamp::parse(expected.trim()).unwrap().unix_secs(), secs);
        }
    }

    #[test]
    fn system_time_and_arithmetic() {
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        let t = Timestamp::from_system_time(before);
        assert_eq!(t.to_rfc3339_nanos(), "1969-12-31T23:59:58.500000000Z");
        assert_eq!(t.add(Duration::from_millis(1500)), Timestamp::EPOCH);
        assert_eq!(Timestamp::EPOCH.sub(Duration::from_millis(1500)), t);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }
}
