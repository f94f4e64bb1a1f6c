//! The create settings real clients send — capabilities, `--privileged`,
//! shared namespaces, groups, `/dev/shm`, ulimits, sysctls, the OOM score,
//! `--init`, how a container is stopped, a read-only root — each honoured
//! in a real container, driven through the real `docker` CLI; and inspect's
//! `HostConfig` with every key dockerd shows.
//!
//! Measured against dockerd 28 (docker CLI 28.2.2) for the values compared
//! here: `CapEff` of a default container is `00000000a80425fb`; `--cap-drop
//! ALL --cap-add SYS_TIME` leaves `0000000002000000`; `/dev/shm` is 64 MiB
//! unless `--shm-size`; inspect shows `IpcMode: private`, `ShmSize:
//! 67108864`, `Runtime: runc`, `CgroupnsMode: host` (cgroup v1 host), and
//! `docker stop` of a `--init` container whose command is `sleep` exits
//! 143, of a plain one 137.

mod common;

use common::{docker_cli_available, ok, stderr, Daemon};
use serde_json::Value;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"))
}

/// A daemon with the busybox image, or `None` when the docker CLI test is
/// skipped on request (`MINIDOCK_SKIP_DOCKER_CLI=1`).
fn daemon() -> Option<Daemon> {
    if !docker_cli_available() {
        return None;
    }
    let d = Daemon::start();
    d.load_busybox();
    Some(d)
}

/// `docker run --rm --network none ARGS… busybox sh -c SCRIPT`: its stdout.
fn sh(d: &Daemon, flags: &[&str], script: &str) -> String {
    let mut cmd = d.docker();
    cmd.args(["run", "--rm", "--network", "none"])
        .args(flags)
        .args(["busybox", "sh", "-c", script]);
    ok(&mut cmd)
}

/// The same, expected to fail: its stderr.
fn sh_fails(d: &Daemon, flags: &[&str], script: &str) -> String {
    let mut cmd = d.docker();
    cmd.args(["run", "--rm", "--network", "none"])
        .args(flags)
        .args(["busybox", "sh", "-c", script]);
    let out = run(&mut cmd);
    assert!(
        !out.status.success(),
        "{cmd:?} should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr(&out)
}

/// A line `Key:\tvalue` of a `/proc/*/status` text.
fn status_field(status: &str, key: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in {status}"))
        .trim()
        .to_string()
}

fn inspect(d: &Daemon, name: &str) -> Value {
    let text = ok(d.docker().args(["inspect", name]));
    let all: Value = serde_json::from_str(&text).expect("inspect prints JSON");
    all[0].clone()
}

/// The test process's own capability sets (it runs as root).
fn host_status() -> String {
    std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status")
}

fn has_sys_resource() -> bool {
    let bnd = u64::from_str_radix(&status_field(&host_status(), "CapEff"), 16).unwrap();
    bnd & (1 << 24) != 0
}

/// POSTs `body` to the daemon's API with curl; returns status and body.
fn api_post(d: &Daemon, path: &str, body: &str) -> (u16, String) {
    let host = d.host();
    let socket = host.strip_prefix("unix://").expect("a unix socket");
    let out = run(Command::new("curl").args([
        "-sS",
        "--unix-socket",
        socket,
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        body,
        "-w",
        "\n%{http_code}",
        &format!("http://minidock/v1.44{path}"),
    ]));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("curl printed the status");
    (
        code.trim().parse().expect("an HTTP status"),
        body.to_string(),
    )
}

#[test]
fn capabilities_are_added_and_dropped_as_docker_does() {
    let Some(d) = daemon() else { return };
    let caps = |flags: &[&str]| status_field(&sh(&d, flags, "cat /proc/self/status"), "CapEff");
    assert_eq!(caps(&[]), "00000000a80425fb", "Docker's 14 by default");
    // NET_ADMIN is bit 12, CHOWN bit 0.
    assert_eq!(
        caps(&["--cap-add", "NET_ADMIN", "--cap-drop", "chown"]),
        "00000000a80435fa"
    );
    assert_eq!(
        caps(&["--cap-drop", "ALL", "--cap-add", "CAP_SYS_TIME"]),
        "0000000002000000"
    );
    assert_eq!(caps(&["--cap-drop", "ALL"]), "0000000000000000");
    // ALL: every capability the engine itself holds, less the dropped.
    let bounding = u64::from_str_radix(&status_field(&host_status(), "CapBnd"), 16).unwrap();
    let all = u64::from_str_radix(&caps(&["--cap-add", "ALL", "--cap-drop", "MKNOD"]), 16).unwrap();
    assert_eq!(all, bounding & !(1 << 27), "ALL less MKNOD (bit 27)");
    // The capability works: NET_ADMIN may bring an interface down.
    let denied = sh_fails(&d, &[], "ip link set lo down");
    assert!(denied.contains("not permitted"), "{denied}");
    sh(&d, &["--cap-add", "NET_ADMIN"], "ip link set lo down");

    // An exec into the container has the container's capabilities.
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "capped",
        "--network",
        "none",
        "--cap-add",
        "SYS_TIME",
        "--cap-drop",
        "KILL",
        "busybox",
        "sleep",
        "300",
    ]));
    let exec = ok(d
        .docker()
        .args(["exec", "capped", "cat", "/proc/self/status"]));
    // SYS_TIME is bit 25, KILL bit 5.
    assert_eq!(status_field(&exec, "CapEff"), "00000000aa0425db");
    let host = &inspect(&d, "capped")["HostConfig"];
    // As sent: the docker CLI writes the names with their CAP_ prefix.
    assert_eq!(host["CapAdd"], serde_json::json!(["CAP_SYS_TIME"]));
    assert_eq!(host["CapDrop"], serde_json::json!(["CAP_KILL"]));
    ok(d.docker().args(["rm", "-f", "capped"]));

    // A name nobody knows is a 400 that names it.
    let (status, body) = api_post(
        &d,
        "/containers/create",
        r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"CapAdd":["CAP_FLY"]}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("unknown capability") && body.contains("CAP_FLY"),
        "{body}"
    );
}

#[test]
fn privileged_has_every_capability_and_device_and_no_confinement() {
    let Some(d) = daemon() else { return };
    let script = "grep -E '^(CapEff|Seccomp):' /proc/self/status; \
                  test -b /dev/loop0 && echo loop0; \
                  grep -q ' /proc/keys ' /proc/self/mountinfo && echo keys-masked; \
                  grep ' /sys ' /proc/self/mountinfo | grep -q ' ro,' && echo sys-ro; \
                  grep ' /proc/sys ' /proc/self/mountinfo | grep -q ' ro,' && echo procsys-ro; \
                  mkdir -p /mnt/t && mount -t tmpfs t /mnt/t && echo mounted; true";
    for needed in ["/dev/loop0", "/proc/keys"] {
        assert!(
            std::path::Path::new(needed).exists(),
            "this test looks for the host's {needed}, which is missing (modprobe loop; a kernel \
             with CONFIG_KEYS)"
        );
    }
    let plain = sh(&d, &[], script);
    assert!(plain.contains("CapEff:\t00000000a80425fb"), "{plain}");
    assert!(plain.contains("Seccomp:\t2"), "{plain}");
    for confined in ["keys-masked", "sys-ro", "procsys-ro"] {
        assert!(plain.contains(confined), "{confined}: {plain}");
    }
    assert!(
        !plain.contains("loop0") && !plain.contains("mounted"),
        "{plain}"
    );

    let privileged = sh(&d, &["--privileged"], script);
    let bounding = status_field(&host_status(), "CapBnd");
    assert!(
        privileged.contains(&format!("CapEff:\t{bounding}")),
        "every capability the engine has ({bounding}): {privileged}"
    );
    assert!(privileged.contains("Seccomp:\t0"), "{privileged}");
    for free in ["loop0", "mounted"] {
        assert!(privileged.contains(free), "{free}: {privileged}");
    }
    for confined in ["keys-masked", "sys-ro", "procsys-ro"] {
        assert!(!privileged.contains(confined), "{confined}: {privileged}");
    }
}

fn ns_link(pid: &str, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap_or_else(|e| panic!("readlink /proc/{pid}/ns/{kind}: {e}"))
        .display()
        .to_string()
}

#[test]
fn pid_ipc_and_uts_namespaces_are_shared_with_the_host_or_a_container() {
    let Some(d) = daemon() else { return };
    let links = "for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname";
    let me = std::process::id().to_string();
    let host: Vec<String> = ["pid", "ipc", "uts"]
        .iter()
        .map(|k| ns_link(&me, k))
        .chain([nix::unistd::gethostname().unwrap().into_string().unwrap()])
        .collect();
    let own = sh(&d, &[], links);
    let own: Vec<&str> = own.lines().collect();
    for i in 0..4 {
        assert_ne!(own[i], host[i], "a default container has its own: {own:?}");
    }
    let shared = sh(
        &d,
        &["--pid", "host", "--ipc", "host", "--uts", "host"],
        links,
    );
    assert_eq!(
        shared.lines().collect::<Vec<_>>(),
        host,
        "the host's namespaces"
    );
    // With the host's PID namespace, its /proc shows this test.
    sh(&d, &["--pid", "host"], &format!("test -d /proc/{me}"));
    // With the host's IPC namespace, /dev/shm is the host's.
    let marker = format!("/dev/shm/minidock-fidelity-{me}");
    std::fs::write(&marker, "shared").unwrap();
    let seen = sh(&d, &["--ipc", "host"], &format!("cat {marker}"));
    std::fs::remove_file(&marker).unwrap();
    assert_eq!(seen, "shared");

    // Another container's: the same namespaces, its processes, its /dev/shm.
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "owner",
        "--network",
        "none",
        "--ipc",
        "shareable",
        "busybox",
        "sh",
        "-c",
        "echo theirs > /dev/shm/mark; exec sleep 300",
    ]));
    let pid = inspect(&d, "owner")["State"]["Pid"].to_string();
    // `|| true`: a mark not written yet is a retry, not a failed command.
    let script =
        "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; ps; cat /dev/shm/mark 2>/dev/null || true";
    let mut out = String::new();
    common::eventually(Duration::from_secs(20), "the owner's /dev/shm mark", || {
        out = sh(
            &d,
            &["--pid", "container:owner", "--ipc", "container:owner"],
            script,
        );
        // The mark's own line (the owner's command line in `ps` holds the word too).
        out.lines().any(|l| l == "theirs")
    });
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], ns_link(&pid, "pid"), "{out}");
    assert_eq!(lines[1], ns_link(&pid, "ipc"), "{out}");
    assert!(
        out.contains("sleep 300"),
        "the owner's process is in view: {out}"
    );
    let host_config = &inspect(&d, "owner")["HostConfig"];
    assert_eq!(host_config["IpcMode"], "shareable");
    // As in Docker, a donor must have been created shareable.
    ok(d.docker()
        .args(["create", "--name", "private", "busybox", "true"]));
    let refused = sh_fails(&d, &["--ipc", "container:private"], "true");
    assert!(refused.contains("non-shareable"), "{refused}");
    ok(d.docker().args(["stop", "-t", "0", "owner"]));
    let refused = sh_fails(&d, &["--pid", "container:owner"], "true");
    assert!(refused.contains("not running"), "{refused}");
    let refused = sh_fails(&d, &["--pid", "container:nosuch"], "true");
    assert!(refused.contains("nosuch"), "{refused}");
}

#[test]
fn groups_shm_ulimits_sysctls_and_oom_score_reach_the_process() {
    let Some(d) = daemon() else { return };
    // --group-add, by number and by a name of the image's /etc/group.
    let groups = sh(
        &d,
        &["--group-add", "1234", "--group-add", "nogroup"],
        "id -G",
    );
    let groups: Vec<&str> = groups.split_whitespace().collect();
    assert!(
        groups.contains(&"1234") && groups.contains(&"65534"),
        "{groups:?}"
    );
    let refused = sh_fails(&d, &["--group-add", "nosuchgroup"], "true");
    assert!(refused.contains("nosuchgroup"), "{refused}");

    // /dev/shm: Docker's 64 MiB, or --shm-size.
    let size = |flags: &[&str]| {
        let df = sh(&d, flags, "df -k /dev/shm | tail -n 1");
        df.split_whitespace().nth(1).unwrap().to_string()
    };
    assert_eq!(size(&[]), "65536");
    assert_eq!(size(&["--shm-size", "32m"]), "32768");

    // --ulimit, in the container and in an exec.
    let limits = sh(
        &d,
        &["--ulimit", "nofile=1024:2048"],
        "ulimit -n; ulimit -Hn",
    );
    assert_eq!(
        limits.split_whitespace().collect::<Vec<_>>(),
        ["1024", "2048"]
    );
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "limited",
        "--network",
        "none",
        "--ulimit",
        "nproc=300",
        "busybox",
        "sleep",
        "300",
    ]));
    let exec = ok(d
        .docker()
        .args(["exec", "limited", "sh", "-c", "ulimit -u"]));
    assert_eq!(exec.trim(), "300");
    let host = &inspect(&d, "limited")["HostConfig"];
    assert_eq!(
        host["Ulimits"],
        serde_json::json!([{"Name": "nproc", "Soft": 300, "Hard": 300}])
    );
    ok(d.docker().args(["rm", "-f", "limited"]));
    // Above the engine's own hard limit: only with CAP_SYS_RESOURCE.
    let hard: u64 = ok(Command::new("sh").args(["-c", "ulimit -Hn"]))
        .trim()
        .parse()
        .expect("the host's hard nofile limit");
    let above = format!("nofile={}:{}", hard + 1, hard + 1);
    if has_sys_resource() {
        let got = sh(&d, &["--ulimit", &above], "ulimit -Hn");
        assert_eq!(got.trim(), (hard + 1).to_string());
    } else {
        let refused = sh_fails(&d, &["--ulimit", &above], "true");
        assert!(
            refused.contains("ulimit") && refused.contains("CAP_SYS_RESOURCE"),
            "{refused}"
        );
    }

    // --sysctl: namespaced parameters are the container's own.
    let host_forward = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let forward = if host_forward.trim() == "1" { "0" } else { "1" };
    let set = sh(
        &d,
        &[
            "--sysctl",
            &format!("net.ipv4.ip_forward={forward}"),
            "--sysctl",
            "kernel.shmmni=1234",
        ],
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni",
    );
    assert_eq!(
        set.split_whitespace().collect::<Vec<_>>(),
        [forward, "1234"]
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_forward,
        "the host's value is untouched"
    );
    // A global one is a 400 from the daemon (the docker CLI lets it through).
    let (status, body) = api_post(
        &d,
        "/containers/create",
        r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"Sysctls":{"vm.swappiness":"10"}}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("vm.swappiness") && body.contains("not allowed"),
        "{body}"
    );

    // --oom-score-adj: raising it is allowed to anyone.
    let score = sh(
        &d,
        &["--oom-score-adj", "500"],
        "cat /proc/self/oom_score_adj",
    );
    assert_eq!(score.trim(), "500");
    let (status, body) = api_post(
        &d,
        "/containers/create",
        r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"OomScoreAdj":2000}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("oom score"), "{body}");
}

/// `docker stop NAME` (the container's own stop settings); its exit code
/// and how long the stop took.
fn stop(d: &Daemon, name: &str) -> (i64, Duration) {
    let started = Instant::now();
    ok(d.docker().args(["stop", name]));
    let took = started.elapsed();
    let code = inspect(d, name)["State"]["ExitCode"].as_i64().unwrap();
    (code, took)
}

#[test]
fn init_reaps_orphans_and_forwards_the_stop_signal() {
    let Some(d) = daemon() else { return };
    // PID 1 is the init, not the command, and the exit code passes through.
    let out = run(d.docker().args([
        "run",
        "--rm",
        "--network",
        "none",
        "--init",
        "busybox",
        "sh",
        "-c",
        "echo $$; exit 3",
    ]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_ne!(String::from_utf8_lossy(&out.stdout).trim(), "1");
    // An orphan (the subshell's sleep) is reparented to PID 1 and reaped:
    // its /proc entry goes once it exits (a zombie would keep it).
    let reaped = sh(
        &d,
        &["--init"],
        "(sleep 0.2 &); i=0; while [ $i -lt 100 ]; do \
           grep -qs '(sleep)' /proc/[0-9]*/stat || { echo reaped; exit 0; }; \
           sleep 0.1; i=$((i+1)); done; cat /proc/[0-9]*/stat",
    );
    assert_eq!(reaped.trim(), "reaped");
    // `docker stop` reaches a command that is not PID 1: 143 (SIGTERM).
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "inited",
        "--network",
        "none",
        "--init",
        "--stop-timeout",
        "60",
        "busybox",
        "sleep",
        "300",
    ]));
    let (code, took) = stop(&d, "inited");
    assert_eq!(code, 143, "killed by the forwarded SIGTERM");
    assert!(
        took < Duration::from_secs(50),
        "not by the 60 s timeout: {took:?}"
    );
    assert_eq!(inspect(&d, "inited")["HostConfig"]["Init"], true);
}

#[test]
fn stop_signal_and_stop_timeout_are_the_containers_own() {
    let Some(d) = daemon() else { return };
    // A command that ignores SIGTERM is killed once its timeout is over.
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "stubborn",
        "--network",
        "none",
        "--stop-timeout",
        "1",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; while :; do sleep 0.1; done",
    ]));
    let (code, took) = stop(&d, "stubborn");
    assert_eq!(code, 137, "SIGKILL after the timeout");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(9),
        "after its 1 s timeout, not Docker's default 10 s: {took:?}"
    );
    assert_eq!(inspect(&d, "stubborn")["Config"]["StopTimeout"], 1);
    // `restart -t` overrides the container's own timeout for that stop.
    ok(d.docker().args(["start", "stubborn"]));
    let started = Instant::now();
    ok(d.docker().args(["restart", "-t", "3", "stubborn"]));
    let took = started.elapsed();
    // The lower bound alone proves it: the container's own 1 s would end
    // sooner (an upper bound would also count a busy machine's start).
    assert!(
        took >= Duration::from_secs(3),
        "restart -t 3 waits 3 s before SIGKILL, not 1 s: {took:?}"
    );
    assert_eq!(inspect(&d, "stubborn")["State"]["Running"], true);
    // Its own stop signal, which it handles by exiting 7.
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "polite",
        "--network",
        "none",
        "--stop-signal",
        "SIGUSR1",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 7' USR1; while :; do sleep 0.1; done",
    ]));
    // The trap must be set before the signal comes: wait for the shell's
    // handler to show in its status (SigCgt has USR1, bit 9).
    let pid = inspect(&d, "polite")["State"]["Pid"].to_string();
    common::eventually(Duration::from_secs(20), "the USR1 trap", || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map(|s| u64::from_str_radix(&status_field(&s, "SigCgt"), 16).unwrap() & (1 << 9) != 0)
            .unwrap_or(false)
    });
    let (code, _) = stop(&d, "polite");
    assert_eq!(code, 7);
    assert_eq!(inspect(&d, "polite")["Config"]["StopSignal"], "SIGUSR1");

    // The image's STOPSIGNAL, when the container names none.
    let ctx = d.scratch().join("stopsignal");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nSTOPSIGNAL SIGUSR2\n").unwrap();
    let mut build = d.docker();
    build
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", "usr2"])
        .arg(&ctx);
    ok(&mut build);
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "imaged",
        "--network",
        "none",
        "usr2",
        "sh",
        "-c",
        "trap 'exit 9' USR2; while :; do sleep 0.1; done",
    ]));
    let pid = inspect(&d, "imaged")["State"]["Pid"].to_string();
    common::eventually(Duration::from_secs(20), "the USR2 trap", || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map(|s| u64::from_str_radix(&status_field(&s, "SigCgt"), 16).unwrap() & (1 << 11) != 0)
            .unwrap_or(false)
    });
    assert_eq!(stop(&d, "imaged").0, 9, "stopped by the image's SIGUSR2");
}

#[test]
fn a_read_only_root_still_has_its_tmpfs() {
    let Some(d) = daemon() else { return };
    let out = sh(
        &d,
        &["--read-only", "--tmpfs", "/scratch"],
        "touch /x 2>&1; touch /scratch/y && echo written",
    );
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("written"), "{out}");
}

/// Every key of `HostConfig` that dockerd 28 shows in inspect.
const DOCKERD_HOST_CONFIG_KEYS: &[&str] = &[
    "Binds",
    "ContainerIDFile",
    "LogConfig",
    "NetworkMode",
    "PortBindings",
    "RestartPolicy",
    "AutoRemove",
    "VolumeDriver",
    "VolumesFrom",
    "ConsoleSize",
    "CapAdd",
    "CapDrop",
    "CgroupnsMode",
    "Dns",
    "DnsOptions",
    "DnsSearch",
    "ExtraHosts",
    "GroupAdd",
    "IpcMode",
    "Cgroup",
    "Links",
    "OomScoreAdj",
    "PidMode",
    "Privileged",
    "PublishAllPorts",
    "ReadonlyRootfs",
    "SecurityOpt",
    "UTSMode",
    "UsernsMode",
    "ShmSize",
    "Runtime",
    "Isolation",
    "CpuShares",
    "Memory",
    "NanoCpus",
    "CgroupParent",
    "BlkioWeight",
    "BlkioWeightDevice",
    "BlkioDeviceReadBps",
    "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps",
    "CpuPeriod",
    "CpuQuota",
    "CpuRealtimePeriod",
    "CpuRealtimeRuntime",
    "CpusetCpus",
    "CpusetMems",
    "Devices",
    "DeviceCgroupRules",
    "DeviceRequests",
    "MemoryReservation",
    "MemorySwap",
    "MemorySwappiness",
    "OomKillDisable",
    "PidsLimit",
    "Ulimits",
    "CpuCount",
    "CpuPercent",
    "IOMaximumIOps",
    "IOMaximumBandwidth",
    "MaskedPaths",
    "ReadonlyPaths",
];

#[test]
fn inspect_shows_every_host_config_key_and_keeps_what_was_sent() {
    let Some(d) = daemon() else { return };
    ok(d.docker().args([
        "create",
        "--name",
        "plain",
        "--network",
        "none",
        "busybox",
        "true",
    ]));
    let host = inspect(&d, "plain")["HostConfig"].clone();
    for key in DOCKERD_HOST_CONFIG_KEYS {
        assert!(
            host.get(key).is_some(),
            "HostConfig.{key} is missing: {host}"
        );
    }
    assert_eq!(host["IpcMode"], "private");
    assert_eq!(host["ShmSize"], 67108864);
    assert_eq!(host["Runtime"], "runc");
    assert_eq!(host["CgroupnsMode"], "host");
    assert_eq!(host["Privileged"], false);
    assert_eq!(host["OomScoreAdj"], 0);
    assert!(host["MaskedPaths"]
        .as_array()
        .unwrap()
        .contains(&"/proc/kcore".into()));
    assert!(host["ReadonlyPaths"]
        .as_array()
        .unwrap()
        .contains(&"/proc/sys".into()));
    // The template the docker CLI users write works.
    let runtime = ok(d
        .docker()
        .args(["inspect", "-f", "{{.HostConfig.Runtime}}", "plain"]));
    assert_eq!(runtime.trim(), "runc");

    // Fields sent at create survive in inspect, and a daemon restart.
    let (status, body) = api_post(
        &d,
        "/containers/create?name=sent",
        r#"{"Image":"busybox","Cmd":["sh","-c","grep CapEff /proc/self/status"],
            "HostConfig":{"NetworkMode":"none","CapAdd":["NET_ADMIN"],"ShmSize":33554432,
            "ConsoleSize":[30,100],"Isolation":"default","Dns":[],"ContainerIDFile":"",
            "Sysctls":{"kernel.shmmni":"1000"}}}"#,
    );
    assert_eq!(status, 201, "{body}");
    let check = |d: &Daemon| {
        let host = inspect(d, "sent")["HostConfig"].clone();
        assert_eq!(host["ConsoleSize"], serde_json::json!([30, 100]), "{host}");
        assert_eq!(host["Isolation"], "default");
        assert_eq!(host["CapAdd"], serde_json::json!(["NET_ADMIN"]));
        assert_eq!(host["ShmSize"], 33554432);
        assert_eq!(
            host["Sysctls"],
            serde_json::json!({"kernel.shmmni": "1000"})
        );
    };
    check(&d);
    let (dir, leaks) = d.kill9();
    let mut d = Daemon::start_in(&dir);
    d.adopt_leak_check(leaks);
    check(&d);
    // And the restarted daemon runs it with what was asked.
    let out = ok(d.docker().args(["start", "-a", "sent"]));
    assert!(out.contains("00000000a80435fb"), "NET_ADMIN added: {out}");

    // A setting minidock cannot honour is a 400 that names it.
    let (status, body) = api_post(
        &d,
        "/containers/create",
        r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"Devices":[{"PathOnHost":"/dev/loop0","PathInContainer":"/dev/loop0","CgroupPermissions":"rwm"}]}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("HostConfig.Devices"), "{body}");
}

/// `docker run --memory-reservation --cpuset-cpus` set the group at start;
/// `docker update` (the CLI sends every resource field, zero unless given)
/// changes the running container's cgroup and what inspect shows; what
/// minidock cannot update is refused by name.
#[test]
fn docker_update_changes_the_running_containers_cgroup() {
    use common::cgroups::{read, unified};
    let Some(d) = daemon() else { return };
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "upd",
        "--network",
        "none",
        "-m",
        "64m",
        "--memory-reservation",
        "32m",
        "--cpuset-cpus",
        "0",
        "busybox",
        "sleep",
        "1000",
    ]));
    let pid = inspect(&d, "upd")["State"]["Pid"].as_i64().unwrap();
    // What create asked for is in the group from the start.
    let soft = if unified() {
        "memory.low"
    } else {
        "memory.soft_limit_in_bytes"
    };
    assert_eq!(read(pid, "memory", soft), "33554432");
    assert_eq!(read(pid, "cpuset", "cpuset.cpus"), "0");
    let out = ok(d.docker().args([
        "update",
        "--memory",
        "96m",
        "--pids-limit",
        "30",
        "--cpu-shares",
        "512",
        "upd",
    ]));
    assert_eq!(out.trim(), "upd");
    let (memory, shares) = if unified() {
        (
            read(pid, "memory", "memory.max"),
            read(pid, "cpu", "cpu.weight"),
        )
    } else {
        let memory = read(pid, "memory", "memory.limit_in_bytes");
        (memory, read(pid, "cpu", "cpu.shares"))
    };
    let weight_or_shares = if unified() { "20" } else { "512" };
    assert_eq!(
        (memory.as_str(), shares.as_str()),
        ("100663296", weight_or_shares)
    );
    assert_eq!(read(pid, "pids", "pids.max"), "30");
    let host = inspect(&d, "upd")["HostConfig"].clone();
    assert_eq!(
        (
            host["Memory"].clone(),
            host["PidsLimit"].clone(),
            host["CpuShares"].clone()
        ),
        (100663296.into(), 30.into(), 512.into())
    );
    let out = run(d.docker().args(["update", "--blkio-weight", "300", "upd"]));
    assert!(!out.status.success(), "{out:?}");
    assert!(stderr(&out).contains("BlkioWeight"), "{out:?}");
}

/// A shell that doubles a string until it runs out of memory.
const HOG: &str = "s=x; while true; do s=$s$s; done";

/// `docker run --oom-kill-disable`, against dockerd's behaviour on cgroup
/// v1: the container that goes past `--memory` waits for memory (its
/// group reads `under_oom 1`) and keeps running, inspect shows
/// `OomKillDisable: true` and `OOMKilled: false`, and `docker rm -f` ends
/// it at once. Without the flag the same container is OOM-killed (137).
/// On cgroup v2 dockerd drops the flag with a warning: so does minidock.
///
/// The hog doubles a shell string, so the memory is touched by the
/// process itself: a charge that fails in a fault from user space waits
/// (`under_oom 1`), while one inside a system call fails it. `head -c 100m
/// /dev/zero | tail` is no such hog: tail's `read()` into its growing buffer
/// gets `EFAULT` and tail exits 1 (measured on this host, Linux 6.18).
#[test]
fn oom_kill_disable_keeps_a_container_over_its_limit_waiting() {
    let Some(d) = daemon() else { return };
    let hog = |name: &str, flags: &[&str]| {
        let mut cmd = d.docker();
        cmd.args([
            "run",
            "--name",
            name,
            "--network",
            "none",
            "--memory",
            "32m",
        ])
        .args(flags)
        .args(["busybox", "sh", "-c", HOG]);
        run(&mut cmd)
    };
    let out = hog("waits", &["-d", "--oom-kill-disable"]);
    assert!(out.status.success(), "{out:?}");
    if common::cgroups::unified() {
        assert!(
            stderr(&out).contains("WARNING: Your kernel does not support OomKillDisable."),
            "{out:?}"
        );
        assert_eq!(inspect(&d, "waits")["HostConfig"]["OomKillDisable"], false);
    } else {
        assert!(!stderr(&out).contains("WARNING"), "{out:?}");
        let pid = inspect(&d, "waits")["State"]["Pid"].as_i64().unwrap();
        let dir = common::cgroups::group_dir(pid, "memory");
        let control = || std::fs::read_to_string(dir.join("memory.oom_control")).unwrap();
        common::eventually(Duration::from_secs(30), "under_oom 1", || {
            control().contains("under_oom 1")
        });
        assert!(control().contains("oom_kill 0"), "{}", control());
        let shown = inspect(&d, "waits");
        assert_eq!(shown["HostConfig"]["OomKillDisable"], true);
        assert_eq!(shown["State"]["Running"], true, "{}", shown["State"]);
        assert_eq!(shown["State"]["OOMKilled"], false);
        let started = Instant::now();
        ok(d.docker().args(["rm", "-f", "waits"]));
        // A bound a busy machine cannot break (it normally takes ~0.3 s),
        // far under the 10 s after which a kill that failed gives up.
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "rm -f took {:?}",
            started.elapsed()
        );
        assert!(!dir.exists(), "{} is left", dir.display());
    }
    // The control: the OOM killer on, the same container is killed.
    let out = hog("killed", &[]);
    assert_eq!(out.status.code(), Some(137), "{out:?}");
    let state = inspect(&d, "killed")["State"].clone();
    assert_eq!(
        (state["OOMKilled"].clone(), state["ExitCode"].clone()),
        (true.into(), 137.into())
    );
}

#[test]
fn the_minidock_cli_sends_the_same_settings() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--cap-add",
        "NET_ADMIN",
        "--cap-drop",
        "CHOWN",
        "--shm-size",
        "16m",
        "--ulimit",
        "nofile=100:200",
        "--sysctl",
        "kernel.shmmni=999",
        "--oom-score-adj",
        "300",
        "--group-add",
        "4321",
        "--init",
        "busybox",
        "sh",
        "-c",
        "grep CapEff /proc/self/status; df -k /dev/shm | tail -n 1; ulimit -n; ulimit -Hn; \
         cat /proc/sys/kernel/shmmni /proc/self/oom_score_adj; id -G; echo $$",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "CapEff:\t00000000a80435fa", "{out}");
    assert_eq!(lines[1].split_whitespace().nth(1), Some("16384"), "{out}");
    assert_eq!(&lines[2..6], ["100", "200", "999", "300"], "{out}");
    assert!(lines[6].split_whitespace().any(|g| g == "4321"), "{out}");
    assert_ne!(
        lines[7], "1",
        "the command is not PID 1 under --init: {out}"
    );

    d.ok(&[
        "create",
        "--name",
        "settings",
        "--network",
        "none",
        "--privileged",
        "--pid",
        "host",
        "--ipc",
        "host",
        "--uts",
        "host",
        "--stop-signal",
        "SIGUSR1",
        "--stop-timeout",
        "3",
        "busybox",
        "true",
    ]);
    let text = d.ok(&["inspect", "settings"]);
    let all: Value = serde_json::from_str(&text).expect("inspect prints JSON");
    let (config, host) = (&all[0]["Config"], &all[0]["HostConfig"]);
    assert_eq!(config["StopSignal"], "SIGUSR1");
    assert_eq!(config["StopTimeout"], 3);
    assert_eq!(host["Privileged"], true);
    assert_eq!(
        (&host["PidMode"], &host["IpcMode"], &host["UTSMode"]),
        (&"host".into(), &"host".into(), &"host".into())
    );
    assert_eq!(
        host["MaskedPaths"],
        serde_json::json!([]),
        "none for a privileged one"
    );
    let refused = d.run(&["run", "--rm", "--ulimit", "nofile", "busybox", "true"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--ulimit"),
        "{}",
        stderr(&refused)
    );
}
