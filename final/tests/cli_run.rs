//! `minidock run` end to end, against a real daemon: output, stdin, exit
//! codes with Docker's meanings, the container's settings, bind mounts.

mod common;

use common::{stderr, stdout, Daemon};
use rand::Rng;

#[test]
fn output_and_exit_codes_are_the_containers() {
    let d = Daemon::start();
    d.load_busybox();

    let out = d.run(&["run", "--rm", "busybox", "echo", "hello", "world"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}\n{}", d.log());
    assert_eq!(stdout(&out), "hello world\n");

    // stderr stays stderr (the frames of a non-TTY attach).
    let out = d.run(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n");

    let code: i32 = rand::thread_rng().gen_range(1..=120);
    let out = d.run(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        &format!("exit {code}"),
    ]);
    assert_eq!(out.status.code(), Some(code), "{out:?}");

    // --rm: nothing is left.
    assert_eq!(d.ok(&["ps", "-aq"]), "");
}

#[test]
fn failures_before_the_container_runs_have_dockers_codes() {
    let d = Daemon::start();
    d.load_busybox();

    // 127: the command does not exist.
    let out = d.run(&["run", "--rm", "busybox", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}\n{}", d.log());
    assert!(stderr(&out).contains("no-such-command"), "{}", stderr(&out));

    // 126: it exists but cannot be executed.
    let out = d.run(&["run", "--rm", "busybox", "/etc/passwd"]);
    assert_eq!(out.status.code(), Some(126), "{out:?}\n{}", d.log());

    // Without --rm the container stays created, and inspect tells why, as
    // Docker's does: the exit code and the error.
    let out = d.run(&["run", "--name", "broken", "busybox", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    assert_eq!(
        d.ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            "broken"
        ]),
        "created 127\n"
    );
    assert!(
        d.ok(&["inspect", "-f", "{{.State.Error}}", "broken"])
            .contains("no-such-command"),
        "the error names the command"
    );
    d.ok(&["rm", "broken"]);

    // 125: the image does not exist anywhere (its registry is a closed
    // port on this machine).
    let out = d.run(&["run", "--rm", "127.0.0.1:1/no/such:image", "true"]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    let err = stderr(&out);
    assert!(
        err.contains("Unable to find image '127.0.0.1:1/no/such:image' locally"),
        "{err}"
    );

    // 125: a daemon error, printed as Docker prints it.
    d.ok(&["create", "--name", "taken", "busybox", "true"]);
    let out = d.run(&["run", "--name", "taken", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    assert!(
        stderr(&out).starts_with("minidock: Error response from daemon: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn stdin_is_copied_and_closed_at_its_end() {
    let d = Daemon::start();
    d.load_busybox();
    let mut rng = rand::thread_rng();
    let text: String = (0..2000)
        .map(|_| rng.gen_range(b'a'..=b'z') as char)
        .collect();
    let out = d.run_with_stdin(
        &["run", "-i", "--rm", "busybox", "tr", "a-z", "A-Z"],
        text.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out), text.to_uppercase());

    // `wc -c` only answers after EOF: the half-close reached the container.
    let out = d.run_with_stdin(
        &["run", "-i", "--rm", "busybox", "wc", "-c"],
        text.as_bytes(),
    );
    assert_eq!(stdout(&out).trim(), text.len().to_string());
}

#[test]
fn flags_shape_the_container() {
    let d = Daemon::start();
    d.load_busybox();
    let env_file = d.scratch().join("env");
    std::fs::write(&env_file, "# a comment\nFROM_FILE=yes\n").unwrap();
    let out = d.ok(&[
        "run",
        "--rm",
        "-e",
        "GREETING=hi there",
        "--env-file",
        env_file.to_str().unwrap(),
        "-w",
        "/tmp",
        "-u",
        "65534:65534",
        "-h",
        "boxname",
        "busybox",
        "sh",
        "-c",
        "echo \"$GREETING|$FROM_FILE|$(pwd)|$(id -u):$(id -g)|$(hostname)\"",
    ]);
    assert_eq!(out, "hi there|yes|/tmp|65534:65534|boxname\n");

    let out = d.ok(&[
        "run",
        "--rm",
        "--entrypoint",
        "echo",
        "busybox",
        "from",
        "entrypoint",
    ]);
    assert_eq!(out, "from entrypoint\n");

    // --network none: only a loopback interface.
    let out = d.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ls",
        "/sys/class/net",
    ]);
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["lo"]);

    // -m and --pids-limit reach the container's settings.
    let id = d.ok(&[
        "create",
        "-m",
        "64m",
        "--pids-limit",
        "50",
        "--cpus",
        "0.5",
        "busybox",
        "true",
    ]);
    let limits = d.ok(&[
        "inspect",
        "-f",
        "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}}",
        id.trim(),
    ]);
    assert_eq!(limits.trim(), format!("{} 50 500000000", 64 * 1024 * 1024));
}

#[test]
fn detached_runs_print_the_id_and_keep_running() {
    let d = Daemon::start();
    d.load_busybox();
    let id = d.ok(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "60"]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(d.ok(&["ps", "-q"]).trim(), &id[..12]);
    assert_eq!(
        d.ok(&["inspect", "-f", "{{.State.Status}}", "sleeper"])
            .trim(),
        "running"
    );
    assert_eq!(d.ok(&["stop", "-t", "1", "sleeper"]).trim(), "sleeper");
    assert_eq!(d.ok(&["rm", "sleeper"]).trim(), "sleeper");
}

#[test]
fn bind_mounts_round_trip_and_read_only_refuses_writes() {
    let d = Daemon::start();
    d.load_busybox();
    let host_dir = d.scratch().join("shared");
    std::fs::create_dir_all(&host_dir).unwrap();
    let secret: u64 = rand::thread_rng().gen();
    let bind = format!("{}:/data", host_dir.display());

    // Written in the container, read on the host.
    d.ok(&[
        "run",
        "--rm",
        "-v",
        &bind,
        "busybox",
        "sh",
        "-c",
        &format!("echo {secret} > /data/from-container"),
    ]);
    let text = std::fs::read_to_string(host_dir.join("from-container")).unwrap();
    assert_eq!(text.trim(), secret.to_string());

    // Written on the host, read in the container.
    std::fs::write(host_dir.join("from-host"), format!("{secret}-host")).unwrap();
    let out = d.ok(&[
        "run",
        "--rm",
        "-v",
        &bind,
        "busybox",
        "cat",
        "/data/from-host",
    ]);
    assert_eq!(out, format!("{secret}-host"));

    // Read-only: the write fails inside, and nothing appears on the host.
    let ro = format!("{bind}:ro");
    let out = d.run(&[
        "run",
        "--rm",
        "-v",
        &ro,
        "busybox",
        "sh",
        "-c",
        "echo x > /data/nope",
    ]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    assert!(!host_dir.join("nope").exists());
    let out = d.ok(&[
        "run",
        "--rm",
        "-v",
        &ro,
        "busybox",
        "cat",
        "/data/from-host",
    ]);
    assert_eq!(out, format!("{secret}-host"));
}

#[test]
fn security_options_and_a_read_only_root_reach_the_container() {
    let d = Daemon::start();
    d.load_busybox();
    let status = "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr '\\t\\n' ' '";

    // Docker's defaults: the seccomp filter on, no_new_privs off.
    assert_eq!(
        d.ok(&["run", "--rm", "busybox", "sh", "-c", status]),
        "NoNewPrivs: 0 Seccomp: 2 "
    );
    let out = d.run(&["run", "--rm", "busybox", "unshare", "-U", "true"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr(&out).contains("Operation not permitted"), "{out:?}");

    // Each option changes exactly its own setting.
    assert_eq!(
        d.ok(&[
            "run",
            "--rm",
            "--security-opt",
            "seccomp=unconfined",
            "--security-opt",
            "no-new-privileges",
            "busybox",
            "sh",
            "-c",
            status
        ]),
        "NoNewPrivs: 1 Seccomp: 0 "
    );

    // --read-only: the root refuses writes; /dev/shm still takes them.
    d.ok(&[
        "create",
        "--name",
        "ro",
        "--read-only",
        "busybox",
        "sh",
        "-c",
        "touch /x; echo y > /dev/shm/y && echo shm-ok",
    ]);
    assert_eq!(
        d.ok(&["inspect", "-f", "{{.HostConfig.ReadonlyRootfs}}", "ro"]),
        "true\n"
    );
    let out = d.run(&["start", "-a", "ro"]);
    assert_eq!(stdout(&out), "shm-ok\n", "{out:?}");
    assert!(
        stderr(&out).contains("touch: /x: Read-only file system"),
        "{out:?}"
    );
    d.ok(&["rm", "ro"]);

    // What minidock cannot do is refused by name, not ignored.
    for (option, says) in [
        ("apparmor=docker-default", "apparmor=docker-default"),
        ("seccomp=/etc/profile.json", "one built-in seccomp profile"),
    ] {
        let out = d.run(&["run", "--rm", "--security-opt", option, "busybox", "true"]);
        assert_eq!(out.status.code(), Some(125), "{out:?}");
        assert!(stderr(&out).contains(says), "{option}: {}", stderr(&out));
    }
    assert_eq!(d.ok(&["ps", "-aq"]), "");
}
