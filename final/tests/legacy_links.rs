//! Docker's legacy links (`docker run --link db:database`) through the
//! real `docker` CLI: on the default bridge the linking container gets a
//! hosts line and the link variables of the target's exposed ports; on a
//! user-defined network the alias names the target; the hosts line follows
//! a target that starts again elsewhere; a missing or stopped
//! target is dockerd's error; inspect shows `HostConfig.Links` as dockerd
//! does; `docker rm --link` is refused, saying so.
//!
//! dockerd's texts and shapes (moby's `daemon/links` and its create and
//! start paths): a hosts line `IP\talias hostname name`, the variables
//! `DATABASE_PORT=tcp://IP:8080`, `DATABASE_PORT_8080_TCP{,_ADDR,_PORT,
//! _PROTO}`, `DATABASE_NAME=/web/database`, `DATABASE_ENV_X`; inspect's
//! `"Links": ["/db:/web/database"]`; "could not get container for nope"
//! (a 400, which the CLI does not take for a missing image); "Cannot link
//! to a non running container: /idle AS /web2/x".

mod common;

use common::{docker_cli_available, eventually, ok, stderr, Daemon};
use std::process::Command;
use std::time::Duration;

/// The docker CLI against `d`, expected to fail: its stderr.
fn fails(d: &Daemon, args: &[&str]) -> String {
    let mut cmd: Command = d.docker();
    cmd.args(args);
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        !out.status.success(),
        "{args:?} should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr(&out)
}

/// A busybox web server on `port` serving `text`.
fn web(port: u16, text: &str) -> String {
    format!("mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p {port} -h /www")
}

/// What `GET /` on `host:port` answers to a new container run with
/// `flags` (busybox `nc`; Debian's static busybox `wget` crashes).
fn fetch(d: &Daemon, flags: &[&str], host: &str, port: u16) -> String {
    let script = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} {port}");
    let mut cmd = d.docker();
    cmd.args(["run", "--rm"])
        .args(flags)
        .args(["busybox", "sh", "-c", &script]);
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out)
}

#[test]
fn links_on_the_default_bridge_give_hosts_variables_and_reach() {
    assert!(docker_cli_available());
    let d = Daemon::start();
    d.load_busybox();
    let docker = |args: &[&str]| ok(d.docker().args(args));
    docker(&[
        "run",
        "-d",
        "--name",
        "db",
        "--expose",
        "8080",
        "-e",
        "GREETING=hello",
        "busybox",
        "sh",
        "-c",
        &web(8080, "linked-ok"),
    ]);
    let ip = docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "db"]);
    let ip = ip.trim();
    assert!(!ip.is_empty(), "db has an address on bridge");
    let hostname = docker(&["inspect", "-f", "{{.Config.Hostname}}", "db"]);
    let hostname = hostname.trim();

    // The hosts line and the variables, in a container linked to db.
    let seen = docker(&[
        "run",
        "--rm",
        "--name",
        "web",
        "--link",
        "db:database",
        "busybox",
        "sh",
        "-c",
        "cat /etc/hosts; env",
    ]);
    let lines: Vec<&str> = seen.lines().collect();
    for want in [
        format!("{ip}\tdatabase {hostname} db"),
        format!("DATABASE_PORT=tcp://{ip}:8080"),
        format!("DATABASE_PORT_8080_TCP=tcp://{ip}:8080"),
        format!("DATABASE_PORT_8080_TCP_ADDR={ip}"),
        "DATABASE_PORT_8080_TCP_PORT=8080".to_string(),
        "DATABASE_PORT_8080_TCP_PROTO=tcp".to_string(),
        "DATABASE_NAME=/web/database".to_string(),
        "DATABASE_ENV_GREETING=hello".to_string(),
    ] {
        assert!(
            lines.contains(&want.as_str()),
            "{want:?} missing in:\n{seen}"
        );
    }
    assert!(
        !seen.contains("DATABASE_ENV_PATH"),
        "PATH and HOME are not passed on: {seen}"
    );

    // minidock's own CLI sends the same.
    let hosts = d.ok(&[
        "run",
        "--rm",
        "--link",
        "db:database",
        "busybox",
        "cat",
        "/etc/hosts",
    ]);
    assert!(
        hosts.contains(&format!("{ip}\tdatabase {hostname} db")),
        "{hosts}"
    );

    // The alias reaches db; without the link the name does not resolve
    // (the default bridge resolves no names).
    eventually(Duration::from_secs(30), "db answers by its alias", || {
        fetch(&d, &["--link", "db:database"], "database", 8080).contains("linked-ok")
    });
    let out = fetch(&d, &[], "database", 8080);
    assert!(!out.contains("linked-ok"), "no link, no name: {out}");

    // An execed process gets the variables too; inspect shows dockerd's form.
    docker(&[
        "run", "-d", "--name", "keep", "--link", "db", "busybox", "sleep", "300",
    ]);
    let env = docker(&["exec", "keep", "env"]);
    assert!(
        env.contains(&format!("DB_PORT_8080_TCP_ADDR={ip}")),
        "{env}"
    );
    let links = docker(&["inspect", "-f", "{{json .HostConfig.Links}}", "keep"]);
    assert_eq!(links.trim(), r#"["/db:/keep/db"]"#);
    let config_env = docker(&["inspect", "-f", "{{json .Config.Env}}", "keep"]);
    assert!(
        !config_env.contains("DB_PORT"),
        "the link variables are not the container's config: {config_env}"
    );
    let none = docker(&["inspect", "-f", "{{json .HostConfig.Links}}", "db"]);
    assert_eq!(none.trim(), "null");
    // dockerd lists the link's name among db's names; the CLI shows it
    // with --no-trunc only.
    let names = docker(&["ps", "--no-trunc", "--format", "{{.Names}}"]);
    assert!(names.lines().any(|l| l == "db,keep/db"), "{names}");
    let names = docker(&["ps", "--format", "{{.Names}}"]);
    assert!(names.lines().any(|l| l == "db"), "{names}");

    // db starts again at another address (a container took its old one
    // meanwhile): the running keep's hosts line follows, as with dockerd.
    docker(&["stop", "-t", "1", "db"]);
    // The address goes back a moment after stop answers (the thread that
    // saw the exit releases it): only then can filler take it.
    eventually(Duration::from_secs(30), "db's address released", || {
        docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "db"])
            .trim()
            .is_empty()
    });
    docker(&["run", "-d", "--name", "filler", "busybox", "sleep", "300"]);
    docker(&["start", "db"]);
    let moved = docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "db"]);
    let moved = moved.trim();
    assert_ne!(moved, ip, "db has a new address");
    let hosts = docker(&["exec", "keep", "cat", "/etc/hosts"]);
    assert!(
        hosts.contains(&format!("{moved}\tdb {hostname}\n")) && !hosts.contains(&format!("{ip}\t")),
        "{hosts}"
    );

    // A missing target is dockerd's 400 (no pull attempted).
    let err = fails(&d, &["create", "--link", "nope:x", "busybox", "true"]);
    assert!(
        err.contains("could not get container for nope") && !err.contains("Unable to find image"),
        "{err}"
    );
    // A target that does not run fails the start, with dockerd's text.
    docker(&["create", "--name", "idle", "busybox", "true"]);
    docker(&[
        "create", "--name", "web2", "--link", "idle:x", "busybox", "true",
    ]);
    let err = fails(&d, &["start", "web2"]);
    assert!(
        err.contains("Cannot link to a non running container: /idle AS /web2/x"),
        "{err}"
    );
    // The host's network has no links.
    let err = fails(
        &d,
        &[
            "create",
            "--network",
            "host",
            "--link",
            "db",
            "busybox",
            "true",
        ],
    );
    assert!(
        err.contains("host type networking can't be used with links"),
        "{err}"
    );
    // Removing a link is refused, saying what it is.
    let err = fails(&d, &["rm", "--link", "/keep/db"]);
    assert!(err.contains("docker rm --link /keep/db"), "{err}");
    docker(&["rm", "-f", "keep", "db", "idle", "web2", "filler"]);
}

#[test]
fn a_link_on_a_user_defined_network_is_an_alias() {
    assert!(docker_cli_available());
    let d = Daemon::start();
    d.load_busybox();
    let docker = |args: &[&str]| ok(d.docker().args(args));
    let subnet = &d.spare_subnets()[0];
    docker(&["network", "create", "--subnet", subnet, "app"]);
    docker(&[
        "run",
        "-d",
        "--name",
        "api",
        "--network",
        "app",
        "busybox",
        "sh",
        "-c",
        &web(8080, "alias-ok"),
    ]);
    let flags = ["--network", "app", "--link", "api:backend"];
    eventually(Duration::from_secs(30), "api answers as backend", || {
        fetch(&d, &flags, "backend", 8080).contains("alias-ok")
    });
    // The network's DNS server knows the alias too, for the linking
    // container alone; no variables there, as dockerd.
    let ip = docker(&[
        "inspect",
        "-f",
        "{{.NetworkSettings.Networks.app.IPAddress}}",
        "api",
    ]);
    let seen = docker(&[
        "run",
        "--rm",
        "--network",
        "app",
        "--link",
        "api:backend",
        "busybox",
        "sh",
        "-c",
        "nslookup backend; env",
    ]);
    assert!(seen.contains(&format!("Address: {}", ip.trim())), "{seen}");
    assert!(!seen.contains("BACKEND_PORT"), "{seen}");
    let out = d
        .docker()
        .args([
            "run",
            "--rm",
            "--network",
            "app",
            "busybox",
            "nslookup",
            "backend",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains(ip.trim()),
        "only the linking container has the alias: {text}"
    );

    // A target that does not exist yet is no error; once it runs, the
    // alias names it (the DNS server reads the links as they are now).
    docker(&[
        "run",
        "-d",
        "--name",
        "early",
        "--network",
        "app",
        "--link",
        "later:x",
        "busybox",
        "sleep",
        "300",
    ]);
    let links = docker(&[
        "inspect",
        "-f",
        "{{json .NetworkSettings.Networks.app.Links}} {{json .HostConfig.Links}}",
        "early",
    ]);
    assert_eq!(links.trim(), r#"["later:x"] null"#);
    docker(&[
        "run",
        "-d",
        "--name",
        "later",
        "--network",
        "app",
        "busybox",
        "sleep",
        "300",
    ]);
    let later_ip = docker(&[
        "inspect",
        "-f",
        "{{.NetworkSettings.Networks.app.IPAddress}}",
        "later",
    ]);
    let found = docker(&["exec", "early", "nslookup", "x"]);
    assert!(
        found.contains(&format!("Address: {}", later_ip.trim())),
        "{found}"
    );
    docker(&["rm", "-f", "early", "later"]);
    docker(&["rm", "-f", "api"]);
    docker(&["network", "rm", "app"]);
}

/// A compose file with `links:` (docker-compose v1 sends them as
/// `HostConfig.Links` and in the endpoint's settings, on the project's
/// network): `client` finds `web` by the link's alias.
const COMPOSE_WITH_LINKS: &str = r#"version: "3"
services:
  web:
    image: busybox
    command:
      - sh
      - -c
      - mkdir -p /www && echo hello-linked > /www/index.html && exec httpd -f -p 80 -h /www
  client:
    image: busybox
    links:
      - web:backend
    command:
      - sh
      - -c
      - until printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 backend 80 | grep hello-linked; do sleep 0.2; done; echo fetched by the link alias
"#;

#[test]
fn compose_links_are_aliases_on_the_projects_network() {
    if !common::compose_available() {
        return;
    }
    let d = Daemon::start();
    d.load_busybox();
    let project = d.scratch().join("linked");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("docker-compose.yml"), COMPOSE_WITH_LINKS).unwrap();
    let compose = |args: &[&str]| {
        let mut cmd = d.compose(&project, "linked");
        cmd.args(args);
        cmd
    };
    ok(&mut compose(&["up", "-d", "--no-color"]));
    let mut last = String::new();
    eventually(Duration::from_secs(60), "client fetches backend", || {
        let out = compose(&["logs", "--no-color", "client"])
            .output()
            .expect("compose logs");
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        last.contains("fetched by the link alias")
    });
    assert!(last.contains("hello-linked"), "{last}");
    ok(&mut compose(&["down"]));
}
