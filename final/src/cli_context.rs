//! `minidock context …`: the flags of the commands that name daemons
//! (see [`crate::context_store`] for where they are kept).

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `minidock context …`.
#[derive(Debug, Subcommand)]
pub enum ContextCommand {
    /// Create a context
    #[command(override_usage = "minidock context create [OPTIONS] CONTEXT")]
    Create(ContextCreateArgs),
    /// List contexts
    #[command(
        visible_alias = "list",
        override_usage = "minidock context ls [OPTIONS]"
    )]
    Ls(ContextLsArgs),
    /// Set the current minidock context
    #[command(override_usage = "minidock context use CONTEXT")]
    Use(ContextNameArgs),
    /// Display detailed information on one or more contexts
    #[command(override_usage = "minidock context inspect [OPTIONS] [CONTEXT] [CONTEXT...]")]
    Inspect(ContextInspectArgs),
    /// Remove one or more contexts
    #[command(
        visible_alias = "remove",
        override_usage = "minidock context rm [OPTIONS] CONTEXT [CONTEXT...]"
    )]
    Rm(ContextRmArgs),
    /// Print the name of the current context
    #[command(override_usage = "minidock context show")]
    Show,
}

/// `minidock context create`.
#[derive(Debug, Clone, Args)]
pub struct ContextCreateArgs {
    /// The daemon's address: unix:///path/to.sock or tcp://HOST:PORT
    #[arg(long = "host", value_name = "URL", required_unless_present = "docker")]
    pub host: Option<String>,

    /// The docker CLI's form: host=URL[,ca=FILE,cert=FILE,key=FILE]
    #[arg(
        long = "docker",
        value_name = "stringToString",
        conflicts_with = "host"
    )]
    pub docker: Option<String>,

    /// Description of the context
    #[arg(long = "description", value_name = "string", default_value = "")]
    pub description: String,

    /// CA that signed the daemon's certificate (copied into the context)
    #[arg(long = "tlscacert", value_name = "FILE")]
    pub tlscacert: Option<PathBuf>,

    /// Client certificate shown to the daemon (copied into the context)
    #[arg(long = "tlscert", value_name = "FILE")]
    pub tlscert: Option<PathBuf>,

    /// Key of the client certificate (copied into the context)
    #[arg(long = "tlskey", value_name = "FILE")]
    pub tlskey: Option<PathBuf>,

    /// The context's name
    #[arg(value_name = "CONTEXT")]
    pub name: String,
}

/// `minidock context ls`.
#[derive(Debug, Clone, Args)]
pub struct ContextLsArgs {
    /// Only show context names
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Format output using a Go template ({{.Name}}, {{.Current}}, {{.DockerEndpoint}}, {{.Description}}), or json
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
}

/// A command that takes one context name.
#[derive(Debug, Clone, Args)]
pub struct ContextNameArgs {
    /// The context's name
    #[arg(value_name = "CONTEXT")]
    pub name: String,
}

/// `minidock context inspect`.
#[derive(Debug, Clone, Args)]
pub struct ContextInspectArgs {
    /// Format output using a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,

    /// The contexts (default: the current one)
    #[arg(value_name = "CONTEXT")]
    pub names: Vec<String>,
}

/// `minidock context rm`.
#[derive(Debug, Clone, Args)]
pub struct ContextRmArgs {
    /// Force the removal of a context in use
    #[arg(short = 'f', long = "force")]
    pub force: bool,

    /// The contexts
    #[arg(value_name = "CONTEXT", required = true)]
    pub names: Vec<String>,
}
