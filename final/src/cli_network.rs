//! The command line of networks: `minidock network …`, `minidock port`,
//! and the network flags of `run`/`create`.

use clap::{Args, Subcommand};

/// `minidock network COMMAND`.
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    #[command(override_usage = "minidock network create [OPTIONS] NETWORK")]
    Create(NetworkCreateArgs),
    /// List networks
    #[command(
        name = "ls",
        alias = "list",
        override_usage = "minidock network ls [OPTIONS]"
    )]
    Ls(NetworkLsArgs),
    /// Display detailed information on one or more networks
    #[command(override_usage = "minidock network inspect [OPTIONS] NETWORK [NETWORK...]")]
    Inspect(NetworkInspectArgs),
    /// Remove one or more networks
    #[command(
        name = "rm",
        alias = "remove",
        override_usage = "minidock network rm NETWORK [NETWORK...]"
    )]
    Rm(NetworkRmArgs),
    /// Remove all unused networks
    #[command(override_usage = "minidock network prune [OPTIONS]")]
    Prune(crate::cli_prune::PruneArgs),
    /// Connect a container to a network
    #[command(override_usage = "minidock network connect [OPTIONS] NETWORK CONTAINER")]
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network
    #[command(override_usage = "minidock network disconnect [OPTIONS] NETWORK CONTAINER")]
    Disconnect(NetworkDisconnectArgs),
}

/// `minidock network create`.
#[derive(Debug, Clone, Args)]
pub struct NetworkCreateArgs {
    /// Driver to manage the Network (bridge only)
    #[arg(
        short = 'd',
        long = "driver",
        value_name = "string",
        default_value = "bridge"
    )]
    pub driver: String,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long = "subnet", value_name = "strings")]
    pub subnet: Option<String>,
    /// IPv4 Gateway for the master subnet
    #[arg(long = "gateway", value_name = "strings")]
    pub gateway: Option<String>,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range", value_name = "strings")]
    pub ip_range: Option<String>,
    /// Restrict external access to the network
    #[arg(long = "internal")]
    pub internal: bool,
    /// Enable manual container attachment
    #[arg(long = "attachable")]
    pub attachable: bool,
    /// Set metadata on a network
    #[arg(long = "label", value_name = "list")]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map")]
    pub opt: Vec<String>,
    /// The network's name
    #[arg(value_name = "NETWORK")]
    pub name: String,
}

/// `minidock network ls`.
#[derive(Debug, Clone, Args)]
pub struct NetworkLsArgs {
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Only display network IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Format output using a custom template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
}

/// `minidock network inspect`.
#[derive(Debug, Clone, Args)]
pub struct NetworkInspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,
    /// The networks
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

/// `minidock network rm`.
#[derive(Debug, Clone, Args)]
pub struct NetworkRmArgs {
    /// The networks
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

/// `minidock network connect`.
#[derive(Debug, Clone, Args)]
pub struct NetworkConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long = "alias", value_name = "strings")]
    pub alias: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long = "ip", value_name = "string")]
    pub ip: Option<String>,
    /// The network
    #[arg(value_name = "NETWORK")]
    pub network: String,
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `minidock network disconnect`.
#[derive(Debug, Clone, Args)]
pub struct NetworkDisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// The network
    #[arg(value_name = "NETWORK")]
    pub network: String,
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// `minidock port`.
#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

/// The network flags of `run` and `create`.
#[derive(Debug, Clone, Args, Default)]
pub struct NetworkOptions {
    /// Publish a container's port(s) to the host ([IP:][HOST_PORT:]CONTAINER_PORT[/PROTO])
    #[arg(short = 'p', long = "publish", value_name = "list")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long = "expose", value_name = "list")]
    pub expose: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long = "ip", value_name = "string")]
    pub ip: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", value_name = "list")]
    pub network_alias: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_name = "list")]
    pub add_host: Vec<String>,
    /// Add link to another container (name[:alias])
    #[arg(long = "link", value_name = "list")]
    pub link: Vec<String>,
    /// Set custom DNS servers
    #[arg(long = "dns", value_name = "list")]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_name = "list")]
    pub dns_search: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", value_name = "list")]
    pub dns_option: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address", value_name = "string")]
    pub mac_address: Option<String>,
    /// Container NIS domain name
    #[arg(long = "domainname", value_name = "string")]
    pub domainname: Option<String>,
}
