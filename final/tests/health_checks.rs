//! Health checks with real containers: the docker CLI's `--health-*`
//! flags, the image's `HEALTHCHECK` from a `docker build`, `State.Health`
//! in inspect, `(healthy)` in `docker ps`, `health_status` events,
//! `ps --filter health=`, and checks that go on after the daemon was
//! killed. Intervals are 1 s, and every wait is for an exact condition
//! with a deadline.

mod common;

use common::{docker_cli_available, eventually, ok, Daemon};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Long enough for a few 1 s probes on a busy 2-core machine.
const DEADLINE: Duration = Duration::from_secs(40);

fn inspect(daemon: &Daemon, name: &str) -> serde_json::Value {
    let out = ok(daemon.docker().args(["inspect", name]));
    let all: serde_json::Value = serde_json::from_str(&out).expect("inspect is JSON");
    all[0].clone()
}

fn health_status(daemon: &Daemon, name: &str) -> String {
    inspect(daemon, name)["State"]["Health"]["Status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn ps_status(daemon: &Daemon, name: &str) -> String {
    let out = ok(daemon
        .docker()
        .args(["ps", "-a", "--format", "{{.Names}}\t{{.Status}}"]));
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}\t")))
        .unwrap_or_else(|| panic!("{name} is not in ps: {out}"))
        .to_string()
}

fn ps_names(daemon: &Daemon, filter: &str) -> Vec<String> {
    let out = ok(daemon
        .docker()
        .args(["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]));
    let mut names: Vec<String> = out.lines().map(str::to_string).collect();
    names.sort();
    names
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The `Action` of every event of container `name` between two times.
fn actions(daemon: &Daemon, name: &str, since: u64) -> Vec<String> {
    let until = unix_now() + 1;
    let out = ok(daemon.docker().args([
        "events",
        "--since",
        &since.to_string(),
        "--until",
        &until.to_string(),
        "--filter",
        &format!("container={name}"),
        "--format",
        "{{.Action}}",
    ]));
    out.lines().map(str::to_string).collect()
}

#[test]
fn docker_health_flags_drive_state_health_ps_events_and_filters() {
    if !docker_cli_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let since = unix_now().saturating_sub(1);

    // `cat /tmp/ok` passes once the file exists. A long start period:
    // the failures before it do not count, so it stays `starting`.
    ok(daemon.docker().args([
        "run",
        "-d",
        "--name",
        "probed",
        "--health-cmd",
        "cat /tmp/ok",
        "--health-interval",
        "1s",
        "--health-retries",
        "2",
        "--health-timeout",
        "5s",
        "--health-start-period",
        "10m",
        "--health-start-interval",
        "1s",
        "busybox",
        "sleep",
        "300",
    ]));
    ok(daemon
        .docker()
        .args(["run", "-d", "--name", "plain", "busybox", "sleep", "300"]));
    let config = &inspect(&daemon, "probed")["Config"]["Healthcheck"];
    assert_eq!(
        config["Test"],
        serde_json::json!(["CMD-SHELL", "cat /tmp/ok"])
    );
    assert_eq!(config["Interval"], 1_000_000_000i64);
    assert_eq!(config["Retries"], 2);

    // Starting: probes fail (no file), within the start period.
    eventually(DEADLINE, "two failed probes in the log", || {
        inspect(&daemon, "probed")["State"]["Health"]["Log"]
            .as_array()
            .is_some_and(|l| l.len() >= 2)
    });
    let health = &inspect(&daemon, "probed")["State"]["Health"];
    assert_eq!(health["Status"], "starting", "{health}");
    assert_eq!(health["FailingStreak"], 0, "{health}");
    let first = &health["Log"][0];
    assert_eq!(first["ExitCode"], 1, "{first}");
    assert!(
        first["Output"].as_str().unwrap().contains("/tmp/ok"),
        "cat's complaint is the output: {first}"
    );
    for time in [&first["Start"], &first["End"]] {
        let time = time.as_str().unwrap();
        assert!(
            time.contains('T') && time.ends_with('Z'),
            "RFC 3339: {time}"
        );
    }
    assert!(
        ps_status(&daemon, "probed").ends_with("(health: starting)"),
        "{}",
        ps_status(&daemon, "probed")
    );
    assert!(inspect(&daemon, "plain")["State"].get("Health").is_none());
    assert_eq!(ps_names(&daemon, "health=starting"), ["probed"]);
    assert_eq!(ps_names(&daemon, "health=none"), ["plain"]);

    // Healthy: the probe (run through exec) finds the file.
    ok(daemon
        .docker()
        .args(["exec", "probed", "sh", "-c", "echo fine > /tmp/ok"]));
    eventually(DEADLINE, "probed turns healthy", || {
        health_status(&daemon, "probed") == "healthy"
    });
    let health = &inspect(&daemon, "probed")["State"]["Health"];
    let last = health["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["ExitCode"].clone(), last["Output"].clone()),
        (0.into(), "fine\n".into())
    );
    let status = ps_status(&daemon, "probed");
    assert!(
        status.starts_with("Up ") && status.ends_with("(healthy)"),
        "{status}"
    );
    assert_eq!(ps_names(&daemon, "health=healthy"), ["probed"]);

    // Unhealthy: two failures in a row (once healthy, the start period no
    // longer shelters it); the log keeps the last five.
    ok(daemon.docker().args(["exec", "probed", "rm", "/tmp/ok"]));
    eventually(DEADLINE, "probed turns unhealthy", || {
        health_status(&daemon, "probed") == "unhealthy"
    });
    let health = &inspect(&daemon, "probed")["State"]["Health"];
    assert!(health["FailingStreak"].as_u64().unwrap() >= 2, "{health}");
    eventually(DEADLINE, "five results in the log", || {
        inspect(&daemon, "probed")["State"]["Health"]["Log"]
            .as_array()
            .is_some_and(|l| l.len() == 5)
    });
    assert!(ps_status(&daemon, "probed").ends_with("(unhealthy)"));
    assert_eq!(ps_names(&daemon, "health=unhealthy"), ["probed"]);
    let bad = daemon
        .docker()
        .args(["ps", "--filter", "health=sick"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        common::stderr(&bad).contains("Unrecognised filter value for health: sick"),
        "{}",
        common::stderr(&bad)
    );

    // Each change of status was an event, in order.
    let events = actions(&daemon, "probed", since);
    let health_events: Vec<&String> = events
        .iter()
        .filter(|a| a.starts_with("health_status"))
        .collect();
    assert_eq!(
        health_events,
        ["health_status: healthy", "health_status: unhealthy"],
        "all events: {events:?}"
    );

    // A probe that outlives its timeout is killed and fails with -1.
    ok(daemon.docker().args([
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 60",
        "--health-interval",
        "1s",
        "--health-timeout",
        "1s",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "300",
    ]));
    eventually(DEADLINE, "slow turns unhealthy", || {
        health_status(&daemon, "slow") == "unhealthy"
    });
    let log = inspect(&daemon, "slow")["State"]["Health"]["Log"][0].clone();
    assert_eq!(log["ExitCode"], -1, "{log}");
    assert_eq!(log["Output"], "Health check exceeded timeout (1s)", "{log}");

    // A stopped container is unhealthy, and its ps line has no health.
    ok(daemon.docker().args(["stop", "-t", "1", "slow"]));
    assert_eq!(health_status(&daemon, "slow"), "unhealthy");
    assert!(ps_status(&daemon, "slow").starts_with("Exited"));

    // Docker's checks at create.
    let refused = daemon
        .docker()
        .args([
            "create",
            "--health-cmd",
            "true",
            "--health-retries",
            "-1",
            "busybox",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let both = daemon
        .docker()
        .args([
            "create",
            "--no-healthcheck",
            "--health-cmd",
            "true",
            "busybox",
        ])
        .output()
        .unwrap();
    assert!(!both.status.success(), "--no-healthcheck with --health-cmd");
    ok(daemon
        .docker()
        .args(["rm", "-f", "probed", "plain", "slow"]));
}

#[test]
fn an_image_healthcheck_from_a_build_runs_unless_turned_off() {
    if !docker_cli_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let ctx = daemon.scratch().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nHEALTHCHECK --interval=1s --timeout=5s --retries=1 CMD [\"test\", \"-e\", \"/etc/passwd\"]\nCMD [\"sleep\", \"300\"]\n",
    )
    .unwrap();
    let mut build = daemon.docker();
    build
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", "checked:1"])
        .arg(&ctx);
    ok(&mut build);
    let image_check = ok(daemon.docker().args([
        "image",
        "inspect",
        "-f",
        "{{json .Config.Healthcheck}}",
        "checked:1",
    ]));
    assert!(image_check.contains("/etc/passwd"), "{image_check}");

    // The image's check, with the retries the run asks for instead.
    ok(daemon.docker().args([
        "run",
        "-d",
        "--name",
        "inherits",
        "--health-retries",
        "4",
        "checked:1",
    ]));
    let config = &inspect(&daemon, "inherits")["Config"]["Healthcheck"];
    assert_eq!(
        config["Test"],
        serde_json::json!(["CMD", "test", "-e", "/etc/passwd"])
    );
    assert_eq!(config["Interval"], 1_000_000_000i64, "{config}");
    assert_eq!(config["Retries"], 4, "{config}");
    eventually(DEADLINE, "the image's check makes it healthy", || {
        health_status(&daemon, "inherits") == "healthy"
    });

    // --no-healthcheck: no probe, no Health, a plain ps line.
    ok(daemon.docker().args([
        "run",
        "-d",
        "--name",
        "unchecked",
        "--no-healthcheck",
        "checked:1",
    ]));
    assert_eq!(
        inspect(&daemon, "unchecked")["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["NONE"])
    );
    // A probe would run within the second: wait for three of the other's.
    let results = |name: &str| {
        inspect(&daemon, name)["State"]["Health"]["Log"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = results("inherits");
    eventually(DEADLINE, "three more probes of the checked one", || {
        results("inherits") >= before + 3 || results("inherits") == 5
    });
    assert!(inspect(&daemon, "unchecked")["State"]
        .get("Health")
        .is_none());
    let status = ps_status(&daemon, "unchecked");
    assert!(
        status.starts_with("Up ") && !status.contains('('),
        "{status}"
    );
    ok(daemon.docker().args(["rm", "-f", "inherits", "unchecked"]));
}

#[test]
fn checks_go_on_after_the_daemon_is_killed() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    // minidock's own flags this time.
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "survivor",
        "--health-cmd",
        "test -e /tmp/ok",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        "busybox",
        "sh",
        "-c",
        "touch /tmp/ok; exec sleep 300",
    ]);
    let status = |daemon: &Daemon| {
        daemon
            .ok(&["inspect", "-f", "{{.State.Health.Status}}", "survivor"])
            .trim()
            .to_string()
    };
    eventually(DEADLINE, "survivor turns healthy", || {
        status(&daemon) == "healthy"
    });
    let ps = daemon.ok(&["ps", "--format", "{{.Status}}"]);
    assert!(ps.trim().ends_with("(healthy)"), "{ps}");

    let (dir, leaks) = daemon.kill9();
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    // The status and results were kept; new probes run.
    assert_eq!(status(&daemon), "healthy");
    let kept =
        |daemon: &Daemon| daemon.ok(&["inspect", "-f", "{{json .State.Health.Log}}", "survivor"]);
    let before: Vec<serde_json::Value> = serde_json::from_str(&kept(&daemon)).unwrap();
    assert!(!before.is_empty());
    eventually(DEADLINE, "a probe by the new daemon", || {
        let log: Vec<serde_json::Value> = serde_json::from_str(&kept(&daemon)).unwrap();
        log.iter().any(|result| !before.contains(result))
    });
    daemon.ok(&["exec", "survivor", "rm", "/tmp/ok"]);
    eventually(DEADLINE, "survivor turns unhealthy", || {
        status(&daemon) == "unhealthy"
    });
    let ps = daemon.ok(&[
        "ps",
        "--filter",
        "health=unhealthy",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(ps.trim(), "survivor");
    daemon.ok(&["rm", "-f", "survivor"]);
}
