//! A container's configuration: what the image suggests, what the user
//! asked for, and the merge of the two by Docker's rules.
//!
//! An image says "run `/docker-entrypoint.sh nginx -g 'daemon off;'` as user
//! `nginx` in `/`, with `PATH=…`". The user says "`docker run -e A=1 -u 0
//! nginx sh`". What runs is decided once, at create, and written to
//! `config.json`: later image changes do not change an existing container.
//!
//! What the lesson walks through is here: the image's part, the user's
//! part and [`merge`]. The host's part lives beside it: [`HostConfig`]
//! (limits, mounts, security options, network mode) in `host`, bind mounts
//! in `bind`, restart policies in `restart`.

mod bind;
mod host;
mod restart;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;

pub use bind::{Bind, Propagation, TmpfsMount};
pub use host::{parse_security_opt, HostConfig, NetworkMode, SecurityOpt};
pub use restart::{RestartName, RestartPolicy, RestartTrigger};

/// What the image suggests (the `config` object of an OCI image config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// The image's `ENTRYPOINT`: what runs, with `cmd` as its arguments.
    pub entrypoint: Option<Vec<String>>,
    /// The image's `CMD`: the default command, or the entrypoint's default arguments.
    pub cmd: Option<Vec<String>>,
    /// The image's `ENV`, `KEY=value` each.
    pub env: Vec<String>,
    /// The image's `WORKDIR`.
    pub working_dir: Option<String>,
    /// The image's `USER`.
    pub user: Option<String>,
    /// The image's `STOPSIGNAL` (`SIGQUIT`, `15`, …).
    pub stop_signal: Option<String>,
    /// The image's `LABEL`s.
    pub labels: BTreeMap<String, String>,
}

impl From<&oci_spec::image::Config> for ImageConfig {
    fn from(c: &oci_spec::image::Config) -> Self {
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        ImageConfig {
            entrypoint: c.entrypoint().clone(),
            cmd: c.cmd().clone(),
            env: c.env().clone().unwrap_or_default(),
            working_dir: non_empty(c.working_dir()),
            user: non_empty(c.user()),
            stop_signal: non_empty(c.stop_signal()),
            labels: c
                .labels()
                .clone()
                .map(|l| l.into_iter().collect())
                .unwrap_or_default(),
        }
    }
}

/// What the user asked for: every field that is `None` (or empty) was not
/// given and falls back to the image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserConfig {
    /// `--entrypoint`; `Some(vec![])` is `--entrypoint ""`: no entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// The words after the image name.
    pub cmd: Option<Vec<String>>,
    /// `-e KEY=VALUE`.
    pub env: Vec<String>,
    /// `-w`.
    pub working_dir: Option<String>,
    /// `-u`.
    pub user: Option<String>,
    /// `--hostname`; the short id when not given.
    pub hostname: Option<String>,
    /// `--stop-signal`.
    pub stop_signal: Option<String>,
    /// `--stop-timeout`, in seconds.
    pub stop_timeout: Option<u32>,
    /// `-l KEY=VALUE`.
    pub labels: BTreeMap<String, String>,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub open_stdin: bool,
}

/// The merged configuration a container runs with, stored in `config.json`.
/// Field names follow Docker's `Config` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    /// The image as the user named it (`busybox:latest`).
    pub image: String,
    /// The container's hostname; the short id unless the user chose one.
    pub hostname: String,
    /// `name`, `uid`, `uid:gid` or `name:group`; empty = root.
    pub user: String,
    /// The environment, `KEY=value` each: the image's, then the user's, merged by key.
    pub env: Vec<String>,
    /// The program run, with `cmd` as its arguments (the user's `--entrypoint` replaces the image's).
    pub entrypoint: Vec<String>,
    /// The command, or the entrypoint's arguments (the user's replaces the image's).
    pub cmd: Vec<String>,
    /// Absolute; empty = `/`.
    pub working_dir: String,
    /// The image's labels, and the user's over them.
    pub labels: BTreeMap<String, String>,
    /// `SIGTERM` unless the image or the user chose another.
    pub stop_signal: String,
    /// Seconds `stop` waits after the stop signal before SIGKILL; `None`: the engine's default.
    pub stop_timeout: Option<u32>,
    /// Give the container a terminal (`-t`).
    pub tty: bool,
    /// Keep the container's stdin open for attached clients (`-i`).
    pub open_stdin: bool,
}

impl Config {
    /// The process to run: entrypoint, then cmd.
    pub fn args(&self) -> Vec<String> {
        self.entrypoint.iter().chain(&self.cmd).cloned().collect()
    }
}

// ANCHOR: merge
/// Merges the image's defaults with the user's options, as Docker's
/// `merge()` in `daemon/commit.go` does:
/// - a user entrypoint replaces the image's, and the image's cmd is dropped
///   with it (an image cmd is meant as arguments to the image entrypoint);
/// - a user cmd replaces the image's cmd;
/// - env is merged by key: every user entry, then each image entry whose
///   key the user did not set;
/// - working dir, user and stop signal come from the image unless given;
/// - labels: the image's, overridden key by key by the user's.
///
/// Fails when nothing is left to run.
pub fn merge(
    image_ref: &str,
    image: &ImageConfig,
    user: UserConfig,
    short_id: &str,
) -> Result<Config, Error> {
    // exercise 3.2 merge-config: merge the image config and the user's options with Docker's rules.
    // hint: decide entrypoint and cmd together: a non-empty user entrypoint wins and drops the image's cmd; otherwise the user's cmd, else the image's
    // hint: env: keep every user entry, then append image entries whose KEY (before '=') the user did not set (crate::env has the key rule)
    let user_entrypoint_given = user.entrypoint.as_ref().is_some_and(|e| !e.is_empty());
    let (entrypoint, cmd) = if user_entrypoint_given {
        (
            user.entrypoint.clone().unwrap_or_default(),
            user.cmd.clone().unwrap_or_default(),
        )
    } else {
        let cmd = match &user.cmd {
            Some(c) if !c.is_empty() => c.clone(),
            _ => image.cmd.clone().unwrap_or_default(),
        };
        // `--entrypoint ""` clears the image's entrypoint but keeps its cmd.
        let entrypoint = match &user.entrypoint {
            Some(e) => e.clone(),
            None => image.entrypoint.clone().unwrap_or_default(),
        };
        (entrypoint, cmd)
    };
    if entrypoint.is_empty() && cmd.is_empty() {
        return Err(Error::NoCommand {
            image: image_ref.to_string(),
        });
    }
    let mut env = user.env.clone();
    for entry in &image.env {
        if !crate::env::has(&user.env, crate::env::key(entry)) {
            env.push(entry.clone());
        }
    }
    let mut labels = image.labels.clone();
    labels.extend(user.labels);
    Ok(Config {
        image: image_ref.to_string(),
        hostname: user.hostname.unwrap_or_else(|| short_id.to_string()),
        user: user.user.or_else(|| image.user.clone()).unwrap_or_default(),
        env,
        entrypoint,
        cmd,
        working_dir: user
            .working_dir
            .or_else(|| image.working_dir.clone())
            .unwrap_or_default(),
        labels,
        stop_signal: user
            .stop_signal
            .or_else(|| image.stop_signal.clone())
            .unwrap_or_else(|| "SIGTERM".to_string()),
        stop_timeout: user.stop_timeout,
        tty: user.tty,
        open_stdin: user.open_stdin,
    })
    // end exercise
}
// ANCHOR_END: merge

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn nginx_like() -> ImageConfig {
        ImageConfig {
            entrypoint: Some(v(&["/docker-entrypoint.sh"])),
            cmd: Some(v(&["nginx", "-g", "daemon off;"])),
            env: v(&["PATH=/usr/bin:/bin", "NGINX_VERSION=1.27"]),
            working_dir: Some("/srv".into()),
            user: Some("nginx".into()),
            stop_signal: Some("SIGQUIT".into()),
            labels: [("maintainer".to_string(), "x".to_string())].into(),
        }
    }

    #[test]
    fn nothing_given_takes_everything_from_the_image() {
        let c = merge(
            "nginx",
            &nginx_like(),
            UserConfig::default(),
            "0123456789ab",
        )
        .unwrap();
        assert_eq!(
            c.args(),
            v(&["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"])
        );
        assert_eq!(c.env, v(&["PATH=/usr/bin:/bin", "NGINX_VERSION=1.27"]));
        assert_eq!((c.working_dir.as_str(), c.user.as_str()), ("/srv", "nginx"));
        assert_eq!(c.stop_signal, "SIGQUIT");
        assert_eq!(c.hostname, "0123456789ab");
    }

    #[test]
    fn user_cmd_replaces_the_image_cmd_and_keeps_the_entrypoint() {
        let user = UserConfig {
            cmd: Some(v(&["sh"])),
            ..Default::default()
        };
        let c = merge("nginx", &nginx_like(), user, "x").unwrap();
        assert_eq!(c.entrypoint, v(&["/docker-entrypoint.sh"]));
        assert_eq!(c.cmd, v(&["sh"]));
    }

    #[test]
    fn user_entrypoint_drops_the_image_cmd() {
        let user = UserConfig {
            entrypoint: Some(v(&["/bin/echo"])),
            ..Default::default()
        };
        let c = merge("nginx", &nginx_like(), user, "x").unwrap();
        assert_eq!(c.args(), v(&["/bin/echo"]));
        let user = UserConfig {
            entrypoint: Some(v(&["/bin/echo"])),
            cmd: Some(v(&["hi"])),
            ..Default::default()
        };
        assert_eq!(
            merge("nginx", &nginx_like(), user, "x").unwrap().args(),
            v(&["/bin/echo", "hi"])
        );
    }

    #[test]
    fn empty_user_entrypoint_clears_it_but_keeps_the_image_cmd() {
        let user = UserConfig {
            entrypoint: Some(vec![]),
            ..Default::default()
        };
        let c = merge("nginx", &nginx_like(), user, "x").unwrap();
        assert!(c.entrypoint.is_empty());
        assert_eq!(c.cmd, v(&["nginx", "-g", "daemon off;"]));
    }

    #[test]
    fn env_is_merged_by_key_and_the_user_wins() {
        use rand::Rng;
        let value: u32 = rand::thread_rng().gen();
        let user = UserConfig {
            env: vec![
                format!("NGINX_VERSION={value}"),
                "EXTRA=1".into(),
                "FLAG".into(),
            ],
            ..Default::default()
        };
        let mut image = nginx_like();
        image.env.push("FLAG=from-image".into());
        let c = merge("nginx", &image, user, "x").unwrap();
        assert_eq!(
            c.env,
            vec![
                format!("NGINX_VERSION={value}"),
                "EXTRA=1".into(),
                "FLAG".into(),
                "PATH=/usr/bin:/bin".into()
            ]
        );
    }

    #[test]
    fn user_settings_override_the_image() {
        let user = UserConfig {
            working_dir: Some("/tmp".into()),
            user: Some("0:0".into()),
            stop_signal: Some("SIGUSR1".into()),
            hostname: Some("web".into()),
            labels: [("maintainer".to_string(), "me".to_string())].into(),
            ..Default::default()
        };
        let c = merge("nginx", &nginx_like(), user, "x").unwrap();
        assert_eq!(c.working_dir, "/tmp");
        assert_eq!(c.user, "0:0");
        assert_eq!(c.stop_signal, "SIGUSR1");
        assert_eq!(c.hostname, "web");
        assert_eq!(c.labels["maintainer"], "me");
    }

    #[test]
    fn no_command_at_all_is_an_error() {
        let err = merge(
            "scratchy",
            &ImageConfig::default(),
            UserConfig::default(),
            "x",
        )
        .unwrap_err();
        assert!(err.to_string().contains("no command specified"), "{err}");
        let c = merge(
            "scratchy",
            &ImageConfig::default(),
            UserConfig::default_with_cmd(),
            "x",
        )
        .unwrap();
        assert_eq!(c.stop_signal, "SIGTERM");
    }

    impl UserConfig {
        fn default_with_cmd() -> Self {
            UserConfig {
                cmd: Some(v(&["true"])),
                ..Default::default()
            }
        }
    }
}
