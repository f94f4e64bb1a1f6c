//! The daemon's API through the client library, against the real
//! `minidockd` with real containers (as root).

mod common;

use common::{eventually, Daemon};
use minidock_daemon::frames::StreamType;
use minidock_daemon::query::Filters;
use minidock_daemon::service::{AttachOptions, ListOptions, LogsOptions};
use minidock_daemon::types::*;
use minidock_daemon::wait::WaitCondition;
use minidock_testkit::{random_name, Registry};
use rand::RngCore;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::time::{Duration, Instant};

fn body(cmd: &[&str]) -> ContainerCreateBody {
    ContainerCreateBody {
        config: ContainerConfig {
            image: "busybox".into(),
            cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
            attach_stdout: true,
            attach_stderr: true,
            ..ContainerConfig::default()
        },
        host_config: HostConfig::default(),
    }
}

fn attach(daemon: &Daemon, id: &str, stdin: bool) -> minidock_client::Hijacked {
    daemon
        .client
        .container_attach(id, &AttachOptions::live(stdin))
        .unwrap()
}

fn all() -> ListOptions {
    ListOptions {
        all: true,
        ..ListOptions::default()
    }
}

#[test]
fn the_socket_is_0660_and_answers() {
    let daemon = Daemon::start();
    let meta = std::fs::metadata(&daemon.socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.mode() & 0o777, 0o660);
    let root = std::fs::metadata(daemon.root()).unwrap();
    assert_eq!(root.mode() & 0o777, 0o700);
    assert_eq!(daemon.client.ping().unwrap().api_version, "1.44");
    let info = daemon.client.info().unwrap();
    assert_eq!(info.docker_root_dir, daemon.root().display().to_string());
    assert_eq!((info.containers, info.images), (0, 0));
}

#[test]
fn docker_run_flow_create_attach_wait_start() {
    let daemon = Daemon::start();
    let c = &daemon.client;
    let missing = c.container_create(None, &body(&["true"])).unwrap_err();
    assert_eq!(missing.status(), Some(404));
    assert_eq!(missing.to_string(), "No such image: busybox:latest");
    daemon.load_busybox_via_api();

    let id = c
        .container_create(
            Some("flow"),
            &body(&["sh", "-c", "echo out; echo err >&2; echo more; exit 3"]),
        )
        .unwrap()
        .id;
    let mut attached = attach(&daemon, &id, false);
    let wait = c
        .container_wait_begin(&id, WaitCondition::NextExit)
        .unwrap();
    assert!(c.container_start(&id).unwrap());
    let mut out = Vec::new();
    let mut err = Vec::new();
    while let Some((stream, data)) = attached.output.next_chunk().unwrap() {
        match stream {
            StreamType::Stdout => out.extend(data),
            StreamType::Stderr => err.extend(data),
            other => panic!("unexpected stream {other:?}"),
        }
    }
    assert_eq!(out, b"out\nmore\n");
    assert_eq!(err, b"err\n");
    assert_eq!(wait.finish().unwrap().status_code, 3);

    let inspect = c.container_inspect("flow").unwrap();
    assert_eq!(inspect.state.status, "exited");
    assert_eq!(inspect.state.exit_code, 3);
    assert_eq!(inspect.name, "/flow");
    assert_eq!(inspect.host_config.log_config.unwrap().kind, "json-file");
    let logs = LogsOptions {
        stdout: true,
        stderr: true,
        ..LogsOptions::default()
    };
    let (lout, lerr) = c
        .container_logs(&id, &logs, false)
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(
        (lout.as_slice(), lerr.as_slice()),
        (&b"out\nmore\n"[..], &b"err\n"[..])
    );
    let tail = LogsOptions {
        tail: Some(1),
        stderr: false,
        ..logs.clone()
    };
    assert_eq!(
        c.container_logs(&id, &tail, false)
            .unwrap()
            .collect()
            .unwrap()
            .0,
        b"more\n"
    );
    let summary = &c.containers(&all()).unwrap()[0];
    assert!(
        summary.status.starts_with("Exited (3) "),
        "{}",
        summary.status
    );
    assert!(
        !c.container_start(&id).unwrap()
            || c.container_wait(&id, WaitCondition::NotRunning).is_ok()
    );
    c.container_remove(&id, true).unwrap();
    assert_eq!(c.container_inspect(&id).unwrap_err().status(), Some(404));
}

#[test]
fn stdin_through_the_hijack_with_half_close() {
    let daemon = Daemon::start();
    daemon.load_busybox_via_api();
    let c = &daemon.client;
    let mut b = body(&["sh", "-c", "cat; echo done >&2"]);
    b.config.open_stdin = true;
    b.config.stdin_once = true;
    b.config.attach_stdin = true;
    b.host_config.auto_remove = true;
    let id = c.container_create(None, &b).unwrap().id;
    let hijacked = attach(&daemon, &id, true);
    let removed = c.container_wait_begin(&id, WaitCondition::Removed).unwrap();
    c.container_start(&id).unwrap();
    let mut payload = vec![0u8; 100_000];
    rand::thread_rng().fill_bytes(&mut payload);
    let mut stdin = hijacked.stdin;
    let writer = std::thread::spawn(move || {
        stdin.write_all(&payload).unwrap();
        stdin.close().unwrap();
        payload
    });
    let (out, err) = hijacked.output.collect().unwrap();
    let payload = writer.join().unwrap();
    assert_eq!(out.len(), payload.len());
    assert!(out == payload, "stdin came back changed");
    assert_eq!(err, b"done\n");
    assert_eq!(removed.finish().unwrap().status_code, 0);
    assert_eq!(
        c.container_inspect(&id).unwrap_err().status(),
        Some(404),
        "--rm is done by the daemon"
    );
}

#[test]
fn exec_top_stats_pause_stop() {
    let daemon = Daemon::start();
    daemon.load_busybox_via_api();
    let c = &daemon.client;
    let id = c
        .container_create(None, &body(&["sleep", "1000"]))
        .unwrap()
        .id;
    c.container_start(&id).unwrap();
    let exec = c
        .exec_create(
            &id,
            &ExecConfig {
                attach_stdout: true,
                attach_stderr: true,
                cmd: vec![
                    "sh".into(),
                    "-c".into(),
                    "echo $((6*7)); hostname >&2; exit 4".into(),
                ],
                ..ExecConfig::default()
            },
        )
        .unwrap();
    let (out, err) = c
        .exec_start(&exec, false)
        .unwrap()
        .output
        .collect()
        .unwrap();
    assert_eq!(out, b"42\n");
    assert_eq!(String::from_utf8(err).unwrap().trim(), &id[..12]);
    let inspect = c.exec_inspect(&exec).unwrap();
    assert_eq!((inspect.running, inspect.exit_code), (false, Some(4)));

    let top = c.container_top(&id, None).unwrap();
    assert!(
        top.processes
            .iter()
            .any(|p| p.last().unwrap() == "sleep 1000"),
        "{top:?}"
    );
    let stats = c.container_stats(&id).unwrap();
    assert!(stats.pids_stats.current >= 1);
    assert!(stats.memory_stats.usage > 0);

    c.container_pause(&id).unwrap();
    assert!(c.container_inspect(&id).unwrap().state.paused);
    let listed = c.containers(&ListOptions::default()).unwrap();
    assert!(
        listed[0].status.ends_with("(Paused)"),
        "{}",
        listed[0].status
    );
    assert_eq!(c.container_pause(&id).unwrap_err().status(), Some(409));
    c.container_unpause(&id).unwrap();
    let started = Instant::now();
    assert!(c.container_stop(&id, Some(1), None).unwrap());
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(
        c.container_wait(&id, WaitCondition::NotRunning)
            .unwrap()
            .status_code,
        137
    );
    assert!(
        !c.container_stop(&id, Some(1), None).unwrap(),
        "a second stop is a 304"
    );
    let not_running = c.exec_create(
        &id,
        &ExecConfig {
            cmd: vec!["true".into()],
            ..ExecConfig::default()
        },
    );
    assert_eq!(not_running.unwrap_err().status(), Some(409));
}

#[test]
fn pull_streams_progress_and_concurrent_pulls_download_once() {
    let registry = Registry::start();
    let repo = random_name("bb");
    registry.push_busybox(&repo, "latest");
    let daemon = Daemon::start();
    let c = &daemon.client;
    let image = format!("{}/{repo}", registry.addr());

    let pulls: Vec<_> = (0..2)
        .map(|_| {
            let client = c.clone();
            let image = image.clone();
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                client
                    .image_pull(&image, Some("latest"), None)
                    .unwrap()
                    .finish(|m| statuses.extend(m.status.clone()))
                    .unwrap();
                statuses
            })
        })
        .collect();
    let results: Vec<Vec<String>> = pulls.into_iter().map(|t| t.join().unwrap()).collect();
    let downloaded: Vec<&Vec<String>> = results
        .iter()
        .filter(|s| {
            s.iter()
                .any(|m| m.starts_with("Status: Downloaded newer image for"))
        })
        .collect();
    assert_eq!(
        downloaded.len(),
        1,
        "exactly one pull downloads: {results:?}"
    );
    let first = downloaded[0];
    assert_eq!(first[0], format!("Pulling from {repo}"));
    for expected in ["Pulling fs layer", "Download complete", "Pull complete"] {
        assert!(
            first.iter().any(|m| m == expected),
            "{expected} missing in {first:?}"
        );
    }
    assert!(first.iter().any(|m| m.starts_with("Digest: sha256:")));
    let other = results.iter().find(|s| !std::ptr::eq(*s, first)).unwrap();
    assert!(
        other
            .iter()
            .any(|m| m.starts_with("Status: Image is up to date for")),
        "{other:?}"
    );
    let inspect = c.image_inspect(&format!("{image}:latest")).unwrap();
    assert_eq!(inspect.repo_tags, vec![format!("{image}:latest")]);
    assert_eq!(inspect.root_fs.kind, "layers");

    let missing = c.image_pull(
        &format!("{}/nothing-here", registry.addr()),
        Some("latest"),
        None,
    );
    assert_eq!(missing.err().expect("a 404").status(), Some(404));
}

#[test]
fn images_tag_rmi_refcount_save_load() {
    let daemon = Daemon::start();
    daemon.load_busybox_via_api();
    let c = &daemon.client;
    c.image_tag("busybox", "localhost:5000/team/bb", Some("v1"))
        .unwrap();
    let inspect = c.image_inspect("localhost:5000/team/bb:v1").unwrap();
    assert_eq!(inspect.id, c.image_inspect("busybox").unwrap().id);
    let id = c.container_create(None, &body(&["true"])).unwrap().id;
    // Another tag may go; the image may not while a container uses it.
    let untagged = c.image_remove("localhost:5000/team/bb:v1", false).unwrap();
    assert_eq!(
        untagged,
        vec![ImageDeleteItem::Untagged(
            "localhost:5000/team/bb:v1".into()
        )]
    );
    let conflict = c.image_remove("busybox", false).unwrap_err();
    assert_eq!(conflict.status(), Some(409));
    assert!(
        conflict.to_string().starts_with(&format!(
            "conflict: unable to remove repository reference \"busybox\" (must force) - container {} is using its referenced image",
            &id[..12]
        )),
        "{conflict}"
    );
    c.container_remove(&id, false).unwrap();

    let mut saved = Vec::new();
    c.image_save(&["busybox"], &mut saved).unwrap();
    let removed = c.image_remove("busybox", false).unwrap();
    assert!(matches!(removed.last(), Some(ImageDeleteItem::Deleted(d)) if *d == inspect.id));
    assert!(c.images(false).unwrap().is_empty());
    let mut lines = Vec::new();
    c.image_load(&mut &saved[..])
        .unwrap()
        .finish(|m| lines.extend(m.stream.clone()))
        .unwrap();
    assert_eq!(lines, vec!["Loaded image: busybox:latest\n".to_string()]);
    assert_eq!(c.image_inspect("busybox").unwrap().id, inspect.id);
}

#[test]
fn malformed_requests_get_4xx_and_the_daemon_keeps_serving() {
    let daemon = Daemon::start();
    let c = &daemon.client;
    let cases: [(&str, &str, Option<&[u8]>, u16); 6] = [
        ("POST", "/v1.44/containers/create", Some(b"{not json"), 400),
        (
            "POST",
            "/v1.44/containers/create",
            Some(br#"{"Image":7}"#),
            400,
        ),
        (
            "POST",
            "/v1.44/containers/create",
            Some(br#"{"Image":"busybox","HostConfig":{"Memory":-5}}"#),
            400,
        ),
        ("GET", "/v1.44/containers/..%2F..%2Fetc/json", None, 400),
        ("POST", "/v1.44/containers/abc/kill?signal=NOPE", None, 404),
        ("GET", "/v1.99/info", None, 400),
    ];
    for (method, path, payload, status) in cases {
        let r = c.raw(method, path, payload).unwrap();
        assert_eq!(
            r.status,
            status,
            "{method} {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            r.message().is_some_and(|m| !m.is_empty()),
            "{method} {path} has a message"
        );
    }
    let huge = vec![b'x'; 9 << 20];
    assert_eq!(
        c.raw("POST", "/v1.44/containers/create", Some(&huge))
            .unwrap()
            .status,
        413
    );
    assert_eq!(c.ping().unwrap().body, "OK");
}

#[test]
fn twenty_simultaneous_run_rm() {
    let daemon = Daemon::start();
    daemon.load_busybox_via_api();
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let client = daemon.client.clone();
            std::thread::spawn(move || {
                let mut b = body(&["sh", "-c", &format!("echo run {i}; exit {}", i % 4)]);
                b.host_config.auto_remove = true;
                let id = client.container_create(None, &b).unwrap().id;
                let attached = client
                    .container_attach(&id, &AttachOptions::live(false))
                    .unwrap();
                let removed = client
                    .container_wait_begin(&id, WaitCondition::Removed)
                    .unwrap();
                client.container_start(&id).unwrap();
                let (out, _) = attached.output.collect().unwrap();
                assert_eq!(out, format!("run {i}\n").into_bytes());
                assert_eq!(removed.finish().unwrap().status_code, i64::from(i % 4));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(daemon.client.containers(&all()).unwrap().is_empty());
}

#[test]
fn events_report_the_lifecycle() {
    let daemon = Daemon::start();
    daemon.load_busybox_via_api();
    let c = &daemon.client;
    let mut events = c
        .events(
            &Filters::parse(r#"{"type":["container"]}"#).unwrap(),
            None,
            None,
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let id = c.container_create(Some("ev"), &body(&["true"])).unwrap().id;
    c.container_start(&id).unwrap();
    c.container_wait(&id, WaitCondition::NotRunning).unwrap();
    let actions: Vec<String> = (0..3)
        .map(|_| events.next().unwrap().unwrap().action)
        .collect();
    assert_eq!(actions, ["create", "start", "die"]);
}

#[test]
fn sigkill_of_the_daemon_leaves_containers_running_and_they_are_adopted() {
    let daemon = Daemon::start();
    daemon.load_busybox_via_api();
    let c = &daemon.client;
    let mut long_body = body(&["sh", "-c", "echo before; read line; echo got $line; exit 9"]);
    long_body.config.open_stdin = true;
    let long = c.container_create(Some("long"), &long_body).unwrap().id;
    let done = c
        .container_create(Some("done"), &body(&["sh", "-c", "echo bye; exit 7"]))
        .unwrap()
        .id;
    c.container_start(&done).unwrap();
    assert_eq!(
        c.container_wait(&done, WaitCondition::NotRunning)
            .unwrap()
            .status_code,
        7
    );
    let sleeper = c
        .container_create(Some("sleeper"), &body(&["sleep", "1000"]))
        .unwrap()
        .id;
    c.container_start(&sleeper).unwrap();
    c.container_start(&long).unwrap();
    let pid = c.container_inspect(&sleeper).unwrap().state.pid;
    assert!(pid > 0);

    let (dir, leaks) = daemon.kill9();
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the container died with the daemon"
    );
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    let c = &daemon.client;
    let again = c.container_inspect("sleeper").unwrap();
    assert!(again.state.running);
    assert_eq!(again.state.pid, pid, "the same process, adopted");
    assert_eq!(c.container_inspect("done").unwrap().state.exit_code, 7);
    let logs = LogsOptions {
        stdout: true,
        stderr: true,
        ..LogsOptions::default()
    };
    assert_eq!(
        c.container_logs("done", &logs, false)
            .unwrap()
            .collect()
            .unwrap()
            .0,
        b"bye\n"
    );
    // The adopted container's exit is seen at once.
    let pending = c
        .container_wait_begin("sleeper", WaitCondition::NotRunning)
        .unwrap();
    c.container_kill("sleeper", Some("KILL")).unwrap();
    assert_eq!(pending.finish().unwrap().status_code, 137);
    // Stdin reaches an adopted container, and its output comes back.
    assert!(c.container_inspect(&long).unwrap().state.running);
    let hijacked = attach(&daemon, "long", true);
    let exited = c
        .container_wait_begin("long", WaitCondition::NotRunning)
        .unwrap();
    let mut stdin = hijacked.stdin;
    stdin.write_all(b"x\n").unwrap();
    let (out, _) = hijacked.output.collect().unwrap();
    assert_eq!(out, b"got x\n");
    assert_eq!(exited.finish().unwrap().status_code, 9);
    assert_eq!(
        c.container_logs("long", &logs, false)
            .unwrap()
            .collect()
            .unwrap()
            .0,
        b"before\ngot x\n"
    );
}

/// The shim above a container's process: the nearest ancestor whose
/// command line is the shim role.
fn shim_of(pid: i32) -> i32 {
    let mut current = pid;
    for _ in 0..5 {
        let status = std::fs::read_to_string(format!("/proc/{current}/status")).unwrap();
        current = status
            .lines()
            .find_map(|l| {
                l.strip_prefix("PPid:")
                    .map(|v| v.trim().parse::<i32>().unwrap())
            })
            .unwrap();
        let cmdline = std::fs::read(format!("/proc/{current}/cmdline")).unwrap_or_default();
        if cmdline.split(|b| *b == 0).any(|a| a == b"__minidock_shim") {
            return current;
        }
    }
    panic!("no shim above pid {pid}");
}

#[test]
fn restart_policies_on_exit_and_on_daemon_start() {
    let daemon = Daemon::start();
    daemon.load_busybox_via_api();
    let c = &daemon.client;
    let policy = |name: &str, max: i64| RestartPolicy {
        name: name.to_string(),
        maximum_retry_count: max,
    };
    let mut failing = body(&["sh", "-c", "echo try; exit 1"]);
    failing.host_config.restart_policy = Some(policy("on-failure", 2));
    let failing = c.container_create(Some("failing"), &failing).unwrap().id;
    let waited = c
        .container_wait_begin(&failing, WaitCondition::NextExit)
        .unwrap();
    c.container_start(&failing).unwrap();
    assert_eq!(waited.finish().unwrap().status_code, 1);
    let inspect = c.container_inspect(&failing).unwrap();
    assert_eq!(inspect.restart_count, 2);
    assert_eq!(inspect.state.exit_code, 1);
    let logs = LogsOptions {
        stdout: true,
        ..LogsOptions::default()
    };
    assert_eq!(
        c.container_logs(&failing, &logs, false)
            .unwrap()
            .collect()
            .unwrap()
            .0,
        b"try\ntry\ntry\n"
    );

    let mut always = body(&["sleep", "1000"]);
    always.host_config.restart_policy = Some(policy("always", 0));
    let always = c.container_create(Some("always"), &always).unwrap().id;
    c.container_start(&always).unwrap();
    let mut stopped = body(&["sleep", "1000"]);
    stopped.host_config.restart_policy = Some(policy("unless-stopped", 0));
    let stopped = c.container_create(Some("stopped"), &stopped).unwrap().id;
    c.container_start(&stopped).unwrap();
    c.container_stop(&stopped, Some(0), None).unwrap();

    // The machine "reboots": the daemon, the shim and the container die.
    let old_pid = c.container_inspect(&always).unwrap().state.pid as i32;
    let shim = shim_of(old_pid);
    let (dir, leaks) = daemon.kill9();
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    kill(Pid::from_raw(shim), Signal::SIGKILL).unwrap();
    kill(Pid::from_raw(old_pid), Signal::SIGKILL).unwrap();
    eventually(Duration::from_secs(30), "the container to die", || {
        !std::path::Path::new(&format!("/proc/{old_pid}")).exists()
    });
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    let c = &daemon.client;
    let back = c.container_inspect("always").unwrap();
    assert!(back.state.running, "always: started again by the daemon");
    assert_ne!(back.state.pid as i32, old_pid);
    assert!(
        !c.container_inspect("stopped").unwrap().state.running,
        "unless-stopped: stopped by hand stays stopped"
    );
}

#[test]
fn hostile_archives_are_refused_or_contained_and_harm_nothing() {
    let daemon = Daemon::start();
    daemon.load_busybox_via_api();
    let c = &daemon.client;
    let id = c
        .container_create(Some("target"), &body(&["sleep", "1000"]))
        .unwrap()
        .id;
    c.container_start(&id).unwrap();
    let canary = minidock_testkit::Canary::plant(&daemon.scratch().join("canary-dir"));

    // Every attack of the test kit, as a `docker cp` into the container:
    // refused (400, naming what) or kept inside it.
    for layer in minidock_testkit::hostile_layers(canary.dir()) {
        match c.container_archive_put(&id, "/tmp", &mut layer.tar.as_slice()) {
            Ok(()) => {}
            Err(minidock_client::ClientError::Api {
                status: 400,
                message,
            }) => {
                assert!(message.contains("refused"), "{}: {message}", layer.name)
            }
            Err(e) => panic!("{}: {e:?}", layer.name),
        }
        canary.assert_untouched();
        // the canary file and dir themselves are the targets of "change"
        // attacks, which assert_untouched covers; other paths must not exist
        if let Some(path) = &layer.canary {
            let target = std::path::Path::new(path);
            if target != canary.dir() && target != canary.dir().join(minidock_testkit::CANARY_FILE)
            {
                assert!(
                    std::fs::symlink_metadata(target).is_err(),
                    "{} created {path}",
                    layer.name
                );
            }
        }
    }
    // not a tar at all
    let err = c
        .container_archive_put(&id, "/tmp", &mut &b"this is not a tar archive"[..])
        .unwrap_err();
    assert!(
        matches!(&err, minidock_client::ClientError::Api { status: 400, .. }),
        "{err:?}"
    );

    // the container and the daemon are unharmed: a good copy still works
    let good = minidock_testkit::LayerSpec::new(
        minidock_testkit::Compression::None,
        vec![minidock_testkit::Entry::file("fine.txt", "fine\n", 0o644)],
    )
    .tar();
    c.container_archive_put(&id, "/tmp", &mut good.as_slice())
        .unwrap();
    let mut out = Vec::new();
    let stat = c
        .container_archive_get(&id, "/tmp/fine.txt", &mut out)
        .unwrap();
    assert_eq!((stat.name.as_str(), stat.size), ("fine.txt", 5));
    assert!(c.container_inspect(&id).unwrap().state.running);
    c.container_remove(&id, true).unwrap();
}
