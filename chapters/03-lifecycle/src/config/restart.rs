//! Restart policies (`--restart`): parsed once, with Docker's messages, and
//! the one decision whether an exited container starts again.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

// ANCHOR: restart_policy
/// What to do when the container's process exits on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    /// `no`, `always`, `unless-stopped` or `on-failure`.
    pub name: RestartName,
    /// For `on-failure`: most restarts; 0 = no limit.
    pub maximum_retry_count: u32,
}

/// The restart policy kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestartName {
    /// Never restart (Docker's default).
    #[default]
    #[serde(rename = "no", alias = "")]
    No,
    /// Restart whatever the exit code; a container stopped by hand starts again when the engine does.
    #[serde(rename = "always")]
    Always,
    /// As `always`, except that a container stopped by hand stays stopped.
    #[serde(rename = "unless-stopped")]
    UnlessStopped,
    /// Restart after a non-zero exit code, at most `maximum_retry_count` times (0: no limit).
    #[serde(rename = "on-failure")]
    OnFailure,
}

impl RestartName {
    /// The name as Docker writes it (`on-failure`).
    pub fn as_str(self) -> &'static str {
        match self {
            RestartName::No => "no",
            RestartName::Always => "always",
            RestartName::UnlessStopped => "unless-stopped",
            RestartName::OnFailure => "on-failure",
        }
    }
}
// ANCHOR_END: restart_policy

// ANCHOR: restart_parse
impl FromStr for RestartPolicy {
    type Err = Error;

    /// Parses `no`, `always`, `unless-stopped`, `on-failure` or
    /// `on-failure:N` (`""` is `no`, as the API sends it), with the
    /// messages of Docker's CLI. The one parser of a policy: the CLI's
    /// `--restart`, the API's `RestartPolicy` and `docker update` use it.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: &'static str| Error::InvalidRestartPolicy {
            policy: s.to_string(),
            reason,
        };
        let (name, count) = match s.split_once(':') {
            Some((name, count)) => (name, Some(count)),
            None => (s, None),
        };
        let name = match name {
            "" | "no" => RestartName::No,
            "always" => RestartName::Always,
            "unless-stopped" => RestartName::UnlessStopped,
            "on-failure" => RestartName::OnFailure,
            _ => {
                return Err(bad(
                    "use no, always, unless-stopped or on-failure[:max-retries]",
                ))
            }
        };
        let maximum_retry_count = match (name, count) {
            (_, None) => 0,
            (RestartName::OnFailure, Some(n)) => n
                .parse()
                .map_err(|_| bad("maximum retry count must be a positive integer"))?,
            (_, Some(_)) => {
                return Err(bad(
                    "maximum retry count can only be used with 'on-failure'",
                ))
            }
        };
        Ok(RestartPolicy {
            name,
            maximum_retry_count,
        })
    }
}
// ANCHOR_END: restart_parse

// ANCHOR: restart_trigger
/// When a restart policy is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartTrigger {
    /// The container's process exited while its shim watched it.
    Exited,
    /// The engine starts and finds the container exited (its shim died
    /// with the machine, say).
    EngineStart,
}
// ANCHOR_END: restart_trigger

// ANCHOR: restart_decide
impl RestartPolicy {
    /// Whether a container that exited with `exit_code` after `restarts`
    /// earlier restarts should be started again. `stopped_by_user` is true
    /// after `stop`/`kill`/`rm` through the engine: a manual stop ends
    /// restarts until the next `start`.
    ///
    /// Docker's one exception, kept: when the engine starts, `always`
    /// starts a container even after a manual stop (`unless-stopped`
    /// is the policy that remembers the stop across engine restarts).
    ///
    /// | policy           | on exit             | on engine start      |
    /// |------------------|---------------------|----------------------|
    /// | `no`             | never               | never                |
    /// | `always`         | unless stopped by hand | always            |
    /// | `unless-stopped` | unless stopped by hand | unless stopped by hand |
    /// | `on-failure[:N]` | code ≠ 0, not stopped by hand, restarts left (N = 0: no limit) | the same |
    pub fn decide(
        &self,
        trigger: RestartTrigger,
        exit_code: i32,
        restarts: u32,
        stopped_by_user: bool,
    ) -> bool {
        let by_hand = stopped_by_user
            && !(trigger == RestartTrigger::EngineStart && self.name == RestartName::Always);
        if by_hand {
            return false;
        }
        match self.name {
            RestartName::No => false,
            RestartName::Always | RestartName::UnlessStopped => true,
            RestartName::OnFailure => {
                exit_code != 0
                    && (self.maximum_retry_count == 0 || restarts < self.maximum_retry_count)
            }
        }
    }
}
// ANCHOR_END: restart_decide

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        use RestartTrigger::{EngineStart, Exited};
        let p: RestartPolicy = "on-failure:3".parse().unwrap();
        assert_eq!(p.name, RestartName::OnFailure);
        assert!(p.decide(Exited, 1, 2, false));
        assert!(!p.decide(Exited, 1, 3, false));
        assert!(!p.decide(Exited, 0, 0, false));
        assert!(!p.decide(EngineStart, 1, 0, true));
        let a: RestartPolicy = "always".parse().unwrap();
        assert!(a.decide(Exited, 0, 100, false));
        assert!(!a.decide(Exited, 0, 0, true), "a manual stop ends restarts");
        assert!(a.decide(EngineStart, 0, 0, true), "until the engine starts");
        let u: RestartPolicy = "unless-stopped".parse().unwrap();
        assert!(u.decide(EngineStart, 0, 0, false));
        assert!(!u.decide(EngineStart, 0, 0, true));
        let no: RestartPolicy = "".parse().unwrap();
        assert!(!no.decide(Exited, 1, 0, false));
        assert!(!no.decide(EngineStart, 1, 0, false));
        for (bad, says) in [
            ("sometimes", "use no, always"),
            ("on-failure:x", "must be a positive integer"),
            ("on-failure:-1", "must be a positive integer"),
            ("always:3", "only be used with 'on-failure'"),
        ] {
            let e = bad.parse::<RestartPolicy>().unwrap_err().to_string();
            assert!(e.starts_with("invalid restart policy format: "), "{e}");
            assert!(e.contains(says) && e.ends_with(bad), "{e}");
        }
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"Name":"on-failure","MaximumRetryCount":3}"#);
    }
}
