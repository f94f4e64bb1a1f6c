//! `minidockd`'s flags. Most of them can also be set in daemon.json (see
//! [`crate::daemon_config`]), which is why they live here, in the library,
//! where the file's keys are merged into them.

use std::path::PathBuf;

use clap::Parser;
use minidock_daemon::daemon::{DEFAULT_ROOT, DEFAULT_RUN};
use minidock_networks::ipam::Subnet;

/// The minidock daemon: Docker's Engine API (v1.44) on a unix socket.
#[derive(Debug, Parser)]
#[command(name = "minidockd", version, about, long_about = None)]
pub struct DaemonArgs {
    /// Where to listen: unix:///path/to.sock or tcp://HOST:PORT (repeatable).
    /// TCP needs --tlsverify: whoever can use the API has root.
    #[arg(short = 'H', long = "host", value_name = "ADDRESS")]
    pub hosts: Vec<String>,
    /// Serve TCP hosts with mutual TLS: only clients with a certificate
    /// signed by --tlscacert get in.
    #[arg(long)]
    pub tlsverify: bool,
    /// The CA that signs the clients' certificates [default:
    /// $DOCKER_CERT_PATH/ca.pem, else ~/.docker/ca.pem]
    #[arg(long, value_name = "FILE", requires = "tlsverify")]
    pub tlscacert: Option<PathBuf>,
    /// The daemon's certificate (PEM) [default: …/cert.pem]
    #[arg(long, value_name = "FILE", requires = "tlsverify")]
    pub tlscert: Option<PathBuf>,
    /// The daemon's private key (PEM) [default: …/key.pem]
    #[arg(long, value_name = "FILE", requires = "tlsverify")]
    pub tlskey: Option<PathBuf>,
    /// Serve tcp:// hosts without TLS or any authentication. Anyone who
    /// can reach the port gets root on this machine.
    #[arg(long = "insecure-tcp-without-tls-i-know-this-is-root")]
    pub insecure_tcp: bool,
    /// State directory: images, containers (mode 0700).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ROOT, env = "MINIDOCK_ROOT")]
    pub root: PathBuf,
    /// Runtime directory: sockets.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_RUN, env = "MINIDOCK_RUN")]
    pub run: PathBuf,
    /// The group that may use the socket (its mode is 0660).
    #[arg(short = 'G', long, value_name = "GROUP")]
    pub group: Option<String>,
    /// The cgroup the containers' cgroups are made under.
    #[arg(long, value_name = "NAME", default_value = minidock_daemon::daemon::CGROUP_PARENT)]
    pub cgroup_parent: String,
    /// Log every request on stderr.
    #[arg(short = 'D', long)]
    pub debug: bool,
    /// The default network's subnet, or `none` for no default network
    /// (containers without --network then get none). Not given: 172.17.0.0/16
    /// when no host route or network holds it, else the first free subnet
    /// of the address pools.
    #[arg(long, value_name = "CIDR", default_value = "172.17.0.0/16")]
    pub bridge_subnet: String,
    /// Where automatic subnets of new networks come from: BASE/SIZE, as
    /// 172.18.0.0/16/16 (repeatable; Docker's default pools when absent).
    #[arg(long = "address-pool", value_name = "CIDR/SIZE")]
    pub address_pools: Vec<String>,
    /// Switch on IPv4 forwarding for networks that are not internal.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub ip_forward: bool,
    /// Let the networks' DNS servers ask the host's servers (its
    /// /etc/resolv.conf) for names no container has; false: they answer
    /// "no such name" and nothing leaves the machine.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub dns_forward: bool,
    /// A registry (HOST:PORT) that may be reached over plain HTTP although
    /// it is not on 127.0.0.0/8 (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    pub insecure_registries: Vec<String>,
    /// Per-registry CAs and client certificates: DIR/HOST:PORT/ca.crt,
    /// client.cert, client.key (Docker's /etc/docker/certs.d). A registry
    /// with a directory there is reached over HTTPS, even on 127.0.0.1.
    #[arg(long, value_name = "DIR", default_value = minidock_registry::tls::DEFAULT_CERTS_DIR)]
    pub registry_certs_dir: PathBuf,
    /// A mirror of Docker Hub (http://HOST:PORT or https://HOST), tried
    /// before it for pulls, in order (repeatable).
    #[arg(long = "registry-mirror", value_name = "URL")]
    pub registry_mirrors: Vec<String>,
    /// The log driver of containers that name none: json-file (the
    /// default) or none
    #[arg(long = "log-driver", value_name = "DRIVER")]
    pub log_driver: Option<String>,
    /// An option of that driver for containers that name none, KEY=VALUE
    /// (max-size=10m, max-file=3, compress=true; repeatable)
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    pub log_opts: Vec<String>,
    /// The daemon's configuration file (daemon.json). The default one may
    /// be absent; one named here must exist.
    #[arg(long, value_name = "FILE")]
    pub config_file: Option<PathBuf>,
}

/// Parses `BASE/PREFIX/SIZE`.
pub fn parse_pool(text: &str) -> Result<(Subnet, u8), String> {
    let (base, size) = text
        .rsplit_once('/')
        .ok_or_else(|| format!("address pool {text:?}: expected BASE/PREFIX/SIZE"))?;
    let base: Subnet = base
        .parse()
        .map_err(|e| format!("address pool {text:?}: {e}"))?;
    let size: u8 = size
        .parse()
        .ok()
        .filter(|s| *s >= base.prefix && *s <= 30)
        .ok_or_else(|| format!("address pool {text:?}: SIZE must be between the prefix and 30"))?;
    Ok((base, size))
}

/// Docker's default address pools: each /16 from 172.17.0.0 to 172.31.0.0
/// (the private 172.16.0.0/12 without its first /16), then 192.168.0.0/16
/// cut in /20s. One pool per /16: a pool is a subnet, and 172.17.0.0 starts
/// no wider one (a "172.17.0.0/12" would run on into 172.32.0.0, which is
/// not private).
pub fn default_address_pools() -> Vec<(Subnet, u8)> {
    let mut pools: Vec<(Subnet, u8)> = (17..=31)
        .map(|second| {
            let base = Subnet {
                base: [172, second, 0, 0].into(),
                prefix: 16,
            };
            (base, 16)
        })
        .collect();
    let lan = Subnet {
        base: [192, 168, 0, 0].into(),
        prefix: 16,
    };
    pools.push((lan, 20));
    pools
}

#[cfg(test)]
mod pool_tests {
    use super::default_address_pools;

    #[test]
    fn default_pools_stay_in_private_space_and_start_after_the_default_bridge() {
        let pools = default_address_pools();
        let names: Vec<String> = pools.iter().map(|(s, n)| format!("{s}/{n}")).collect();
        assert_eq!(names.first().map(String::as_str), Some("172.17.0.0/16/16"));
        assert_eq!(names[14], "172.31.0.0/16/16");
        assert_eq!(names.last().map(String::as_str), Some("192.168.0.0/16/20"));
        for (subnet, size) in &pools {
            assert!(*size >= subnet.prefix, "{subnet}/{size}");
            for ip in [subnet.base, subnet.last()] {
                assert!(ip.is_private(), "{ip} of pool {subnet} is not private");
            }
            // Aligned: the base is the subnet's own first address.
            assert_eq!(u32::from(subnet.base) & !subnet.mask(), 0, "{subnet}");
        }
    }
}
