//! A real `minidockd` per test (its own root, run directory and socket in a
//! temporary directory), the client library pointed at it, and the real
//! clients (`docker`, docker-py) with `DOCKER_HOST` set to it.
//!
//! On drop: every container still there is removed through the API (so the
//! daemon unmounts and cleans up), the daemon is stopped by its PID, leaks
//! are checked (mounts, cgroups and processes mentioning the directory), and
//! the directory is removed without crossing into a mount.

#![allow(dead_code)]

use minidock_daemon::client::Client;
use minidock_daemon::service::ListOptions;
use minidock_testkit::LeakCheck;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running daemon.
pub struct Daemon {
    child: Option<Child>,
    /// The test's directory: `root/`, `run/`, `d.sock`, `minidockd.log`.
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub client: Client,
    leaks: Option<LeakCheck>,
}

/// A fresh directory for a daemon.
pub fn daemon_dir() -> PathBuf {
    tempfile::Builder::new()
        .prefix("minidockd-test-")
        .tempdir()
        .expect("create a temp dir for the daemon")
        .keep()
}

impl Daemon {
    /// Starts `minidockd` in a new directory and waits until it answers.
    pub fn start() -> Daemon {
        minidock_testkit::require_root();
        let dir = daemon_dir();
        let leaks = LeakCheck::start(&dir.display().to_string());
        let mut daemon = Daemon::start_in(&dir);
        daemon.leaks = Some(leaks);
        daemon
    }

    /// Starts `minidockd` on an existing directory (a restart).
    pub fn start_in(dir: &Path) -> Daemon {
        minidock_testkit::require_root();
        let socket = dir.join("d.sock");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("minidockd.log"))
            .expect("open the daemon log");
        let child = Command::new(env!("CARGO_BIN_EXE_minidockd"))
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--run")
            .arg(dir.join("run"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start minidockd");
        let mut daemon = Daemon {
            child: Some(child),
            dir: dir.to_path_buf(),
            client: Client::new(&socket),
            socket,
            leaks: None,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while daemon.client.ping().is_err() {
            if let Some(status) = daemon
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "minidockd exited ({status}) before answering:\n{}",
                    daemon.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "minidockd did not answer within {START_TIMEOUT:?}:\n{}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        daemon
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(|c| c.id())
            .expect("the daemon runs")
    }

    /// What the daemon wrote to stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("minidockd.log")).unwrap_or_default()
    }

    /// Kills the daemon with SIGKILL and leaves everything else as it is
    /// (containers keep running under their shims). Returns the directory
    /// for [`Daemon::start_in`]; this value no longer cleans up.
    pub fn kill9(mut self) -> (PathBuf, Option<LeakCheck>) {
        let mut child = self.child.take().expect("the daemon runs");
        kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("SIGKILL the daemon");
        child.wait().expect("reap the daemon");
        (self.dir.clone(), self.leaks.take())
    }

    /// Hands the leak check over (to the daemon that takes the directory over).
    pub fn adopt_leak_check(&mut self, leaks: Option<LeakCheck>) {
        self.leaks = leaks;
    }

    /// A `docker` command talking to this daemon (with its own, empty
    /// client configuration).
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new("docker");
        cmd.env("DOCKER_HOST", format!("unix://{}", self.socket.display()))
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION")
            .stdin(Stdio::null());
        cmd
    }

    /// Loads the busybox test image as `tag` through the API (`docker load`).
    pub fn load_busybox(&self, tag: &str) {
        let tar = self.dir.join("busybox-save.tar");
        minidock_testkit::busybox_image().write_docker_save(&tar, tag);
        let mut file = std::fs::File::open(&tar).expect("open the saved image");
        self.client
            .image_load(&mut file)
            .expect("load")
            .finish(|_| {})
            .expect("load the busybox image");
        std::fs::remove_file(&tar).ok();
    }

    fn remove_all_containers(&self) {
        let all = ListOptions {
            all: true,
            ..ListOptions::default()
        };
        if let Ok(list) = self.client.containers(&all) {
            for c in list {
                // A second try after a pause: a container may be between
                // states (a restart policy at work) when the first one comes.
                for attempt in 0..2 {
                    match self.client.container_remove(&c.id, true) {
                        Ok(()) => break,
                        Err(e) if e.status() == Some(404) => break,
                        Err(e) => {
                            eprintln!(
                                "cleanup: removing container {} (try {}): {e}",
                                c.id,
                                attempt + 1
                            );
                            std::thread::sleep(Duration::from_millis(500));
                        }
                    }
                }
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        self.remove_all_containers();
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).ok();
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                _ if Instant::now() > deadline => {
                    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).ok();
                    child.wait().ok();
                    break;
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        if let Some(leaks) = self.leaks.take() {
            if !std::thread::panicking() {
                leaks.finish();
            }
        }
        // --one-file-system: never descend into a mount left behind.
        Command::new("rm")
            .args(["-rf", "--one-file-system"])
            .arg(&self.dir)
            .status()
            .ok();
    }
}

/// The `docker` CLI, or why the test cannot run. With
/// `MINIDOCK_SKIP_DOCKER_CLI=1` the caller skips, and says so.
pub fn docker_cli_available() -> bool {
    if std::env::var("MINIDOCK_SKIP_DOCKER_CLI").as_deref() == Ok("1") {
        eprintln!("MINIDOCK_SKIP_DOCKER_CLI=1: the docker CLI test is skipped on request");
        return false;
    }
    let found = Command::new("docker")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "the docker CLI is not installed: install it (Debian: apt-get install docker-ce-cli from \
         download.docker.com, or the static binary from https://download.docker.com/linux/static/stable/) \
         or opt out explicitly with MINIDOCK_SKIP_DOCKER_CLI=1"
    );
    true
}

/// The output of a command that must succeed.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `f` until it returns true, up to `limit`.
pub fn eventually(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
