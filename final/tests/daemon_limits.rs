//! Limits on real cgroups, through the daemon: `update` of a running
//! container, a paused container across a `kill -9` of the daemon, and the
//! OOM killer and `--oom-kill-disable`. They run on this (cgroup v1) host
//! and, from `tests/vm/plan.txt`, inside the cgroup v2 VM.
//!
//! The cgroup files are found as an independent reader would (see
//! `common::cgroups`).

mod common;

use common::cgroups::{group_dir, read, unified};
use common::{eventually, Daemon};
use std::time::{Duration, Instant};

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

/// `minidock run --oom-kill-disable`. On cgroup v1 a container over its
/// limit waits for memory (`under_oom 1`) instead of losing a process, and
/// `rm -f` still ends it at once; on cgroup v2 (the VM), which has no such
/// switch, the setting is dropped with dockerd's warning and the OOM killer
/// acts as without it.
#[test]
fn oom_kill_disable_waits_for_memory_on_v1_and_is_dropped_with_a_warning_on_v2() {
    const DISCARDED: &str =
        "WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.";
    const NO_LIMIT: &str = "WARNING: OOM killer is disabled for the container, but no memory \
                            limit is set, this can result in the system running out of resources.";
    let daemon = Daemon::start();
    daemon.load_busybox();
    let stderr = |args: &[&str]| {
        let out = daemon.run(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let warned = stderr(&[
        "create",
        "--name",
        "nolimit",
        "--oom-kill-disable",
        "busybox",
        "true",
    ]);
    let expected = if unified() { DISCARDED } else { NO_LIMIT };
    assert_eq!(warned.trim(), expected);
    // The shell doubles a string past 32 MiB, touching the memory itself:
    // a fault from user space waits for memory when the killer is off
    // (see docker_fidelity.rs for why `head … | tail` does not).
    let warned = stderr(&[
        "run",
        "-d",
        "--name",
        "waits",
        "--memory",
        "32m",
        "--oom-kill-disable",
        "busybox",
        "sh",
        "-c",
        "s=x; while true; do s=$s$s; done",
    ]);
    let inspect = || daemon.client.container_inspect("waits").unwrap();
    if unified() {
        assert_eq!(warned.trim(), DISCARDED);
        assert_eq!(inspect().host_config.oom_kill_disable, Some(false));
        assert_eq!(daemon.ok(&["wait", "waits"]).trim(), "137");
        assert!(inspect().state.oom_killed, "{:?}", inspect().state);
        return;
    }
    assert_eq!(warned, "", "a memory limit is set: nothing to warn about");
    assert_eq!(inspect().host_config.oom_kill_disable, Some(true));
    let pid = pid_of(&daemon, "waits");
    let dir = group_dir(pid, "memory");
    eventually(Duration::from_secs(30), "the group out of memory", || {
        read(pid, "memory", "memory.oom_control").contains("under_oom 1")
    });
    let control = read(pid, "memory", "memory.oom_control");
    assert!(
        control.contains("oom_kill_disable 1") && control.contains("oom_kill 0"),
        "{control}"
    );
    let state = inspect().state;
    assert!(state.running && !state.oom_killed, "{state:?}");
    let started = Instant::now();
    daemon.ok(&["rm", "-f", "waits"]);
    // A bound a busy machine cannot break (it normally takes ~0.3 s).
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "rm -f of a container waiting for memory took {:?}",
        started.elapsed()
    );
    assert!(!dir.exists(), "{} is left", dir.display());
}
