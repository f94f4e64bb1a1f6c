//! The Debian `docker-compose` (v1, docker-py inside) runs a three-service
//! project against minidockd: a service built from a Dockerfile with a
//! health check, a named volume and environment; a web server with a
//! published port and a read-only bind mount; a worker that reaches the
//! first by its service name. `depends_on: condition: service_healthy`
//! holds both back until the health check passes. Then `ps`, `logs`,
//! `logs -f` (read until a line arrives, then stopped), `exec`, `restart`,
//! `stop` and `down -v --rmi local`, which leaves nothing behind.
//! Traffic goes only to 127.0.0.1 and between the test's containers.

mod common;

use common::{eventually, ok, Daemon};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

const COMPOSE_FILE: &str = r#"version: "2.4"
services:
  db:
    build: ./db
    command: ["sh", "-c", "mkdir -p /data && echo $$GREETING > /data/greeting && sleep 2 && touch /tmp/ready && exec httpd -f -p 80 -h /data"]
    environment:
      GREETING: hello-from-db
    volumes:
      - dbdata:/data
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 1s
      timeout: 5s
      retries: 30
    restart: unless-stopped
  web:
    image: busybox
    depends_on:
      db:
        condition: service_healthy
    command: ["httpd", "-f", "-p", "8080", "-h", "/site"]
    ports:
      - "127.0.0.1:${WEB_PORT}:8080"
    volumes:
      - ./site:/site:ro
    restart: always
  worker:
    image: busybox
    depends_on:
      db:
        condition: service_healthy
    environment:
      - TARGET=db
    command: ["sh", "-c", "while true; do wget -q -O- http://$$TARGET/greeting && echo fetched; sleep 1; done"]
volumes:
  dbdata:
"#;

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET /` on 127.0.0.1:`port`: the body, or none if it did not answer.
fn http_get(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

#[test]
fn compose_builds_waits_for_healthy_and_runs_a_three_service_project() {
    if !common::compose_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let project = daemon.scratch().join("shop");
    std::fs::create_dir_all(project.join("db")).unwrap();
    std::fs::create_dir_all(project.join("site")).unwrap();
    std::fs::write(project.join("docker-compose.yml"), COMPOSE_FILE).unwrap();
    std::fs::write(
        project.join("db/Dockerfile"),
        "FROM busybox\nLABEL role=db\n",
    )
    .unwrap();
    std::fs::write(project.join("site/index.html"), "hello-from-the-bind\n").unwrap();
    let port = free_port();
    let compose = |args: &[&str]| {
        let mut cmd = daemon.compose(&project, "shop");
        cmd.env("WEB_PORT", port.to_string()).args(args);
        cmd
    };

    // up -d builds db, and starts web and worker only once db is healthy.
    let up = ok(&mut compose(&["up", "-d", "--no-color"]));
    eprintln!("compose up: {up}");
    let state =
        |name: &str, template: &str| ok(daemon.docker().args(["inspect", "-f", template, name]));
    assert_eq!(
        state("shop_db_1", "{{.State.Health.Status}}").trim(),
        "healthy"
    );
    let json = |name: &str| -> serde_json::Value {
        let out = ok(daemon.docker().args(["inspect", name]));
        serde_json::from_str::<serde_json::Value>(&out).unwrap()[0].clone()
    };
    let time = |v: &serde_json::Value| {
        minidock_daemon::time::parse_rfc3339(v.as_str().expect("a time")).expect("RFC 3339")
    };
    // db's check cannot pass before 2 s after its start (its command
    // sleeps first); the dependents start after it passed.
    let db = json("shop_db_1");
    let ready = time(&db["State"]["StartedAt"]) + Duration::from_secs(2);
    let last_failure = db["State"]["Health"]["Log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ExitCode"] != 0)
        .map(|r| time(&r["End"]))
        .max();
    for dependent in ["shop_web_1", "shop_worker_1"] {
        let started = time(&json(dependent)["State"]["StartedAt"]);
        assert!(
            started >= ready,
            "{dependent} started before db could be healthy"
        );
        assert!(
            last_failure.is_none_or(|failed| started >= failed),
            "{dependent} started while db's probes still failed"
        );
    }
    assert_eq!(
        state("shop_web_1", "{{.HostConfig.RestartPolicy.Name}}").trim(),
        "always"
    );
    assert_eq!(
        state("shop_db_1", "{{.HostConfig.RestartPolicy.Name}}").trim(),
        "unless-stopped"
    );
    let ps = ok(&mut compose(&["ps"]));
    for service in ["shop_db_1", "shop_web_1", "shop_worker_1"] {
        assert!(
            ps.lines()
                .any(|l| l.starts_with(service) && l.contains("Up")),
            "{service} runs: {ps}"
        );
    }
    assert!(
        ps.lines()
            .any(|l| l.starts_with("shop_db_1") && l.contains("(healthy)")),
        "{ps}"
    );

    // The published port serves the bind-mounted site.
    eventually(Duration::from_secs(30), "web answers on its port", || {
        http_get(port).is_some_and(|b| b == "hello-from-the-bind\n")
    });

    // The worker reached db by its service name; db wrote its environment
    // into the named volume.
    let logs = || {
        let out = compose(&["logs", "--no-color", "worker"])
            .output()
            .expect("compose logs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    eventually(Duration::from_secs(30), "the worker's fetch", || {
        logs().contains("hello-from-db")
    });

    // logs -f: new lines arrive while it follows; stopped once they did.
    let mut follow = compose(&["logs", "-f", "--no-color", "--tail", "0", "worker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("compose logs -f");
    let stdout = follow.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut fetched = 0;
    while fetched < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.ends_with("| fetched") => fetched += 1,
            Ok(_) => {}
            Err(_) => {
                follow.kill().ok();
                panic!("logs -f gave {fetched} new fetches in 30 s");
            }
        }
    }
    follow.kill().expect("stop logs -f");
    follow.wait().unwrap();

    // exec runs in the service's container.
    let greeting = ok(&mut compose(&["exec", "-T", "db", "cat", "/data/greeting"]));
    assert_eq!(greeting.trim(), "hello-from-db");

    // restart: a new run of web, which serves again.
    let before = state("shop_web_1", "{{.State.StartedAt}}");
    ok(&mut compose(&["restart", "-t", "2", "web"]));
    let after = state("shop_web_1", "{{.State.StartedAt}}");
    assert_ne!(before, after, "restart started web again");
    eventually(Duration::from_secs(30), "web answers after restart", || {
        http_get(port).is_some_and(|b| b == "hello-from-the-bind\n")
    });

    // stop: every service exits and stays down (a manual stop ends the
    // restart policies); db is no longer vouched for.
    ok(&mut compose(&["stop", "-t", "2"]));
    let ps = ok(&mut compose(&["ps"]));
    for service in ["shop_db_1", "shop_web_1", "shop_worker_1"] {
        assert!(
            ps.lines()
                .any(|l| l.starts_with(service) && l.contains("Exit")),
            "{service} stopped: {ps}"
        );
    }
    // Set by the thread that saw the exit, a moment after stop answers.
    eventually(Duration::from_secs(20), "db unhealthy once stopped", || {
        state("shop_db_1", "{{.State.Health.Status}}").trim() == "unhealthy"
    });

    // down -v --rmi local: containers, network, volume and the built image go.
    ok(&mut compose(&["down", "-v", "--rmi", "local"]));
    assert!(
        daemon.ok(&["ps", "-aq"]).trim().is_empty(),
        "containers left"
    );
    let volumes = daemon.ok(&["volume", "ls", "-q"]);
    assert!(volumes.trim().is_empty(), "volumes left: {volumes}");
    let networks = daemon.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(
        !networks.lines().any(|n| n.starts_with("shop")),
        "{networks}"
    );
    let images = daemon.ok(&["images", "--format", "{{.Repository}}"]);
    assert_eq!(images.trim(), "busybox", "only busybox stays: {images}");
    assert_eq!(
        std::fs::read_to_string(project.join("site/index.html")).unwrap(),
        "hello-from-the-bind\n",
        "the bind mount's source is the user's and stays"
    );
    assert!(http_get(port).is_none(), "the port is no longer published");
}
