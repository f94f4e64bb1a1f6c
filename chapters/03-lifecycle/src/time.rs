//! Timestamps as Docker writes them: RFC 3339, UTC, nanoseconds.
//!
//! Docker's json-file log, `docker inspect` and the events stream all write
//! times like `2026-11-27T23:19:15.123456789Z`. The calendar (which day
//! a second since 1970 falls on, and back) and the RFC 3339 grammar are the
//! `time` crate's; this module keeps Docker's shape: always UTC, always nine
//! fraction digits, and seconds since 1970 accepted where a time is asked.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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
        // Every i64 second within ±9999 years is a date; beyond that the
        // calendar has no year to print, and the epoch stands in.
        let t =
            OffsetDateTime::from_unix_timestamp(self.secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            self.nanos
        )
    }

    /// Parses RFC 3339 (`2026-11-27T23:19:15Z`, any number of fraction
    /// digits up to nine, `Z` or a `+hh:mm`/`-hh:mm` offset, `T` or a space
    /// between date and time), or seconds since the epoch with an optional
    /// fraction (`1764285555.25`), which is what `docker logs --since`
    /// also accepts.
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
        let fraction = s.split_once('.').map_or("", |(_, f)| f);
        if fraction.bytes().take_while(u8::is_ascii_digit).count() > 9 {
            return Err(err("more than nine digits of a second's fraction"));
        }
        // RFC 3339 allows a space for the `T`; the parser wants the letter.
        let text = match s.as_bytes().get(10) {
            Some(b' ') => format!("{}T{}", &s[..10], &s[11..]),
            _ => s.to_string(),
        };
        let t = OffsetDateTime::parse(&text, &Rfc3339).map_err(|e| match e {
            time::error::Parse::TryFromParsed(_) => err("no such date or time of day"),
            _ => err("not of the form YYYY-MM-DDTHH:MM:SS[.fraction] and Z or +hh:mm"),
        })?;
        Ok(Timestamp {
            secs: t.unix_timestamp(),
            nanos: t.nanosecond(),
        })
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
        assert_eq!(Timestamp::parse("2026-11-27 23:19:15.5z").unwrap(), t);
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
