//! `minidockd`, the daemon: serves Docker's Engine API on a unix socket.
//!
//! Thin on purpose: parse the flags, hand over to `minidock_daemon::daemon`.
//! One thing must come first: this binary is also the container shim and
//! the init helper (the engine re-executes itself with a hidden argument to
//! get a fresh, single-threaded process). Those roles are dispatched before
//! anything else runs — above all before the async runtime starts threads,
//! because a threaded process must not fork.

use clap::{CommandFactory, FromArgMatches};
use minidock::daemon_args::{parse_pool, DaemonArgs};
use minidock::daemon_config::{self, FileConfig, Reloadable};
use minidock_daemon::daemon::DaemonConfig;
use minidock_daemon::daemon::DaemonError;
use minidock_daemon::engine::Plugins;
use minidock_daemon::events::Events;
use minidock_daemon::listen::{Host, DEFAULT_SOCKET};
use minidock_daemon::networks::NetworkService;
use minidock_daemon::tls::TlsFiles;
use minidock_networks::ipam::Subnet;
use minidock_networks::{Driver, DriverConfig, Networks};
use std::process::ExitCode;
use std::sync::Arc;

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
        files: config.run.join("sandboxes"),
        binary,
        default_subnet: args.default_subnet,
        default_subnet_chosen: args.default_subnet_chosen,
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
        config.registry.clone(),
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
    /// Given with --bridge-subnet or daemon.json's `bip`, not the default.
    default_subnet_chosen: bool,
    pools: Vec<(Subnet, u8)>,
    ip_forward: bool,
    dns_forward: bool,
}

/// The values a repeatable flag was given on the command line.
fn flag_values(matches: &clap::ArgMatches, id: &str) -> Vec<String> {
    matches
        .get_many::<String>(id)
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

// ANCHOR: main
fn main() -> ExitCode {
    // Shim, init helper and port proxy roles: they never return.
    minidock_networks::ports::dispatch();
    minidock_daemon::engine::dispatch_reexec();
    // ANCHOR_END: main

    // The flags, then daemon.json's keys where no flag said otherwise.
    let matches = DaemonArgs::command().get_matches();
    let mut args = match DaemonArgs::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    let config_path = args
        .config_file
        .clone()
        .unwrap_or_else(|| daemon_config::DEFAULT_CONFIG_FILE.into());
    let file = FileConfig::load(&config_path, args.config_file.is_some()).and_then(|file| {
        if let Some(file) = &file {
            file.merge_into(&mut args, &matches)?;
        }
        Ok(file)
    });
    let file = match file {
        Ok(file) => file,
        Err(err) => {
            eprintln!(
                "minidockd: unable to configure the daemon with file {}: {err}",
                config_path.display()
            );
            return ExitCode::from(2);
        }
    };
    let container_defaults = match daemon_config::shared_defaults(file.as_ref(), &args) {
        Ok(defaults) => defaults,
        Err(err) => {
            eprintln!("minidockd: {}: {err}", config_path.display());
            return ExitCode::from(2);
        }
    };
    let hosts = if args.hosts.is_empty() {
        vec![format!("unix://{DEFAULT_SOCKET}")]
    } else {
        args.hosts.clone()
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
            pools = minidock::daemon_args::default_address_pools();
        }
        Ok(NetworkArgs {
            default_subnet,
            default_subnet_chosen: matches.value_source("bridge_subnet")
                == Some(clap::parser::ValueSource::CommandLine)
                || file.as_ref().is_some_and(|f| f.bip.is_some()),
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
        insecure_registries: args.insecure_registries.clone(),
        certs_dir: Some(args.registry_certs_dir),
        registry_mirrors: args.registry_mirrors.clone(),
        ..minidock_registry::ClientOptions::default()
    };
    let registry = Arc::new(std::sync::RwLock::new(registry));
    let debug = Arc::new(std::sync::atomic::AtomicBool::new(args.debug));
    // SIGHUP re-reads the file: the values the flags gave are kept for the
    // keys the file does not set.
    let reload = daemon_config::reload_hook(Reloadable {
        path: config_path,
        flag_debug: matches.get_flag("debug"),
        flag_insecure_registries: flag_values(&matches, "insecure_registries"),
        flag_registry_mirrors: flag_values(&matches, "registry_mirrors"),
        flags: matches,
        debug: debug.clone(),
        registry: registry.clone(),
        defaults: container_defaults.clone(),
    });
    let config = DaemonConfig {
        registry,
        tls,
        insecure_tcp: args.insecure_tcp,
        hosts,
        root: args.root,
        run: args.run,
        group: args.group,
        cgroup_parent: args.cgroup_parent,
        debug,
        container_defaults,
        reload: Some(reload),
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
