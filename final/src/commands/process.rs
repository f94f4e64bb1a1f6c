//! The process flags of `run`/`create` (see `cli_process.rs`) in the
//! create body, parsed the way the docker CLI parses them.

use crate::cli_process::ProcessFlags;
use crate::error::Failure;
use crate::format::parse_ram_in_bytes;
use minidock_daemon::types::{ContainerCreateBody, Ulimit};

/// `nofile=1024:2048`, `nproc=512` (hard = soft), `core=-1` or
/// `core=unlimited` (no limit).
pub fn parse_ulimit(text: &str) -> Result<Ulimit, String> {
    let bad = |why: &str| format!("invalid argument \"{text}\" for \"--ulimit\" flag: {why}");
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| bad("expected NAME=SOFT[:HARD]"))?;
    let number = |v: &str| match v {
        "unlimited" | "-1" => Ok(-1),
        v => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad(&format!("{v:?} is not a limit"))),
    };
    let (soft, hard) = match values.split_once(':') {
        Some((s, h)) => (number(s)?, number(h)?),
        None => {
            let n = number(values)?;
            (n, n)
        }
    };
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

/// Fills the create body from the flags.
pub fn fill_process(flags: &ProcessFlags, body: &mut ContainerCreateBody) -> Result<(), Failure> {
    let h = &mut body.host_config;
    let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    h.cap_add = list(&flags.cap_add);
    h.cap_drop = list(&flags.cap_drop);
    h.privileged = flags.privileged;
    h.pid_mode = flags.pid.clone().unwrap_or_default();
    h.ipc_mode = flags.ipc.clone().unwrap_or_default();
    h.uts_mode = flags.uts.clone().unwrap_or_default();
    h.group_add = list(&flags.group_add);
    if let Some(size) = &flags.shm_size {
        h.shm_size = parse_ram_in_bytes(size).map_err(|e| {
            Failure::usage(format!(
                "invalid argument \"{size}\" for \"--shm-size\" flag: {e}"
            ))
        })?;
    }
    if !flags.ulimit.is_empty() {
        h.ulimits = Some(
            flags
                .ulimit
                .iter()
                .map(|u| parse_ulimit(u).map_err(Failure::usage))
                .collect::<Result<_, _>>()?,
        );
    }
    if !flags.sysctl.is_empty() {
        let mut map = std::collections::BTreeMap::new();
        for entry in &flags.sysctl {
            let (k, v) = entry.split_once('=').ok_or_else(|| {
                Failure::usage(format!(
                    "invalid argument \"{entry}\" for \"--sysctl\" flag: expected KEY=VALUE"
                ))
            })?;
            map.insert(k.to_string(), v.to_string());
        }
        h.sysctls = Some(map);
    }
    h.oom_score_adj = flags.oom_score_adj.unwrap_or(0);
    if flags.init {
        h.init = Some(true);
    }
    body.config.stop_signal = flags.stop_signal.clone();
    body.config.stop_timeout = flags.stop_timeout;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimits_parse_as_the_docker_cli_does() {
        let u = parse_ulimit("nofile=1024:2048").unwrap();
        assert_eq!((u.name.as_str(), u.soft, u.hard), ("nofile", 1024, 2048));
        let u = parse_ulimit("nproc=512").unwrap();
        assert_eq!((u.soft, u.hard), (512, 512));
        assert_eq!(parse_ulimit("core=unlimited").unwrap().soft, -1);
        for bad in ["nofile", "nofile=x", "nofile=1:y", "nofile=-5"] {
            assert!(parse_ulimit(bad).unwrap_err().contains("--ulimit"), "{bad}");
        }
    }
}
