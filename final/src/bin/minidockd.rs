//! `minidockd`, the daemon: serves Docker's Engine API on a unix socket.
//!
//! Thin on purpose: parse the flags, hand over to `minidock_daemon::daemon`.
//! One thing must come first: this binary is also the container shim and
//! the init helper (the engine re-executes itself with a hidden argument to
//! get a fresh, single-threaded process). Those roles are dispatched before
//! anything else runs — above all before the async runtime starts threads,
//! because a threaded process must not fork.

use clap::Parser;
use minidock_daemon::builder::Plugins;
use minidock_daemon::daemon::{DaemonConfig, DaemonError, DEFAULT_ROOT, DEFAULT_RUN};
use minidock_daemon::listen::{Host, DEFAULT_SOCKET};
use std::path::PathBuf;
use std::process::ExitCode;

/// The minidock daemon: Docker's Engine API (v1.44) on a unix socket.
#[derive(Debug, Parser)]
#[command(name = "minidockd", version, about, long_about = None)]
struct Args {
    /// Where to listen: unix:///path/to.sock (repeatable). tcp://HOST:PORT
    /// is possible but gives root to anyone who can reach the port.
    #[arg(short = 'H', long = "host", value_name = "ADDRESS")]
    hosts: Vec<String>,
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
    #[arg(long, value_name = "NAME", default_value = minidock_daemon::engine::CGROUP_PARENT)]
    cgroup_parent: String,
    /// Log every request on stderr.
    #[arg(short = 'D', long)]
    debug: bool,
}

// ANCHOR: build_plugin
/// Chapter 08's builder, plugged into the daemon (chapter 05 knows only
/// its trait).
fn build_plugin(config: &DaemonConfig) -> Result<Plugins, DaemonError> {
    let helper = std::env::current_exe()
        .map_err(|e| DaemonError::Engine(format!("cannot find the daemon's own binary: {e}")))?;
    let plugin = minidock_build::compat::daemon::BuildPlugin::new(
        &config.root,
        &config.run,
        &config.cgroup_parent,
        &helper,
    )
    .map_err(|e| DaemonError::Engine(format!("cannot start the builder: {e}")))?;
    Ok(plugin.plugins())
}
// ANCHOR_END: build_plugin

// ANCHOR: main
fn main() -> ExitCode {
    // Shim and init helper roles: they never return.
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
    let config = DaemonConfig {
        hosts,
        root: args.root,
        run: args.run,
        group: args.group,
        cgroup_parent: args.cgroup_parent,
        debug: args.debug,
    };
    match minidock_daemon::engine::run_with(&config, build_plugin) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("minidockd: {err}");
            ExitCode::FAILURE
        }
    }
}
