//! `minidockd`, the daemon: serves Docker's Engine API on a unix socket.
//!
//! Thin on purpose: parse the flags, hand over to `minidock_daemon::daemon`.
//! One thing must come first: this binary is also the container shim and
//! the init helper (the engine re-executes itself with a hidden argument to
//! get a fresh, single-threaded process). Those roles are dispatched before
//! anything else runs — above all before the async runtime starts threads,
//! because a threaded process must not fork.

use clap::Parser;
use minidock_daemon::daemon::DaemonError;
use minidock_daemon::daemon::{DaemonConfig, DEFAULT_ROOT, DEFAULT_RUN};
use minidock_daemon::engine::Plugins;
use minidock_daemon::events::Events;
use minidock_daemon::listen::{Host, DEFAULT_SOCKET};
use minidock_daemon::networks::NetworkService;
use minidock_daemon::tls::TlsFiles;
use minidock_networks::ipam::Subnet;
use minidock_networks::{Driver, DriverConfig, Networks};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The minidock daemon: Docker's Engine API (v1.44) on a unix socket.
#[derive(Debug, Parser)]
#[command(name = "minidockd", version, about, long_about = None)]
struct Args {
    /// Where to listen: unix:///path/to.sock or tcp://HOST:PORT (repeatable).
    /// TCP needs --tlsverify: whoever can use the API has root.
    #[arg(short = 'H', long = "host", value_name = "ADDRESS")]
    hosts: Vec<String>,
    /// Serve TCP hosts with mutual TLS: only clients with a certificate
    /// signed by --tlscacert get in.
    #[arg(long)]
    tlsverify: bool,
    /// The CA that signs the clients' certificates [default:
    /// $DOCKER_CERT_PATH/ca.pem, else ~/.docker/ca.pem]
    #[arg(long, value_name = "FILE", requires = "tlsverify")]
    tlscacert: Option<PathBuf>,
    /// The daemon's certificate (PEM) [default: …/cert.pem]
    #[arg(long, value_name = "FILE", requires = "tlsverify")]
    tlscert: Option<PathBuf>,
    /// The daemon's private key (PEM) [default: …/key.pem]
    #[arg(long, value_name = "FILE", requires = "tlsverify")]
    tlskey: Option<PathBuf>,
    /// Serve tcp:// hosts without TLS or any authentication. Anyone who
    /// can reach the port gets root on this machine.
    #[arg(long = "insecure-tcp-without-tls-i-know-this-is-root")]
    insecure_tcp: bool,
    /// State directory: images, containers (mode 0700).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ROOT, env = "MINIDOCK_ROOT")]
    root: PathBuf,
    /// Runtime directory: sockets.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_RUN, env = "MINIDOCK_RUN")]
    run: PathBuf,
    /// The group that may use the socket (its mode is 0660).
    #[arg(short = 'G', long, value_name = "GROUP")]
    group: Option<String>,
    /// The cgroup the containers' cgroups are made under.
    #[arg(long, value_name = "NAME", default_value = minidock_daemon::daemon::CGROUP_PARENT)]
    cgroup_parent: String,
    /// Log every request on stderr.
    #[arg(short = 'D', long)]
    debug: bool,
    /// The default network's subnet, or `none` for no default network
    /// (containers without --network then get none).
    #[arg(long, value_name = "CIDR", default_value = "172.17.0.0/16")]
    bridge_subnet: String,
    /// Where automatic subnets of new networks come from: BASE/SIZE, as
    /// 172.18.0.0/16/16 (repeatable; Docker's default pools when absent).
    #[arg(long = "address-pool", value_name = "CIDR/SIZE")]
    address_pools: Vec<String>,
    /// Switch on IPv4 forwarding for networks that are not internal.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    ip_forward: bool,
    /// Let the networks' DNS servers ask the host's servers (its
    /// /etc/resolv.conf) for names no container has; false: they answer
    /// "no such name" and nothing leaves the machine.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    dns_forward: bool,
    /// A registry (HOST:PORT) that may be reached over plain HTTP although
    /// it is not on 127.0.0.0/8 (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    insecure_registries: Vec<String>,
    /// Per-registry CAs and client certificates: DIR/HOST:PORT/ca.crt,
    /// client.cert, client.key (Docker's /etc/docker/certs.d). A registry
    /// with a directory there is reached over HTTPS, even on 127.0.0.1.
    #[arg(long, value_name = "DIR", default_value = minidock_registry::tls::DEFAULT_CERTS_DIR)]
    registry_certs_dir: PathBuf,
    /// A mirror of Docker Hub (http://HOST:PORT or https://HOST), tried
    /// before it for pulls, in order (repeatable).
    #[arg(long = "registry-mirror", value_name = "URL")]
    registry_mirrors: Vec<String>,
}

/// Parses `BASE/PREFIX/SIZE`.
fn parse_pool(text: &str) -> Result<(Subnet, u8), String> {
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

// ANCHOR: plugins
/// The services of the chapters after the daemon's, plugged into it once
/// the root is locked: chapter 06's network driver, chapter 07's volumes and
/// chapter 08's builder.
fn plugins(
    args: &NetworkArgs,
    config: &DaemonConfig,
    events: &Events,
) -> Result<Plugins, DaemonError> {
    let binary = std::env::current_exe()
        .map_err(|e| DaemonError::Engine(format!("cannot find the daemon's own binary: {e}")))?;
    let binary_for_build = binary.clone();
    let driver = Driver::open(DriverConfig {
        state: config.root.join("networks"),
        run: config.run.join("netns"),
        binary,
        default_subnet: args.default_subnet,
        pools: args.pools.clone(),
        ip_forward: args.ip_forward,
        dns_forward: args.dns_forward,
    })
    .map_err(|e| DaemonError::Engine(format!("networks: {e}")))?;
    let volumes = minidock_volumes::compat::LocalVolumes::open(&config.root)
        .map_err(|e| DaemonError::Engine(format!("cannot open the volumes: {e}")))?;
    let networks: Arc<dyn NetworkService> = Arc::new(Networks::new(driver, events.clone()));
    // ANCHOR: build_plugin
    // Chapter 08's builder: chapter 05 knows only its trait. Its RUN
    // containers use the same networks as the daemon's.
    let build = minidock_build::compat::daemon::BuildPlugin::new(
        &config.root,
        &config.run,
        &config.cgroup_parent,
        &binary_for_build,
    )
    .map_err(|e| DaemonError::Engine(format!("cannot start the builder: {e}")))?
    .with_network(networks.clone());
    // ANCHOR_END: build_plugin
    Ok(Plugins {
        networks: Some(networks),
        volumes: Some(Arc::new(volumes)),
        build: Some(Arc::new(build)),
    })
}
// ANCHOR_END: plugins

/// The network flags, parsed.
struct NetworkArgs {
    default_subnet: Option<Subnet>,
    pools: Vec<(Subnet, u8)>,
    ip_forward: bool,
    dns_forward: bool,
}

// ANCHOR: main
fn main() -> ExitCode {
    // Shim, init helper and port proxy roles: they never return.
    minidock_networks::ports::dispatch();
    minidock_daemon::engine::dispatch_reexec();
    // ANCHOR_END: main

    let args = Args::parse();
    let hosts = if args.hosts.is_empty() {
        vec![format!("unix://{DEFAULT_SOCKET}")]
    } else {
        args.hosts
    };
    let hosts: Result<Vec<Host>, _> = hosts.iter().map(|h| h.parse::<Host>()).collect();
    let hosts = match hosts {
        Ok(hosts) => hosts,
        Err(err) => {
            eprintln!("minidockd: {err}");
            return ExitCode::from(2);
        }
    };
    let network = (|| -> Result<NetworkArgs, String> {
        let default_subnet = match args.bridge_subnet.as_str() {
            "none" => None,
            cidr => Some(
                cidr.parse::<Subnet>()
                    .map_err(|e| format!("--bridge-subnet: {e}"))?,
            ),
        };
        let mut pools = args
            .address_pools
            .iter()
            .map(|p| parse_pool(p))
            .collect::<Result<Vec<_>, _>>()?;
        if pools.is_empty() {
            // Docker's defaults: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s.
            pools = vec![
                (
                    Subnet {
                        base: [172, 17, 0, 0].into(),
                        prefix: 12,
                    },
                    16,
                ),
                (
                    Subnet {
                        base: [192, 168, 0, 0].into(),
                        prefix: 16,
                    },
                    20,
                ),
            ];
        }
        Ok(NetworkArgs {
            default_subnet,
            pools,
            ip_forward: args.ip_forward,
            dns_forward: args.dns_forward,
        })
    })();
    let network = match network {
        Ok(n) => n,
        Err(err) => {
            eprintln!("minidockd: {err}");
            return ExitCode::from(2);
        }
    };
    let tls = args.tlsverify.then(|| {
        let defaults = TlsFiles::in_dir(&TlsFiles::default_dir());
        TlsFiles {
            ca: args.tlscacert.unwrap_or(defaults.ca),
            cert: args.tlscert.unwrap_or(defaults.cert),
            key: args.tlskey.unwrap_or(defaults.key),
        }
    });
    let registry = minidock_registry::ClientOptions {
        insecure_registries: args.insecure_registries,
        certs_dir: Some(args.registry_certs_dir),
        registry_mirrors: args.registry_mirrors,
        ..minidock_registry::ClientOptions::default()
    };
    let config = DaemonConfig {
        registry: Arc::new(std::sync::RwLock::new(registry)),
        tls,
        insecure_tcp: args.insecure_tcp,
        hosts,
        root: args.root,
        run: args.run,
        group: args.group,
        cgroup_parent: args.cgroup_parent,
        debug: args.debug,
    };
    match minidock_daemon::engine::run_with(&config, |config, events| {
        plugins(&network, config, events)
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("minidockd: {err}");
            ExitCode::FAILURE
        }
    }
}
