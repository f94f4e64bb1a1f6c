//! The Debian `docker-compose` (v1, docker-py inside) against minidockd:
//! a two-service project on its default network. Compose creates the
//! network `<project>_default`, gives each container its service name as an
//! alias there, and `down` removes containers and network. Traffic goes
//! only between the test's own containers.

mod common;

use common::{eventually, ok, Daemon};
use std::time::Duration;

/// `web` serves a page with busybox httpd; `client` asks for it by the
/// service name `web` until it answers, prints it, and exits.
const COMPOSE_FILE: &str = r#"version: "3"
services:
  web:
    image: busybox
    command:
      - sh
      - -c
      - mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www
  client:
    image: busybox
    depends_on:
      - web
    command:
      - sh
      - -c
      - until printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 web 80 | grep hello-from-web; do sleep 0.2; done; echo fetched web by its service name
"#;

#[test]
fn compose_up_ps_logs_down_on_the_projects_default_network() {
    if !common::compose_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let project = daemon.scratch().join("shop");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("docker-compose.yml"), COMPOSE_FILE).unwrap();
    let compose = |args: &[&str]| {
        let mut cmd = daemon.compose(&project, "shop");
        cmd.args(args);
        cmd
    };

    let up = ok(&mut compose(&["up", "-d", "--no-color"]));
    eprintln!("compose up: {up}");

    // The project's network, as compose asked for it.
    let networks = daemon.ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    assert!(
        networks.lines().any(|l| l == "shop_default bridge"),
        "no shop_default bridge network: {networks}"
    );
    let labels = daemon.ok(&[
        "network",
        "inspect",
        "-f",
        "{{index .Labels \"com.docker.compose.network\"}}",
        "shop_default",
    ]);
    assert_eq!(labels.trim(), "default", "compose's labels are kept");

    // The client found web by its service name and printed the page.
    let logs = || {
        let out = compose(&["logs", "--no-color"])
            .output()
            .expect("compose logs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    eventually(
        Duration::from_secs(60),
        "the client's fetch of web by service name",
        || logs().contains("fetched web by its service name"),
    );
    let all = logs();
    assert!(
        all.lines()
            .any(|l| l.starts_with("client_1") && l.ends_with("| hello-from-web")),
        "the client's log has web's page: {all}"
    );
    let client_only = ok(&mut compose(&["logs", "--no-color", "client"]));
    assert!(
        client_only.contains("fetched web by its service name") && !client_only.contains("web_1 "),
        "logs of one service: {client_only}"
    );

    // Both containers are on the project's network under their service
    // names; web still runs, the client exited 0.
    eventually(
        Duration::from_secs(20),
        "the client's exit shows in compose ps",
        || {
            let ps = ok(&mut compose(&["ps"]));
            ps.lines()
                .any(|l| l.starts_with("shop_client_1") && l.contains("Exit 0"))
        },
    );
    let ps = ok(&mut compose(&["ps"]));
    assert!(
        ps.lines()
            .any(|l| l.starts_with("shop_web_1") && l.contains(" Up ")),
        "web runs: {ps}"
    );
    let aliases = daemon.ok(&[
        "inspect",
        "-f",
        "{{json .NetworkSettings.Networks.shop_default.Aliases}}",
        "shop_web_1",
    ]);
    assert!(aliases.contains("\"web\""), "web's aliases: {aliases}");

    // What the project's network holds on the host, to check after down.
    let held = minidock_testkit::network_resources(&daemon.root());
    let web_ip = daemon.ok(&[
        "inspect",
        "-f",
        "{{.NetworkSettings.Networks.shop_default.IPAddress}}",
        "shop_web_1",
    ]);
    assert!(!web_ip.trim().is_empty(), "web has an address");
    assert!(
        held.iter().any(|r| r.starts_with("link md-")),
        "the project's bridge is recorded: {held:?}"
    );

    ok(&mut compose(&["down"]));

    let after = daemon.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(
        !after.lines().any(|l| l == "shop_default"),
        "down left the network: {after}"
    );
    assert!(
        daemon.ok(&["ps", "-aq"]).trim().is_empty(),
        "down left containers"
    );
    // No bridge, veth or nft table of the project stays; no address is
    // held on any network that is left; no namespace is pinned.
    eventually(Duration::from_secs(30), "the project's links go", || {
        minidock_testkit::still_present(&held).is_empty()
    });
    let allocations = minidock_testkit::network_allocations(&daemon.root());
    assert!(allocations.is_empty(), "addresses held: {allocations:?}");
    let sandboxes = std::fs::read_dir(daemon.root().join("networks/sandboxes"))
        .unwrap()
        .count();
    assert_eq!(sandboxes, 0, "a sandbox record is left");
    let pinned = std::fs::read_dir(daemon.dir.join("run/netns"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(pinned, 0, "a network namespace is left");
}
