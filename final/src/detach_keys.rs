//! Which keys detach the client from a container's terminal.
//!
//! As with the docker CLI: `--detach-keys` when given, else `detachKeys` in
//! the client's `config.json` (`$DOCKER_CONFIG`, else `~/.docker`), else
//! `ctrl-p,ctrl-q`. The client watches its own terminal input for them
//! (chapter 05's [`minidock_daemon::detach`]), holds them back from the
//! container, and on the whole sequence closes the connection: the container
//! keeps running.

use minidock_daemon::detach::DetachKeys;
use minidock_registry::DockerConfig;

use crate::error::Failure;

/// The detach keys for this command: the flag, the config file, or the default.
pub fn resolve(flag: Option<&str>) -> Result<DetachKeys, Failure> {
    if let Some(spec) = flag {
        return DetachKeys::parse(spec).map_err(Failure::usage);
    }
    let path = DockerConfig::default_path();
    let spec = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|config| config.get("detachKeys")?.as_str().map(str::to_string)),
        Err(_) => None,
    };
    match spec {
        // As the docker CLI: a bad sequence in the config file is reported
        // with where it came from.
        Some(spec) => DetachKeys::parse(&spec)
            .map_err(|e| Failure::usage(format!("{}: detachKeys: {e}", path.display()))),
        None => Ok(DetachKeys::default()),
    }
}

/// How a copy of the streams ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pumped {
    /// The container's output ended (its process exited).
    Ended,
    /// The user typed the detach keys: the container still runs.
    Detached,
}

/// What `attach`, `start -a` and `exec` say after a detach, as the docker
/// CLI does (`docker run -it` says nothing and exits 0).
pub fn detached_failure() -> Failure {
    Failure::new("read escape sequence")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_and_bad_keys_are_usage_errors() {
        assert_eq!(resolve(Some("ctrl-a,q")).unwrap().bytes(), [1, b'q']);
        let failure = resolve(Some("ctrl-é")).unwrap_err();
        assert_eq!(failure.code, 125);
        assert!(
            failure.message.contains("Invalid detach keys (ctrl-é)"),
            "{failure}"
        );
    }
}
