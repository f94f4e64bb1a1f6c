//! cgroup limits on real containers, as root: out of memory, a fork bomb,
//! stats and top.

mod common;

use std::process::Command;
use std::time::Duration;

use minidock_lifecycle::cgroup::CgroupVersion;
use minidock_lifecycle::config::{HostConfig, UserConfig};
use minidock_lifecycle::state::State;
use minidock_lifecycle::WaitCondition;

#[test]
fn a_memory_hog_is_oom_killed_with_137() {
    let f = common::fixture();
    let host = HostConfig {
        memory: 16 << 20,
        ..Default::default()
    };
    let id = f.create_with(
        &["sh", "-c", "x=a; while true; do x=$x$x; done"],
        UserConfig::default(),
        host,
    );
    f.runtime.start(&id).unwrap();
    let status = f.runtime.wait(&id, WaitCondition::NotRunning).unwrap();
    assert_eq!((status.code, status.oom_killed), (137, true));
    assert!(matches!(
        f.state(&id),
        State::Exited {
            code: 137,
            oom_killed: true,
            ..
        }
    ));
}

#[test]
fn an_exit_without_oom_is_not_reported_as_oom() {
    let f = common::fixture();
    let host = HostConfig {
        memory: 16 << 20,
        ..Default::default()
    };
    // PID 1 cannot SIGKILL itself (its namespace protects it); the host can
    let id = f.create_with(&["sleep", "1000"], UserConfig::default(), host);
    f.runtime.start(&id).unwrap();
    f.runtime
        .kill(&id, nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    let status = f.runtime.wait(&id, WaitCondition::NotRunning).unwrap();
    assert_eq!((status.code, status.oom_killed), (137, false));
}

#[test]
fn a_fork_bomb_stops_at_the_pids_limit_and_the_host_is_fine() {
    let f = common::fixture();
    let limit = 20;
    let host = HostConfig {
        pids_limit: Some(limit),
        ..Default::default()
    };
    // The bomb runs in a subshell, which dies when fork fails. PID 1 lives
    // on in `read`, a builtin that needs no fork (stdin is kept open).
    let script =
        "( while :; do sleep 1000 </dev/null >/dev/null 2>&1 & done ); echo bomb over; read x";
    let config = UserConfig {
        open_stdin: true,
        ..Default::default()
    };
    let id = f.create_with(&["sh", "-c", script], config, host);
    f.runtime.start(&id).unwrap();
    let logs = || f.logs(&id);
    f.until("the bomb to hit the limit", Duration::from_secs(20), || {
        logs().contains("bomb over")
    });
    // The subshell's "can't fork" (stderr) and PID 1's "bomb over" (stdout)
    // come through two pipes, each pumped into the log by its own thread:
    // on a busy machine "bomb over" can be logged first. Wait for the other.
    f.until("\"can't fork\" in the log", Duration::from_secs(10), || {
        logs().contains("can't fork")
    });
    let stats = f.runtime.stats(&id).unwrap();
    assert_eq!(stats.pids_limit, Some(limit));
    assert!(
        stats.pids_current <= limit && stats.pids_current >= limit - 2,
        "{stats:?}"
    );
    // Children forked just before the limit was hit may still be copies of
    // the shell on their way to exec `sleep` (on a loaded machine, for a
    // while): wait for them to get there, and for top and the pids counter
    // to agree on a settled tree.
    // A deadline, not a count of tries: each try (top and stats) is slower
    // the busier the machine.
    let deadline = std::time::Instant::now() + common::PATIENCE;
    loop {
        let top = f.runtime.top(&id).unwrap();
        let pids = f.runtime.stats(&id).unwrap().pids_current;
        let sleeps = top.iter().filter(|p| p.cmd == "sleep 1000").count() as u64;
        if top.len() as u64 == pids && sleeps >= limit - 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "top never showed the bomb's sleeps within {:?}: {top:?}",
            common::PATIENCE
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // the host can still fork
    assert!(Command::new("/bin/true").status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        matches!(f.state(&id), State::Running { .. }),
        "{:?}",
        f.state(&id)
    );
}

#[test]
fn stats_and_top_report_the_container() {
    let f = common::fixture();
    let host = HostConfig {
        memory: 64 << 20,
        nano_cpus: 500_000_000,
        cpu_shares: 512,
        ..Default::default()
    };
    let id = f.create_with(
        &[
            "sh",
            "-c",
            "sleep 1000 & i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; wait",
        ],
        UserConfig::default(),
        host,
    );
    f.runtime.start(&id).unwrap();
    // The exact condition asserted below: two processes, and the second
    // has exec'd `sleep` (until then it is a fork of the shell, with the
    // shell's command line).
    f.until("sh and sleep 1000", Duration::from_secs(20), || {
        f.runtime
            .top(&id)
            .map(|t| t.len() == 2 && t[1].cmd == "sleep 1000")
            .unwrap_or(false)
    });
    let top = f.runtime.top(&id).unwrap();
    let State::Running { pid, .. } = f.state(&id) else {
        panic!()
    };
    assert_eq!(top[0].pid, pid, "{top:?}");
    assert!(top[0].cmd.starts_with("sh -c sleep 1000"), "{top:?}");
    assert_eq!(top[1].cmd, "sleep 1000");
    f.until(
        "CPU time and memory accounted",
        Duration::from_secs(20),
        || {
            f.runtime
                .stats(&id)
                .is_ok_and(|s| s.memory_usage > 0 && s.cpu_usage_ns > 0)
        },
    );
    let stats = f.runtime.stats(&id).unwrap();
    assert_eq!(stats.memory_limit, Some(64 << 20));
    assert!(
        stats.memory_usage > 0 && stats.cpu_usage_ns > 0,
        "{stats:?}"
    );
    assert_eq!(
        stats.pids_current, 2,
        "only the container's processes: {stats:?}"
    );
    // the limits are written where the kernel reads them: v1 here, v2 in
    // the VM of tests/vm/plan.txt (shares 512 is weight 20 there)
    let cg = f.runtime.cgroup(&id).unwrap();
    let (file, quota, weight_file, weight) = match cg.version() {
        CgroupVersion::V1 => ("cpu.cfs_quota_us", "50000", "cpu.shares", "512"),
        CgroupVersion::V2 => ("cpu.max", "50000 100000", "cpu.weight", "20"),
    };
    let cpu_dir = cg
        .dirs()
        .into_iter()
        .find(|d| d.join(file).exists())
        .expect("cpu hierarchy");
    let read = |f: &str| std::fs::read_to_string(cpu_dir.join(f)).unwrap();
    assert_eq!(read(file).trim(), quota);
    assert_eq!(read(weight_file).trim(), weight);
    f.runtime
        .stop(&id, Some(Duration::from_millis(100)))
        .unwrap();
    assert!(
        f.runtime.stats(&id).is_err(),
        "stats of a stopped container"
    );
}

#[test]
fn the_cgroup_file_system_cannot_be_changed_from_inside() {
    let f = common::fixture();
    let host = HostConfig {
        memory: 32 << 20,
        ..Default::default()
    };
    // /sys is read-only in the container: no new group, no limit raised
    let script = "mkdir /sys/fs/cgroup/escape 2>/dev/null && echo made-dir; \
                  for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max; do \
                    [ -e $f ] && { echo 999999999999 > $f 2>/dev/null && echo wrote-$f; }; done; \
                  mount -t cgroup -o memory none /mnt 2>/dev/null && echo mounted; echo done";
    let id = f.create_with(&["sh", "-c", script], UserConfig::default(), host);
    f.runtime.start(&id).unwrap();
    assert_eq!(
        f.runtime.wait(&id, WaitCondition::NotRunning).unwrap().code,
        0
    );
    let out = f.logs(&id);
    assert_eq!(out, "done\n", "the container changed cgroups: {out}");
    let cg = f.runtime.cgroup(&id);
    assert!(cg
        .unwrap()
        .dirs()
        .iter()
        .all(|d| !d.join("escape").exists()));
}
