//! A real `minidockd` per test, with its own root, run directory and
//! socket in a temporary directory, so tests run side by side; and the
//! `minidock` client pointed at it.
//!
//! The daemon is the built binary (`CARGO_BIN_EXE_minidockd`). On drop the
//! fixture removes every container it still has (through the API, so the
//! daemon unmounts and cleans up), stops the daemon by its PID, and
//! removes the directory without crossing into any mount left behind.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long the daemon may take to create its socket.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long it may take to exit after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A running daemon.
pub struct Daemon {
    child: Option<Child>,
    /// Removed by `Drop` with `rm --one-file-system`, not by `TempDir`,
    /// whose removal would descend into a mount left behind.
    dir: PathBuf,
    socket: PathBuf,
}

impl Daemon {
    /// Starts `minidockd` and waits for its socket to answer.
    pub fn start() -> Daemon {
        minidock_testkit::require_root();
        let dir = tempfile::Builder::new()
            .prefix("minidock-cli-")
            .tempdir()
            .expect("create a temp dir for the daemon")
            .keep();
        let socket = dir.join("run/minidock.sock");
        let log = std::fs::File::create(dir.join("minidockd.log")).expect("create the daemon log");
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
            dir,
            socket,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if std::os::unix::net::UnixStream::connect(&daemon.socket).is_ok() {
                break;
            }
            if let Some(status) = daemon
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "minidockd exited ({status}) before listening:\n{}",
                    daemon.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "minidockd did not listen within {START_TIMEOUT:?}:\n{}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }

    /// `unix:///…/minidock.sock`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The daemon's state directory.
    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// A scratch directory that goes away with the daemon.
    pub fn scratch(&self) -> PathBuf {
        let path = self.dir.join("scratch");
        std::fs::create_dir_all(&path).expect("create the scratch dir");
        path
    }

    /// What the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("minidockd.log")).unwrap_or_default()
    }

    /// The client, pointed at this daemon.
    pub fn minidock(&self) -> assert_cmd::Command {
        let mut cmd =
            assert_cmd::Command::cargo_bin("minidock").expect("the minidock binary is built");
        cmd.env_remove("MINIDOCK_HOST").arg("-H").arg(self.host());
        // Credentials of `login` go to a config file of this test only.
        cmd.env("DOCKER_CONFIG", self.dir.join("docker-config"));
        cmd.timeout(Duration::from_secs(120));
        cmd
    }

    /// The client as a `std::process::Command` (for pipes and ptys).
    pub fn minidock_std(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_minidock"));
        cmd.env_remove("MINIDOCK_HOST")
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .arg("-H")
            .arg(self.host());
        cmd
    }

    /// Runs `minidock ARGS`; returns the output, whatever the status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.minidock().args(args).output().expect("minidock runs")
    }

    /// Runs `minidock ARGS`, which must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "minidock {args:?} failed ({}):\nstdout: {}\nstderr: {}\ndaemon log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8(out.stdout).expect("stdout is UTF-8")
    }

    /// Runs `minidock ARGS` with `input` on stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        self.minidock()
            .args(args)
            .write_stdin(input.to_vec())
            .output()
            .expect("minidock runs")
    }

    /// Loads the test kit's busybox image as `busybox:latest` with
    /// `minidock load -i`, the way a user loads a `docker save` archive.
    pub fn load_busybox(&self) {
        let tar = self.dir.join("busybox.tar");
        minidock_testkit::busybox_image().write_docker_save(&tar, "busybox:latest");
        let out = self.ok(&["load", "-i", tar.to_str().expect("UTF-8 path")]);
        assert!(out.contains("busybox:latest"), "load said: {out}");
    }

    /// Writes a tar of the test kit's busybox rootfs and returns its path.
    pub fn busybox_rootfs_tar(&self) -> PathBuf {
        let rootfs = self.dir.join("busybox-rootfs");
        minidock_testkit::busybox_rootfs(&rootfs);
        let path = self.dir.join("busybox-rootfs.tar");
        let file = std::fs::File::create(&path).expect("create the rootfs tar");
        let mut builder = tar::Builder::new(file);
        builder.follow_symlinks(false);
        builder
            .append_dir_all(".", &rootfs)
            .expect("tar the rootfs");
        builder
            .into_inner()
            .expect("finish the tar")
            .flush()
            .expect("flush the tar");
        path
    }

    /// Ids of all containers, running or not.
    fn container_ids(&self) -> Vec<String> {
        let out = self.run(&["ps", "-aq", "--no-trunc"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if child.try_wait().ok().flatten().is_none() {
            for id in self.container_ids() {
                let out = self.run(&["rm", "-f", &id]);
                if !out.status.success() {
                    eprintln!(
                        "cleanup: rm -f {id}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
            let pid = Pid::from_raw(child.id() as i32);
            if let Err(e) = kill(pid, Signal::SIGTERM) {
                eprintln!("cleanup: SIGTERM to minidockd {pid}: {e}");
            }
            let deadline = Instant::now() + STOP_TIMEOUT;
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    eprintln!("cleanup: minidockd {pid} ignored SIGTERM; sending SIGKILL");
                    if let Err(e) = child.kill() {
                        eprintln!("cleanup: SIGKILL to minidockd {pid}: {e}");
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if let Err(e) = child.wait() {
                eprintln!("cleanup: waiting for minidockd {pid}: {e}");
            }
        }
        // Remove the tree without descending into anything still mounted.
        let status = Command::new("rm")
            .arg("-rf")
            .arg("--one-file-system")
            .arg(&self.dir)
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!(
                "cleanup: could not remove {}: {status:?}",
                self.dir.display()
            );
        }
    }
}

/// Lines of stdout as a `Vec`.
pub fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until `check` is true, or panics with `what` after `timeout`.
pub fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
