//! The shim's command line: what the engine passes when it starts a
//! shim ([`ShimArgs`]), and where the shim's files live in the run
//! directory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::id::ContainerId;

/// Where the shim finds everything: passed on its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimArgs {
    /// The engine root (`containers/<id>` is below it).
    pub root: PathBuf,
    /// The run directory (`<id>/attach.sock` is below it).
    pub run_dir: PathBuf,
    /// The container the shim supervises.
    pub id: ContainerId,
    /// The cgroup parent group, e.g. `minidock`.
    pub cgroup_parent: String,
    /// Wait for one attach client before starting the container, so that
    /// it sees all of the output (`docker run` / `docker start -a`).
    pub wait_attach: bool,
    /// The container's stdio, when the engine tells it: a shim that waits
    /// for its attach starts the init helper meanwhile (see `supervise`).
    pub stdio: Option<ShimStdio>,
}

/// What the container's stdio is made of. The engine knows it when it
/// spawns the shim (`-t` and `-i` are fixed at create), before the rest of
/// the configuration is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShimStdio {
    /// `-t`: a terminal PID 1 makes; the helper's own stdio is unused.
    Tty,
    /// Pipes for stdout and stderr, and for stdin with `-i`.
    Pipes {
        /// `-i`: stdin is a pipe too, else `/dev/null`.
        stdin: bool,
    },
}

impl ShimStdio {
    /// The stdio `config` asks for.
    pub fn of(config: &crate::config::Config) -> ShimStdio {
        if config.tty {
            ShimStdio::Tty
        } else {
            ShimStdio::Pipes {
                stdin: config.open_stdin,
            }
        }
    }

    fn as_arg(self) -> &'static str {
        match self {
            ShimStdio::Tty => "tty",
            ShimStdio::Pipes { stdin: false } => "pipes",
            ShimStdio::Pipes { stdin: true } => "pipes+stdin",
        }
    }

    fn parse(arg: &str) -> Option<ShimStdio> {
        [
            ShimStdio::Tty,
            ShimStdio::Pipes { stdin: false },
            ShimStdio::Pipes { stdin: true },
        ]
        .into_iter()
        .find(|s| s.as_arg() == arg)
    }
}

impl ShimArgs {
    /// The arguments after [`SHIM_ARG`].
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "--root".into(),
            self.root.clone().into(),
            "--run-dir".into(),
            self.run_dir.clone().into(),
            "--cgroup-parent".into(),
            self.cgroup_parent.clone().into(),
        ];
        if self.wait_attach {
            args.push("--wait-attach".into());
        }
        if let Some(stdio) = self.stdio {
            args.extend(["--stdio".into(), stdio.as_arg().into()]);
        }
        args.push(self.id.as_str().into());
        args
    }

    /// Parses what [`ShimArgs::to_args`] wrote.
    pub fn parse(args: &[OsString]) -> Result<ShimArgs> {
        let bad = |what: &str| {
            Error::ShimProtocol(format!(
                "{what} (the shim is started by the engine, not by hand)"
            ))
        };
        let (mut root, mut run_dir, mut parent, mut id, mut wait_attach) =
            (None, None, None, None, false);
        let mut stdio = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.to_str() {
                Some("--root") => root = it.next().map(PathBuf::from),
                Some("--run-dir") => run_dir = it.next().map(PathBuf::from),
                Some("--cgroup-parent") => {
                    parent = it.next().and_then(|p| p.to_str()).map(String::from)
                }
                Some("--wait-attach") => wait_attach = true,
                Some("--stdio") => {
                    let arg = it.next().and_then(|a| a.to_str()).unwrap_or_default();
                    stdio = Some(ShimStdio::parse(arg).ok_or_else(|| bad("bad --stdio"))?);
                }
                Some(other) if id.is_none() => id = Some(other.parse::<ContainerId>()?),
                _ => return Err(bad("unexpected argument")),
            }
        }
        Ok(ShimArgs {
            root: root.ok_or_else(|| bad("--root missing"))?,
            run_dir: run_dir.ok_or_else(|| bad("--run-dir missing"))?,
            cgroup_parent: parent.ok_or_else(|| bad("--cgroup-parent missing"))?,
            id: id.ok_or_else(|| bad("container id missing"))?,
            wait_attach,
            stdio,
        })
    }

    /// The shim's run directory, see [`run_path`].
    pub fn run_path(&self) -> PathBuf {
        run_path(&self.run_dir, &self.id)
    }
}

/// `RUN_DIR/<short id>`: the shim's socket lives here. The short id keeps
/// the socket's path under the 108 bytes a unix socket address may have.
pub fn run_path(run_dir: &Path, id: &ContainerId) -> PathBuf {
    run_dir.join(id.short())
}

/// The attach socket of a container.
pub fn attach_socket(run_dir: &Path, id: &ContainerId) -> PathBuf {
    run_path(run_dir, id).join("attach.sock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_round_trip() {
        let a = ShimArgs {
            root: "/var/lib/minidock".into(),
            run_dir: "/run/minidock".into(),
            id: ContainerId::random(),
            cgroup_parent: "minidock".into(),
            wait_attach: true,
            stdio: None,
        };
        assert_eq!(ShimArgs::parse(&a.to_args()).unwrap(), a);
        let b = ShimArgs {
            wait_attach: false,
            ..a.clone()
        };
        assert_eq!(ShimArgs::parse(&b.to_args()).unwrap(), b);
        for stdio in [
            ShimStdio::Tty,
            ShimStdio::Pipes { stdin: false },
            ShimStdio::Pipes { stdin: true },
        ] {
            let c = ShimArgs {
                stdio: Some(stdio),
                ..a.clone()
            };
            assert_eq!(ShimArgs::parse(&c.to_args()).unwrap(), c);
        }
        let mut bad = a.to_args();
        bad.splice(0..0, ["--stdio".into(), "files".into()]);
        assert!(ShimArgs::parse(&bad).is_err());
        assert!(ShimArgs::parse(&["--root".into(), "/x".into()]).is_err());
        assert!(ShimArgs::parse(&["../../etc".into()]).is_err());
    }
}
