//! The lifecycle commands end to end: create, start, pause, unpause, stop,
//! restart, kill, rm, wait, logs, exec, top, stats, inspect, ps — with the
//! `ps` table pinned by a snapshot (ids and times redacted).

mod common;

use std::time::Duration;

use common::{eventually, stderr, stdout, Daemon};

/// Filters that make `ps` output stable: ids and times vary per run.
fn table_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\b[0-9a-f]{12}\b", "[ID]"),
        (
            r"(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes|hours)) ago",
            "[WHEN] ago",
        ),
        (
            r"Up (Less than a second|About a minute|\d+ seconds?)",
            "Up [TIME]",
        ),
        // Column widths follow the (redacted) times: keep the columns,
        // not their padding (alignment is unit-tested in `format`).
        (r" {3,}", "   "),
    ]
}

fn status(d: &Daemon, name: &str) -> String {
    d.ok(&["inspect", "-f", "{{.State.Status}}", name])
        .trim()
        .to_string()
}

#[test]
fn a_container_goes_through_its_lifecycle() {
    let d = Daemon::start();
    d.load_busybox();

    let id = d.ok(&["create", "--name", "life", "busybox", "sleep", "300"]);
    let id = id.trim().to_string();
    assert_eq!(id.len(), 64);
    assert_eq!(status(&d, "life"), "created");
    assert_eq!(
        d.ok(&["ps", "-q"]),
        "",
        "a created container is not running"
    );
    assert_eq!(d.ok(&["ps", "-aq"]).trim(), &id[..12]);

    assert_eq!(d.ok(&["start", "life"]).trim(), "life");
    assert_eq!(status(&d, "life"), "running");
    assert_eq!(d.ok(&["inspect", "-f", "{{.Id}}", "life"]).trim(), id);

    assert_eq!(d.ok(&["pause", "life"]).trim(), "life");
    assert_eq!(status(&d, "life"), "paused");
    let ps = d.ok(&["ps"]);
    assert!(ps.contains("(Paused)"), "{ps}");
    insta::with_settings!({filters => table_filters()}, {
        insta::assert_snapshot!("ps_paused", ps);
    });

    assert_eq!(d.ok(&["unpause", "life"]).trim(), "life");
    assert_eq!(status(&d, "life"), "running");

    assert_eq!(d.ok(&["stop", "-t", "1", "life"]).trim(), "life");
    assert_eq!(status(&d, "life"), "exited");
    let ps = d.ok(&["ps", "-a"]);
    assert!(
        ps.contains("Exited (137)") || ps.contains("Exited (143)"),
        "{ps}"
    );

    assert_eq!(d.ok(&["restart", "-t", "1", "life"]).trim(), "life");
    assert_eq!(status(&d, "life"), "running");
    assert_eq!(d.ok(&["kill", "life"]).trim(), "life");
    eventually(Duration::from_secs(30), "kill to end the container", || {
        status(&d, "life") == "exited"
    });
    assert_eq!(
        d.ok(&["inspect", "-f", "{{.State.ExitCode}}", "life"])
            .trim(),
        "137"
    );

    assert_eq!(d.ok(&["rm", "life"]).trim(), "life");
    assert_eq!(d.ok(&["ps", "-aq"]), "");

    // Errors for each missing name, the others still done, exit 1.
    d.ok(&["create", "--name", "other", "busybox", "true"]);
    let out = d.run(&["rm", "nosuch", "other"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).trim(), "other");
    assert!(
        stderr(&out).contains("Error response from daemon: No such container: nosuch"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ps_prints_dockers_table() {
    let d = Daemon::start();
    d.load_busybox();
    // In different seconds, so that the order (newest first) does not depend
    // on how finely the daemon's clock tells them apart.
    let pause = common::next_second;
    assert_eq!(
        d.run(&["run", "--name", "done", "busybox", "sh", "-c", "exit 3"])
            .status
            .code(),
        Some(3)
    );
    pause();
    d.ok(&["run", "-d", "--name", "running", "busybox", "sleep", "300"]);
    pause();
    d.ok(&[
        "create",
        "--name",
        "fresh",
        "busybox",
        "echo",
        "a rather long command line",
    ]);

    let ps = d.ok(&["ps", "-a"]);
    let header = ps.lines().next().unwrap();
    for column in [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(ps.contains("\"echo a rather long …\""), "{ps}");
    // Order of rows: newest first.
    let names: Vec<&str> = ps
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(names, ["fresh", "running", "done"], "{ps}");
    insta::with_settings!({filters => table_filters()}, {
        insta::assert_snapshot!("ps_all", ps);
    });
    let wide = d.ok(&["ps", "-a", "--no-trunc"]);
    assert!(
        wide.contains("\"echo a rather long command line\""),
        "{wide}"
    );
}

#[test]
fn logs_follow_tail_and_timestamps() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "counter",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4; do echo line$i; sleep 0.3; done; echo bye >&2",
    ]);
    // -f returns when the container exits, with everything it wrote.
    let out = d.run(&["logs", "-f", "counter"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "line1\nline2\nline3\nline4\n");
    assert_eq!(stderr(&out), "bye\n");

    // The tail counts lines of both streams, as Docker's does.
    let out = d.run(&["logs", "--tail", "2", "counter"]);
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("line4\n", "bye\n")
    );
    let stamped = d.ok(&["logs", "-t", "counter"]);
    for line in stamped.lines() {
        let (time, text) = line.split_once(' ').unwrap();
        assert!(
            time.len() >= 20 && time.ends_with('Z') && time.contains('T'),
            "{line}"
        );
        assert!(text.starts_with("line"), "{line}");
    }
    assert_eq!(d.ok(&["wait", "counter"]).trim(), "0");
}

#[test]
fn exec_runs_in_the_container() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "-d", "--name", "host", "busybox", "sleep", "300"]);
    assert_eq!(
        d.ok(&["exec", "host", "hostname"]).trim(),
        &d.ok(&["inspect", "-f", "{{.Id}}", "host"]).trim()[..12]
    );

    let out = d.run(&["exec", "host", "sh", "-c", "echo to-err >&2; exit 4"]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_eq!(stderr(&out), "to-err\n");

    let out = d.run_with_stdin(&["exec", "-i", "host", "cat"], b"through exec\n");
    assert_eq!(stdout(&out), "through exec\n");

    let out = d.ok(&[
        "exec",
        "-e",
        "X=1",
        "-w",
        "/tmp",
        "-u",
        "65534",
        "host",
        "sh",
        "-c",
        "echo $X $(pwd) $(id -u)",
    ]);
    assert_eq!(out, "1 /tmp 65534\n");

    // -d: started in the background; its effect shows up.
    d.ok(&["exec", "-d", "host", "sh", "-c", "echo marked > /tmp/mark"]);
    eventually(
        Duration::from_secs(30),
        "the detached exec to write",
        || d.run(&["exec", "host", "cat", "/tmp/mark"]).stdout == b"marked\n",
    );

    let out = d.run(&["exec", "host", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
}

#[test]
fn wait_top_stats_and_inspect() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "seven",
        "busybox",
        "sh",
        "-c",
        "sleep 0.5; exit 7",
    ]);
    assert_eq!(d.ok(&["wait", "seven"]).trim(), "7");

    d.ok(&["run", "-d", "--name", "busy", "busybox", "sleep", "300"]);
    let top = d.ok(&["top", "busy"]);
    let titles: Vec<&str> = top.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        titles,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "{top}"
    );
    assert!(top.contains("sleep 300"), "{top}");
    // ps arguments go to ps, as in Docker
    let pid = d.ok(&["inspect", "-f", "{{.State.Pid}}", "busy"]);
    let custom = d.ok(&["top", "busy", "-o", "pid,comm"]);
    let rows: Vec<Vec<&str>> = custom
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [vec!["PID", "COMMAND"], vec![pid.trim(), "sleep"]],
        "{custom}"
    );

    let stats = d.ok(&["stats", "--no-stream"]);
    let mut lines = stats.lines();
    let header = lines.next().unwrap();
    for column in [
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row = lines.next().expect("a row for the running container");
    assert!(row.contains("busy"), "{row}");
    assert!(lines.next().is_none(), "only running containers: {stats}");

    let config = d.ok(&["inspect", "-f", "{{json .Config}}", "busy"]);
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["Cmd"], serde_json::json!(["sleep", "300"]));
    let whole = d.ok(&["inspect", "busy", "seven"]);
    let whole: serde_json::Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(whole.as_array().unwrap().len(), 2);
    assert_eq!(whole[1]["State"]["ExitCode"], 7);

    // An image is found too, and a missing name is an error.
    let image = d.ok(&["inspect", "-f", "{{.Id}}", "busybox"]);
    assert!(image.starts_with("sha256:"), "{image}");
    let out = d.run(&["inspect", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("No such object: nosuch"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn stop_sends_the_signal_it_is_given() {
    let d = Daemon::start();
    d.load_busybox();
    // PID 1 has no handler for SIGTERM, so the kernel drops it: plain stop
    // has to SIGKILL. With -s USR1 the trap runs and it exits by itself.
    let script = r#"trap "echo got-usr1; exit 0" USR1; echo ready; while :; do sleep 0.1; done"#;
    for name in ["term", "usr1"] {
        d.ok(&["run", "-d", "--name", name, "busybox", "sh", "-c", script]);
        eventually(Duration::from_secs(30), "ready", || {
            d.ok(&["logs", name]) == "ready\n"
        });
    }
    assert_eq!(d.ok(&["stop", "-t", "1", "term"]), "term\n");
    assert_eq!(d.ok(&["stop", "-t", "30", "-s", "USR1", "usr1"]), "usr1\n");
    let code = |name: &str| d.ok(&["inspect", "-f", "{{.State.ExitCode}}", name]);
    assert_eq!(code("term"), "137\n");
    assert_eq!(code("usr1"), "0\n");
    assert_eq!(d.ok(&["logs", "usr1"]), "ready\ngot-usr1\n");
    let out = d.run(&["stop", "-s", "NOPE", "term"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr(&out).contains("NOPE"), "{}", stderr(&out));
    d.ok(&["rm", "term", "usr1"]);
}

#[test]
fn ps_and_images_take_filters_formats_and_sizes() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "create", "--name", "first", "--label", "tier=db", "busybox", "true",
    ]);
    d.ok(&[
        "run",
        "--name",
        "second",
        "busybox",
        "sh",
        "-c",
        "echo 123456789 > /f",
    ]);
    d.ok(&["run", "-d", "--name", "third", "busybox", "sleep", "1000"]);

    // a raw template, one line per container, newest first
    assert_eq!(
        d.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]),
        "third running\nsecond exited\nfirst created\n"
    );
    // filters go to the daemon; -n implies -a
    assert_eq!(
        d.ok(&[
            "ps",
            "-a",
            "--filter",
            "label=tier=db",
            "--format",
            "{{.Names}} {{.Labels}}"
        ]),
        "first tier=db\n"
    );
    assert_eq!(
        d.ok(&[
            "ps",
            "--filter",
            "status=exited",
            "--filter",
            "name=sec",
            "-q"
        ])
        .len(),
        13
    );
    assert_eq!(
        d.ok(&["ps", "-n", "2", "--format", "{{.Names}}"]),
        "third\nsecond\n"
    );
    assert_eq!(d.ok(&["ps", "-l", "--format", "{{.Names}}"]), "third\n");
    // -s: what the container wrote (10 bytes)
    assert_eq!(
        d.ok(&[
            "ps",
            "-a",
            "-s",
            "--filter",
            "name=second",
            "--format",
            "{{.Size}}"
        ]),
        "10B\n"
    );
    // a table with the titles of the chosen fields
    let table = d.ok(&["ps", "-a", "--format", "table {{.Names}}\\t{{.Status}}"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "NAMES     STATUS");
    assert!(lines[1].starts_with("third     Up "), "{table}");
    assert!(lines[3].starts_with("first     Created"), "{table}");
    let bad = d.run(&["ps", "--format", "{{.Names"]);
    assert_eq!(bad.status.code(), Some(125), "{bad:?}");
    assert!(stderr(&bad).contains("template"), "{}", stderr(&bad));

    let images = d.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]);
    assert!(
        images.starts_with("busybox:latest ") && images.ends_with("MB\n"),
        "{images}"
    );
    assert_eq!(d.ok(&["images", "--filter", "dangling=true", "-q"]), "");
    d.ok(&["rm", "-f", "first", "second", "third"]);
}

#[test]
fn attach_joins_a_running_container_and_returns_its_code() {
    let d = Daemon::start();
    d.load_busybox();
    let script =
        r#"echo started; while read line; do echo "got $line"; [ "$line" = quit ] && exit 4; done"#;
    d.ok(&[
        "run", "-d", "-i", "--name", "att", "busybox", "sh", "-c", script,
    ]);
    eventually(Duration::from_secs(30), "started", || {
        d.ok(&["logs", "att"]) == "started\n"
    });
    // Output from now on (not the logged "started"), input from our stdin.
    let out = d.run_with_stdin(&["attach", "att"], b"hello\nquit\n");
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_eq!(stdout(&out), "got hello\ngot quit\n");
    let stopped = d.run(&["attach", "att"]);
    assert_eq!(stopped.status.code(), Some(1));
    assert!(stderr(&stopped).contains("cannot attach to a stopped container"));
    d.ok(&["rm", "att"]);
}

#[test]
fn rename_gives_a_running_container_a_new_name() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "-d", "--name", "old", "busybox", "sleep", "1000"]);
    d.ok(&["create", "--name", "other", "busybox", "true"]);
    assert_eq!(d.ok(&["rename", "old", "new"]), "");
    assert_eq!(d.ok(&["ps", "--format", "{{.Names}}"]), "new\n");
    assert_eq!(d.ok(&["inspect", "-f", "{{.Name}}", "new"]), "/new\n");
    assert_eq!(
        d.ok(&["exec", "new", "echo", "still running"]),
        "still running\n"
    );
    let gone = d.run(&["inspect", "old"]);
    assert_eq!(gone.status.code(), Some(1));
    // the old name is free again
    d.ok(&["create", "--name", "old", "busybox", "true"]);
    for (name, says) in [
        ("other", "already in use"),
        ("new", "same name"),
        ("bad name", "invalid container name"),
    ] {
        let out = d.run(&["rename", "new", name]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(stderr(&out).contains(says), "{name}: {}", stderr(&out));
    }
    d.ok(&["rm", "-f", "new", "other", "old"]);
}

#[test]
fn management_commands_are_the_same_commands() {
    let d = Daemon::start();
    d.load_busybox();
    assert_eq!(
        d.ok(&[
            "container",
            "run",
            "--rm",
            "-h",
            "box",
            "busybox",
            "hostname"
        ]),
        "box\n"
    );
    d.ok(&[
        "container",
        "create",
        "--name",
        "managed",
        "busybox",
        "true",
    ]);
    assert_eq!(
        d.ok(&["container", "ls", "-a", "--format", "{{.Names}}"]),
        "managed\n"
    );
    assert_eq!(d.ok(&["container", "ps", "-aq"]), d.ok(&["ps", "-aq"]));
    assert_eq!(d.ok(&["container", "rm", "managed"]), "managed\n");
    d.ok(&["image", "tag", "busybox", "copy:1"]);
    assert_eq!(
        d.ok(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]),
        d.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
    );
    assert_eq!(d.ok(&["image", "rm", "copy:1"]), "Untagged: copy:1\n");
    let unknown = d.run(&["container", "frobnicate"]);
    assert_eq!(unknown.status.code(), Some(125));
}
