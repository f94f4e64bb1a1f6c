//! A real `minidockd` per test, with its own root, run directory and socket
//! in a temporary directory, so tests run side by side; and the clients
//! pointed at it: the client library (`daemon.client`), the `minidock` CLI
//! and the real `docker` CLI.
//!
//! The daemon is the built binary (`CARGO_BIN_EXE_minidockd`). On drop:
//! every container still there is removed through the API (so the daemon
//! unmounts and cleans up; a failed removal is logged and tried again), the
//! daemon is stopped by its PID (SIGTERM, then SIGKILL), leaks are checked
//! (mounts, cgroups, processes, links and nft tables whose name, command
//! line or tag holds the directory's name; addresses still held), and the
//! directory is removed without crossing into a mount left behind.

#![allow(dead_code)]

pub mod cgroups;

use std::fmt::Debug;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use minidock_client::Client;
use minidock_daemon::service::ListOptions;
use minidock_testkit::LeakCheck;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long the daemon may take to answer on its socket.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long it may take to exit after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running daemon.
pub struct Daemon {
    child: Option<Child>,
    /// The test's directory: `root/`, `run/` (with the socket),
    /// `minidockd.log`, `docker-config/`, `scratch/`. Removed by `Drop` with
    /// `rm --one-file-system`, not by `TempDir`, whose removal would descend
    /// into a mount left behind.
    pub dir: PathBuf,
    /// `run/minidock.sock`, where a real install has it.
    pub socket: PathBuf,
    /// The client library, pointed at this daemon.
    pub client: Client,
    leaks: Option<LeakCheck>,
}

impl Daemon {
    /// Starts `minidockd` in a new directory and waits until it answers.
    pub fn start() -> Daemon {
        Daemon::start_with_env(&[])
    }

    /// Starts `minidockd` in a new directory with `env` added to its
    /// environment (a fail point, say), and waits until it answers.
    pub fn start_with_env(env: &[(&str, &str)]) -> Daemon {
        minidock_testkit::require_root();
        let dir = tempfile::Builder::new()
            .prefix("minidockd-test-")
            .tempdir()
            .expect("create a temp dir for the daemon")
            .keep();
        let leaks = LeakCheck::start(&leak_prefix(&dir));
        let mut daemon = Daemon::start_in_with_env(&dir, env);
        daemon.leaks = Some(leaks);
        daemon
    }

    /// Starts `minidockd` in a new directory with `args` added to its
    /// command line (more `-H` hosts, TLS flags), and waits until it answers
    /// on its unix socket.
    pub fn start_with_args(args: &[&str]) -> Daemon {
        minidock_testkit::require_root();
        let dir = tempfile::Builder::new()
            .prefix("minidockd-test-")
            .tempdir()
            .expect("create a temp dir for the daemon")
            .keep();
        let leaks = LeakCheck::start(&leak_prefix(&dir));
        let mut daemon = Daemon::start_in_with(&dir, &[], args);
        daemon.leaks = Some(leaks);
        daemon
    }

    /// Starts `minidockd` in a new directory with everything the other
    /// constructors pass as flags (root, run directory, host, cgroup parent,
    /// subnets) written in `DIR/daemon.json` instead, plus `keys` (which
    /// win), and only `--config-file` and `args` on the command line.
    pub fn start_with_config_file(keys: serde_json::Value, args: &[&str]) -> Daemon {
        minidock_testkit::require_root();
        let dir = tempfile::Builder::new()
            .prefix("minidockd-test-")
            .tempdir()
            .expect("create a temp dir for the daemon")
            .keep();
        let leaks = LeakCheck::start(&leak_prefix(&dir));
        let mut daemon = Daemon::start_in_with_file(&dir, &[], args, Some(keys));
        daemon.leaks = Some(leaks);
        daemon
    }

    /// Starts `minidockd` on an existing directory (a restart).
    pub fn start_in(dir: &Path) -> Daemon {
        Daemon::start_in_with_env(dir, &[])
    }

    /// Starts `minidockd` on `dir` with `env` added to its environment, and
    /// waits until it answers; panics with its log if it dies first.
    pub fn start_in_with_env(dir: &Path, env: &[(&str, &str)]) -> Daemon {
        Daemon::start_in_with(dir, env, &[])
    }

    /// Starts `minidockd` on `dir` with `env` added to its environment and
    /// `args` to its command line, and waits until it answers.
    fn start_in_with(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Daemon {
        Daemon::start_in_with_file(dir, env, args, None)
    }

    /// [`Daemon::start_in_with`], with the standard settings in daemon.json
    /// plus `file`'s keys when `file` is given.
    fn start_in_with_file(
        dir: &Path,
        env: &[(&str, &str)],
        args: &[&str],
        file: Option<serde_json::Value>,
    ) -> Daemon {
        minidock_testkit::require_root();
        let socket = dir.join("run/minidock.sock");
        // Addresses of this daemon's own (kept for a restart on `dir`).
        let subnets_file = dir.join("subnets");
        let subnets = match std::fs::read_to_string(&subnets_file) {
            Ok(text) => text.lines().map(str::to_string).collect::<Vec<_>>(),
            Err(_) => {
                let s = minidock_testkit::test_subnets();
                let lines = vec![s.bridge, s.pool, s.spare.join(" ")];
                std::fs::write(&subnets_file, lines.join("\n")).expect("write the subnets file");
                lines
            }
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("minidockd.log"))
            .expect("open the daemon log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_minidockd"));
        match file {
            None => {
                command
                    .arg("--root")
                    .arg(dir.join("root"))
                    .arg("--run")
                    .arg(dir.join("run"))
                    .arg("--cgroup-parent")
                    .arg(cgroup_parent(dir))
                    .arg("--bridge-subnet")
                    .arg(&subnets[0])
                    .arg("--address-pool")
                    .arg(&subnets[1])
                    .arg("--ip-forward=false")
                    .arg("-H")
                    .arg(format!("unix://{}", socket.display()));
            }
            Some(keys) => {
                let (pool, size) = subnets[1].rsplit_once('/').expect("BASE/PREFIX/SIZE");
                let (bridge, prefix) = subnets[0].split_once('/').expect("BASE/PREFIX");
                let base: std::net::Ipv4Addr = bridge.parse().expect("the bridge's subnet");
                let mut config = serde_json::json!({
                    "data-root": dir.join("root"),
                    "exec-root": dir.join("run"),
                    "cgroup-parent": cgroup_parent(dir),
                    "bip": format!("{}/{prefix}", std::net::Ipv4Addr::from(u32::from(base) + 1)),
                    "default-address-pools": [{"base": pool, "size": size.parse::<u8>().unwrap()}],
                    "ip-forward": false,
                    "hosts": [format!("unix://{}", socket.display())],
                });
                for (key, value) in keys.as_object().expect("daemon.json keys") {
                    config[key] = value.clone();
                }
                let path = dir.join("daemon.json");
                std::fs::write(&path, config.to_string()).expect("write daemon.json");
                command.arg("--config-file").arg(path);
            }
        }
        let child = command
            // Names no container has are not asked of the host's DNS.
            .arg("--dns-forward=false")
            .args(args)
            .envs(env.iter().copied())
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
                daemon.child = None;
                daemon.abandon();
                panic!(
                    "minidockd exited ({status}) before answering:\n{}",
                    daemon.log()
                );
            }
            if Instant::now() >= deadline {
                if let Some(child) = daemon.child.take() {
                    Daemon::stop(child);
                }
                daemon.abandon();
                panic!(
                    "minidockd did not answer within {START_TIMEOUT:?}:\n{}",
                    daemon.log()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        daemon
    }

    /// A daemon that never answered: what its directory holds on the host
    /// that needs no daemon to go (its networks' links and tables, its
    /// cgroup parent when empty) goes now, before the test fails, so that
    /// a failed start does not also leave the host dirtier.
    fn abandon(&self) {
        minidock_testkit::remove_daemon_networks(&self.dir.join("root"));
        remove_cgroup_parent(&self.dir);
    }

    /// Waits (up to `timeout`) for the daemon to die by itself (at a fail
    /// point, say) and reaps it. Returns how it ended, the directory for
    /// [`Daemon::start_in`] and the leak check for
    /// [`Daemon::adopt_leak_check`]; this value no longer cleans up.
    pub fn crashed(
        mut self,
        timeout: Duration,
    ) -> (std::process::ExitStatus, PathBuf, Option<LeakCheck>) {
        let mut child = self.child.take().expect("the daemon runs");
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll the daemon") {
                break status;
            }
            if Instant::now() > deadline {
                // Put it back: drop then stops and cleans up as usual.
                self.child = Some(child);
                panic!("minidockd did not die within {timeout:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, self.dir.clone(), self.leaks.take())
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(|c| c.id())
            .expect("the daemon runs")
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

    /// What the daemon wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("minidockd.log")).unwrap_or_default()
    }

    /// Kills the daemon with SIGKILL and leaves everything else as it is
    /// (containers keep running under their shims). Returns the directory
    /// for [`Daemon::start_in`] and the leak check for
    /// [`Daemon::adopt_leak_check`]; this value no longer cleans up.
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

    /// The `minidock` client, pointed at this daemon.
    pub fn minidock(&self) -> assert_cmd::Command {
        let mut cmd =
            assert_cmd::Command::cargo_bin("minidock").expect("the minidock binary is built");
        cmd.env_remove("MINIDOCK_HOST").arg("-H").arg(self.host());
        // Credentials of `login` go to a config file of this test only.
        cmd.env("DOCKER_CONFIG", self.dir.join("docker-config"));
        cmd.timeout(Duration::from_secs(120));
        cmd
    }

    /// The `minidock` client as a `std::process::Command` (for pipes and ptys).
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
        let context = format!("daemon log:\n{}", self.log());
        success(format_args!("minidock {args:?}"), self.run(args), &context)
    }

    /// Runs `minidock ARGS` with `input` on stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        self.minidock()
            .args(args)
            .write_stdin(input.to_vec())
            .output()
            .expect("minidock runs")
    }

    /// Spare /24 subnets of this daemon's own block, for `network create
    /// --subnet` (no other daemon and no host route uses them).
    pub fn spare_subnets(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("subnets"))
            .expect("read the subnets file")
            .lines()
            .nth(2)
            .unwrap_or_default()
            .split(' ')
            .map(str::to_string)
            .collect()
    }

    /// A `docker` command talking to this daemon (with its own, empty
    /// client configuration).
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new("docker");
        cmd.env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION")
            .stdin(Stdio::null());
        cmd
    }

    /// Debian's `docker-compose` in the project directory `project`, talking
    /// to this daemon with this test's client config, as project `name`, with
    /// the classic builder (no buildx plugin here) and nothing in the
    /// environment that could point it elsewhere. Callers add the arguments.
    pub fn compose(&self, project: &Path, name: &str) -> Command {
        let mut cmd = Command::new("docker-compose");
        cmd.current_dir(project)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .env("COMPOSE_PROJECT_NAME", name)
            .env("COMPOSE_DOCKER_CLI_BUILD", "0")
            .env("DOCKER_BUILDKIT", "0")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION")
            .env_remove("COMPOSE_FILE")
            .stdin(Stdio::null());
        cmd
    }

    /// Writes the test kit's busybox image as `busybox:latest` in a
    /// `docker save` archive; returns its path.
    fn busybox_save_archive(&self) -> PathBuf {
        let tar = self.dir.join("busybox-save.tar");
        minidock_testkit::busybox_image().write_docker_save(&tar, "busybox:latest");
        tar
    }

    /// Loads the test kit's busybox image as `busybox:latest` with
    /// `minidock load -i`, the way a user loads a `docker save` archive.
    pub fn load_busybox(&self) {
        let tar = self.busybox_save_archive();
        let out = self.ok(&["load", "-i", tar.to_str().expect("UTF-8 path")]);
        assert!(out.contains("busybox:latest"), "load said: {out}");
    }

    /// Loads the test kit's busybox image as `busybox:latest` through the
    /// client library (`POST /images/load`, as `docker load` does).
    pub fn load_busybox_via_api(&self) {
        let tar = self.busybox_save_archive();
        let mut file = std::fs::File::open(&tar).expect("open the saved image");
        self.client
            .image_load(&mut file)
            .expect("load")
            .finish(|_| {})
            .expect("load the busybox image");
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

    /// Removes every container through the API. A failure is logged and
    /// tried once more after a pause: a container may be between states (a
    /// restart policy at work) when the first try comes.
    fn remove_all_containers(&self) {
        let all = ListOptions {
            all: true,
            ..ListOptions::default()
        };
        let list = match self.client.containers(&all) {
            Ok(list) => list,
            Err(e) => {
                eprintln!("cleanup: listing the containers: {e}");
                return;
            }
        };
        for c in list {
            for attempt in 1..=2 {
                match self.client.container_remove(&c.id, true) {
                    Ok(()) => break,
                    Err(e) if e.status() == Some(404) => break,
                    Err(e) => {
                        eprintln!("cleanup: removing container {} (try {attempt}): {e}", c.id);
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
            }
        }
    }

    /// SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]; reaps the daemon.
    fn stop(mut child: Child) {
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
}

/// What the leak check of the daemon on `dir` looks for: the directory's
/// name, unique to the test, which its mounts, its processes' command
/// lines, its cgroup parent (named after it) and its links' and tables'
/// tags all contain.
fn leak_prefix(dir: &Path) -> String {
    dir.file_name()
        .expect("the daemon's directory has a name")
        .to_string_lossy()
        .into_owned()
}

/// The cgroup parent of the daemon on `dir`: named after the directory, so
/// a restarted daemon finds its containers' groups and no test shares one
/// with another, or with a real minidockd's `minidock`.
fn cgroup_parent(dir: &Path) -> String {
    dir.file_name()
        .expect("the daemon's directory has a name")
        .to_string_lossy()
        .into_owned()
}

/// Removes the (empty) cgroup parent of the daemon on `dir` from every
/// hierarchy: `/sys/fs/cgroup/NAME` (v2) and `/sys/fs/cgroup/*/NAME` (v1).
fn remove_cgroup_parent(dir: &Path) {
    let name = cgroup_parent(dir);
    let root = Path::new("/sys/fs/cgroup");
    let mut candidates = vec![root.join(&name)];
    if let Ok(entries) = std::fs::read_dir(root) {
        candidates.extend(entries.flatten().map(|e| e.path().join(&name)));
    }
    for group in candidates.iter().filter(|g| g.is_dir()) {
        if let Err(e) = std::fs::remove_dir(group) {
            eprintln!("cleanup: could not remove cgroup {}: {e}", group.display());
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // After `kill9` the directory belongs to the next daemon.
        let Some(mut child) = self.child.take() else {
            return;
        };
        let mut network_leaks = Vec::new();
        if child.try_wait().ok().flatten().is_none() {
            self.remove_all_containers();
            if let Err(e) = self.client.networks_prune(&Default::default()) {
                eprintln!("cleanup: pruning the networks: {e}");
            }
            Daemon::stop(child);
            // With every container removed, no network holds an address.
            network_leaks.extend(
                minidock_testkit::network_allocations(&self.dir.join("root"))
                    .into_iter()
                    .map(|a| format!("address {a}")),
            );
        }
        network_leaks.extend(minidock_testkit::network_leaks(&self.dir.join("root")));
        minidock_testkit::remove_daemon_networks(&self.dir.join("root"));
        if !network_leaks.is_empty() && !std::thread::panicking() {
            panic!(
                "left behind by the test's networks:\n  {}",
                network_leaks.join("\n  ")
            );
        }
        remove_cgroup_parent(&self.dir);
        if let Some(leaks) = self.leaks.take() {
            if !std::thread::panicking() {
                leaks.finish();
            }
        }
        // --one-file-system: never descend into a mount left behind.
        let status = Command::new("rm")
            .args(["-rf", "--one-file-system"])
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

/// Whether the `docker` CLI test runs. With `MINIDOCK_SKIP_DOCKER_CLI=1`
/// the caller skips, and says so; without it, a missing CLI fails the test
/// with how to install it.
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

/// Whether a docker-compose test runs: as [`docker_cli_available`], for
/// Debian's `docker-compose` (a second real client, which drives the daemon
/// through its own Python library).
pub fn compose_available() -> bool {
    if std::env::var("MINIDOCK_SKIP_DOCKER_CLI").as_deref() == Ok("1") {
        eprintln!("MINIDOCK_SKIP_DOCKER_CLI=1: the docker-compose test is skipped on request");
        return false;
    }
    let found = Command::new("docker-compose")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "docker-compose is not installed: apt-get install docker-compose \
         (or opt out explicitly with MINIDOCK_SKIP_DOCKER_CLI=1)"
    );
    true
}

/// Runs a command (the `docker` CLI), which must succeed; returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    success(&cmd, out, "")
}

/// Stdout of `out`, which must be a success; the panic names `what` ran
/// and shows both streams and `context`.
fn success(what: impl Debug, out: Output, context: &str) -> String {
    assert!(
        out.status.success(),
        "{what:?} failed ({}):\nstdout: {}\nstderr: {}\n{context}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
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
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the wall clock enters a new second, for checks on timestamps
/// of one-second resolution (`events --until 0s`, the order of `ps`): what
/// happened before the call is then in an earlier second than what follows.
pub fn next_second() {
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_secs()
    };
    let start = second();
    while second() == start {
        std::thread::sleep(Duration::from_millis(10));
    }
}
