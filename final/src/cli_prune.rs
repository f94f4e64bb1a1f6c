//! The flags every `… prune` command shares: in a module of their own, so
//! that the CLI's table and its sub-tables (`cli_network`) both use them
//! without needing each other.

use clap::Args;

/// `minidock container prune`.
#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    pub filter: Vec<String>,

    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}
