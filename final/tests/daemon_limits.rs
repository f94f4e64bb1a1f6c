//! Limits on real cgroups, through the daemon: `update` of a running
//! container, a paused container across a `kill -9` of the daemon, and the
//! OOM killer. They run on this (cgroup v1) host and, from
//! `tests/vm/plan.txt`, inside the cgroup v2 VM.
//!
//! The cgroup files are found as an independent reader would: the
//! container's process says in `/proc/PID/cgroup` which group it is in, and
//! `/proc/self/mountinfo` says where that hierarchy is mounted. Nothing of
//! the engine's cgroup code is used to look.

mod common;

use common::{eventually, Daemon};
use std::path::PathBuf;
use std::time::Duration;

/// Whether this kernel runs cgroup v2 only (the VM) or v1 (this host).
fn unified() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.contains(" /sys/fs/cgroup ") && l.contains(" - cgroup2 "))
}

/// The directory of `pid`'s group for `controller` (v1) or its one group (v2).
fn group_dir(pid: i64, controller: &str) -> PathBuf {
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    if unified() {
        let path = own
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .expect("a v2 line in /proc/PID/cgroup");
        return PathBuf::from("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    }
    let path = own
        .lines()
        .find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == controller)
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("no {controller} line in /proc/{pid}/cgroup:\n{own}"));
    let mount = mountinfo
        .lines()
        .find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mut right = right.split_whitespace();
            let (fs, _, options) = (right.next()?, right.next()?, right.next()?);
            (fs == "cgroup" && options.split(',').any(|o| o == controller))
                .then(|| left.split_whitespace().nth(4).unwrap().to_string())
        })
        .unwrap_or_else(|| panic!("{controller} is not mounted"));
    PathBuf::from(mount).join(path.trim_start_matches('/'))
}

/// Reads `file` of `pid`'s group for `controller`, trimmed.
fn read(pid: i64, controller: &str, file: &str) -> String {
    let path = group_dir(pid, controller).join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}

/// The memory limit, swap, soft limit, CPU quota, pids limit and cpuset of
/// `pid`'s group, in Docker's units, from whichever version's files.
#[derive(Debug, PartialEq)]
struct Limits {
    memory: u64,
    /// memory plus swap, as Docker counts it
    memory_swap: u64,
    reservation: u64,
    quota_period: (u64, u64),
    pids: String,
    cpus: String,
}

fn limits(pid: i64) -> Limits {
    if unified() {
        let memory: u64 = read(pid, "memory", "memory.max").parse().unwrap();
        let swap: u64 = read(pid, "memory", "memory.swap.max").parse().unwrap();
        let cpu_max = read(pid, "cpu", "cpu.max");
        let (q, p) = cpu_max.split_once(' ').unwrap();
        Limits {
            memory,
            memory_swap: memory + swap,
            reservation: read(pid, "memory", "memory.low").parse().unwrap(),
            quota_period: (q.parse().unwrap(), p.parse().unwrap()),
            pids: read(pid, "pids", "pids.max"),
            // v2 hands the cpuset controller down on first use only.
            cpus: std::fs::read_to_string(group_dir(pid, "cpuset").join("cpuset.cpus"))
                .map(|c| c.trim().to_string())
                .unwrap_or_else(|_| "(no cpuset)".into()),
        }
    } else {
        Limits {
            memory: read(pid, "memory", "memory.limit_in_bytes")
                .parse()
                .unwrap(),
            memory_swap: read(pid, "memory", "memory.memsw.limit_in_bytes")
                .parse()
                .unwrap(),
            reservation: read(pid, "memory", "memory.soft_limit_in_bytes")
                .parse()
                .unwrap(),
            quota_period: (
                read(pid, "cpu", "cpu.cfs_quota_us").parse().unwrap(),
                read(pid, "cpu", "cpu.cfs_period_us").parse().unwrap(),
            ),
            pids: read(pid, "pids", "pids.max"),
            cpus: read(pid, "cpuset", "cpuset.cpus"),
        }
    }
}

fn pid_of(daemon: &Daemon, name: &str) -> i64 {
    let pid = daemon.client.container_inspect(name).unwrap().state.pid;
    assert!(pid > 0, "{name} has no process");
    pid
}

const MIB: u64 = 1 << 20;

#[test]
fn update_changes_the_limits_of_a_running_container_and_they_stay() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "lim",
        "-m",
        "64m",
        "--memory-swap",
        "128m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "50",
        "busybox",
        "sleep",
        "1000",
    ]);
    let pid = pid_of(&daemon, "lim");
    let before = limits(pid);
    assert_eq!(
        (before.memory, before.memory_swap, before.quota_period.0),
        (64 * MIB, 128 * MIB, 50_000),
        "{before:?}"
    );
    assert_eq!(before.pids, "50");

    let out = daemon.ok(&[
        "update",
        "-m",
        "96m",
        "--memory-swap",
        "256m",
        "--memory-reservation",
        "32m",
        "--cpus",
        "1.5",
        "--pids-limit",
        "20",
        "--cpuset-cpus",
        "0",
        "lim",
    ]);
    assert_eq!(out.trim(), "lim");
    let want = Limits {
        memory: 96 * MIB,
        memory_swap: 256 * MIB,
        reservation: 32 * MIB,
        quota_period: (150_000, 100_000),
        pids: "20".into(),
        cpus: "0".into(),
    };
    assert_eq!(limits(pid), want, "the running container's cgroup");
    let host = daemon.client.container_inspect("lim").unwrap().host_config;
    assert_eq!(
        (
            host.memory,
            host.memory_swap,
            host.nano_cpus,
            host.pids_limit
        ),
        (96 << 20, 256 << 20, 1_500_000_000, Some(20))
    );
    assert_eq!(host.cpuset_cpus, "0");

    // A new start (a new cgroup) gets the updated limits.
    daemon.ok(&["restart", "-t", "0", "lim"]);
    let again = pid_of(&daemon, "lim");
    assert_ne!(again, pid);
    assert_eq!(limits(again), want, "after a restart");

    // The pids limit holds: with 20 allowed, a shell cannot start 40.
    let forked = daemon.run(&[
        "exec",
        "lim",
        "sh",
        "-c",
        "for i in $(seq 40); do sleep 5 & done; wait",
    ]);
    assert!(
        String::from_utf8_lossy(&forked.stderr).contains("can't fork"),
        "{forked:?}"
    );

    // Docker's rules: swap below memory is refused, naming why.
    let refused = daemon.run(&["update", "-m", "300m", "lim"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("memoryswap limit should be larger"),
        "{refused:?}"
    );
    assert_eq!(
        limits(again).memory,
        96 * MIB,
        "a refused update changes nothing"
    );
    daemon.ok(&["rm", "-f", "lim"]);
}

#[test]
fn a_paused_container_survives_a_daemon_kill9_and_unpauses_after() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do i=$((i+1)); echo $i; sleep 0.05; done",
    ]);
    let pid = pid_of(&daemon, "ticker");
    let lines = |d: &Daemon| d.ok(&["logs", "ticker"]).lines().count();
    eventually(Duration::from_secs(20), "the ticker ticks", || {
        lines(&daemon) > 2
    });
    daemon.ok(&["pause", "ticker"]);
    let frozen = |pid: i64| {
        if unified() {
            read(pid, "freezer", "cgroup.events").contains("frozen 1")
        } else {
            read(pid, "freezer", "freezer.state") == "FROZEN"
        }
    };
    assert!(frozen(pid), "pause froze the group");

    let (dir, leaks) = daemon.kill9();
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the paused container died with the daemon"
    );
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    let state = daemon.client.container_inspect("ticker").unwrap().state;
    assert!(state.paused && state.running, "{state:?}");
    assert_eq!((state.status.as_str(), state.pid), ("paused", pid));
    assert!(frozen(pid), "still frozen under the new daemon");
    let paused_at = lines(&daemon);
    let ps = daemon.ok(&["ps"]);
    assert!(ps.contains("(Paused)"), "{ps}");

    daemon.ok(&["unpause", "ticker"]);
    assert!(!frozen(pid));
    eventually(Duration::from_secs(20), "the ticker ticks again", || {
        lines(&daemon) > paused_at + 2
    });
    assert!(
        !daemon
            .client
            .container_inspect("ticker")
            .unwrap()
            .state
            .paused
    );
    daemon.ok(&["rm", "-f", "ticker"]);
}

#[test]
fn a_memory_limit_oom_kills_with_exit_137_and_oomkilled() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    // No swap to escape to (memory-swap = memory); `tail` keeps the
    // endless line of /dev/zero in memory until the kernel kills it.
    let out = daemon.run(&[
        "run",
        "--name",
        "hog",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "tail",
        "/dev/zero",
    ]);
    assert_eq!(out.status.code(), Some(137), "{out:?}");
    let state = daemon.client.container_inspect("hog").unwrap().state;
    assert!(state.oom_killed, "{state:?}");
    assert_eq!((state.exit_code, state.status.as_str()), (137, "exited"));
    // A container that stays under its limit is not reported as OOM-killed.
    let out = daemon.run(&["run", "--name", "calm", "-m", "16m", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        !daemon
            .client
            .container_inspect("calm")
            .unwrap()
            .state
            .oom_killed
    );
}
