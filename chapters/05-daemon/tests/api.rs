//! The API over a real socket, against in-memory services: routing,
//! versions, statuses, the hijack, wait, logs, streams, malformed requests.

mod common;

use common::{body, saved_bytes, TestServer};
use minidock_client::{Client, ClientError};
use minidock_daemon::frames::StreamType;
use minidock_daemon::query::Filters;
use minidock_daemon::service::{AttachOptions, ListOptions, LogsOptions};
use minidock_daemon::types::*;
use minidock_daemon::wait::WaitCondition;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

fn attach_all(client: &Client, id: &str, stdin: bool) -> minidock_client::Hijacked {
    client
        .container_attach(id, &AttachOptions::live(stdin))
        .unwrap()
}

#[test]
fn ping_answers_ok_with_the_negotiation_headers() {
    let server = TestServer::start();
    for method in ["GET", "HEAD"] {
        let r = server.client.raw(method, "/_ping", None).unwrap();
        assert_eq!(r.status, 200, "{method}");
        assert_eq!(r.header("Api-Version"), Some("1.44"));
        assert_eq!(r.header("Ostype"), Some("linux"));
        assert_eq!(r.header("Docker-Experimental"), Some("false"));
        assert_eq!(r.header("Builder-Version"), Some("1"));
        assert_eq!(r.header("Swarm"), Some("inactive"));
        assert_eq!(
            r.header("Cache-Control"),
            Some("no-cache, no-store, must-revalidate")
        );
        assert_eq!(r.header("Pragma"), Some("no-cache"));
        assert!(r.header("Server").unwrap().starts_with("minidock/"));
        let expected: &[u8] = if method == "GET" { b"OK" } else { b"" };
        assert_eq!(r.body, expected, "{method}");
    }
    assert_eq!(server.client.ping().unwrap().api_version, "1.44");
}

#[test]
fn paths_work_with_and_without_a_version_prefix() {
    let server = TestServer::start();
    for path in [
        "/version",
        "/v1.44/version",
        "/v1.24/version",
        "/v1.40/version",
    ] {
        let r = server.client.raw("GET", path, None).unwrap();
        assert_eq!(r.status, 200, "{path}");
        let v: SystemVersion = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v.api_version, "1.44");
        assert_eq!(v.min_api_version, "1.24");
        assert_eq!(r.header("Api-Version"), Some("1.44"));
    }
    let new = server
        .client
        .raw("GET", "/v1.50/containers/json", None)
        .unwrap();
    assert_eq!(new.status, 400);
    assert_eq!(
        new.message().unwrap(),
        "client version 1.50 is too new. Maximum supported API version is 1.44"
    );
    let old = server.client.raw("GET", "/v1.12/info", None).unwrap();
    assert_eq!(old.status, 400);
    assert!(old
        .message()
        .unwrap()
        .contains("is too old. Minimum supported API version is 1.24"));
    let info = server.client.info().unwrap();
    assert_eq!(info.os_type, "linux");
    assert_eq!(info.images, 1);
    // The machine comes from the host service, here the fake's.
    let host = common::fake_host_facts();
    assert_eq!(
        (info.kernel_version, info.operating_system, info.mem_total),
        (host.kernel_version, host.operating_system, host.mem_total)
    );
    assert_eq!(
        (info.ncpu, info.cgroup_version, info.name),
        (3, "2".into(), "fakehost".into())
    );
}

#[test]
fn errors_have_dockers_statuses_and_messages() {
    let server = TestServer::start();
    let c = &server.client;
    let missing = c.container_inspect("nope").unwrap_err();
    assert_eq!(missing.status(), Some(404));
    assert_eq!(missing.to_string(), "No such container: nope");

    let mut b = body(&["echo", "hi"]);
    b.config.image = "alpine".into();
    let no_image = c.container_create(None, &b).unwrap_err();
    assert_eq!(no_image.status(), Some(404));
    assert_eq!(no_image.to_string(), "No such image: alpine:latest");

    let id = c
        .container_create(Some("web"), &body(&["sleep"]))
        .unwrap()
        .id;
    let taken = c
        .container_create(Some("web"), &body(&["sleep"]))
        .unwrap_err();
    assert_eq!(taken.status(), Some(409));
    assert!(taken.to_string().contains("is already in use"));
    assert!(c.container_start(&id).unwrap());
    assert!(
        !c.container_start("web").unwrap(),
        "a second start is a 304"
    );
    let running = c.container_remove(&id, false).unwrap_err();
    assert_eq!(running.status(), Some(409));
    c.container_remove(&id, true).unwrap();
    assert_eq!(c.container_inspect(&id).unwrap_err().status(), Some(404));

    let bad_name = c
        .container_create(Some("-x"), &body(&["echo"]))
        .unwrap_err();
    assert_eq!(bad_name.status(), Some(400));
    let r = c.raw("GET", "/v1.44/frobnicate", None).unwrap();
    assert_eq!(
        (r.status, r.message().as_deref()),
        (404, Some("page not found"))
    );
    let r = c
        .raw("POST", "/v1.44/exec/nope/start", Some(b"{}"))
        .unwrap();
    assert_eq!(
        (r.status, r.message().as_deref()),
        (404, Some("No such exec instance: nope"))
    );
    assert_eq!(r.header("Content-Type"), Some("application/json"));
}

#[test]
fn malformed_requests_get_a_4xx_and_the_daemon_keeps_serving() {
    let server = TestServer::start();
    let c = &server.client;
    let bad_json = c
        .raw("POST", "/v1.44/containers/create", Some(b"{\"Image\": "))
        .unwrap();
    assert_eq!(bad_json.status, 400);
    assert!(bad_json.message().unwrap().contains("invalid JSON"));
    let wrong_type = c
        .raw(
            "POST",
            "/v1.44/containers/create",
            Some(br#"{"Image":"busybox","HostConfig":{"Memory":"lots"}}"#),
        )
        .unwrap();
    assert_eq!(wrong_type.status, 400);
    let no_body = c.raw("POST", "/v1.44/containers/create", None).unwrap();
    assert_eq!(no_body.status, 400);
    let huge = vec![b' '; 9 * 1024 * 1024];
    let too_big = c
        .raw("POST", "/v1.44/containers/create", Some(&huge))
        .unwrap();
    assert_eq!(too_big.status, 413);
    for bad in [
        "/v1.44/containers/..%2F..%2Fetc/json",
        "/v1.44/containers/a%20b/json",
        "/v1.44/containers/_x/json",
    ] {
        let r = c.raw("GET", bad, None).unwrap();
        assert_eq!(r.status, 400, "{bad}");
    }
    let bad_query = c
        .raw("POST", "/v1.44/containers/x/stop?t=soon", None)
        .unwrap();
    assert_eq!(bad_query.status, 400);
    let bad_condition = c
        .raw("POST", "/v1.44/containers/x/wait?condition=later", None)
        .unwrap();
    assert_eq!(bad_condition.status, 400);

    // Garbage that is not HTTP at all: the connection is dropped, nothing else.
    let mut raw = UnixStream::connect(&server.socket).unwrap();
    raw.write_all(b"\x00\x01\x02 not http\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    raw.read_to_end(&mut answer).ok();

    // Unknown fields and nulls, as docker-py sends them, are fine.
    let lenient = c
        .raw(
            "POST",
            "/v1.44/containers/create",
            Some(br#"{"Image":"busybox","Cmd":["echo","x"],"Hostname":null,"Env":null,"Tty":null,"Frobnicate":{"a":1},"HostConfig":{"Binds":null,"Whatever":true}}"#),
        )
        .unwrap();
    assert_eq!(
        lenient.status,
        201,
        "{}",
        String::from_utf8_lossy(&lenient.body)
    );
    assert_eq!(c.ping().unwrap().body, "OK");
}

#[test]
fn docker_run_flow_attach_wait_start() {
    let server = TestServer::start();
    let c = &server.client;
    let id = c.container_create(None, &body(&["both"])).unwrap().id;
    let mut attached = attach_all(c, &id, false);
    assert!(!attached.output.tty());
    let wait = c
        .container_wait_begin(&id, WaitCondition::NextExit)
        .unwrap();
    c.container_start(&id).unwrap();
    let mut chunks = Vec::new();
    while let Some(chunk) = attached.output.next_chunk().unwrap() {
        chunks.push(chunk);
    }
    assert_eq!(
        chunks,
        vec![
            (StreamType::Stdout, b"to stdout\n".to_vec()),
            (StreamType::Stderr, b"to stderr\n".to_vec()),
            (StreamType::Stdout, b"stdout again\n".to_vec()),
        ]
    );
    assert_eq!(wait.finish().unwrap(), WaitResponse::new(0, None));
}

#[test]
fn attach_stream_is_framed_on_the_wire() {
    let server = TestServer::start();
    let c = &server.client;
    let id = c.container_create(None, &body(&["echo", "hi"])).unwrap().id;
    let mut stream = UnixStream::connect(&server.socket).unwrap();
    write!(
        stream,
        "POST /v1.44/containers/{id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\n\
         Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("connection: upgrade"), "{head}");
    assert!(lower.contains("upgrade: tcp"), "{head}");
    assert!(
        lower.contains("content-type: application/vnd.docker.multiplexed-stream"),
        "{head}"
    );
    c.container_start(&id).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n");
}

#[test]
fn wait_sends_its_headers_before_the_container_exits() {
    let server = TestServer::start();
    let c = &server.client;
    let id = c.container_create(None, &body(&["sleep"])).unwrap().id;
    c.container_start(&id).unwrap();
    let begun = Instant::now();
    let pending = c
        .container_wait_begin(&id, WaitCondition::NotRunning)
        .unwrap();
    assert!(begun.elapsed() < Duration::from_secs(2));
    assert!(
        c.container_inspect(&id).unwrap().state.running,
        "the headers came while it still ran"
    );
    c.container_kill(&id, None).unwrap();
    assert_eq!(pending.finish().unwrap().status_code, 137);
    // not-running on a stopped container answers at once; next-exit waits for a new exit.
    assert_eq!(
        c.container_wait(&id, WaitCondition::NotRunning)
            .unwrap()
            .status_code,
        137
    );
    let next = c
        .container_wait_begin(&id, WaitCondition::NextExit)
        .unwrap();
    c.container_start(&id).unwrap();
    c.container_stop(&id, Some(1), None).unwrap();
    assert_eq!(next.finish().unwrap().status_code, 143);
}

#[test]
fn run_rm_waits_for_the_removal_done_by_the_daemon() {
    let server = TestServer::start();
    let c = &server.client;
    let mut b = body(&["exit", "3"]);
    b.host_config.auto_remove = true;
    let id = c.container_create(None, &b).unwrap().id;
    let removed = c.container_wait_begin(&id, WaitCondition::Removed).unwrap();
    c.container_start(&id).unwrap();
    assert_eq!(removed.finish().unwrap().status_code, 3);
    assert_eq!(c.container_inspect(&id).unwrap_err().status(), Some(404));
}

#[test]
fn stdin_flows_through_the_hijack_and_half_close_is_eof() {
    let server = TestServer::start();
    let c = &server.client;
    let mut b = body(&["cat"]);
    b.config.open_stdin = true;
    b.config.attach_stdin = true;
    let id = c.container_create(None, &b).unwrap().id;
    let hijacked = attach_all(c, &id, true);
    let wait = c
        .container_wait_begin(&id, WaitCondition::NextExit)
        .unwrap();
    c.container_start(&id).unwrap();
    let mut stdin = hijacked.stdin;
    let payload: Vec<u8> = (0..20_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    stdin.write_all(&payload).unwrap();
    stdin.close().unwrap(); // like the docker CLI at stdin EOF
    let (out, err) = hijacked.output.collect().unwrap();
    assert_eq!(out, payload);
    assert!(err.is_empty());
    assert_eq!(wait.finish().unwrap().status_code, 0);
}

#[test]
fn a_tty_gets_raw_bytes() {
    let server = TestServer::start();
    let c = &server.client;
    let mut b = body(&["echo", "raw"]);
    b.config.tty = true;
    let id = c.container_create(None, &b).unwrap().id;
    let attached = attach_all(c, &id, false);
    assert!(attached.output.tty());
    c.container_start(&id).unwrap();
    let (out, _) = attached.output.collect().unwrap();
    assert_eq!(out, b"raw\n");
    let logs = c
        .container_logs(
            &id,
            &LogsOptions {
                stdout: true,
                stderr: true,
                ..LogsOptions::default()
            },
            false,
        )
        .unwrap();
    assert!(logs.tty());
    assert_eq!(logs.collect().unwrap().0, b"raw\n");
}

#[test]
fn logs_are_framed_filtered_and_timestamped() {
    let server = TestServer::start();
    let c = &server.client;
    let id = c.container_create(None, &body(&["both"])).unwrap().id;
    c.container_start(&id).unwrap();
    c.container_wait(&id, WaitCondition::NotRunning).unwrap();
    let all = LogsOptions {
        stdout: true,
        stderr: true,
        ..LogsOptions::default()
    };
    let (out, err) = c
        .container_logs(&id, &all, false)
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(out, b"to stdout\nstdout again\n");
    assert_eq!(err, b"to stderr\n");
    let only_err = LogsOptions {
        stdout: false,
        ..all.clone()
    };
    assert_eq!(
        c.container_logs(&id, &only_err, false)
            .unwrap()
            .collect()
            .unwrap()
            .0,
        b""
    );
    let tail = LogsOptions {
        tail: Some(1),
        ..all.clone()
    };
    assert_eq!(
        c.container_logs(&id, &tail, false)
            .unwrap()
            .collect()
            .unwrap()
            .0,
        b"stdout again\n"
    );
    let (stamped, _) = c
        .container_logs(&id, &all, true)
        .unwrap()
        .collect()
        .unwrap();
    let first = String::from_utf8(stamped).unwrap();
    let (time, text) = first.lines().next().unwrap().split_once(' ').unwrap();
    assert_eq!(text, "to stdout");
    assert_eq!(time.len(), "2024-05-01T12:00:00.000000000Z".len(), "{time}");
    assert!(
        minidock_daemon::time::parse_rfc3339(time).is_some(),
        "{time}"
    );
    let none = c
        .raw("GET", &format!("/v1.44/containers/{id}/logs"), None)
        .unwrap();
    assert_eq!(none.status, 400, "no stream chosen");
}

#[test]
fn logs_follow_until_the_container_exits() {
    let server = TestServer::start();
    let c = &server.client;
    let id = c
        .container_create(None, &body(&["slow", "300", "late"]))
        .unwrap()
        .id;
    c.container_start(&id).unwrap();
    let follow = LogsOptions {
        stdout: true,
        stderr: true,
        follow: true,
        ..LogsOptions::default()
    };
    let (out, _) = c
        .container_logs(&id, &follow, false)
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(out, b"late\n");
}

#[test]
fn pull_progress_streams_and_errors_arrive_at_the_right_place() {
    let server = TestServer::start();
    let c = &server.client;
    let mut seen = Vec::new();
    c.image_pull("alpine", Some("3"), None)
        .unwrap()
        .finish(|m| seen.push(m.clone()))
        .unwrap();
    assert_eq!(
        seen.first().unwrap().status.as_deref(),
        Some("Pulling from library/alpine")
    );
    let downloading: Vec<_> = seen
        .iter()
        .filter(|m| m.status.as_deref() == Some("Downloading"))
        .collect();
    assert_eq!(downloading.len(), 4);
    assert_eq!(
        downloading[1].progress_detail.as_ref().unwrap().current,
        Some(500)
    );
    assert!(server.images.has("alpine:3"));

    // Failing before any progress: a real status.
    let early = c
        .image_pull("missing", None, None)
        .err()
        .expect("an error status");
    assert_eq!(early.status(), Some(404));
    assert!(early.to_string().contains("pull access denied"));
    // Failing midway: 200, then an error object ends the stream.
    let late = c
        .image_pull("flaky", None, None)
        .unwrap()
        .finish(|_| {})
        .unwrap_err();
    assert!(
        matches!(late, ClientError::Stream(ref m) if m.contains("unexpected EOF")),
        "{late}"
    );
}

#[test]
fn image_names_with_registries_and_slashes_route_unescaped() {
    let server = TestServer::start();
    let c = &server.client;
    c.image_tag("busybox", "localhost:5000/a/b", Some("1"))
        .unwrap();
    let image = c.image_inspect("localhost:5000/a/b:1").unwrap();
    assert_eq!(image.repo_tags, vec!["localhost:5000/a/b:1"]);
    assert_eq!(c.image_history("localhost:5000/a/b:1").unwrap().len(), 1);
    let removed = c.image_remove("localhost:5000/a/b:1", false).unwrap();
    assert_eq!(
        removed[0],
        ImageDeleteItem::Untagged("localhost:5000/a/b:1".into())
    );
    assert_eq!(
        c.image_inspect("localhost:5000/a/b:1")
            .unwrap_err()
            .status(),
        Some(404)
    );
}

#[test]
fn save_streams_a_large_body_and_load_reads_a_streamed_upload() {
    let server = TestServer::start();
    let c = &server.client;
    let mut tar = Vec::new();
    let n = c.image_save(&["busybox"], &mut tar).unwrap();
    assert_eq!(n as usize, tar.len());
    assert_eq!(tar, saved_bytes(&["busybox".to_string()]));
    assert_eq!(
        c.image_save(&["nothing-here"], &mut Vec::new())
            .unwrap_err()
            .status(),
        Some(404)
    );

    let mut loaded = Vec::new();
    c.image_load(&mut &tar[..])
        .unwrap()
        .finish(|m| loaded.push(m.clone()))
        .unwrap();
    assert_eq!(
        loaded[0].stream.as_deref(),
        Some(format!("Loaded {} bytes\n", tar.len()).as_str())
    );

    let rootfs = vec![7u8; 100_000];
    c.image_import(&mut &rootfs[..], Some("mine"), Some("v1"))
        .unwrap()
        .finish(|_| {})
        .unwrap();
    assert_eq!(c.image_inspect("mine:v1").unwrap().size, 100_000);
}

#[test]
fn exec_runs_in_a_running_container() {
    let server = TestServer::start();
    let c = &server.client;
    let id = c.container_create(None, &body(&["sleep"])).unwrap().id;
    let not_running = c
        .exec_create(
            &id,
            &ExecConfig {
                cmd: vec!["echo".into()],
                ..ExecConfig::default()
            },
        )
        .unwrap_err();
    assert_eq!(not_running.status(), Some(409));
    c.container_start(&id).unwrap();
    let exec = c
        .exec_create(
            &id,
            &ExecConfig {
                attach_stdout: true,
                attach_stderr: true,
                cmd: vec!["err".into(), "from".into(), "exec".into()],
                ..ExecConfig::default()
            },
        )
        .unwrap();
    let hijacked = c.exec_start(&exec, false).unwrap();
    let (out, err) = hijacked.output.collect().unwrap();
    assert_eq!(
        (out.as_slice(), err.as_slice()),
        (&b""[..], &b"from exec\n"[..])
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let inspect = c.exec_inspect(&exec).unwrap();
        if inspect.exit_code.is_some() {
            assert_eq!(inspect.exit_code, Some(0));
            assert!(!inspect.running);
            break;
        }
        assert!(Instant::now() < deadline, "exec never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    let empty = c
        .raw(
            "POST",
            &format!("/v1.44/containers/{id}/exec"),
            Some(b"{\"Cmd\":[]}"),
        )
        .unwrap();
    assert_eq!(empty.status, 400);
    c.container_remove(&id, true).unwrap();
}

#[test]
fn events_stream_what_happens() {
    let server = TestServer::start();
    let c = &server.client;
    let filters = Filters::parse(r#"{"type":["container"]}"#).unwrap();
    let mut events = c.events(&filters, None, None).unwrap();
    // The subscription is made when the headers are out; give it a moment.
    std::thread::sleep(Duration::from_millis(50));
    c.image_tag("busybox", "other", None).unwrap(); // an image event: filtered out
    let id = c
        .container_create(Some("evented"), &body(&["echo", "x"]))
        .unwrap()
        .id;
    c.container_start(&id).unwrap();
    let actions: Vec<String> = (0..3)
        .map(|_| events.next().unwrap().unwrap())
        .map(|e| {
            assert_eq!(e.actor.id, id);
            assert_eq!(e.actor.attributes["name"], "evented");
            e.action
        })
        .collect();
    assert_eq!(actions, ["create", "start", "die"]);

    // `until` in the past ends the stream at once.
    let past: Vec<_> = c
        .events(&Filters::default(), None, Some("1"))
        .unwrap()
        .collect();
    assert!(past.is_empty());

    // `since` replays what the daemon remembers, filtered, then `until`
    // (now) ends the stream: the same three container events.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let replayed: Vec<String> = c
        .events(&filters, Some("0"), Some(&format!("{now:.9}")))
        .unwrap()
        .map(|e| e.unwrap().action)
        .collect();
    assert_eq!(replayed, ["create", "start", "die"]);
    // and a `since` after them replays none
    let later: Vec<_> = c
        .events(
            &filters,
            Some(&format!("{now:.9}")),
            Some(&format!("{now:.9}")),
        )
        .unwrap()
        .collect();
    assert!(later.is_empty(), "{later:?}");
}

#[test]
fn lists_top_stats_pause() {
    let server = TestServer::start();
    let c = &server.client;
    let a = c
        .container_create(Some("a1"), &body(&["sleep"]))
        .unwrap()
        .id;
    let b = c
        .container_create(Some("b1"), &body(&["echo", "x"]))
        .unwrap()
        .id;
    c.container_start(&a).unwrap();
    let running = c.containers(&ListOptions::default()).unwrap();
    assert_eq!(
        running.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![a.clone()]
    );
    assert_eq!(running[0].names, vec!["/a1"]);
    let all = c
        .containers(&ListOptions {
            all: true,
            ..ListOptions::default()
        })
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().any(|s| s.id == b));
    let top = c.container_top(&a, None).unwrap();
    assert_eq!(top.titles, vec!["PID", "CMD"]);
    assert_eq!(top.processes[0][1], "sleep");
    let stats = c.container_stats(&a).unwrap();
    assert_eq!(stats.memory_stats.usage, 4096);
    c.container_pause(&a).unwrap();
    assert!(c.container_inspect("a1").unwrap().state.paused);
    assert_eq!(c.container_pause(&a).unwrap_err().status(), Some(409));
    c.container_unpause(&a).unwrap();
    c.container_resize(&a, 40, 120).unwrap();
    let info = c.info().unwrap();
    assert_eq!((info.containers, info.containers_running), (2, 1));
    c.container_remove(&a, true).unwrap();
}

#[test]
fn twenty_runs_at_once() {
    let server = TestServer::start();
    let socket = server.socket.clone();
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let client = Client::new(&socket);
            std::thread::spawn(move || {
                let mut b = body(&["echo", &format!("run {i}")]);
                b.host_config.auto_remove = true;
                let id = client.container_create(None, &b).unwrap().id;
                let attached = attach_all(&client, &id, false);
                let removed = client
                    .container_wait_begin(&id, WaitCondition::Removed)
                    .unwrap();
                client.container_start(&id).unwrap();
                let (out, _) = attached.output.collect().unwrap();
                assert_eq!(out, format!("run {i}\n").into_bytes());
                assert_eq!(removed.finish().unwrap().status_code, 0);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let left = server
        .client
        .containers(&ListOptions {
            all: true,
            ..ListOptions::default()
        })
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

/// Sends `method path` with a body of `len` bytes, all of it, then reads
/// the answer: a daemon that answers before reading the body and closes
/// the connection makes the write fail (broken pipe, reset).
fn send_with_body(server: &TestServer, method: &str, path: &str, len: usize) -> String {
    let mut socket = UnixStream::connect(&server.socket).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        socket,
        "{method} {path} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n\
         Content-Length: {len}\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < len {
        let n = chunk.len().min(len - sent);
        socket
            .write_all(&chunk[..n])
            .unwrap_or_else(|e| panic!("{method} {path}: writing the body at byte {sent}: {e}"));
        sent += n;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.ends_with(b"}\n") {
        let n = socket.read(&mut buf).unwrap();
        assert!(n > 0, "{method} {path}: closed before the answer ended");
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn error_answers_wait_for_the_whole_request_body() {
    let server = TestServer::start();
    for (method, path, status) in [
        ("POST", "/v1.44/no/such/endpoint", "404"),
        ("POST", "/v9.99/containers/create", "400"),
        ("POST", "/containers/%2e%2e/start", "400"),
        ("POST", "/containers/nosuch/start", "404"),
    ] {
        let answer = send_with_body(&server, method, path, 8 << 20);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{method} {path}: {answer}"
        );
        assert!(answer.contains("\"message\""), "{answer}");
    }
}

#[test]
fn image_search_says_there_is_no_index() {
    let server = TestServer::start();
    let r = server
        .client
        .raw("GET", "/v1.44/images/search?term=busybox&limit=25", None)
        .unwrap();
    let text = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, 501, "{text}");
    assert!(text.contains("image search needs an image index"), "{text}");
}

#[test]
fn without_a_volume_service_volumes_are_refused_by_name() {
    let server = TestServer::start();
    for (method, path) in [
        ("GET", "/volumes"),
        ("POST", "/v1.44/volumes/create"),
        ("GET", "/volumes/data"),
        ("DELETE", "/volumes/data"),
        ("POST", "/volumes/prune"),
    ] {
        let r = server.client.raw(method, path, None).unwrap();
        assert_eq!(r.status, 501, "{method} {path}");
        assert!(r.message().unwrap().contains("no volume service"), "{path}");
    }
    let r = server.client.raw("GET", "/volumes/..%2Fx", None).unwrap();
    assert_eq!(r.status, 400);
    // /system/df still answers: images and containers, no volumes
    let df = server.client.system_df().unwrap();
    assert!(df.volumes.is_empty());
}

#[test]
fn without_a_builder_build_commit_and_export_say_so() {
    let server = TestServer::start();
    let c = &server.client;
    let request = minidock_daemon::builder::BuildRequest::default();
    let Err(err) = c.build(&mut &b""[..], &request) else {
        panic!("a build without a builder succeeded");
    };
    assert_eq!(err.status(), Some(501));
    assert!(err.to_string().contains("without a builder"), "{err}");
    let err = c
        .commit(&minidock_daemon::builder::CommitRequest {
            container: "x".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.status(), Some(501));
    let err = c.container_export("x", &mut Vec::new()).unwrap_err();
    assert_eq!(err.status(), Some(501));
}
