//! The lesson's pieces, one by one: addresses, messages, the files, the
//! rules, and — as root — a pinned namespace wired to a bridge with a veth
//! pair, with real traffic to it, and a port proxy on 127.0.0.1.

use minidock_networks::dns::{peer_entries, Presence};
use minidock_networks::hosts::{hosts_file, HostEntry};
use minidock_networks::ipam::{Pool, Subnet};
use minidock_networks::netlink::{parse_attrs, Message};
use minidock_networks::ports::{self, PortRequest, Proto};
use minidock_networks::{links, nat, netns, Error};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::Command;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// Stops a proxy when dropped, also when an assertion failed first.
struct Unpublish(ports::Published, String);

impl Drop for Unpublish {
    fn drop(&mut self) {
        ports::unpublish(&self.0, &self.1);
    }
}

#[test]
fn ipam_hands_out_each_address_once() {
    let subnet: Subnet = "172.30.0.0/29".parse().unwrap();
    let mut pool = Pool::new(subnet, None, None).unwrap();
    assert_eq!(pool.gateway, ip("172.30.0.1"));
    assert_eq!(pool.allocate("a", None).unwrap(), ip("172.30.0.2"));
    assert_eq!(pool.allocate("b", None).unwrap(), ip("172.30.0.3"));
    // The same owner asking again keeps its address.
    assert_eq!(pool.allocate("a", None).unwrap(), ip("172.30.0.2"));
    // --ip: honoured when free, refused when taken or unusable.
    assert_eq!(
        pool.allocate("c", Some(ip("172.30.0.6"))).unwrap(),
        ip("172.30.0.6")
    );
    assert!(matches!(
        pool.allocate("d", Some(ip("172.30.0.6"))),
        Err(Error::Conflict(_))
    ));
    for bad in ["172.30.0.1", "172.30.0.7", "172.30.0.0", "172.31.0.2"] {
        assert!(
            matches!(pool.allocate("d", Some(ip(bad))), Err(Error::Invalid(_))),
            "{bad} was handed out"
        );
    }
    assert_eq!(pool.allocate("d", None).unwrap(), ip("172.30.0.4"));
    assert_eq!(pool.allocate("e", None).unwrap(), ip("172.30.0.5"));
    let full = pool.allocate("f", None).unwrap_err();
    assert!(matches!(full, Error::Full(_)), "{full}");
    assert!(full.to_string().contains("172.30.0.0/29"), "{full}");
    // Released addresses come back; the pool survives a round trip to disk.
    pool.release("b");
    let text = serde_json::to_string(&pool).unwrap();
    let mut again: Pool = serde_json::from_str(&text).unwrap();
    assert_eq!(again.allocate("f", None).unwrap(), ip("172.30.0.3"));
    // --ip-range limits the automatic ones.
    let range: Subnet = "172.30.8.8/30".parse().unwrap();
    let mut ranged = Pool::new("172.30.8.0/24".parse().unwrap(), None, Some(range)).unwrap();
    assert_eq!(ranged.allocate("a", None).unwrap(), ip("172.30.8.8"));
}

#[test]
fn attributes_are_type_length_value_padded_to_four() {
    let mut m = Message::new(16, 0, &[0u8; 16]);
    m.attr(3, b"eth0\0").attr(4, &1500u32.to_ne_bytes());
    let bytes = m.finish(1);
    assert_eq!(bytes.len(), 16 + 16 + 12 + 8);
    let attrs = parse_attrs(&bytes[32..]);
    assert_eq!(
        attrs,
        vec![(3, &b"eth0\0"[..]), (4, &1500u32.to_ne_bytes()[..])]
    );
    assert_eq!(&bytes[32..36], &[9, 0, 3, 0], "length 9 (4 + 5), type 3");
    assert_eq!(&bytes[41..44], &[0, 0, 0], "padding");
}

#[test]
fn hosts_file_is_dockers() {
    let names = vec!["web".to_string()];
    let extra = vec![HostEntry {
        ip: "10.1.2.3".into(),
        names: vec!["db".into(), "db.local".into()],
    }];
    let text = hosts_file(Some((ip("172.18.0.2"), &names)), &extra);
    assert_eq!(
        text,
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n\
         ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n\
         172.18.0.2\tweb\n10.1.2.3\tdb db.local\n"
    );
}

#[test]
fn peers_are_the_others_on_resolving_networks() {
    let p = |net: &str, id: &str, name: &str, aliases: &[&str], addr: &str| Presence {
        network: net.into(),
        container_id: id.into(),
        name: name.into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        ip: ip(addr),
    };
    let everyone = vec![
        p("app", "aaaaaaaaaaaaaaaa", "web", &["www"], "172.18.0.2"),
        p("app", "bbbbbbbbbbbbbbbb", "client", &[], "172.18.0.3"),
        p("other", "cccccccccccccccc", "hidden", &[], "172.19.0.2"),
        p("bridge", "dddddddddddddddd", "legacy", &[], "172.17.0.2"),
        p("bridge", "bbbbbbbbbbbbbbbb", "client", &[], "172.17.0.3"),
    ];
    let resolving = |n: &str| n != "bridge";
    let peers = peer_entries("bbbbbbbbbbbbbbbb", &everyone, &resolving);
    assert_eq!(
        peers,
        vec![HostEntry {
            ip: "172.18.0.2".into(),
            names: vec!["web".into(), "www".into(), "aaaaaaaaaaaa".into()],
        }]
    );
}

fn nft(args: &[&str]) -> String {
    minidock_testkit::require_tool("nft", "nftables");
    minidock_testkit::run_ok(Command::new("nft").args(args))
}

#[test]
fn masquerade_and_isolation_rules_are_what_nft_would_write() {
    minidock_testkit::require_root();
    let table = minidock_testkit::random_name("minidock-test-");
    let bridge = minidock_testkit::random_name("mdt");
    let rules = nat::NetworkRules {
        table: table.clone(),
        bridge: bridge.clone(),
        subnet: "172.30.4.0/24".parse().unwrap(),
        internal: false,
        comment: "minidock /test/root".into(),
    };
    nat::install(&rules).unwrap();
    let text = nft(&["list", "table", "ip", &table]);
    nat::remove(&table).unwrap();
    assert!(
        text.contains(&format!(
            "ip saddr 172.30.4.0/24 oifname != \"{bridge}\" masquerade"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "oifname \"{bridge}\" iifname != \"{bridge}\" drop"
        )),
        "{text}"
    );
    assert!(
        text.contains("ct state established,related accept"),
        "{text}"
    );
    assert!(
        text.contains("comment \"minidock /test/root\""),
        "the engine's tag: {text}"
    );
    assert!(
        !nft(&["list", "tables", "ip"]).contains(&table),
        "the table is gone"
    );
    nat::remove(&table).unwrap();
}

/// A bridge with an address on the host, a pinned namespace, a veth pair
/// between them: a TCP server inside answers the host.
#[test]
fn a_pinned_namespace_wired_to_a_bridge_answers() {
    minidock_testkit::require_root();
    let dir = tempfile::tempdir().unwrap();
    let pinned = dir.path().join("ns");
    let bridge = minidock_testkit::random_name("mdt");
    let veth = minidock_testkit::random_name("mdv");
    let subnet: Subnet = minidock_testkit::test_subnets().spare[0].parse().unwrap();
    let gateway = subnet.first_host();
    let inside_ip = Ipv4Addr::from(u32::from(gateway) + 1);

    netns::create(&pinned).unwrap();
    assert!(netns::is_pinned(&pinned));
    let mut host =
        minidock_networks::netlink::Socket::open(minidock_networks::netlink::NETLINK_ROUTE)
            .unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        links::create_bridge(&mut host, &bridge).unwrap();
        let br = links::index(&mut host, &bridge).unwrap().unwrap();
        links::add_address(&mut host, br, gateway, subnet.prefix).unwrap();
        links::set_up(&mut host, br).unwrap();
        let ns = std::fs::File::open(&pinned).unwrap();
        links::create_veth(
            &mut host,
            &veth,
            br,
            "eth0",
            ns.as_fd(),
            [2, 0x42, 1, 2, 3, 4],
        )
        .unwrap();
        let v = links::index(&mut host, &veth).unwrap().unwrap();
        links::set_up(&mut host, v).unwrap();
        // The engine's tag, in the link's alias; found by it.
        let tag = format!("minidock lesson {veth}");
        links::set_up_tagged(&mut host, &veth, &tag).unwrap();
        assert_eq!(links::tagged(&mut host, &tag).unwrap(), vec![veth.clone()]);
        let mut inside = netns::socket_in(&pinned).unwrap();
        let eth0 = links::index(&mut inside, "eth0")
            .unwrap()
            .expect("eth0 inside");
        links::add_address(&mut inside, eth0, inside_ip, subnet.prefix).unwrap();
        links::set_up(&mut inside, eth0).unwrap();
        links::add_default_route(&mut inside, gateway, eth0).unwrap();
        assert!(links::index(&mut host, "eth0-nope").unwrap().is_none());

        // The oracle: iproute2 in the namespace.
        let shown = minidock_testkit::run_ok(
            Command::new("nsenter")
                .arg(format!("--net={}", pinned.display()))
                .args(["ip", "-o", "addr", "show", "eth0"]),
        );
        assert!(
            shown.contains(&format!("{inside_ip}/{}", subnet.prefix)),
            "{shown}"
        );
        let route = minidock_testkit::run_ok(
            Command::new("nsenter")
                .arg(format!("--net={}", pinned.display()))
                .args(["ip", "route"]),
        );
        assert!(route.contains(&format!("default via {gateway}")), "{route}");

        // A server inside; the host reaches it through the bridge.
        let file = std::fs::File::open(&pinned).unwrap();
        let listener = std::thread::spawn(move || {
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            TcpListener::bind((inside_ip, 8080)).unwrap()
        })
        .join()
        .unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"from inside").unwrap();
        });
        let mut got = String::new();
        TcpStream::connect((inside_ip, 8080))
            .unwrap()
            .read_to_string(&mut got)
            .unwrap();
        server.join().unwrap();
        assert_eq!(got, "from inside");
    }));
    links::delete(&mut host, &veth).unwrap();
    links::delete(&mut host, &bridge).unwrap();
    netns::remove(&pinned).unwrap();
    assert!(!pinned.exists());
    assert!(links::index(&mut host, &bridge).unwrap().is_none());
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn a_proxy_joins_a_host_port_to_the_target() {
    minidock_testkit::require_root();
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let target_port = target.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = target.accept().unwrap();
        let mut asked = String::new();
        s.read_to_string(&mut asked).unwrap();
        s.write_all(format!("echo {asked}").as_bytes()).unwrap();
    });
    let tag = minidock_testkit::random_name("proxy-test-");
    let published = ports::publish(
        std::path::Path::new(env!("CARGO_BIN_EXE_minidock-proxy")),
        &PortRequest {
            proto: Proto::Tcp,
            container_port: target_port,
            host_ip: ip("127.0.0.1"),
            host_port: 0,
        },
        ip("127.0.0.1"),
        &tag,
    )
    .unwrap();
    let guard = Unpublish(published.clone(), tag.clone());
    assert_ne!(published.host_port, 0, "the kernel chose a port");
    // The port is taken: a second bind is a clear conflict.
    let again = ports::publish(
        std::path::Path::new(env!("CARGO_BIN_EXE_minidock-proxy")),
        &PortRequest {
            proto: Proto::Tcp,
            container_port: target_port,
            host_ip: ip("127.0.0.1"),
            host_port: published.host_port,
        },
        ip("127.0.0.1"),
        &tag,
    );
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    let mut s = TcpStream::connect(("127.0.0.1", published.host_port)).unwrap();
    s.write_all(b"ping").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).unwrap();
    server.join().unwrap();
    assert_eq!(got, "echo ping");
    assert!(ports::is_proxy(published.proxy_pid.unwrap(), &tag));
    drop(guard);
    assert!(!ports::is_proxy(published.proxy_pid.unwrap(), &tag));
    assert!(TcpStream::connect(("127.0.0.1", published.host_port)).is_err());
}

#[test]
fn a_udp_proxy_relays_datagrams_both_ways() {
    minidock_testkit::require_root();
    let target = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target_port = target.local_addr().unwrap().port();
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (n, from) = target.recv_from(&mut buf).unwrap();
        target
            .send_to(&[b"echo ", &buf[..n]].concat(), from)
            .unwrap();
    });
    let tag = minidock_testkit::random_name("proxy-test-");
    let published = ports::publish(
        std::path::Path::new(env!("CARGO_BIN_EXE_minidock-proxy")),
        &PortRequest {
            proto: Proto::Udp,
            container_port: target_port,
            host_ip: ip("127.0.0.1"),
            host_port: 0,
        },
        ip("127.0.0.1"),
        &tag,
    )
    .unwrap();
    let guard = Unpublish(published.clone(), tag.clone());
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    client
        .send_to(b"ping", ("127.0.0.1", published.host_port))
        .unwrap();
    let mut buf = [0u8; 64];
    let n = client.recv(&mut buf);
    drop(guard);
    echo.join().unwrap();
    assert_eq!(&buf[..n.unwrap()], b"echo ping");
}
