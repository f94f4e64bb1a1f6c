//! Where the default network goes: 172.17.0.0/16 when it is free; the next
//! free subnet of the pools when a host route holds it (a `docker0` on the
//! same host), as Docker does without `--bip`; and no default network
//! rather than an overlapping one when the user chose that subnet.
//!
//! As root, in a network namespace of the test's own: its routes are the
//! test's to make, and its bridges and nftables tables go with it.

use minidock_networks::ipam::Subnet;
use minidock_networks::netlink::{Socket, NETLINK_ROUTE};
use minidock_networks::{links, Driver, DriverConfig};
use std::path::Path;
use std::process::Command;

fn subnet(text: &str) -> Subnet {
    text.parse().unwrap()
}

/// A driver with minidockd's defaults: 172.17.0.0/16 first, the pools
/// from 172.17.0.0 on in /16s and 192.168.0.0/16 in /20s.
fn open(root: &Path, chosen: bool) -> Driver {
    Driver::open(DriverConfig {
        state: root.join("networks"),
        run: root.join("netns"),
        files: root.join("files"),
        binary: "/bin/false".into(),
        default_subnet: Some(subnet("172.17.0.0/16")),
        default_subnet_chosen: chosen,
        pools: vec![
            (
                Subnet {
                    base: [172, 17, 0, 0].into(),
                    prefix: 12,
                },
                16,
            ),
            (subnet("192.168.0.0/16"), 20),
        ],
        ip_forward: false,
        dns_forward: false,
    })
    .unwrap()
}

fn default_subnet(driver: &Driver) -> Option<String> {
    let bridge = driver.find("bridge").ok()?;
    Some(
        bridge
            .pool
            .expect("a bridge network has a pool")
            .subnet
            .to_string(),
    )
}

/// The routes of this thread's namespace, as iproute2 shows them.
fn routes() -> String {
    let ns = format!(
        "--net=/proc/{}/task/{}/ns/net",
        std::process::id(),
        nix::unistd::gettid()
    );
    minidock_testkit::run_ok(Command::new("nsenter").arg(ns).args(["ip", "route"]))
}

#[test]
fn the_default_network_steps_aside_from_a_routed_subnet() {
    minidock_testkit::require_root();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::thread::spawn(move || {
        // This thread alone (and the threads it starts) moves.
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let mut sock = Socket::open(NETLINK_ROUTE).unwrap();
        // A link holding 172.17.0.1/16: the kernel routes 172.17.0.0/16
        // to it, as on a host where Docker runs.
        links::create_bridge(&mut sock, "docker0").unwrap();
        let docker0 = links::index(&mut sock, "docker0").unwrap().unwrap();
        links::add_address(&mut sock, docker0, "172.17.0.1".parse().unwrap(), 16).unwrap();
        links::set_up(&mut sock, docker0).unwrap();
        assert!(
            routes().contains("172.17.0.0/16 dev docker0"),
            "{}",
            routes()
        );

        // Not chosen: the next free pool.
        let auto = open(&root.join("auto"), false);
        assert_eq!(default_subnet(&auto).as_deref(), Some("172.18.0.0/16"));
        let bridge = auto.find("bridge").unwrap().bridge;
        assert!(
            routes().contains(&format!("172.18.0.0/16 dev {bridge}")),
            "{}",
            routes()
        );
        // A restart keeps the subnet it took.
        drop(auto);
        let again = open(&root.join("auto"), false);
        assert_eq!(default_subnet(&again).as_deref(), Some("172.18.0.0/16"));

        // Chosen (--bridge-subnet, bip): no default network, as before,
        // rather than one beside a route to the same addresses.
        let chosen = open(&root.join("chosen"), true);
        assert_eq!(default_subnet(&chosen), None);
        assert!(chosen.find("none").is_ok() && chosen.find("host").is_ok());

        // Free again: 172.17.0.0/16 is taken as it is (172.18.0.0/16, the
        // first daemon's, is routed now and left alone).
        links::delete(&mut sock, "docker0").unwrap();
        let free = open(&root.join("free"), false);
        assert_eq!(default_subnet(&free).as_deref(), Some("172.17.0.0/16"));
    })
    .join()
    .unwrap();
}
