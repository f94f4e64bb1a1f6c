//! The health flags of `run`/`create` (see `cli_health.rs`) as the create
//! body's `Healthcheck`, checked the way the docker CLI checks them.

use crate::cli_health::HealthFlags;
use crate::error::Failure;
use minidock_daemon::compat::health::Healthcheck;

/// A duration flag in nanoseconds (0 when not given).
fn nanos(flag: &str, value: &Option<String>) -> Result<i64, Failure> {
    let Some(text) = value else {
        return Ok(0);
    };
    if text.starts_with('-') {
        return Err(Failure::usage(format!("--{flag} cannot be negative")));
    }
    let d = minidock_daemon::time::parse_go_duration(text).ok_or_else(|| {
        Failure::usage(format!(
            "invalid argument \"{text}\" for \"--{flag}\" flag: time: invalid duration \"{text}\""
        ))
    })?;
    Ok(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The health check the flags ask for; none when no flag is given (the
/// image's check, if any, applies).
pub fn healthcheck(flags: &HealthFlags) -> Result<Option<Healthcheck>, Failure> {
    let any = flags.cmd.is_some()
        || flags.interval.is_some()
        || flags.retries.is_some()
        || flags.start_period.is_some()
        || flags.timeout.is_some();
    if flags.no_healthcheck {
        if any {
            return Err(Failure::usage(
                "--no-healthcheck conflicts with --health-* options",
            ));
        }
        return Ok(Some(Healthcheck {
            test: vec!["NONE".to_string()],
            ..Healthcheck::default()
        }));
    }
    if !any {
        return Ok(None);
    }
    let retries = flags.retries.unwrap_or(0);
    if retries < 0 {
        return Err(Failure::usage("--health-retries cannot be negative"));
    }
    Ok(Some(Healthcheck {
        test: match &flags.cmd {
            Some(cmd) => vec!["CMD-SHELL".to_string(), cmd.clone()],
            None => Vec::new(),
        },
        interval: nanos("health-interval", &flags.interval)?,
        timeout: nanos("health-timeout", &flags.timeout)?,
        start_period: nanos("health-start-period", &flags.start_period)?,
        retries,
        ..Healthcheck::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_docker_s_healthcheck() {
        let flags = HealthFlags {
            cmd: Some("wget -q -O- localhost".into()),
            interval: Some("1s".into()),
            retries: Some(2),
            ..HealthFlags::default()
        };
        let check = healthcheck(&flags).unwrap().unwrap();
        assert_eq!(check.test, ["CMD-SHELL", "wget -q -O- localhost"]);
        assert_eq!((check.interval, check.retries), (1_000_000_000, 2));
        assert!(healthcheck(&HealthFlags::default()).unwrap().is_none());
        let off = HealthFlags {
            no_healthcheck: true,
            ..HealthFlags::default()
        };
        assert_eq!(healthcheck(&off).unwrap().unwrap().test, ["NONE"]);
        let both = HealthFlags {
            cmd: Some("true".into()),
            ..off
        };
        assert!(healthcheck(&both).is_err());
    }
}
