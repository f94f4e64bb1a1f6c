//! `daemon.json` (`minidockd --config-file`): each key observed on a real
//! daemon, the keys a SIGHUP reloads, and the files minidockd refuses
//! (unknown keys, what minidock cannot do, a key that a flag also sets).

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{eventually, Daemon};
use minidock_testkit::{random_name, Registry};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::json;

/// `BASE/PREFIX` → (base, prefix).
fn cidr(text: &str) -> (u32, u32) {
    let (base, prefix) = text.split_once('/').unwrap();
    (
        u32::from(base.parse::<std::net::Ipv4Addr>().unwrap()),
        prefix.parse().unwrap(),
    )
}

#[test]
fn every_key_of_the_file_takes_effect() {
    let d = Daemon::start_with_config_file(
        json!({
            "group": "daemon",
            "debug": false,
            "log-driver": "json-file",
            "log-opts": {},
            "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1111, "Hard": 2222}},
            "dns": ["192.0.2.53"],
        }),
        &[],
    );
    d.load_busybox();
    let subnets: Vec<String> = std::fs::read_to_string(d.dir.join("subnets"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();

    // data-root: the state is there; exec-root and hosts: the socket is
    // there (the client reached it), in a directory of mode 0711.
    let info = d.client.info().unwrap();
    assert_eq!(Path::new(&info.docker_root_dir), d.dir.join("root"));
    assert!(d.dir.join("root/engine-id").is_file());
    let run = std::fs::metadata(d.dir.join("run")).unwrap();
    assert_eq!(run.permissions().mode() & 0o7777, 0o711);
    // group: the socket belongs to it.
    assert_eq!(
        std::fs::metadata(&d.socket).unwrap().gid(),
        1,
        "group daemon"
    );
    // debug.
    assert!(!info.debug);
    assert!(d.ok(&["info"]).contains(" Debug Mode: false"));

    // bip: the default network's subnet.
    let ipam = |net: &str| -> serde_json::Value {
        let text = d.ok(&[
            "network",
            "inspect",
            net,
            "--format",
            "{{json .IPAM.Config}}",
        ]);
        serde_json::from_str::<serde_json::Value>(&text).unwrap()[0].clone()
    };
    let bridge = ipam("bridge");
    let (base, _) = cidr(&subnets[0]);
    assert_eq!(bridge["Subnet"], json!(subnets[0]), "{bridge}");
    assert_eq!(
        bridge["Gateway"],
        json!(std::net::Ipv4Addr::from(base + 1).to_string()),
        "{bridge}"
    );
    // default-address-pools: a new network's subnet comes from the pool.
    let net = random_name("pooled");
    d.ok(&["network", "create", &net]);
    let subnet = ipam(&net)["Subnet"].as_str().unwrap().to_string();
    let (pool, size) = subnets[1].rsplit_once('/').unwrap();
    let (pool_base, pool_prefix) = cidr(pool);
    let (got_base, got_prefix) = cidr(&subnet);
    assert_eq!(got_prefix.to_string(), size, "{subnet}");
    let mask = u32::MAX << (32 - pool_prefix);
    assert_eq!(got_base & mask, pool_base, "{subnet} is not in {pool}");
    d.ok(&["network", "rm", &net]);

    // default-ulimits: a container gets them, unless it sets its own.
    let limits = d.ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn",
    ]);
    assert_eq!(
        limits.split_whitespace().collect::<Vec<_>>(),
        ["1111", "2222"]
    );
    let own = d.ok(&[
        "run",
        "--rm",
        "--ulimit",
        "nofile=100:200",
        "busybox",
        "sh",
        "-c",
        "ulimit -n",
    ]);
    assert_eq!(own.trim(), "100");
    // dns: a container that names no server gets the file's.
    let resolv = d.ok(&["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 192.0.2.53"), "{resolv}");
    let own = d.ok(&[
        "run",
        "--rm",
        "--dns",
        "198.51.100.1",
        "busybox",
        "cat",
        "/etc/resolv.conf",
    ]);
    assert!(
        own.contains("nameserver 198.51.100.1") && !own.contains("192.0.2.53"),
        "{own}"
    );

    // cgroup-parent: a container's cgroup is under it.
    let id = d.ok(&["run", "-d", "busybox", "sleep", "60"]);
    let pid = d.ok(&["inspect", "--format", "{{.State.Pid}}", id.trim()]);
    let cgroups = std::fs::read_to_string(format!("/proc/{}/cgroup", pid.trim())).unwrap();
    let parent = d.dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        cgroups.contains(&format!("/{parent}/")),
        "{cgroups}\nnot under {parent}"
    );
    d.ok(&["rm", "-f", id.trim()]);
}

/// Sends SIGHUP and waits for the daemon to log its answer (the n-th).
fn reload(d: &Daemon, answers_before: usize) -> String {
    kill(Pid::from_raw(d.pid() as i32), Signal::SIGHUP).unwrap();
    let answers = |log: &str| {
        log.lines()
            .filter(|l| l.contains("minidockd: reload"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    eventually(Duration::from_secs(20), "the daemon to reload", || {
        answers(&d.log()).len() > answers_before
    });
    answers(&d.log())[answers_before].clone()
}

#[test]
fn sighup_reloads_debug_mirrors_and_insecure_registries() {
    let mirror = Registry::start();
    let repo = random_name("reloaded");
    mirror.push_busybox(&format!("library/{repo}"), "latest");
    let d = Daemon::start_with_config_file(json!({"debug": false}), &[]);
    let info = d.client.info().unwrap();
    assert!(!info.debug && info.registry_config.mirrors.is_empty());

    // The file changes; nothing happens until SIGHUP.
    let path = d.dir.join("daemon.json");
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file["debug"] = json!(true);
    file["registry-mirrors"] = json!([format!("http://{}", mirror.addr())]);
    file["insecure-registries"] = json!(["registry.example:5000"]);
    file["log-driver"] = json!("json-file");
    // Not reloaded: applies at the next start.
    file["dns"] = json!(["192.0.2.53"]);
    std::fs::write(&path, file.to_string()).unwrap();
    assert!(!d.client.info().unwrap().debug);

    let said = reload(&d, 0);
    assert!(
        said.contains("debug=true")
            && said.contains(&mirror.addr())
            && said.contains("registry.example:5000"),
        "{said}"
    );
    let info = d.client.info().unwrap();
    assert!(info.debug);
    assert_eq!(
        info.registry_config.mirrors,
        [format!("http://{}", mirror.addr())]
    );
    assert!(!info.registry_config.index_configs["registry.example:5000"].secure);
    let text = d.ok(&["info"]);
    assert!(text.contains(" Debug Mode: true"), "{text}");
    assert!(
        text.contains(" Insecure Registries:\n  registry.example:5000\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(" Registry Mirrors:\n  http://{}\n", mirror.addr())),
        "{text}"
    );
    // Debug: requests are logged from now on.
    assert!(d.log().contains("GET /"), "{}", d.log());
    // The mirror serves a Docker Hub name (nothing goes to Docker Hub).
    d.ok(&["pull", &repo]);

    // A file the daemon cannot follow changes nothing, and says why.
    file["debug"] = json!(false);
    file["log-driver"] = json!("syslog");
    std::fs::write(&path, file.to_string()).unwrap();
    let said = reload(&d, 1);
    assert!(
        said.contains("failed, nothing changed") && said.contains("'syslog'"),
        "{said}"
    );
    assert!(d.client.info().unwrap().debug);
}

/// Runs minidockd with `args` (on a scratch directory) and expects it to
/// stop at once with exit code `code`; returns what it printed.
fn refused(dir: &Path, file: Option<serde_json::Value>, args: &[&str], code: i32) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_minidockd"));
    if let Some(file) = file {
        let mut keys = json!({
            "data-root": dir.join("root"),
            "exec-root": dir.join("run"),
            "hosts": [format!("unix://{}", dir.join("run/minidock.sock").display())],
        });
        for (key, value) in file.as_object().unwrap() {
            keys[key] = value.clone();
        }
        std::fs::write(dir.join("daemon.json"), keys.to_string()).unwrap();
        command.arg("--config-file").arg(dir.join("daemon.json"));
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("minidockd {args:?} did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(code), "{args:?}: {err}");
    err
}

#[test]
fn a_file_the_daemon_cannot_follow_stops_it_and_names_the_key() {
    minidock_testkit::require_root();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let err = refused(
        d,
        Some(json!({"debug": true, "storage-drivr": "overlay2"})),
        &[],
        2,
    );
    assert!(err.contains("unknown key(s) \"storage-drivr\""), "{err}");
    let err = refused(d, Some(json!({"log-driver": "syslog"})), &[], 2);
    assert!(
        err.contains("\"log-driver\": logger: no log driver named 'syslog'"),
        "{err}"
    );
    let err = refused(d, Some(json!({"log-opts": {"max-sise": "10m"}})), &[], 2);
    assert!(
        err.contains("\"log-opts\": unknown log opt 'max-sise' for json-file log driver"),
        "{err}"
    );
    let err = refused(
        d,
        Some(json!({"log-opts": {"max-size": "1m"}})),
        &["--log-opt", "max-file=2"],
        2,
    );
    assert!(
        err.contains("specified both as a flag and in the configuration file: log-opts"),
        "{err}"
    );
    let err = refused(
        d,
        Some(json!({"default-ulimits": {"nofiles": {"Soft": 1, "Hard": 2}}})),
        &[],
        2,
    );
    assert!(err.contains("unknown limit \"nofiles\""), "{err}");
    let err = refused(d, Some(json!({"debug": "yes"})), &[], 2);
    assert!(err.contains("\"debug\""), "{err}");
    let err = refused(d, Some(json!({"tls": true})), &[], 2);
    assert!(err.contains("mutual TLS"), "{err}");
    // A flag and a key for the same setting: dockerd's message.
    let err = refused(
        d,
        Some(json!({"debug": true, "group": "daemon"})),
        &["--debug"],
        2,
    );
    assert!(
        err.contains("specified both as a flag and in the configuration file: debug"),
        "{err}"
    );
    // tls*: the file's certificate paths are the ones used.
    let missing = d.join("no-such-ca.pem");
    let err = refused(
        d,
        Some(json!({
            "hosts": ["tcp://127.0.0.1:0"],
            "tlsverify": true,
            "tlscacert": missing,
            "tlscert": d.join("cert.pem"),
            "tlskey": d.join("key.pem"),
        })),
        &[],
        1,
    );
    assert!(err.contains(&missing.display().to_string()), "{err}");
    // A file named on the command line must exist.
    let err = refused(d, None, &["--config-file", "/nonexistent/daemon.json"], 2);
    assert!(err.contains("/nonexistent/daemon.json"), "{err}");
    // Nothing was made: every refusal came before the state directory.
    assert!(!d.join("root").exists());
}
