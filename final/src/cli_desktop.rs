//! The command line of `minidock desktop`, the dashboard.

use clap::Args;

/// `minidock desktop`.
#[derive(Debug, Clone, Args)]
pub struct DesktopArgs {
    /// Port on 127.0.0.1 to serve the dashboard on (default: a free one)
    #[arg(long, value_name = "port", default_value_t = 0)]
    pub port: u16,
}
