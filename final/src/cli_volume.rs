//! The flags of `minidock volume …`: a declarative clap table, beside the
//! commands that use it (`commands/volumes.rs`), so the CLI's table never
//! needs the commands.

use clap::{Args, Subcommand};

/// `minidock volume …`.
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    #[command(override_usage = "minidock volume create [OPTIONS] [VOLUME]")]
    Create(VolumeCreateArgs),
    /// List volumes
    #[command(
        visible_alias = "list",
        override_usage = "minidock volume ls [OPTIONS]"
    )]
    Ls(VolumeLsArgs),
    /// Display detailed information on one or more volumes
    #[command(override_usage = "minidock volume inspect [OPTIONS] VOLUME [VOLUME...]")]
    Inspect(VolumeInspectArgs),
    /// Remove one or more volumes
    #[command(
        visible_alias = "remove",
        override_usage = "minidock volume rm [OPTIONS] VOLUME [VOLUME...]"
    )]
    Rm(VolumeRmArgs),
    /// Remove unused local volumes
    #[command(override_usage = "minidock volume prune [OPTIONS]")]
    Prune(VolumePruneArgs),
}

/// `minidock volume create`.
#[derive(Debug, Clone, Args)]
pub struct VolumeCreateArgs {
    /// Specify volume driver name
    #[arg(
        short = 'd',
        long = "driver",
        value_name = "string",
        default_value = "local"
    )]
    pub driver: String,
    /// Set metadata for a volume
    #[arg(long = "label", value_name = "list")]
    pub label: Vec<String>,
    /// Set driver specific options (type=tmpfs, device=…, o=…)
    #[arg(short = 'o', long = "opt", value_name = "map")]
    pub opt: Vec<String>,
    /// The volume's name (default: a random one)
    #[arg(value_name = "VOLUME")]
    pub name: Option<String>,
}

/// `minidock volume ls`.
#[derive(Debug, Clone, Args)]
pub struct VolumeLsArgs {
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Only display volume names
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

/// `minidock volume inspect`.
#[derive(Debug, Clone, Args)]
pub struct VolumeInspectArgs {
    /// Format the output using the given Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,
    /// The volumes
    #[arg(value_name = "VOLUME", required = true)]
    pub names: Vec<String>,
}

/// `minidock volume rm`.
#[derive(Debug, Clone, Args)]
pub struct VolumeRmArgs {
    /// Force the removal of one or more volumes (no error when missing)
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// The volumes
    #[arg(value_name = "VOLUME", required = true)]
    pub names: Vec<String>,
}

/// `minidock volume prune`.
#[derive(Debug, Clone, Args)]
pub struct VolumePruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}
