//! The lifecycle on real containers, as root: every transition of the
//! state diagram, stop's escalation, pause, wait, --rm, restart policies,
//! and removal that leaves nothing behind.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use minidock_lifecycle::compat::process::NamespaceMode;
use minidock_lifecycle::config::{HostConfig, UserConfig};
use minidock_lifecycle::signal::StopOutcome;
use minidock_lifecycle::state::State;
use minidock_lifecycle::{Error, WaitCondition};
use nix::sys::signal::Signal;

fn err_text<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    r.expect_err("the operation must be refused").to_string()
}

#[test]
fn every_transition_of_the_diagram() {
    let f = common::fixture();
    let rt = &f.runtime;
    let id = f.create(&["sleep", "1000"]);
    let short = id.to_string();

    // Created
    assert_eq!(f.state(&id), State::Created);
    assert!(err_text(rt.pause(&id)).contains("container is not running"));
    assert!(err_text(rt.unpause(&id)).contains("container is not paused"));
    assert!(err_text(rt.kill(&id, Signal::SIGKILL)).contains("cannot kill container"));
    assert_eq!(
        rt.stop(&id, None).unwrap(),
        None,
        "stop of a created container is a no-op"
    );

    // Created → Running
    rt.start(&id).unwrap();
    let State::Running { pid, .. } = f.state(&id) else {
        panic!("{:?}", f.state(&id))
    };
    assert!(fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .unwrap()
        .starts_with("sleep"));
    assert_eq!(
        err_text(rt.start(&id)),
        format!("cannot start container {short}: container is running")
    );
    assert!(err_text(rt.unpause(&id)).contains("not paused"));
    assert_eq!(
        err_text(rt.remove(&id, false)),
        format!("cannot remove a running container {short}: stop it first or use force")
    );

    // Running → Paused
    rt.pause(&id).unwrap();
    assert!(matches!(f.state(&id), State::Paused { pid: p, .. } if p == pid));
    assert!(err_text(rt.pause(&id)).contains("already paused"));
    assert!(err_text(rt.start(&id)).contains("paused"));
    assert!(err_text(rt.remove(&id, false)).contains("cannot remove a paused container"));

    // Paused → Running
    rt.unpause(&id).unwrap();
    assert!(matches!(f.state(&id), State::Running { pid: p, .. } if p == pid));

    // Running → Exited: kill (sleep as PID 1 has no handler; SIGKILL works)
    rt.kill(&id, Signal::SIGKILL).unwrap();
    let status = rt.wait(&id, WaitCondition::NotRunning).unwrap();
    assert_eq!(status.code, 137);
    let State::Exited {
        code: 137,
        oom_killed: false,
        started_at,
        finished_at,
    } = f.state(&id)
    else {
        panic!("{:?}", f.state(&id))
    };
    assert!(finished_at > started_at);

    // Exited
    assert!(err_text(rt.pause(&id)).contains("not running"));
    assert!(err_text(rt.unpause(&id)).contains("not paused"));
    assert!(err_text(rt.kill(&id, Signal::SIGTERM)).contains("not running"));
    assert_eq!(rt.stop(&id, None).unwrap(), None);

    // Exited → Running (start again), Running → Running (restart)
    rt.start(&id).unwrap();
    let State::Running { pid: second, .. } = f.state(&id) else {
        panic!()
    };
    assert_ne!(second, pid);
    rt.restart(&id, Some(Duration::from_millis(200))).unwrap();
    let State::Running { pid: third, .. } = f.state(&id) else {
        panic!()
    };
    assert_ne!(third, second);

    // Paused → Exited (stop of a paused container), Exited → Removed
    rt.pause(&id).unwrap();
    assert_eq!(
        rt.stop(&id, Some(Duration::from_millis(200))).unwrap(),
        Some(StopOutcome::Killed)
    );
    assert!(matches!(f.state(&id), State::Exited { code: 137, .. }));
    rt.remove(&id, false).unwrap();

    // Removed: nothing is found any more
    for e in [
        err_text(rt.start(&id)),
        err_text(rt.inspect(&id)),
        err_text(rt.remove(&id, true)),
    ] {
        assert!(e.contains("no such container"), "{e}");
    }

    // Running/Paused → Removed with force
    let a = f.create(&["sleep", "1000"]);
    rt.start(&a).unwrap();
    rt.remove(&a, true).unwrap();
    let b = f.create(&["sleep", "1000"]);
    rt.start(&b).unwrap();
    rt.pause(&b).unwrap();
    rt.remove(&b, true).unwrap();
    assert!(rt.list().unwrap().is_empty());
}

#[test]
fn a_container_that_traps_sigterm_is_killed_after_the_timeout() {
    let f = common::fixture();
    // PID 1 ignores SIGTERM explicitly
    let id = f.create(&[
        "sh",
        "-c",
        "trap '' TERM; echo ready; while :; do sleep 0.1; done",
    ]);
    f.runtime.start(&id).unwrap();
    let timeout = Duration::from_millis(800 + rand::random::<u64>() % 400);
    let start = Instant::now();
    let outcome = f.runtime.stop(&id, Some(timeout)).unwrap();
    let took = start.elapsed();
    assert_eq!(outcome, Some(StopOutcome::Killed));
    assert!(
        took >= timeout,
        "killed after {took:?}, before the timeout {timeout:?}"
    );
    assert!(
        matches!(f.state(&id), State::Exited { code: 137, .. }),
        "{:?}",
        f.state(&id)
    );
}

#[test]
fn a_container_that_exits_on_sigterm_is_not_killed() {
    let f = common::fixture();
    let code = 1 + rand::random::<u8>() % 100;
    let script =
        format!("trap 'exit {code}' TERM; touch /tmp/trapped; while :; do sleep 0.1; done");
    let id = f.create(&["sh", "-c", &script]);
    f.runtime.start(&id).unwrap();
    // The exact condition: the trap is set (a SIGTERM before it would kill
    // the shell, and the stop would not be graceful).
    let trapped = f.rootfs(&id).join("tmp/trapped");
    f.until("the trap to be set", Duration::from_secs(20), || {
        trapped.exists()
    });
    let start = Instant::now();
    let outcome = f.runtime.stop(&id, Some(Duration::from_secs(20))).unwrap();
    assert_eq!(outcome, Some(StopOutcome::Graceful));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        matches!(f.state(&id), State::Exited { code: c, .. } if c == i32::from(code)),
        "{:?}",
        f.state(&id)
    );
}

#[test]
fn the_image_stop_signal_is_used() {
    let f = common::fixture();
    let config = UserConfig {
        stop_signal: Some("SIGUSR1".into()),
        ..Default::default()
    };
    let id = f.create_with(
        &[
            "sh",
            "-c",
            "trap 'exit 42' USR1; touch /tmp/trapped; while :; do sleep 0.1; done",
        ],
        config,
        HostConfig::default(),
    );
    f.runtime.start(&id).unwrap();
    let trapped = f.rootfs(&id).join("tmp/trapped");
    f.until("the trap to be set", Duration::from_secs(20), || {
        trapped.exists()
    });
    assert_eq!(
        f.runtime.stop(&id, Some(Duration::from_secs(20))).unwrap(),
        Some(StopOutcome::Graceful)
    );
    assert!(matches!(f.state(&id), State::Exited { code: 42, .. }));
}

#[test]
fn pause_really_freezes_and_unpause_resumes() {
    let f = common::fixture();
    let id = f.create(&[
        "sh",
        "-c",
        "i=0; while :; do i=$((i+1)); echo $i >> /tmp/counter; done",
    ]);
    f.runtime.start(&id).unwrap();
    let counter = f.rootfs(&id).join("tmp/counter");
    let size = || fs::metadata(&counter).map(|m| m.len()).unwrap_or(0);
    f.until("the counter to run", common::PATIENCE, || size() > 0);

    f.runtime.pause(&id).unwrap();
    let frozen = size();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(size(), frozen, "the counter moved while paused");
    assert!(matches!(f.state(&id), State::Paused { .. }));

    f.runtime.unpause(&id).unwrap();
    f.until("the counter to move again", common::PATIENCE, || {
        size() > frozen
    });
}

#[test]
fn wait_conditions() {
    let f = common::fixture();
    let rt = &f.runtime;
    // not-running returns at once for a created container
    let id = f.create(&["sh", "-c", "sleep 0.3; exit 9"]);
    assert_eq!(rt.wait(&id, WaitCondition::NotRunning).unwrap().code, 0);
    rt.start(&id).unwrap();
    assert_eq!(rt.wait(&id, WaitCondition::NotRunning).unwrap().code, 9);
    // next-exit on an exited container waits for the next run
    let waiter = {
        let rt = rt.clone();
        let id = id.clone();
        std::thread::spawn(move || rt.wait(&id, WaitCondition::NextExit).unwrap())
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(!waiter.is_finished(), "next-exit returned for the old exit");
    rt.start(&id).unwrap();
    assert_eq!(waiter.join().unwrap().code, 9);
    // removed waits for rm
    let waiter = {
        let rt = rt.clone();
        let id = id.clone();
        std::thread::spawn(move || rt.wait(&id, WaitCondition::Removed).unwrap())
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(!waiter.is_finished());
    rt.remove(&id, false).unwrap();
    assert_eq!(waiter.join().unwrap().code, 9);
}

#[test]
fn auto_remove_removes_the_container_when_it_exits() {
    let f = common::fixture();
    let host = HostConfig {
        auto_remove: true,
        ..Default::default()
    };
    let id = f.create_with(&["sh", "-c", "exit 4"], UserConfig::default(), host);
    let dir = f.runtime.container_dir(&id);
    f.runtime.start(&id).unwrap();
    assert_eq!(f.runtime.wait(&id, WaitCondition::Removed).unwrap().code, 4);
    f.until("the directory to go", common::PATIENCE, || !dir.exists());
}

#[test]
fn with_the_hosts_pid_namespace_the_exit_of_pid_1_ends_the_container() {
    // The kernel kills the rest of a PID namespace when its PID 1 ends;
    // in the host's, nothing does. Docker's shim kills what is left of
    // the container then: a background process that keeps the output open
    // must not keep the container running.
    let f = common::fixture();
    let mut host = HostConfig::default();
    host.process.pid_mode = NamespaceMode::Host;
    let id = f.create_with(
        &["sh", "-c", "sleep 300 & echo $!"],
        UserConfig::default(),
        host,
    );
    f.runtime.start(&id).unwrap();
    f.until("the container to exit", Duration::from_secs(30), || {
        matches!(f.state(&id), State::Exited { .. })
    });
    assert!(
        matches!(f.state(&id), State::Exited { code: 0, .. }),
        "{:?}",
        f.state(&id)
    );
    // The log is complete once the exit is recorded: it holds the
    // background sleep's pid (the host's numbering), which must be gone
    // (or a zombie on its way out).
    let text = f.logs(&id);
    let pid: i32 = text
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("a pid: {text:?}"));
    f.until(
        "the background sleep to die",
        Duration::from_secs(10),
        || {
            match fs::read_to_string(format!("/proc/{pid}/stat")) {
                // "PID (sleep) Z …": the state follows the command's name. A
                // number already taken again by another command counts as gone.
                Ok(stat) => match stat.split_once(" (sleep) ") {
                    Some((_, rest)) => rest.starts_with('Z'),
                    None => true,
                },
                Err(_) => true,
            }
        },
    );
}

#[test]
fn restart_policy_on_failure_restarts_up_to_the_limit() {
    let f = common::fixture();
    let host = HostConfig {
        restart_policy: "on-failure:2".parse().unwrap(),
        ..Default::default()
    };
    let id = f.create_with(
        &["sh", "-c", "echo run >> /tmp/runs; exit 3"],
        UserConfig::default(),
        host,
    );
    f.runtime.start(&id).unwrap();
    let runs = f.rootfs(&id).join("tmp/runs");
    f.until("three runs", common::PATIENCE, || {
        fs::read_to_string(&runs)
            .map(|t| t.lines().count())
            .unwrap_or(0)
            == 3
            && f.runtime.inspect(&id).unwrap().1.shim_pid.is_none()
            && matches!(f.state(&id), State::Exited { .. })
    });
    std::thread::sleep(Duration::from_millis(500));
    let (_, record) = f.runtime.inspect(&id).unwrap();
    assert_eq!(record.restart_count, 2);
    assert!(matches!(record.state, State::Exited { code: 3, .. }));
    assert_eq!(
        fs::read_to_string(&runs).unwrap().lines().count(),
        3,
        "no fourth run"
    );
}

#[test]
fn a_command_that_cannot_run_fails_start_with_its_reason_as_docker_does() {
    let f = common::fixture();
    let rt = &f.runtime;
    let missing = minidock_testkit::random_name("nosuch-");
    let cases = [
        (missing.as_str(), "executable file not found", 127, false),
        ("/etc/passwd", "permission denied", 126, true),
    ];
    for (command, reason, code, attached) in cases {
        let id = f.create(&[command]);
        let cgroup_dirs = rt.cgroup(&id).unwrap().dirs();
        for attempt in 1..=2 {
            let err = if attached {
                rt.start_attached(&id).map(drop)
            } else {
                rt.start(&id)
            }
            .expect_err("the start must fail");
            let text = err.to_string();
            // chapter 01's words, which Docker's CLI maps to 127 and 126
            assert!(text.contains(reason) && text.contains(command), "{text}");
            assert!(
                text.starts_with(&format!("cannot start container {}: ", id.short())),
                "{text}"
            );
            assert!(
                matches!(err, Error::Start { exit_code, .. } if exit_code == code),
                "attempt {attempt}: {err:?}"
            );
            // Docker's state after a failed start: still created, with the
            // error and the exit code.
            let (_, record) = rt.inspect(&id).unwrap();
            assert_eq!(record.state, State::Created);
            assert_eq!(record.exit_code(), code);
            assert!(record.error.contains(reason), "{}", record.error);
            assert!(cgroup_dirs.iter().all(|d| !d.exists()), "{cgroup_dirs:?}");
            let run = minidock_lifecycle::shim::run_path(&rt.config().run_dir, &id);
            assert!(!run.exists(), "{} is left", run.display());
        }
        rt.remove(&id, false).unwrap();
        assert!(!rt.container_dir(&id).exists());
    }
    // Once the command exists, a start works and clears the failure.
    let id = f.create(&["/tmp/later.sh"]);
    assert!(err_text(rt.start(&id)).contains("executable file not found"));
    let script = f.rootfs(&id).join("tmp/later.sh");
    fs::write(&script, "#!/bin/sh\nexit 3\n").unwrap();
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    rt.start(&id).unwrap();
    assert_eq!(rt.wait(&id, WaitCondition::NotRunning).unwrap().code, 3);
    let (_, record) = rt.inspect(&id).unwrap();
    assert_eq!((record.exit_code(), record.error.as_str()), (3, ""));
    assert_eq!(record.start_exit_code, None);
}

/// The shims of container `id` that are alive, found in `/proc` by their
/// arguments (the shim's role and the container's id).
/// The shims of container `id`: processes with the shim's command line that
/// lead their own session (a shim calls `setsid`). The session test leaves
/// out a child the shim has forked and that has not yet exec'd (the init
/// helper, a moment before it is one): it still shows the shim's command
/// line, and outlives a shim killed in that moment by as long as it takes
/// to reach its `execve`.
fn shims_of(id: &minidock_lifecycle::ContainerId) -> Vec<String> {
    let leads_its_session = |line: &String| {
        let pid = line.split(':').next().unwrap_or_default();
        fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
            // state, ppid, pgrp, session
            after_name.split_whitespace().nth(3) == Some(pid)
        })
    };
    processes_of(minidock_lifecycle::shim::SHIM_ARG, id)
        .into_iter()
        .filter(leads_its_session)
        .collect()
}

/// The init helpers of container `id` (their command line names it), as
/// "pid: command line"; a zombie's command line is empty.
fn helpers_of(id: &minidock_lifecycle::ContainerId) -> Vec<String> {
    processes_of(minidock_namespaces::REEXEC_ARG, id)
}

fn processes_of(role: &str, id: &minidock_lifecycle::ContainerId) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        let Ok(raw) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(role) && cmdline.contains(id.short()) {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

#[test]
fn a_start_split_in_two_reads_the_configuration_at_attach_and_can_be_abandoned() {
    let f = common::fixture();
    let rt = &f.runtime;
    let id = f.create(&["sh", "-c", "echo late=$LATE"]);

    // Abandoned: the shim is gone before abandon returns, with its socket's
    // directory; nothing ran and the container is still created.
    let shim = rt.spawn_attached(&id).unwrap();
    shim.abandon();
    assert_eq!(
        shims_of(&id),
        Vec::<String>::new(),
        "the abandoned shim lives"
    );
    // The init helper it had started meanwhile reads the end of its spec
    // pipe and exits.
    f.until(
        "the abandoned shim's helper exits",
        common::PATIENCE,
        || helpers_of(&id).is_empty(),
    );
    let run = minidock_lifecycle::shim::run_path(&rt.config().run_dir, &id);
    assert!(!run.exists(), "{} is left", run.display());
    assert_eq!(f.state(&id), State::Created);

    // Dropped, as when the engine dies between the halves: with nobody
    // left to read its reports, the shim goes away by itself.
    drop(rt.spawn_attached(&id).unwrap());
    f.until(
        "the shim whose engine is gone exits",
        common::PATIENCE,
        || shims_of(&id).is_empty() && helpers_of(&id).is_empty() && !run.exists(),
    );
    assert_eq!(f.state(&id), State::Created);

    // Between the spawn and the attach the engine may still change the
    // container's configuration (the daemon wires its network then): the
    // shim reads it at the attach, so the process sees the change.
    let shim = rt.spawn_attached(&id).unwrap();
    // The shim listens, and starts the init helper, before it reads the
    // configuration: a change made once both wait must still reach the
    // process.
    let socket = minidock_lifecycle::shim::attach_socket(&rt.config().run_dir, &id);
    f.until(
        "the shim listens and its helper waits",
        common::PATIENCE,
        || socket.exists() && helpers_of(&id).len() == 1 && shims_of(&id).len() == 1,
    );
    rt.containers()
        .update_unsynced(&id, |c| c.host_config.start_env = vec!["LATE=yes".into()])
        .unwrap();
    let stream = shim.attach().unwrap();
    drop(stream);
    assert_eq!(rt.wait(&id, WaitCondition::NotRunning).unwrap().code, 0);
    assert_eq!(f.logs(&id), "late=yes\n");
    rt.remove(&id, false).unwrap();
}

#[test]
fn rm_leaves_no_mount_cgroup_or_process() {
    let f = common::fixture();
    let rt = &f.runtime;
    let id = f.create(&["sh", "-c", "sleep 1000 & sleep 1000"]);
    rt.start(&id).unwrap();
    // start returns once PID 1 runs; its background sleep comes a moment later
    f.until("both sleeps", Duration::from_secs(20), || {
        rt.top(&id).is_ok_and(|t| t.len() >= 2)
    });
    let pids = rt.top(&id).unwrap();
    let cgroup_dirs = rt.cgroup(&id).unwrap().dirs();
    assert!(cgroup_dirs.iter().all(|d| d.exists()));
    let merged = f.rootfs(&id);
    let mounts = || fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(mounts().contains(merged.to_str().unwrap()));
    rt.remove(&id, true).unwrap();
    for p in &pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{}", p.pid)).exists()
                || fs::read_to_string(format!("/proc/{}/stat", p.pid))
                    .map(|s| s.contains(") Z"))
                    .unwrap_or(true),
            "process {p:?} survived"
        );
    }
    assert!(cgroup_dirs.iter().all(|d| !d.exists()), "{cgroup_dirs:?}");
    assert!(!mounts().contains(merged.to_str().unwrap()));
    assert!(!rt.container_dir(&id).exists());
    // the fixture's LeakCheck checks the rest when it is dropped
}

/// Creates at the same moment, none named: each container still gets a name
/// of its own, even when two of them pick the same generated name between
/// looking at the names in use and committing theirs.
#[test]
fn concurrent_creates_get_distinct_generated_names() {
    let f = common::fixture();
    let count = 24;
    let ids: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .map(|_| s.spawn(|| f.create(&["true"])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let names: std::collections::HashSet<String> = ids
        .iter()
        .map(|id| f.runtime.inspect(id).unwrap().0.name)
        .collect();
    assert_eq!(names.len(), count, "names: {names:?}");
    assert_eq!(f.runtime.list().unwrap().len(), count);
}
