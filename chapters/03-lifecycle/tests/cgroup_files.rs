//! What the kernel's own cgroup files say about a running container, read
//! independently of the engine: the group is found from the container's
//! `/proc/<pid>/cgroup`, the files are read by name. On a v1 host (this CI)
//! the v1 names are checked, in the cgroup v2 VM (`tests/vm/plan.txt`) the
//! v2 names; a v2 code path that wrote v1 file names fails here.

mod common;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use minidock_lifecycle::config::{HostConfig, UserConfig};
use minidock_lifecycle::state::State;
use minidock_lifecycle::ContainerId;
use minidock_lifecycle::ExecOptions;

/// Whether the host mounts cgroup v2 at /sys/fs/cgroup (a v2-only host).
fn unified() -> bool {
    fs::read_to_string("/proc/self/mounts")
        .unwrap()
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/sys/fs/cgroup") && l.contains(" cgroup2 "))
}

/// The directory of `pid`'s group for `controller` (ignored on v2, where
/// one directory holds every controller).
fn group_dir(pid: i32, controller: &str) -> PathBuf {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    for line in text.lines() {
        // "hierarchy-id:controllers:path"; v2's line is "0::path"
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        let path = path.trim_start_matches('/');
        if unified() && controllers.is_empty() {
            return PathBuf::from("/sys/fs/cgroup").join(path);
        }
        if controllers.split(',').any(|c| c == controller) {
            return PathBuf::from("/sys/fs/cgroup").join(controllers).join(path);
        }
    }
    panic!("no {controller} group for {pid} in: {text}");
}

fn read(dir: &std::path::Path, file: &str) -> String {
    let path = dir.join(file);
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}

fn pid_of(f: &common::Fixture, id: &ContainerId) -> i32 {
    match f.state(id) {
        State::Running { pid, .. } | State::Paused { pid, .. } => pid,
        other => panic!("not running: {other:?}"),
    }
}

#[test]
fn the_limits_are_in_the_kernel_files_of_the_containers_group_and_rm_removes_it() {
    let f = common::fixture();
    let host = HostConfig {
        memory: 48 << 20,
        nano_cpus: 500_000_000,
        cpu_shares: 512,
        pids_limit: Some(30),
        ..Default::default()
    };
    let id = f.create_with(&["sleep", "1000"], UserConfig::default(), host);
    f.runtime.start(&id).unwrap();
    let pid = pid_of(&f, &id);
    let mem = group_dir(pid, "memory");
    let cpu = group_dir(pid, "cpu");
    let pids = group_dir(pid, "pids");
    assert!(
        mem.to_string_lossy().contains(&f.tag),
        "the container is not in a group under its parent {}: {}",
        f.tag,
        mem.display()
    );
    if unified() {
        assert_eq!(mem, cpu);
        assert_eq!(read(&mem, "memory.max"), (48u64 << 20).to_string());
        assert_eq!(read(&cpu, "cpu.max"), "50000 100000");
        // runc's map of shares 2..262144 onto weights 1..10000: 512 → 20
        assert_eq!(read(&cpu, "cpu.weight"), "20");
        assert!(!mem.join("memory.limit_in_bytes").exists());
    } else {
        assert_eq!(
            read(&mem, "memory.limit_in_bytes"),
            (48u64 << 20).to_string()
        );
        assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&cpu, "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&cpu, "cpu.shares"), "512");
    }
    assert_eq!(read(&pids, "pids.max"), "30");
    let procs = read(&pids, "cgroup.procs");
    assert!(
        procs.lines().any(|p| p == pid.to_string()),
        "{pid} not in {procs}"
    );
    // the engine's stats read the same counters
    let stats = f.runtime.stats(&id).unwrap();
    assert_eq!(stats.memory_limit, Some(48 << 20));
    assert_eq!(stats.pids_limit, Some(30));
    let usage_file = if unified() {
        "memory.current"
    } else {
        "memory.usage_in_bytes"
    };
    let usage: u64 = read(&mem, usage_file).parse().unwrap();
    assert!(usage > 0 && stats.memory_usage > 0, "{usage} {stats:?}");

    f.runtime.remove(&id, true).unwrap();
    for dir in [&mem, &cpu, &pids] {
        assert!(!dir.exists(), "{} is left after rm", dir.display());
    }
}

#[test]
fn pause_sets_the_kernel_freezer_and_unpause_clears_it() {
    let f = common::fixture();
    let id = f.create(&["sleep", "1000"]);
    f.runtime.start(&id).unwrap();
    let pid = pid_of(&f, &id);
    let dir = group_dir(pid, "freezer");
    let frozen = || {
        if unified() {
            let events = read(&dir, "cgroup.events");
            let frozen = events.lines().any(|l| l == "frozen 1");
            assert_eq!(read(&dir, "cgroup.freeze") == "1", frozen, "{events}");
            frozen
        } else {
            read(&dir, "freezer.state") == "FROZEN"
        }
    };
    assert!(!frozen());
    f.runtime.pause(&id).unwrap();
    assert!(frozen(), "pause returned before the kernel froze the group");
    assert!(matches!(f.state(&id), State::Paused { .. }));
    // a frozen process sleeps in the freezer, whatever it did before
    f.runtime.unpause(&id).unwrap();
    assert!(
        !frozen(),
        "unpause returned before the kernel thawed the group"
    );
    assert!(matches!(f.state(&id), State::Running { .. }));
}

#[test]
fn an_exec_process_runs_in_the_containers_group() {
    let f = common::fixture();
    let id = f.create(&["sleep", "1000"]);
    f.runtime.start(&id).unwrap();
    let pid = pid_of(&f, &id);
    let marker = format!("{}", 100_000 + rand_suffix());
    let mut exec = f
        .runtime
        .exec(
            &id,
            ExecOptions {
                args: vec!["sleep".into(), marker.clone()],
                ..Default::default()
            },
        )
        .unwrap();
    let want = format!("sleep {marker}");
    let mut found = None;
    f.until(
        "the exec'd sleep on the host",
        Duration::from_secs(20),
        || {
            found = fs::read_dir("/proc")
                .unwrap()
                .filter_map(Result::ok)
                .find_map(|e| {
                    let cmd = fs::read(e.path().join("cmdline")).ok()?;
                    let cmd = String::from_utf8_lossy(&cmd)
                        .trim_end_matches('\0')
                        .replace('\0', " ");
                    (cmd == want).then(|| e.file_name().to_string_lossy().parse::<i32>().ok())?
                });
            found.is_some()
        },
    );
    let exec_pid = found.unwrap();
    for controller in ["memory", "pids", "cpu"] {
        assert_eq!(
            group_dir(exec_pid, controller),
            group_dir(pid, controller),
            "the exec'd process is outside the container's {controller} group"
        );
    }
    f.runtime
        .stop(&id, Some(Duration::from_millis(100)))
        .unwrap();
    exec.wait().unwrap();
}

fn rand_suffix() -> u32 {
    std::process::id() % 100_000
}
