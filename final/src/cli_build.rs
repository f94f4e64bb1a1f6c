//! The flags of `minidock build`, `commit` and `export`: a declarative clap
//! table, beside the commands that use it (`commands/build.rs`), so the
//! CLI's table never needs the commands.

use clap::Args;

/// `minidock build`.
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Name and optionally a tag (format: "name:tag"); repeatable
    #[arg(short = 't', long = "tag", value_name = "list")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: "PATH/Dockerfile")
    #[arg(short = 'f', long = "file", value_name = "string")]
    pub file: Option<String>,
    /// Set build-time variables (KEY=value)
    #[arg(long = "build-arg", value_name = "list")]
    pub build_args: Vec<String>,
    /// Set the target build stage to build
    #[arg(long = "target", value_name = "string")]
    pub target: Option<String>,
    /// Do not use cache when building the image
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the base images
    #[arg(long = "pull")]
    pub pull: bool,
    /// Set metadata for an image (KEY=value)
    #[arg(long = "label", value_name = "list")]
    pub labels: Vec<String>,
    /// Suppress the build output and print the image ID on success
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// The build context: a directory, or `-` for a tar (or a lone
    /// Dockerfile) on stdin
    #[arg(value_name = "PATH|-")]
    pub path: String,
}

/// `minidock commit`.
#[derive(Debug, Clone, Args)]
pub struct CommitArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change", value_name = "list")]
    pub changes: Vec<String>,
    /// Commit message
    #[arg(short = 'm', long = "message", value_name = "string")]
    pub message: Option<String>,
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short = 'a', long = "author", value_name = "string")]
    pub author: Option<String>,
    /// Pause container during commit
    #[arg(short = 'p', long = "pause", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub pause: bool,
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// The new image's name
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// `minidock export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long = "output", value_name = "string")]
    pub output: Option<String>,
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}
