//! Chapter 06 end to end: networks through the `minidock` CLI and the
//! real `docker` CLI. Traffic goes only to 127.0.0.1 and to containers the
//! test made, on subnets of the test daemon's own block in 172.16.0.0/12.

mod common;

use common::{eventually, Daemon};
#[allow(unused_imports)]
use serde_json as _;
use std::process::Command;
use std::time::Duration;

/// A web server in busybox: serves `text` on port 80.
fn web_command(text: &str) -> String {
    format!("mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p 80 -h /www")
}

fn ip_of(daemon: &Daemon, container: &str, network: &str) -> String {
    let json = daemon.ok(&[
        "inspect",
        "-f",
        "{{json .NetworkSettings.Networks}}",
        container,
    ]);
    let networks: serde_json::Value = serde_json::from_str(json.trim()).expect("JSON");
    networks[network]["IPAddress"]
        .as_str()
        .unwrap_or_else(|| panic!("{container} has no address on {network}: {json}"))
        .to_string()
}

/// An HTTP GET of `/` on `host:80` from a new container on `network`,
/// with busybox `nc` (Debian's static busybox `wget` crashes); whether it
/// answered 200, and what came back.
fn fetch_from(daemon: &Daemon, network: &str, host: &str) -> (bool, String) {
    let script = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} 80");
    let out = daemon.run(&[
        "run",
        "--rm",
        "--network",
        network,
        "busybox",
        "sh",
        "-c",
        &script,
    ]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text.contains("200 OK"), text)
}

/// Waits until `host` serves `text` to a container on `network`.
fn wait_served(daemon: &Daemon, network: &str, host: &str, text: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (ok, out) = fetch_from(daemon, network, host);
        if ok && out.contains(text) {
            return;
        }
        if std::time::Instant::now() > deadline {
            panic!(
                "{host} did not answer {text:?} on {network}; last: {out}\n{}",
                daemon.log()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn containers_on_a_user_network_reach_each_other_by_name_and_alias() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let subnet = &daemon.spare_subnets()[0];
    daemon.ok(&["network", "create", "--subnet", subnet, "app"]);
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "app",
        "--network-alias",
        "www",
        "busybox",
        "sh",
        "-c",
        &web_command("hello-by-name"),
    ]);
    wait_served(&daemon, "app", "web", "hello-by-name");
    let (ok, out) = fetch_from(&daemon, "app", "www");
    assert!(ok && out.contains("hello-by-name"), "by alias: {out}");

    // The address comes from the network's subnet, and inspect says so.
    let ip = ip_of(&daemon, "web", "app");
    let prefix = subnet.rsplit_once('.').unwrap().0;
    assert!(ip.starts_with(prefix), "{ip} is not in {subnet}");
    let inspect = daemon.ok(&["network", "inspect", "app"]);
    assert!(
        inspect.contains(&ip),
        "network inspect lists web: {inspect}"
    );

    // The engine's files: --hostname, --add-host, --dns, --dns-search.
    let files = daemon.ok(&[
        "run",
        "--rm",
        "--network",
        "app",
        "--hostname",
        "box",
        "--add-host",
        "db:10.9.8.7",
        "--dns",
        "192.0.2.53",
        "--dns-search",
        "example.test",
        "busybox",
        "sh",
        "-c",
        "cat /etc/hosts /etc/resolv.conf /etc/hostname; hostname",
    ]);
    for line in [
        "10.9.8.7\tdb",
        "\tbox\n",
        "nameserver 192.0.2.53",
        "search example.test",
        &format!("{ip}\tweb www"),
    ] {
        assert!(files.contains(line), "{line:?} missing in:\n{files}");
    }
    assert!(files.ends_with("box\nbox\n"), "{files}");

    // rm leaves no endpoint; network rm leaves no bridge (checked on drop).
    daemon.ok(&["rm", "-f", "web"]);
    let inspect = daemon.ok(&["network", "inspect", "-f", "{{len .Containers}}", "app"]);
    assert_eq!(inspect.trim(), "0");
    daemon.ok(&["network", "rm", "app"]);
}

#[test]
fn the_default_bridge_reaches_by_ip_only() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        &web_command("hello-by-ip"),
    ]);
    let ip = ip_of(&daemon, "web", "bridge");
    assert!(!ip.is_empty(), "the container has an address on bridge");
    wait_served(&daemon, "bridge", &ip, "hello-by-ip");
    let (ok, out) = fetch_from(&daemon, "bridge", "web");
    assert!(
        !ok,
        "the default bridge resolves no names, as Docker's: {out}"
    );
}

#[test]
fn a_published_port_answers_on_localhost() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let id = daemon.ok(&[
        "run",
        "-d",
        "-p",
        "127.0.0.1::80",
        "busybox",
        "sh",
        "-c",
        &web_command("hello-published"),
    ]);
    let id = id.trim();
    let port = daemon.ok(&["port", id, "80"]);
    let host_port: u16 = port
        .trim()
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_else(|| panic!("minidock port said {port:?}"));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], host_port));
    eventually(
        Duration::from_secs(20),
        "the published port answers",
        || {
            minidock_testkit::http_get(&addr.to_string(), "/", None)
                .map(|r| String::from_utf8_lossy(&r.body).contains("hello-published"))
                .unwrap_or(false)
        },
    );
    let ps = daemon.ok(&["ps"]);
    assert!(
        ps.contains(&format!("127.0.0.1:{host_port}->80/tcp")),
        "ps shows the port: {ps}"
    );
    // stats counts the bytes of the container's eth0.
    let stats = daemon.client.container_stats(id).expect("stats");
    let eth0 = &stats.networks.expect("stats has networks")["eth0"];
    assert!(eth0["rx_bytes"].as_u64().unwrap() > 0, "{eth0}");
    assert!(eth0["tx_bytes"].as_u64().unwrap() > 0, "{eth0}");
}

/// Hairpin: a container reaches another's published port through the
/// host (the gateway's address), as it would a service published on the
/// host's public address.
#[test]
fn another_container_reaches_a_published_port_through_the_host() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "pub",
        "-p",
        "0.0.0.0::80",
        "busybox",
        "sh",
        "-c",
        &web_command("hello-hairpin"),
    ]);
    let port = daemon.ok(&["port", "pub", "80"]);
    let host_port = port.trim().rsplit(':').next().unwrap().to_string();
    let json = daemon.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "pub"]);
    let networks: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let gateway = networks["bridge"]["Gateway"].as_str().unwrap().to_string();
    let script = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {gateway} {host_port}");
    eventually(Duration::from_secs(20), "the hairpin answers", || {
        let out = daemon.run(&["run", "--rm", "busybox", "sh", "-c", &script]);
        String::from_utf8_lossy(&out.stdout).contains("hello-hairpin")
    });
}

#[test]
fn two_user_networks_are_isolated() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let spare = daemon.spare_subnets();
    daemon.ok(&["network", "create", "--subnet", &spare[0], "front"]);
    daemon.ok(&[
        "network",
        "create",
        "--subnet",
        &spare[1],
        "--internal",
        "back",
    ]);
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "back",
        "busybox",
        "sh",
        "-c",
        &web_command("hello-back"),
    ]);
    let ip = ip_of(&daemon, "web", "back");
    wait_served(&daemon, "back", &ip, "hello-back");
    let (ok, out) = fetch_from(&daemon, "front", &ip);
    assert!(!ok, "a container on front reached back: {out}");
    // The rules that hold it: drop in the forward chain, no masquerade for
    // an internal network (nft is the independent oracle).
    let id = daemon.ok(&["network", "inspect", "-f", "{{.Id}}", "back"]);
    let table = format!("minidock-{}", &id.trim()[..12]);
    let rules = minidock_testkit::run_ok(Command::new("nft").args(["list", "table", "ip", &table]));
    assert!(rules.contains("drop"), "{rules}");
    assert!(
        !rules.contains("masquerade"),
        "internal network masquerades: {rules}"
    );
    let id = daemon.ok(&["network", "inspect", "-f", "{{.Id}}", "front"]);
    let table = format!("minidock-{}", &id.trim()[..12]);
    let rules = minidock_testkit::run_ok(Command::new("nft").args(["list", "table", "ip", &table]));
    assert!(rules.contains("masquerade"), "{rules}");
    daemon.ok(&["rm", "-f", "web"]);
    daemon.ok(&["network", "rm", "front", "back"]);
    assert!(
        !minidock_testkit::run_ok(Command::new("nft").args(["list", "tables", "ip"]))
            .contains(&table),
        "network rm left its table"
    );
}

#[test]
fn the_docker_cli_manages_networks_and_ports() {
    if !common::docker_cli_available() {
        return;
    }
    let daemon = Daemon::start();
    daemon.load_busybox();
    let subnet = &daemon.spare_subnets()[0];
    let docker = |args: &[&str]| common::ok(daemon.docker().args(args));
    docker(&[
        "network",
        "create",
        "--subnet",
        subnet,
        "--label",
        "kind=test",
        "dnet",
    ]);
    let ls = docker(&[
        "network",
        "ls",
        "--filter",
        "label=kind=test",
        "--format",
        "{{.Name}}",
    ]);
    assert_eq!(ls.trim(), "dnet");
    let all = docker(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    for line in ["bridge bridge", "host host", "none null", "dnet bridge"] {
        assert!(all.contains(line), "network ls: {all}");
    }
    let inspect = docker(&[
        "network",
        "inspect",
        "-f",
        "{{(index .IPAM.Config 0).Subnet}}",
        "dnet",
    ]);
    assert_eq!(inspect.trim(), subnet);
    let id = docker(&[
        "run",
        "-d",
        "--network",
        "dnet",
        "-p",
        "127.0.0.1::80",
        "busybox",
        "sh",
        "-c",
        &web_command("hello-docker"),
    ]);
    let port = docker(&["port", id.trim()]);
    assert!(port.contains("80/tcp -> 127.0.0.1:"), "docker port: {port}");
    let host_port = port.trim().rsplit(':').next().unwrap().to_string();
    eventually(
        Duration::from_secs(20),
        "the published port answers",
        || {
            minidock_testkit::http_get(&format!("127.0.0.1:{host_port}"), "/", None)
                .map(|r| String::from_utf8_lossy(&r.body).contains("hello-docker"))
                .unwrap_or(false)
        },
    );
    docker(&["rm", "-f", id.trim()]);
    docker(&["network", "rm", "dnet"]);
    let out = daemon
        .docker()
        .args(["network", "inspect", "dnet"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the network is gone");
}

#[test]
fn a_published_port_survives_a_daemon_kill_and_rm_leaves_nothing() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let subnet = &daemon.spare_subnets()[0];
    daemon.ok(&["network", "create", "--subnet", subnet, "app"]);
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "app",
        "-p",
        "127.0.0.1::80",
        "busybox",
        "sh",
        "-c",
        &web_command("still-here"),
    ]);
    let port = daemon.ok(&["port", "web", "80/tcp"]);
    let addr = port.trim().to_string();
    let answers = |addr: &str| {
        minidock_testkit::http_get(addr, "/", None)
            .map(|r| String::from_utf8_lossy(&r.body).contains("still-here"))
            .unwrap_or(false)
    };
    eventually(Duration::from_secs(20), "the port answers", || {
        answers(&addr)
    });

    let (dir, leaks) = daemon.kill9();
    assert!(answers(&addr), "the port answers while no daemon runs");
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    assert!(answers(&addr), "the port answers after the restart");
    assert_eq!(daemon.ok(&["port", "web", "80/tcp"]).trim(), addr);

    let root = dir.join("root");
    daemon.ok(&["rm", "-f", "web"]);
    daemon.ok(&["network", "rm", "app"]);
    assert!(!answers(&addr), "the port still answers after rm");
    let leaks = minidock_testkit::network_leaks(&root);
    assert!(leaks.is_empty(), "left behind: {leaks:?}");
    let networks = std::fs::read_dir(root.join("networks/sandboxes"))
        .unwrap()
        .count();
    assert_eq!(networks, 0, "a sandbox file is left");
    let bridge = daemon.ok(&[
        "network",
        "inspect",
        "-f",
        "{{json .IPAM.Config}}",
        "bridge",
    ]);
    assert!(bridge.contains("Subnet"), "{bridge}");
    let held = std::fs::read_to_string(
        std::fs::read_dir(root.join("networks"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("\"name\": \"bridge\"")))
            .expect("the default network's file"),
    )
    .unwrap();
    assert!(
        held.contains("\"allocated\": {}"),
        "addresses still held: {held}"
    );
}

#[test]
fn what_is_not_there_is_a_clear_error() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let out = daemon.run(&["run", "--rm", "--network", "nope", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        common::stderr(&out).contains("network nope not found"),
        "{out:?}"
    );
    let out = daemon.run(&["network", "create", "-d", "overlay", "x"]);
    assert!(!out.status.success());
    assert!(
        common::stderr(&out).contains("bridge driver only"),
        "{out:?}"
    );
    let subnet = &daemon.spare_subnets()[0];
    daemon.ok(&["network", "create", "--subnet", subnet, "one"]);
    let out = daemon.run(&["network", "create", "--subnet", subnet, "two"]);
    assert!(common::stderr(&out).contains("overlaps"), "{out:?}");
    let out = daemon.run(&["network", "rm", "bridge"]);
    assert!(common::stderr(&out).contains("pre-defined"), "{out:?}");
    let ip = subnet.replace(".0/24", ".9");
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "first",
        "--network",
        "one",
        "--ip",
        &ip,
        "busybox",
        "sleep",
        "60",
    ]);
    let out = daemon.run(&[
        "run",
        "-d",
        "--name",
        "second",
        "--network",
        "one",
        "--ip",
        &ip,
        "busybox",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    assert!(common::stderr(&out).contains("already in use"), "{out:?}");
    let out = daemon.run(&["network", "rm", "one"]);
    assert!(common::stderr(&out).contains("active endpoints"), "{out:?}");
    daemon.ok(&["rm", "-f", "first", "second"]);
    daemon.ok(&["network", "rm", "one"]);
}

#[test]
fn connect_disconnect_and_joining_another_containers_namespace() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let subnet = &daemon.spare_subnets()[0];
    daemon.ok(&["network", "create", "--subnet", subnet, "late"]);
    daemon.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        &web_command("hello-late"),
    ]);
    // A running container joins a second network: eth1, and its name there.
    daemon.ok(&["network", "connect", "--alias", "later", "late", "web"]);
    wait_served(&daemon, "late", "later", "hello-late");
    let json = daemon.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "web"]);
    let networks: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert!(networks["late"]["IPAddress"].as_str().is_some(), "{json}");
    assert!(networks["bridge"]["IPAddress"].as_str().is_some(), "{json}");
    let out = daemon.run(&["network", "connect", "late", "web"]);
    assert!(common::stderr(&out).contains("already exists"), "{out:?}");

    // --network container:web shares web's namespace: its lo is web's.
    let script = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 80";
    let shared = daemon.ok(&[
        "run",
        "--rm",
        "--network",
        "container:web",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    assert!(shared.contains("hello-late"), "{shared}");

    daemon.ok(&["network", "disconnect", "late", "web"]);
    let (ok, out) = fetch_from(&daemon, "late", "later");
    assert!(!ok, "web still answers on late: {out}");
    let json = daemon.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "web"]);
    assert!(!json.contains("\"late\""), "{json}");
    daemon.ok(&["rm", "-f", "web"]);
    daemon.ok(&["network", "rm", "late"]);
}

/// The ports of a network's bridge, as iproute2 lists them (an oracle that
/// is not the engine's code): one per container wired to the network.
fn bridge_ports(daemon: &Daemon, network: &str) -> usize {
    let bridge = daemon.ok(&[
        "network",
        "inspect",
        "-f",
        "{{index .Options \"com.docker.network.bridge.name\"}}",
        network,
    ]);
    let out = Command::new("ip")
        .args(["-o", "link", "show", "master", bridge.trim()])
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip link show master {bridge}: {out:?}"
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Waits until the bridge of `network` has `ports` ports: a veth goes
/// with its container's namespace, which the kernel takes down in the
/// background after the namespace is let go.
fn wait_bridge_ports(daemon: &Daemon, network: &str, ports: usize, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = bridge_ports(daemon, network);
        if now == ports {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: {now} ports on the bridge of {network}, not {ports}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The addresses a network hands out now, from its file in the daemon's
/// root: address → container id.
fn allocated(daemon: &Daemon, network: &str) -> serde_json::Map<String, serde_json::Value> {
    let id = daemon.ok(&["network", "inspect", "-f", "{{.Id}}", network]);
    let path = daemon
        .root()
        .join("networks")
        .join(format!("{}.json", id.trim()));
    let text = std::fs::read_to_string(&path).expect("the network's file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    json["pool"]["allocated"]
        .as_object()
        .cloned()
        .unwrap_or_else(|| panic!("no allocations in {text}"))
}

/// The network events so far: `action container-id` per line.
fn network_events(daemon: &Daemon) -> Vec<String> {
    let now = format!(
        "{:.9}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    );
    daemon
        .ok(&[
            "events",
            "--since",
            "0",
            "--until",
            &now,
            "--filter",
            "type=network",
            "--format",
            "{{.Action}} {{.Actor.Attributes.container}}",
        ])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_stopped_container_holds_no_address_and_a_failed_start_leaves_nothing() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let subnet = &daemon.spare_subnets()[0];
    daemon.ok(&["network", "create", "--subnet", subnet, "app"]);
    let ip = subnet.replace(".0/24", ".7");
    let web = daemon.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "app",
        "--ip",
        &ip,
        "--network-alias",
        "www",
        "busybox",
        "sleep",
        "300",
    ]);
    let web = web.trim().to_string();
    assert_eq!(bridge_ports(&daemon, "app"), 1);
    assert_eq!(allocated(&daemon, "app").len(), 1);

    // Stopped: no address, no link; the address is free for another.
    daemon.ok(&["stop", "-t", "1", "web"]);
    eventually(Duration::from_secs(20), "web's address is released", || {
        allocated(&daemon, "app").is_empty()
    });
    wait_bridge_ports(&daemon, "app", 0, "web's veth is left");
    let json = daemon.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "web"]);
    assert!(
        !json.contains(&ip),
        "a stopped container shows {ip}: {json}"
    );
    daemon.ok(&[
        "run",
        "--rm",
        "--network",
        "app",
        "--ip",
        &ip,
        "busybox",
        "true",
    ]);

    // Started again: the same --ip and alias, asked again.
    daemon.ok(&["start", "web"]);
    assert_eq!(ip_of(&daemon, "web", "app"), ip);
    let aliases = daemon.ok(&[
        "inspect",
        "-f",
        "{{json .NetworkSettings.Networks.app.Aliases}}",
        "web",
    ]);
    assert!(aliases.contains("www"), "{aliases}");
    wait_bridge_ports(&daemon, "app", 1, "web's veth, and only it");

    // Each start says `connect`, each stop `disconnect`.
    let mine: Vec<String> = network_events(&daemon)
        .into_iter()
        .filter(|e| e.ends_with(&web))
        .map(|e| e.split(' ').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(mine, ["connect", "disconnect", "connect"], "events of web");

    // A start that fails keeps no address and leaves no link.
    let out = daemon.run(&[
        "run",
        "-d",
        "--name",
        "broken",
        "--network",
        "app",
        "busybox",
        "/no/such/program",
    ]);
    assert!(!out.status.success(), "{out:?}");
    let held = allocated(&daemon, "app");
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held.values().next().and_then(|v| v.as_str()), Some(&*web));
    wait_bridge_ports(&daemon, "app", 1, "broken's veth is left");
    // …and removing it afterwards is as clean.
    daemon.ok(&["rm", "-f", "web", "broken"]);
    assert!(allocated(&daemon, "app").is_empty());
    wait_bridge_ports(&daemon, "app", 0, "a veth is left after rm");
    let events = network_events(&daemon);
    assert!(
        events.iter().rfind(|e| e.ends_with(&web)) == Some(&format!("disconnect {web}")),
        "rm -f of a running container says disconnect: {events:?}"
    );
    daemon.ok(&["network", "rm", "app"]);
}

#[test]
fn publish_all_publishes_the_ports_the_image_exposes() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let context = daemon.scratch().join("exposing");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM busybox\nEXPOSE 80 5353/udp\n",
    )
    .unwrap();
    daemon.ok(&["build", "-q", "-t", "exposing", context.to_str().unwrap()]);
    daemon.ok(&[
        "run",
        "-d",
        "-P",
        "--name",
        "web",
        "exposing",
        "sh",
        "-c",
        &web_command("exposed"),
    ]);
    let published = |daemon: &Daemon| {
        let tcp = daemon.ok(&["port", "web", "80/tcp"]);
        let udp = daemon.ok(&["port", "web", "5353/udp"]);
        assert!(udp.trim().starts_with("0.0.0.0:"), "{udp}");
        let port = tcp
            .lines()
            .next()
            .and_then(|l| l.rsplit(':').next())
            .unwrap_or_else(|| panic!("no host port for 80/tcp: {tcp}"))
            .to_string();
        let addr = format!("127.0.0.1:{port}");
        eventually(Duration::from_secs(20), "the exposed port answers", || {
            minidock_testkit::http_get(&addr, "/", None)
                .is_ok_and(|r| String::from_utf8_lossy(&r.body).contains("exposed"))
        });
    };
    published(&daemon);

    // A daemon that restarts still knows what the container asked for: a
    // stop gives the ports back, the next start publishes them again.
    let (dir, leaks) = daemon.kill9();
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    daemon.ok(&["stop", "-t", "1", "web"]);
    eventually(Duration::from_secs(20), "the ports are given back", || {
        daemon.ok(&["port", "web"]).trim().is_empty()
    });
    daemon.ok(&["start", "web"]);
    published(&daemon);
    daemon.ok(&["rm", "-f", "web"]);
}

/// `nslookup NAME` (busybox's, which speaks DNS itself and never reads
/// `/etc/hosts`) in a new container on `network`, with `args` added to the
/// run: what it printed.
/// Sends `queries` (id, name: type A, class IN, recursion desired) to
/// `server`:53 over one TCP connection, written by hand; returns the
/// first two answers, without their length prefix.
fn dns_over_tcp(server: &str, queries: &[(u16, &str)]) -> (Vec<u8>, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect((server, 53))
        .unwrap_or_else(|e| panic!("connect to {server}:53 over TCP: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut bytes = Vec::new();
    for (id, name) in queries {
        let mut q = id.to_be_bytes().to_vec();
        q.extend([0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend(label.as_bytes());
        }
        q.extend([0, 0, 1, 0, 1]);
        bytes.extend((q.len() as u16).to_be_bytes());
        bytes.extend(q);
    }
    stream.write_all(&bytes).unwrap();
    let mut read_one = || {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).expect("an answer's length");
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut answer).expect("an answer");
        answer
    };
    let first = read_one();
    (first, read_one())
}

fn nslookup(daemon: &Daemon, args: &[&str], name: &str) -> String {
    let mut run = vec!["run", "--rm"];
    run.extend_from_slice(args);
    run.extend_from_slice(&["busybox", "nslookup", "-type=a", name]);
    let out = daemon.run(&run);
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn the_networks_dns_server_answers_names_aliases_and_peers_on_every_network() {
    let daemon = Daemon::start();
    daemon.load_busybox();
    let subnets = daemon.spare_subnets();
    daemon.ok(&["network", "create", "--subnet", &subnets[0], "front"]);
    daemon.ok(&["network", "create", "--subnet", &subnets[1], "back"]);
    let sleeper = |name: &str, network: &str, alias: &str| {
        daemon.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            network,
            "--network-alias",
            alias,
            "busybox",
            "sleep",
            "300",
        ]);
    };
    sleeper("web", "front", "www");
    sleeper("db", "back", "database");
    sleeper("both", "front", "middle");
    daemon.ok(&["network", "connect", "back", "both"]);
    let web = ip_of(&daemon, "web", "front");
    let db = ip_of(&daemon, "db", "back");
    let gateway = subnets[0].replace(".0/24", ".1");

    // The container's resolv.conf names the network's DNS server.
    let resolv = daemon.ok(&[
        "run",
        "--rm",
        "--network",
        "front",
        "busybox",
        "cat",
        "/etc/resolv.conf",
    ]);
    assert!(
        resolv.contains(&format!("nameserver {gateway}")),
        "{resolv}"
    );
    // By name and by alias.
    let out = nslookup(&daemon, &["--network", "front"], "web");
    assert!(out.contains(&format!("Address: {web}")), "{out}");
    let out = nslookup(&daemon, &["--network", "front"], "www");
    assert!(out.contains(&format!("Address: {web}")), "{out}");
    // A container on two networks finds the peers of both, though it asks
    // front's server; one on front alone does not find db.
    let out = daemon.ok(&["exec", "both", "nslookup", "-type=a", "db"]);
    assert!(out.contains(&format!("Address: {db}")), "{out}");
    let out = nslookup(&daemon, &["--network", "front"], "db");
    assert!(out.contains("NXDOMAIN"), "front alone resolves db: {out}");
    // A name nobody has: NXDOMAIN, answered here (no forwarding in tests).
    let out = nslookup(&daemon, &["--network", "front"], "nobody-has-this-name");
    assert!(out.contains("NXDOMAIN"), "{out}");

    // Over TCP too: two queries on one connection, each with its length
    // in two bytes (RFC 1035 4.2.2), asked from the host.
    let (first, second) = dns_over_tcp(&gateway, &[(0x5151, "www"), (0x5252, "nobody-has-this")]);
    assert_eq!(&first[..2], &[0x51, 0x51], "the answer's id: {first:?}");
    assert_eq!(first[3] & 0x0f, 0, "www over TCP: rcode {first:?}");
    let octets: Vec<u8> = web.split('.').map(|o| o.parse().unwrap()).collect();
    assert!(
        first.ends_with(&octets),
        "www over TCP is not {web}: {first:?}"
    );
    assert_eq!(&second[..2], &[0x52, 0x52], "{second:?}");
    assert_eq!(second[3] & 0x0f, 3, "NXDOMAIN over TCP: {second:?}");

    // A restarted daemon answers at once, from what it kept.
    let (dir, leaks) = daemon.kill9();
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    let out = nslookup(&daemon, &["--network", "front"], "www");
    assert!(
        out.contains(&format!("Address: {web}")),
        "after a restart: {out}"
    );

    // A stopped container's name goes with its address.
    daemon.ok(&["stop", "-t", "1", "web"]);
    eventually(Duration::from_secs(20), "web's name is gone", || {
        nslookup(&daemon, &["--network", "front"], "web").contains("NXDOMAIN")
    });
    daemon.ok(&["rm", "-f", "web", "db", "both"]);
    daemon.ok(&["network", "rm", "front", "back"]);
}

/// Every step of a container's network setup, as its fail point names it
/// (see `minidock_networks::bridge`).
const SETUP_STEPS: [&str; 7] = [
    "net-setup-after-record",
    "net-setup-after-netns",
    "net-setup-after-address",
    "net-setup-after-endpoint",
    "net-setup-after-veth",
    "net-setup-after-proxy",
    "net-setup-after-files",
];

/// Processes whose command line holds `needle` (the port proxies of one
/// daemon carry its run directory).
fn processes_with(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| {
            let raw = std::fs::read(e.path().join("cmdline")).ok()?;
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            line.contains(needle).then_some(line)
        })
        .collect()
}

#[test]
fn a_daemon_killed_at_each_network_setup_step_leaves_nothing_after_its_restart() {
    let mut daemon = Daemon::start();
    daemon.load_busybox();
    let subnet = &daemon.spare_subnets()[0];
    daemon.ok(&["network", "create", "--subnet", subnet, "app"]);
    let netns_dir = daemon.dir.join("run/netns");
    for step in SETUP_STEPS {
        let (dir, leaks) = daemon.kill9();
        let crashing = Daemon::start_in_with_env(&dir, &[("MINIDOCK_FAILPOINT", step)]);
        let out = crashing.run(&[
            "run",
            "-d",
            "--name",
            "crashy",
            "--network",
            "app",
            "-p",
            "127.0.0.1::80",
            "busybox",
            "sleep",
            "300",
        ]);
        assert!(!out.status.success(), "{step}: the run went through");
        let (status, dir, _) = crashing.crashed(Duration::from_secs(30));
        assert!(!status.success(), "{step}: {status}");
        daemon = Daemon::start_in(&dir);
        daemon.adopt_leak_check(leaks);

        // The restarted daemon released what the dead one had made.
        assert!(
            allocated(&daemon, "app").is_empty(),
            "{step}: an address is held"
        );
        wait_bridge_ports(&daemon, "app", 0, &format!("{step}: a veth is left"));
        let pinned = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter(|l| l.contains(&*netns_dir.to_string_lossy()))
            .count();
        assert_eq!(pinned, 0, "{step}: a network namespace is still pinned");
        let proxies = processes_with(&netns_dir.to_string_lossy());
        assert!(proxies.is_empty(), "{step}: proxies left: {proxies:?}");
        // …and the container starts as if nothing had happened.
        daemon.ok(&["start", "crashy"]);
        assert_eq!(allocated(&daemon, "app").len(), 1, "{step}");
        assert!(
            !daemon.ok(&["port", "crashy", "80/tcp"]).trim().is_empty(),
            "{step}: no port"
        );
        daemon.ok(&["rm", "-f", "crashy"]);
        wait_bridge_ports(&daemon, "app", 0, &format!("{step}: a veth is left"));
    }
    daemon.ok(&["network", "rm", "app"]);
    let leaks = minidock_testkit::network_leaks(&daemon.root());
    assert!(leaks.is_empty(), "left behind: {leaks:?}");
}

#[test]
fn a_restarted_daemon_deletes_the_bridge_and_table_that_no_record_names() {
    let daemon = Daemon::start();
    let subnet = &daemon.spare_subnets()[0];
    daemon.ok(&["network", "create", "--subnet", subnet, "lost"]);
    let id = daemon.ok(&["network", "inspect", "-f", "{{.Id}}", "lost"]);
    let held = minidock_testkit::network_resources(&daemon.root());
    assert_eq!(
        minidock_testkit::still_present(&held).len(),
        2,
        "the bridge and the table of lost: {held:?}"
    );
    // The test kit finds both by the daemon's tag, without the records.
    let prefix = daemon.dir.display().to_string();
    let tagged = minidock_testkit::tagged_network_objects(&prefix);
    for object in &held {
        assert!(
            tagged.contains(object),
            "{object} is not tagged: {tagged:?}"
        );
    }

    // The record goes, the kernel objects stay (a crash between the two
    // steps of a removal, an older engine): the next start sweeps them.
    let (dir, leaks) = daemon.kill9();
    std::fs::remove_file(
        dir.join("root/networks")
            .join(format!("{}.json", id.trim())),
    )
    .expect("remove the network's record");
    let mut daemon = Daemon::start_in(&dir);
    daemon.adopt_leak_check(leaks);
    let left = minidock_testkit::still_present(&held);
    assert!(left.is_empty(), "left: {left:?}\n{}", daemon.log());
    assert!(
        daemon.log().contains("no network has it"),
        "the sweep says what it deleted:\n{}",
        daemon.log()
    );
    let names = daemon.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!names.contains("lost"), "{names}");
}
