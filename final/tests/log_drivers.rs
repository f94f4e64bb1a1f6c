//! Log drivers with real containers: json-file rotation (`max-size`,
//! `max-file`, `compress`) read back across its files by `logs`, `--tail`
//! and `logs -f`; the `none` driver; options refused at create; the
//! daemon's defaults (flags, daemon.json, SIGHUP); the real `docker` CLI.

mod common;

use common::{docker_cli_available, eventually, ok, stderr, stdout, Daemon};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A shell loop that prints `n` numbered lines of about 45 bytes to
/// stdout, then exits. (One stream: two pipes do not keep the order of
/// lines written to both, in Docker either.)
fn writer(n: u32) -> String {
    format!(
        "i=0; while [ $i -lt {n} ]; do echo \"line $i padding-padding-padding-padding\"; \
         i=$((i+1)); done"
    )
}

/// The files of the container's log, by name, and its log path.
fn log_files(d: &Daemon, name: &str) -> (PathBuf, Vec<String>) {
    let path = PathBuf::from(d.ok(&["inspect", "-f", "{{.LogPath}}", name]).trim());
    let dir = path.parent().unwrap();
    let base = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&base))
        .collect();
    names.sort();
    (path, names)
}

/// The numbers of `logs` output lines (both streams, in file order).
fn numbers(text: &str) -> Vec<u32> {
    text.lines()
        .map(|l| {
            l.strip_prefix("line ")
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("not a line of the writer: {l:?}"))
        })
        .collect()
}

/// The line numbers `logs` shows (all on stdout).
fn logged(d: &Daemon, name: &str, extra: &[&str]) -> Vec<u32> {
    let mut args = vec!["logs"];
    args.extend_from_slice(extra);
    args.push(name);
    let out = d.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    numbers(&stdout(&out))
}

#[test]
fn json_file_rotates_at_max_size_and_logs_reads_across_the_files() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "rot",
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=3",
        "busybox",
        "sh",
        "-c",
        &writer(600),
    ]);
    let (path, names) = log_files(&d, "rot");
    let base = path.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        names,
        [base.clone(), format!("{base}.1"), format!("{base}.2")],
        "at most max-file files, with Docker's names"
    );
    // Each file stops growing at max-size plus at most one line.
    for name in &names {
        let size = std::fs::metadata(path.with_file_name(name)).unwrap().len();
        assert!(size <= 2000 + 200, "{name} is {size} bytes");
    }
    // `logs` shows the end of the output, whole and in order, across the
    // three files; the beginning fell off.
    let all = logged(&d, "rot", &[]);
    let first = all[0];
    assert!(first > 0 && *all.last().unwrap() == 599, "{all:?}");
    assert_eq!(all, (first..600).collect::<Vec<_>>());
    let lines_in_files: usize = names
        .iter()
        .map(|n| {
            std::fs::read_to_string(path.with_file_name(n))
                .unwrap()
                .lines()
                .count()
        })
        .sum();
    assert_eq!(all.len(), lines_in_files);
    // The tail spans the files: a file holds about 19 lines, and two
    // rotated ones are there.
    assert_eq!(
        logged(&d, "rot", &["--tail", "30"]),
        (570..600).collect::<Vec<_>>()
    );
    let inspect: Value =
        serde_json::from_str(&d.ok(&["inspect", "-f", "{{json .HostConfig.LogConfig}}", "rot"]))
            .unwrap();
    assert_eq!(
        inspect,
        json!({"Type": "json-file", "Config": {"max-size": "2k", "max-file": "3"}})
    );
    d.ok(&["rm", "rot"]);
}

#[test]
fn compressed_rotated_files_are_gzip_and_read_back_in_order() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "gz",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=4",
        "--log-opt",
        "compress=true",
        "busybox",
        "sh",
        "-c",
        &writer(300),
    ]);
    let (path, names) = log_files(&d, "gz");
    let base = path.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        names,
        [
            base.clone(),
            format!("{base}.1.gz"),
            format!("{base}.2.gz"),
            format!("{base}.3.gz")
        ]
    );
    // gzip itself (not this engine's code) reads each rotated file: the
    // json-file lines, oldest file first, follow on from each other.
    let mut from_files = Vec::new();
    for name in names.iter().skip(1).rev() {
        let out = Command::new("gzip")
            .arg("-dc")
            .arg(path.with_file_name(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "gzip -dc {name}: {}", stderr(&out));
        for line in stdout(&out).lines() {
            let entry: Value = serde_json::from_str(line).unwrap();
            from_files.push(entry["log"].as_str().unwrap().trim_end().to_string());
        }
    }
    for line in std::fs::read_to_string(&path).unwrap().lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        from_files.push(entry["log"].as_str().unwrap().trim_end().to_string());
    }
    let from_files = numbers(&from_files.join("\n"));
    let first = from_files[0];
    assert_eq!(from_files, (first..300).collect::<Vec<_>>());
    assert_eq!(logged(&d, "gz", &[]), from_files);
    // Three rotated files of 10 lines are there: the tail reaches into
    // the compressed ones.
    assert_eq!(
        logged(&d, "gz", &["--tail", "25"]),
        (275..300).collect::<Vec<_>>()
    );
    d.ok(&["rm", "gz"]);
}

#[test]
fn logs_follow_goes_on_across_rotations() {
    let d = Daemon::start();
    d.load_busybox();
    // About 100 bytes of log a line, 10 a file: each file rotates after
    // 10 lines, and all of them are kept.
    d.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=20",
        "busybox",
        "sh",
        "-c",
        "i=0; while [ $i -lt 120 ]; do echo \"line $i padding-padding-padding\"; i=$((i+1)); \
         sleep 0.02; done",
    ]);
    let out = d.run(&["logs", "-f", "slow"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(numbers(&stdout(&out)), (0..120).collect::<Vec<_>>());
    let (_, names) = log_files(&d, "slow");
    assert!(names.len() >= 5, "the log rotated several times: {names:?}");
    d.ok(&["rm", "slow"]);
}

#[test]
fn the_none_driver_keeps_nothing_and_logs_says_so() {
    let d = Daemon::start();
    d.load_busybox();
    // The attached client still gets the output live.
    let out = d.ok(&[
        "run",
        "--name",
        "quiet",
        "--log-driver",
        "none",
        "busybox",
        "echo",
        "hi",
    ]);
    assert_eq!(out, "hi\n");
    let out = d.run(&["logs", "quiet"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("configured logging driver does not support reading"),
        "{}",
        stderr(&out)
    );
    let id = d.ok(&["inspect", "-f", "{{.Id}}", "quiet"]);
    let raw = d
        .client
        .raw(
            "GET",
            &format!("/containers/{}/logs?stdout=1", id.trim()),
            None,
        )
        .unwrap();
    assert_eq!(raw.status, 501, "{}", String::from_utf8_lossy(&raw.body));
    assert_eq!(d.ok(&["inspect", "-f", "{{.LogPath}}", "quiet"]), "\n");
    let dir = d.root().join("containers").join(id.trim());
    let logs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("json.log"))
        .collect();
    assert!(logs.is_empty(), "no log file: {logs:?}");
    d.ok(&["rm", "quiet"]);
}

#[test]
fn bad_drivers_and_options_are_a_400_at_create_naming_them() {
    let d = Daemon::start();
    d.load_busybox();
    for (log_config, message) in [
        (
            json!({"Type": "syslog"}),
            "logger: no log driver named 'syslog' is registered",
        ),
        (
            json!({"Type": "local"}),
            "local log driver is not available",
        ),
        (
            json!({"Type": "json-file", "Config": {"max-sise": "1m"}}),
            "unknown log opt 'max-sise' for json-file log driver",
        ),
        (
            json!({"Type": "json-file", "Config": {"max-size": "lots"}}),
            "invalid size: 'lots'",
        ),
        (
            json!({"Type": "json-file", "Config": {"max-size": "1m", "compress": "true"}}),
            "compress cannot be true when max-file is less than 2",
        ),
    ] {
        let body =
            json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"LogConfig": log_config}});
        let raw = d
            .client
            .raw(
                "POST",
                "/containers/create",
                Some(body.to_string().as_bytes()),
            )
            .unwrap();
        let text = String::from_utf8_lossy(&raw.body);
        assert_eq!(raw.status, 400, "{log_config}: {text}");
        assert!(text.contains(message), "{log_config}: {text}");
    }
    let out = d.run(&["create", "--log-opt", "max-file=x", "busybox"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("max-file"), "{}", stderr(&out));
    assert_eq!(d.ok(&["ps", "-aq"]), "", "nothing was created");
}

/// Sends SIGHUP and waits for the daemon's n-th answer.
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

fn log_config(d: &Daemon, name: &str) -> Value {
    serde_json::from_str(&d.ok(&["inspect", "-f", "{{json .HostConfig.LogConfig}}", name])).unwrap()
}

#[test]
fn daemon_json_log_defaults_apply_to_new_containers_and_reload() {
    let d = Daemon::start_with_config_file(
        json!({"log-driver": "json-file", "log-opts": {"max-size": "1k", "max-file": "2"}}),
        &[],
    );
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "first",
        "busybox",
        "sh",
        "-c",
        &writer(100),
    ]);
    assert_eq!(
        log_config(&d, "first"),
        json!({"Type": "json-file", "Config": {"max-size": "1k", "max-file": "2"}})
    );
    let (_, names) = log_files(&d, "first");
    assert_eq!(names.len(), 2, "rotated as the defaults say: {names:?}");
    // A container's own option wins; the rest of the defaults still apply.
    d.ok(&[
        "create",
        "--name",
        "own",
        "--log-opt",
        "max-file=3",
        "busybox",
    ]);
    assert_eq!(
        log_config(&d, "own"),
        json!({"Type": "json-file", "Config": {"max-size": "1k", "max-file": "3"}})
    );

    // SIGHUP: the new defaults reach new containers only.
    let path = d.dir.join("daemon.json");
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file["log-driver"] = json!("none");
    file.as_object_mut().unwrap().remove("log-opts");
    std::fs::write(&path, file.to_string()).unwrap();
    let said = reload(&d, 0);
    assert!(said.contains("log-driver=none"), "{said}");
    d.ok(&["create", "--name", "after", "busybox"]);
    assert_eq!(
        log_config(&d, "after"),
        json!({"Type": "none", "Config": {}})
    );
    assert_eq!(log_config(&d, "first")["Type"], "json-file");
    assert!(d.ok(&["info"]).contains(" Logging Driver: none"));

    // A default no container could have is refused, and changes nothing.
    file["log-driver"] = json!("json-file");
    file["log-opts"] = json!({"max-size": "0"});
    std::fs::write(&path, file.to_string()).unwrap();
    let said = reload(&d, 1);
    assert!(
        said.contains("nothing changed") && said.contains("max-size must be a positive number"),
        "{said}"
    );
    d.ok(&["create", "--name", "still", "busybox"]);
    assert_eq!(log_config(&d, "still")["Type"], "none");
    d.ok(&["rm", "first", "own", "after", "still"]);
}

#[test]
fn log_flags_of_minidockd_set_the_defaults() {
    let d = Daemon::start_with_args(&["--log-opt", "max-size=5k", "--log-opt", "max-file=2"]);
    d.load_busybox();
    d.ok(&["create", "--name", "flagged", "busybox"]);
    assert_eq!(
        log_config(&d, "flagged"),
        json!({"Type": "json-file", "Config": {"max-size": "5k", "max-file": "2"}})
    );
    d.ok(&["rm", "flagged"]);
}

fn write_log_dir_listing(path: &Path) -> String {
    let dir = path.parent().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.join(" ")
}

#[test]
fn the_docker_cli_runs_with_log_opts_and_reads_the_rotated_log() {
    if !docker_cli_available() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let run = ok(d.docker().args([
        "run",
        "--name",
        "dk",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        "busybox",
        "sh",
        "-c",
        &writer(200),
    ]));
    assert_eq!(numbers(&run), (0..200).collect::<Vec<_>>(), "attached: all");
    let tail = ok(d.docker().args(["logs", "--tail", "6", "dk"]));
    assert_eq!(numbers(&tail), (194..200).collect::<Vec<_>>());
    let config = ok(d
        .docker()
        .args(["inspect", "-f", "{{json .HostConfig.LogConfig}}", "dk"]));
    let config: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(
        config,
        json!({"Type": "json-file", "Config": {"max-size": "1k", "max-file": "3"}})
    );
    let path = PathBuf::from(ok(d.docker().args(["inspect", "-f", "{{.LogPath}}", "dk"])).trim());
    let listing = write_log_dir_listing(&path);
    assert!(
        listing.contains("-json.log.2") && !listing.contains("-json.log.3"),
        "{listing}"
    );

    ok(d.docker().args([
        "run",
        "--name",
        "dn",
        "--log-driver",
        "none",
        "busybox",
        "true",
    ]));
    let out = d.docker().args(["logs", "dn"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(
            "Error response from daemon: configured logging driver does not support reading"
        ),
        "{}",
        stderr(&out)
    );
    let out = d
        .docker()
        .args(["create", "--log-opt", "max-sise=1m", "busybox"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("unknown log opt 'max-sise' for json-file log driver"),
        "{}",
        stderr(&out)
    );
    ok(d.docker().args(["rm", "dk", "dn"]));
}
