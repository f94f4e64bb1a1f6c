//! The command as a process: its output, input, exit code, signals,
//! environment and identity.

mod common;

use std::io::{BufRead, BufReader, Write};

use common::{random_text, run, run_ok, Fixture};
use minidock_namespaces::Stdio;
use minidock_testkit::LeakCheck;
use nix::sys::signal::Signal;
use rand::Rng;

#[test]
fn stdout_and_stderr_are_passed_through_exactly() {
    let fx = Fixture::new();
    let (a, b) = (random_text(24), random_text(31));
    let out = run(fx
        .sh(r#"printf %s "$A"; printf %s "$B" >&2"#)
        .env("A", &a)
        .env("B", &b));
    assert_eq!(out.code, 0);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), a);
    assert_eq!(String::from_utf8(out.stderr).unwrap(), b);
}

#[test]
fn stdin_is_passed_through_unchanged() {
    let fx = Fixture::new();
    let mut data = vec![0u8; 100_000];
    rand::thread_rng().fill(&mut data[..]);
    let mut container = fx
        .spec(["cat"])
        .stdin(Stdio::Piped)
        .stdout(Stdio::Piped)
        .spawn(&common::init())
        .expect("spawn");
    let mut stdin = container.take_stdin().expect("piped stdin");
    let writer = {
        let data = data.clone();
        std::thread::spawn(move || stdin.write_all(&data).expect("write stdin"))
    };
    let out = container.wait_with_output().expect("wait");
    writer.join().unwrap();
    assert_eq!(out.code, 0);
    assert!(out.stdout == data, "cat gave back other bytes than it got");
}

#[test]
fn exit_codes_0_to_255_propagate() {
    let fx = Fixture::new();
    let mut codes = vec![0, 255, 1];
    codes.extend((0..5).map(|_| rand::thread_rng().gen_range(2..255)));
    for code in codes {
        let out = run(fx.sh(&format!("exit {code}")));
        assert_eq!(out.code, code, "sh -c 'exit {code}'");
    }
}

#[test]
fn killed_by_signal_n_exits_128_plus_n() {
    let fx = Fixture::new();
    let leaks = LeakCheck::start(&fx.prefix());
    let mut container = fx
        .spec(["sleep", "1000"])
        .stdout(Stdio::Null)
        .spawn(&common::init())
        .expect("spawn");
    let pid1 = container.container_pid();
    assert!(std::path::Path::new(&format!("/proc/{pid1}")).exists());
    container.kill(Signal::SIGKILL).unwrap();
    assert_eq!(container.wait().unwrap(), 128 + 9);
    drop(container);
    leaks.finish();
    assert!(gone(pid1), "PID 1 ({pid1}) survived SIGKILL");
}

/// True once `pid` no longer runs `sleep` (exited or a zombie), waiting
/// up to 2 s.
fn gone(pid: i32) -> bool {
    (0..100).any(|_| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let alive = stat.contains("(sleep)") && !stat.contains(") Z");
        if alive {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        !alive
    })
}

#[test]
fn pid1_dies_with_its_helper() {
    let fx = Fixture::new();
    let mut container = fx
        .spec(["sleep", "1000"])
        .stdout(Stdio::Null)
        .spawn(&common::init())
        .expect("spawn");
    let pid1 = container.container_pid();
    // Kill the helper itself, not the container: PR_SET_PDEATHSIG must
    // take PID 1, and with it the PID namespace, along.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(container.pid() as i32),
        Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(container.wait().unwrap(), 137);
    let died = gone(pid1);
    if !died {
        // Clean up before failing: the orphan is ours.
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid1), Signal::SIGKILL).unwrap();
    }
    assert!(died, "PID 1 ({pid1}) outlived its helper");
}

#[test]
fn sigterm_is_forwarded_to_pid1() {
    let fx = Fixture::new();
    let code = rand::thread_rng().gen_range(1..100);
    let mut container = fx
        .sh(&format!(
            "trap 'exit {code}' TERM; echo ready; while true; do sleep 0.05; done"
        ))
        .stdout(Stdio::Piped)
        .spawn(&common::init())
        .expect("spawn");
    let mut stdout = BufReader::new(container.take_stdout().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    container.kill(Signal::SIGTERM).unwrap();
    assert_eq!(container.wait().unwrap(), code);
}

#[test]
fn command_is_pid1_and_sees_no_host_process() {
    let fx = Fixture::new();
    // `ls` itself is PID 1 here, so /proc must list exactly one process.
    let out = run_ok(fx.spec(["ls", "/proc"]));
    let pids: Vec<&str> = out
        .lines()
        .filter(|l| l.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(pids, ["1"], "/proc inside lists {pids:?}");
    // And from a shell: $$ is 1, and ps sees only the shell and itself.
    // (No pipeline: a second command would be a third process; `; true`
    // keeps the shell from exec'ing ps in its own place.)
    let out = run_ok(fx.sh("echo $$; ps -o pid; true"));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines[..3], ["1", "PID", "1"]);
    assert_eq!(lines.len(), 4, "ps shows more than sh and ps: {lines:?}");
}

#[test]
fn container_pid_is_pid1_seen_from_the_host() {
    let fx = Fixture::new();
    let mut container = fx
        .spec(["sleep", "1000"])
        .spawn(&common::init())
        .expect("spawn");
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", container.container_pid())).unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    let ids: Vec<&str> = nspid.split_whitespace().skip(1).collect();
    assert_eq!(ids, [container.container_pid().to_string().as_str(), "1"]);
    container.kill(Signal::SIGKILL).unwrap();
    container.wait().unwrap();
}

#[test]
fn environment_working_dir_and_user_are_the_specs() {
    let fx = Fixture::new();
    let mut rng = rand::thread_rng();
    let (uid, gid) = (rng.gen_range(1000..60000), rng.gen_range(1000..60000));
    let value = random_text(16);
    let spec = fx.spec(["env"]).env("MINIDOCK_TEST", &value);
    let expected = spec.env.clone();
    let mut lines: Vec<String> = run_ok(spec).lines().map(String::from).collect();
    lines.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(lines, expected, "env must be exactly the spec's");

    let out = run_ok(fx.sh("id -u; id -g; id -G; pwd").user(uid, gid).cwd("/tmp"));
    assert_eq!(out, format!("{uid}\n{gid}\n{gid}\n/tmp\n"));
}

#[test]
fn a_non_root_user_has_no_capabilities() {
    let fx = Fixture::new();
    let out = run_ok(
        fx.spec(["grep", "Cap", "/proc/self/status"])
            .user(1000, 1000),
    );
    assert_eq!(
        out,
        "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n\
         CapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\n"
    );
}

/// A cgroup directory for one test (v2 when the host is v2, else the v1
/// pids hierarchy), removed when dropped.
struct TestCgroup(std::path::PathBuf);

impl TestCgroup {
    fn new() -> TestCgroup {
        let base = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            "/sys/fs/cgroup"
        } else {
            "/sys/fs/cgroup/pids"
        };
        let dir = std::path::Path::new(base).join(minidock_testkit::random_name("minidock-ns-cg-"));
        std::fs::create_dir(&dir).expect("create test cgroup");
        TestCgroup(dir)
    }

    fn procs(&self) -> Vec<i32> {
        std::fs::read_to_string(self.0.join("cgroup.procs"))
            .unwrap()
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for _ in 0..200 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

#[test]
fn pid1_joins_the_cgroups_before_the_command_runs_and_the_helper_does_not() {
    let fx = Fixture::new();
    let cg = TestCgroup::new();
    let name = cg.0.file_name().unwrap().to_string_lossy().into_owned();
    let mut spec = fx
        .sh("read go; cat /proc/self/cgroup")
        .stdin(Stdio::Piped)
        .stdout(Stdio::Piped)
        .stderr(Stdio::Piped);
    spec.cgroup_procs = vec![cg.0.join("cgroup.procs")];
    let mut container = spec.spawn(&common::init()).unwrap();
    // PID 1 waits in `read`, a shell builtin: it alone is in the group
    assert_eq!(cg.procs(), vec![container.container_pid()]);
    container.take_stdin().unwrap().write_all(b"go\n").unwrap();
    let out = container.wait_with_output().unwrap();
    assert_eq!(out.code, 0, "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!(":/{name}\n")), "{text}");

    // a cgroup file that cannot be written fails the start, naming it
    let mut spec = fx.spec(["true"]);
    spec.cgroup_procs = vec![cg.0.join("no-such-file")];
    let err = spec.spawn(&common::init()).unwrap_err().to_string();
    assert!(
        err.contains("join cgroup") && err.contains("no-such-file"),
        "{err}"
    );
}
