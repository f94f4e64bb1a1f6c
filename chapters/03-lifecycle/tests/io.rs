//! A container's input and output, as root: the json-file log, attach,
//! TTY, and exec.

mod common;

use std::fs;
use std::time::Duration;

use minidock_lifecycle::attach::{collect, write_frame, Frame};
use minidock_lifecycle::config::{HostConfig, UserConfig};
use minidock_lifecycle::logs::{LogEntry, LogOptions, Stream};
use minidock_lifecycle::time::Timestamp;
use minidock_lifecycle::{ExecOptions, WaitCondition};

fn all_logs(
    f: &common::Fixture,
    id: &minidock_lifecycle::ContainerId,
    options: &LogOptions,
) -> Vec<LogEntry> {
    let mut out = Vec::new();
    f.runtime
        .logs(id, options, |e| {
            out.push(e.clone());
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn logs_keep_both_streams_in_order_with_timestamps() {
    let f = common::fixture();
    let n: u32 = rand::random::<u32>() % 100_000;
    let script = format!("echo out1 {n}; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; sleep 0.1; printf 'err2 no newline' >&2");
    let before = Timestamp::now();
    let id = f.create(&["sh", "-c", &script]);
    f.runtime.start(&id).unwrap();
    assert_eq!(
        f.runtime.wait(&id, WaitCondition::NotRunning).unwrap().code,
        0
    );
    let after = Timestamp::now();

    let entries = all_logs(&f, &id, &LogOptions::default());
    let got: Vec<(Stream, &str)> = entries.iter().map(|e| (e.stream, e.log.as_str())).collect();
    let first = format!("out1 {n}\n");
    assert_eq!(
        got,
        vec![
            (Stream::Stdout, first.as_str()),
            (Stream::Stderr, "err1\n"),
            (Stream::Stdout, "out2\n"),
            (Stream::Stderr, "err2 no newline"),
        ]
    );
    assert!(
        entries.windows(2).all(|w| w[0].time < w[1].time),
        "{entries:?}"
    );
    assert!(entries[0].time >= before && entries[3].time <= after);

    // the file is Docker's json-file format, one object per line
    let raw = fs::read_to_string(f.runtime.log_path(&id)).unwrap();
    for line in raw.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3, "{line}");
        let time = v["time"].as_str().unwrap();
        assert_eq!(time.len(), "2026-11-27T23:19:15.123456789Z".len(), "{time}");
        assert!(time.ends_with('Z'));
    }

    let only = |o: LogOptions| {
        all_logs(&f, &id, &o)
            .into_iter()
            .map(|e| e.log)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        only(LogOptions {
            stderr: false,
            ..Default::default()
        }),
        vec![first.clone(), "out2\n".into()]
    );
    assert_eq!(
        only(LogOptions {
            stdout: false,
            tail: Some(1),
            ..Default::default()
        }),
        vec!["err2 no newline".to_string()]
    );
    assert_eq!(
        only(LogOptions {
            since: Some(entries[2].time),
            ..Default::default()
        }),
        vec!["out2\n".to_string(), "err2 no newline".into()]
    );
    assert_eq!(
        only(LogOptions {
            until: Some(entries[1].time),
            ..Default::default()
        }),
        vec![first.clone()]
    );
    assert_eq!(
        entries[0].format(true),
        format!("{} {first}", entries[0].time.to_rfc3339_nanos())
    );
}

#[test]
fn logs_follow_until_the_container_exits() {
    let f = common::fixture();
    let id = f.create(&[
        "sh",
        "-c",
        "for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done",
    ]);
    f.runtime.start(&id).unwrap();
    let entries = all_logs(
        &f,
        &id,
        &LogOptions {
            follow: true,
            ..Default::default()
        },
    );
    let lines: Vec<String> = entries.into_iter().map(|e| e.log).collect();
    assert_eq!(
        lines,
        (1..=5).map(|i| format!("line {i}\n")).collect::<Vec<_>>()
    );
}

#[test]
fn attach_before_start_gets_everything_and_feeds_stdin() {
    let f = common::fixture();
    let config = UserConfig {
        open_stdin: true,
        ..Default::default()
    };
    let id = f.create_with(
        &[
            "sh",
            "-c",
            "echo early; read x; echo got $x; echo err >&2; exit 5",
        ],
        config,
        HostConfig::default(),
    );
    let mut stream = f.runtime.start_attached(&id).unwrap();
    let word = format!("w{}", rand::random::<u32>());
    write_frame(&mut stream, &Frame::Stdin(format!("{word}\n").into_bytes())).unwrap();
    write_frame(&mut stream, &Frame::CloseStdin).unwrap();
    let got = collect(&mut stream).unwrap();
    assert_eq!(
        String::from_utf8(got.stdout).unwrap(),
        format!("early\ngot {word}\n")
    );
    assert_eq!(String::from_utf8(got.stderr).unwrap(), "err\n");
    assert_eq!(got.exit_code, Some(5));
    // a second client attached to a running container sees later output
    let id2 = f.create_with(
        &["sh", "-c", "read x; echo after $x"],
        UserConfig {
            open_stdin: true,
            ..Default::default()
        },
        HostConfig::default(),
    );
    f.runtime.start(&id2).unwrap();
    let mut late = f.runtime.attach(&id2).unwrap();
    write_frame(&mut late, &Frame::Stdin(b"attach\n".to_vec())).unwrap();
    let got = collect(&mut late).unwrap();
    assert_eq!(got.stdout, b"after attach\n");
    assert_eq!(got.exit_code, Some(0));
}

#[test]
fn tty_mode_has_a_terminal_and_resizes_it() {
    let f = common::fixture();
    let config = UserConfig {
        open_stdin: true,
        tty: true,
        ..Default::default()
    };
    let id = f.create_with(
        &[
            "sh",
            "-c",
            "read x; stty size; [ -t 1 ] && echo is-a-tty; echo $TERM; tty",
        ],
        config,
        HostConfig::default(),
    );
    let mut stream = f.runtime.start_attached(&id).unwrap();
    let (rows, cols) = (
        20 + rand::random::<u16>() % 50,
        80 + rand::random::<u16>() % 100,
    );
    write_frame(&mut stream, &Frame::Resize { rows, cols }).unwrap();
    write_frame(&mut stream, &Frame::Stdin(b"go\n".to_vec())).unwrap();
    let got = collect(&mut stream).unwrap();
    let text = String::from_utf8_lossy(&got.stdout).replace('\r', "");
    assert!(text.contains(&format!("{rows} {cols}\n")), "{text:?}");
    assert!(text.contains("is-a-tty\nxterm\n"), "{text:?}");
    // The terminal is the container's own, named under its /dev/pts.
    assert!(text.contains("xterm\n/dev/pts/0\n"), "{text:?}");
    assert!(got.stderr.is_empty(), "a TTY has one stream");
    assert_eq!(got.exit_code, Some(0));
    assert!(all_logs(&f, &id, &LogOptions::default())
        .iter()
        .all(|e| e.stream == Stream::Stdout));
}

#[test]
fn with_a_tty_ctrl_c_interrupts_pid1_and_a_shell_has_job_control() {
    use minidock_lifecycle::attach::read_frame;
    let f = common::fixture();
    let config = UserConfig {
        open_stdin: true,
        tty: true,
        ..Default::default()
    };
    let word = format!("w{}", rand::random::<u32>());
    // `sh -i` as a child: without a controlling terminal it says "can't
    // access tty; job control turned off".
    let script = r#"echo exit | sh -i 2>&1 | grep -c "job control" | sed s/^/jobctl-/;
        trap "echo got-int-$W; exit 7" INT; echo ready-$W; while :; do sleep 0.1; done"#
        .replace("$W", &word);
    let id = f.create_with(&["sh", "-c", &script], config, HostConfig::default());
    let mut stream = f.runtime.start_attached(&id).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut seen = String::new();
    let mut read_until = |needle: &str, stream: &mut std::os::unix::net::UnixStream| {
        while !seen.contains(needle) {
            match read_frame(stream) {
                Ok(Some(Frame::Stdout(b))) => seen.push_str(&String::from_utf8_lossy(&b)),
                Ok(Some(Frame::Exit(code))) => {
                    seen.push_str(&format!("<exit {code}>"));
                }
                other => panic!("waiting for {needle:?}: {other:?}; got {seen:?}"),
            }
        }
        seen.clone()
    };
    let text = read_until(&format!("ready-{word}"), &mut stream);
    assert!(text.contains("jobctl-0"), "{text:?}");
    // ^C, as the client's terminal sends it in raw mode.
    write_frame(&mut stream, &Frame::Stdin(vec![0x03])).unwrap();
    read_until(&format!("got-int-{word}"), &mut stream);
    let text = read_until("<exit ", &mut stream);
    assert!(text.ends_with("<exit 7>"), "{text:?}");
}

#[test]
fn exec_joins_the_containers_namespaces_cgroup_and_files() {
    let f = common::fixture();
    let config = UserConfig {
        hostname: Some("box1".into()),
        env: vec!["FROM_CONFIG=yes".into()],
        ..Default::default()
    };
    let id = f.create_with(
        &["sh", "-c", "echo made-by-pid1 > /tmp/mark; exec sleep 1000"],
        config,
        HostConfig::default(),
    );
    f.runtime.start(&id).unwrap();
    let mark = f.rootfs(&id).join("tmp/mark");
    f.until("the mark file", common::PATIENCE, || mark.exists());

    let run = |options: ExecOptions| {
        f.runtime
            .exec(&id, options)
            .unwrap()
            .wait_with_output()
            .unwrap()
    };
    let exec = |args: &[&str]| {
        run(ExecOptions {
            args: args.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
    };

    // PID namespace: the container's init is PID 1, and only its processes are seen
    let (code, out, err) = exec(&["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'; hostname; cat /tmp/mark; echo $FROM_CONFIG"]);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "sleep 1000 ");
    let visible: usize = lines[1].parse().unwrap();
    assert!(
        (2..=4).contains(&visible),
        "saw {visible} processes: the host's would be many more"
    );
    assert_eq!(&lines[2..], ["box1", "made-by-pid1", "yes"]);

    // its seccomp filter: an exec'd process is as confined as PID 1
    let (_, out, _) = exec(&[
        "sh",
        "-c",
        "grep '^Seccomp:' /proc/1/status /proc/self/status",
    ]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "/proc/1/status:Seccomp:\t2\n/proc/self/status:Seccomp:\t2\n"
    );

    // its files: what exec writes, the host sees in the container's rootfs
    let word = format!("x{}", rand::random::<u32>());
    assert_eq!(
        exec(&["sh", "-c", &format!("echo {word} > /tmp/from-exec")]).0,
        0
    );
    assert_eq!(
        fs::read_to_string(f.rootfs(&id).join("tmp/from-exec")).unwrap(),
        format!("{word}\n")
    );

    // its cgroup, which only the exec'd process joins (not its helper)
    let (_, out, _) = exec(&["cat", "/proc/self/cgroup"]);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains(&format!("/{}/{}", f.tag, id)), "{out}");
    let mut p = f
        .runtime
        .exec(
            &id,
            ExecOptions {
                args: vec!["sleep".into(), "1000".into()],
                ..Default::default()
            },
        )
        .unwrap();
    let cmds = || -> Vec<String> {
        f.runtime
            .top(&id)
            .unwrap()
            .into_iter()
            .map(|t| t.cmd)
            .collect()
    };
    f.until("the exec'd sleep in the cgroup", common::PATIENCE, || {
        cmds() == ["sleep 1000", "sleep 1000"]
    });
    // the helper waiting for it is not in the container's cgroup
    assert_eq!(f.runtime.cgroup(&id).unwrap().pids().unwrap().len(), 2);
    p.kill().unwrap();
    assert_eq!(p.wait().unwrap(), 137);

    // exit code, env, user, working dir
    let code = 1 + rand::random::<u8>() % 200;
    assert_eq!(
        exec(&["sh", "-c", &format!("exit {code}")]).0,
        i32::from(code)
    );
    let (_, out, _) = run(ExecOptions {
        args: vec![
            "sh".into(),
            "-c".into(),
            "echo $A; id -u; id -g; pwd".into(),
        ],
        env: vec!["A=from-exec".into()],
        user: Some("nobody".into()),
        working_dir: Some("/tmp".into()),
        ..Default::default()
    });
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "from-exec\n65534\n65534\n/tmp\n"
    );
    assert_eq!(exec(&["no-such-command"]).0, 127);

    // exec needs a running container
    f.runtime
        .stop(&id, Some(Duration::from_millis(100)))
        .unwrap();
    let err = f
        .runtime
        .exec(
            &id,
            ExecOptions {
                args: vec!["true".into()],
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("not running"), "{err}");
}

#[test]
fn exec_with_a_tty() {
    let f = common::fixture();
    let id = f.create(&["sleep", "1000"]);
    f.runtime.start(&id).unwrap();
    let mut p = f
        .runtime
        .exec(
            &id,
            ExecOptions {
                args: vec![
                    "sh".into(),
                    "-c".into(),
                    "[ -t 0 ] && echo tty-in; echo \"name $(tty)\"; ls /dev/pts | tr '\\n' ' '; echo; exit 3".into(),
                ],
                tty: true,
                ..Default::default()
            },
        )
        .unwrap();
    let mut master = p.pty.take().unwrap();
    let code = p.wait().unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    use std::io::Read;
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&out).replace('\r', "");
    assert_eq!(code, 3);
    assert!(text.contains("tty-in\n"), "{text:?}");
    // A new terminal of the container's devpts: PID 1 has none, so the
    // exec's is /dev/pts/0, and no host terminal is visible.
    assert!(text.contains("name /dev/pts/0\n"), "{text:?}");
    assert!(text.contains("\n0 ptmx \n"), "{text:?}");
}
